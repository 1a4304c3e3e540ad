"""Prices: what a model costs on an endpoint, per million tokens, with currency and source.

A price belongs to an endpoint and a model: the same model name costs dollars on OpenAI's
own API and yuan on a gateway. `PriceTable` looks one up; `Price.parse` reads the
``"1.80/15.00 CNY"`` form of ``--price`` and ``$EXTRACTOR_PRICE``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ..errors import ConfigurationError
from .cost import MILLION, Cost, Usage

__all__ = ["LIST_PRICES", "OPENAI_HOST", "Price", "PriceTable"]


def _amount(name: str, value: object) -> Decimal:
    """A price figure as a Decimal; a clear error for what is not a non-negative number."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float, str)):
        raise ConfigurationError(
            f"Price {name}= must be a number (per million tokens), not {type(value).__name__}"
        )
    try:
        # str() first, so that 1.8 becomes Decimal("1.8") and not its binary approximation.
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ConfigurationError(f"Price {name}={value!r} is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise ConfigurationError(f"Price {name}={value!r} must be a non-negative number")
    return amount


@dataclass(frozen=True)
class Price:
    """Prices per one million tokens, in ``currency``. Cached input tokens are billed at
    ``cached_input`` when the provider discounts them, otherwise at ``input``. ``source`` says
    where the figures come from (a price list, ``--price``, ``$EXTRACTOR_PRICE``), so that a
    summary shows which bill it claims to match."""

    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    currency: str = "USD"
    source: str = ""

    def __init__(
        self,
        input: Decimal | float | str,
        output: Decimal | float | str,
        cached_input: Decimal | float | str | None = None,
        currency: str = "USD",
        source: str = "",
    ) -> None:
        object.__setattr__(self, "input", _amount("input", input))
        object.__setattr__(self, "output", _amount("output", output))
        object.__setattr__(
            self,
            "cached_input",
            None if cached_input is None else _amount("cached_input", cached_input),
        )
        object.__setattr__(self, "currency", currency)
        object.__setattr__(self, "source", source)

    @classmethod
    def parse(cls, spec: str, *, source: str = "") -> Price:
        """``"INPUT/OUTPUT CURRENCY"`` or ``"INPUT/CACHED_INPUT/OUTPUT CURRENCY"`` per million
        tokens, in the order providers' price lists use: ``"1.25/0.125/10.00 USD"``,
        ``"1.80/15.00 CNY"``. The currency is required: an amount without one is how a bill
        in one currency gets compared with a budget in another."""
        parts = spec.split()
        figures = parts[0].split("/") if parts else []
        if len(parts) != 2 or len(figures) not in (2, 3) or not _CURRENCY.fullmatch(parts[1]):
            raise ValueError(
                f"price {spec!r}: write INPUT/OUTPUT CURRENCY or INPUT/CACHED/OUTPUT CURRENCY "
                'per million tokens, e.g. "1.80/15.00 CNY" or "1.25/0.125/10.00 USD"'
            )
        try:
            amounts = [Decimal(figure) for figure in figures]
        except InvalidOperation:
            raise ValueError(f"price {spec!r}: {parts[0]!r} holds something not a number") from None
        if any(not amount.is_finite() or amount < 0 for amount in amounts):
            raise ValueError(f"price {spec!r}: prices must be non-negative numbers")
        cached = amounts[1] if len(amounts) == 3 else None
        return cls(amounts[0], amounts[-1], cached, currency=parts[1].upper(), source=source)

    def describe(self) -> str:
        """``1.25 in / 0.125 cached in / 10.00 out per 1M tokens (USD)``, with the source."""
        cached = f" / {self.cached_input} cached in" if self.cached_input is not None else ""
        where = f"; {self.source}" if self.source else ""
        return f"{self.input} in{cached} / {self.output} out {self.currency} per 1M tokens{where}"

    def cost(self, usage: Usage) -> Cost:
        cached_price = self.input if self.cached_input is None else self.cached_input
        uncached = usage.prompt_tokens - usage.cached_tokens
        amount = (
            uncached * self.input
            + usage.cached_tokens * cached_price
            + usage.completion_tokens * self.output
        ) / MILLION
        return Cost(amount, self.currency)


_CURRENCY = re.compile(r"[A-Za-z]{3}")
_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}")

OPENAI_HOST = "api.openai.com"

# List prices, per endpoint host and model: a price is what one provider bills for one model,
# so the same model name through another gateway gets no price rather than the wrong one.
LIST_PRICES: Mapping[tuple[str, str], Price] = {
    (OPENAI_HOST, "gpt-5.1"): Price(
        "1.25",
        "10.00",
        cached_input="0.125",
        currency="USD",
        source="OpenAI list price for api.openai.com (openai.com/api/pricing)",
    ),
}


def _matches(name: str, model: str) -> bool:
    """The model itself, or a dated snapshot of it (``gpt-5.1-2025-11-13``); never another
    model that merely starts the same (``gpt-5.1-mini`` is not ``gpt-5.1``)."""
    return model == name or (
        model.startswith(name) and bool(_SNAPSHOT.fullmatch(model[len(name) :]))
    )


class PriceTable:
    """A model's price at one endpoint: the caller's ``prices`` (by model, any endpoint)
    first, then ``fallback`` (``$EXTRACTOR_PRICE``), then the list price of this endpoint's
    host. A model with none of these has no price (cost unknown), never a neighbour's."""

    def __init__(
        self,
        prices: Mapping[str, Price] | None = None,
        *,
        host: str | None = None,
        fallback: Price | None = None,
    ) -> None:
        self._prices = dict(prices or {})
        self._fallback = fallback
        self._listed = {model: price for (at, model), price in LIST_PRICES.items() if at == host}

    def get(self, model: str) -> Price | None:
        found = _lookup(self._prices, model)
        if found is not None:
            return found
        return self._fallback or _lookup(self._listed, model)


def _lookup(prices: Mapping[str, Price], model: str) -> Price | None:
    if model in prices:
        return prices[model]
    matches = [name for name in prices if _matches(name, model)]
    return prices[max(matches, key=len)] if matches else None
