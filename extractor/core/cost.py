"""Token usage and what it costs.

Money is ``Decimal`` throughout: a batch job sums millions of tiny amounts, and float drift
would make the summary disagree with the sum of its lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["DEFAULT_PRICES", "Cost", "Price", "PriceTable", "Usage"]

_MILLION = Decimal(1_000_000)
_FIELDS = ("prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens")


@dataclass(frozen=True)
class Usage:
    """Tokens as the API reported them; ``cached_tokens`` and ``reasoning_tokens`` are subsets
    of ``prompt_tokens`` and ``completion_tokens`` respectively."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.cached_tokens + other.cached_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Usage:
        """The inverse of `to_dict` (how output files store usage); missing counts are zero."""
        data = data or {}
        return cls(**{name: int(data.get(name) or 0) for name in _FIELDS})

    def to_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cached_tokens": self.cached_tokens,
            "reasoning_tokens": self.reasoning_tokens,
        }


@dataclass(frozen=True)
class Cost:
    amount: Decimal
    currency: str

    def __add__(self, other: Cost) -> Cost:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Cost(self.amount + other.amount, self.currency)

    def __str__(self) -> str:
        return f"{self.amount:f} {self.currency}"


@dataclass(frozen=True)
class Price:
    """Prices per one million tokens. Cached input tokens are billed at ``cached_input`` when
    the provider discounts them, otherwise at ``input``."""

    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    currency: str = "CNY"

    def __init__(
        self,
        input: Decimal | float | str,
        output: Decimal | float | str,
        cached_input: Decimal | float | str | None = None,
        currency: str = "CNY",
    ) -> None:
        # str() first, so that 1.8 becomes Decimal("1.8") and not its binary approximation.
        object.__setattr__(self, "input", Decimal(str(input)))
        object.__setattr__(self, "output", Decimal(str(output)))
        object.__setattr__(
            self, "cached_input", None if cached_input is None else Decimal(str(cached_input))
        )
        object.__setattr__(self, "currency", currency)

    def cost(self, usage: Usage) -> Cost:
        cached_price = self.input if self.cached_input is None else self.cached_input
        uncached = usage.prompt_tokens - usage.cached_tokens
        amount = (
            uncached * self.input
            + usage.cached_tokens * cached_price
            + usage.completion_tokens * self.output
        ) / _MILLION
        return Cost(amount, self.currency)


DEFAULT_PRICES: Mapping[str, Price] = {"gpt-5.1": Price("1.80", "15.00", currency="CNY")}


class PriceTable:
    """Looks a model's price up by exact name, then by the longest matching prefix, so that
    dated snapshots (``gpt-5.1-2025-11-13``) find their family's price."""

    def __init__(self, prices: Mapping[str, Price] | None = None) -> None:
        self._prices = dict(DEFAULT_PRICES)
        if prices:
            self._prices.update(prices)

    def get(self, model: str) -> Price | None:
        if model in self._prices:
            return self._prices[model]
        matches = [name for name in self._prices if model.startswith(name + "-")]
        return self._prices[max(matches, key=len)] if matches else None
