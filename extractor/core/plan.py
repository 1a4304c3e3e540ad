"""Planning a call: everything it needs, resolved once before its first request.

`Planner` holds an extractor's configuration (default model, prices, model rules, defaults for
every call) and turns one call's arguments into a `Plan`: the target, the request template,
the re-ask and spending limits, the price. The drivers ask it for plans; the extraction loop
and the stream session run them. It does no I/O, so it serves sync and async drivers, the
batch runners and tests alike (``extractor.planner.plan(Person, text)``).

Calls without options of their own (the common case in services and batch jobs) of the same
target differ only in their text, so their plan is made once per target and reused with each
call's text: no options merged, no system message or parameters rebuilt. The configuration is
fixed when the planner is made, so a kept plan never goes stale.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

from ..errors import ConfigurationError
from ..wire.body import RequestTemplate, base_template
from ..wire.rules import ModelRules
from .options import (
    CALL_OPTIONS,
    CallOptions,
    DefaultOptions,
    check_options,
    check_prompt_options,
)
from .prices import Price, PriceTable
from .result import Attempt
from .target import Target

__all__ = ["Budget", "Plan", "Planner", "check_text"]

T = TypeVar("T")

#: Targets whose plan without per-call options is kept; past that, the kept ones are dropped.
_KEPT_PLANS = 256


@dataclass(frozen=True)
class Budget:
    """Limits on one call, checked before each attempt against what was spent so far plus
    the next request's estimated input."""

    max_cost: Decimal | None = None
    max_total_tokens: int | None = None


@dataclass(frozen=True)
class Plan(Generic[T]):
    """Everything one call needs, resolved from the extractor's defaults and the call's
    options before the first request."""

    target: Target[T]
    template: RequestTemplate
    model: str
    max_retries: int = 3
    strict: bool | None = None
    context: Any = None
    price: Price | None = None
    budget: Budget = Budget()
    retry_truncated: bool = False
    on_attempt: Callable[[Attempt], object] | None = None
    source: str | None = None
    ground: bool = False
    require_grounding: bool = False
    input_tokens: int | None = None


class Planner:
    """An extractor's configuration, and turning one call's arguments into a `Plan`."""

    def __init__(
        self,
        *,
        model: str,
        max_retries: int = 3,
        price: Price | None = None,
        prices: Mapping[str, Price] | None = None,
        host: str | None = None,
        fallback_price: Price | None = None,
        rules: ModelRules | None = None,
        on_attempt: Callable[[Attempt], object] | None = None,
        defaults: DefaultOptions | None = None,
    ) -> None:
        self.model = model
        self.max_retries = max_retries
        self.rules = rules
        self.on_attempt = on_attempt
        self.defaults: DefaultOptions = defaults or DefaultOptions()
        self._price = price
        self._prices = PriceTable(prices, host=host, fallback=fallback_price)
        self._plans: dict[Target[Any], Plan[Any]] = {}

    def price_for(self, model: str) -> Price | None:
        """The price used for ``model``: the extractor's ``price=``, else the price table
        (``prices=``, ``$EXTRACTOR_PRICE``, the endpoint's list price)."""
        return self._price or self._prices.get(model)

    def check(self, options: CallOptions, where: str = "extract()") -> None:
        """Raise `ConfigurationError` for an option no call takes (a misspelling, say)."""
        check_options(options, CALL_OPTIONS, where)

    def plan(self, target: Any, text: str | None, call: CallOptions) -> Plan[Any]:
        """The plan of one call of ``target`` over ``text`` with the call's options."""
        if call:
            base = self._base_plan(Target.of(target), self.options(call))
        else:
            resolved = Target.of(target)
            base = self._plans.get(resolved) or self._keep(resolved)
        check_text(text)
        if base.ground and text is None:
            raise ConfigurationError(
                "ground=True and require_grounding=True look values up in the text: pass the "
                "source as text= (values read from messages= cannot be traced)."
            )
        return replace(base, template=base.template.with_source(text), source=text)

    def _keep(self, target: Target[Any]) -> Plan[Any]:
        base = self._base_plan(target, self.options({}))
        if len(self._plans) >= _KEPT_PLANS:
            self._plans.clear()  # rare (that many targets), and safe from any thread
        self._plans[target] = base
        return base

    def _base_plan(self, resolved: Target[Any], options: CallOptions) -> Plan[Any]:
        """The plan of a call with ``options`` (defaults included), before its source text
        is added."""
        model = options.get("model") or self.model
        price = self.price_for(model)
        max_cost = options.get("max_cost")
        if max_cost is not None and price is None:
            raise ConfigurationError(
                f"max_cost needs a price for {model!r} and none is known for this endpoint: "
                "pass price=Price(input=..., output=..., currency=...) or prices={model: "
                'Price(...)} to the extractor, or set EXTRACTOR_PRICE (e.g. "1.80/15.00 CNY").'
            )
        max_retries = options.get("max_retries", self.max_retries)
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise ConfigurationError(
                f"max_retries must be a whole number of re-asks, 0 or more, got {max_retries!r}"
            )
        return Plan(
            target=resolved,
            template=base_template(resolved, options, self.rules_for(model), model),
            model=model,
            max_retries=max_retries,
            strict=options.get("strict"),
            context=options.get("context"),
            price=price,
            budget=Budget(
                max_cost=None if max_cost is None else _amount(max_cost),
                max_total_tokens=options.get("max_total_tokens"),
            ),
            retry_truncated=options.get("retry_truncated", False),
            on_attempt=self.on_attempt,
            ground=bool(options.get("ground") or options.get("require_grounding")),
            require_grounding=bool(options.get("require_grounding")),
            input_tokens=self.rules_for(model).input_tokens,
        )

    def options(self, call: CallOptions) -> CallOptions:
        """The call's options over the extractor's defaults, checked."""
        self.check(call)
        options: CallOptions = {**self.defaults, **call}
        check_prompt_options(options)
        return options

    def rules_for(self, model: str) -> ModelRules:
        """The rules ``model`` is sent with: the extractor's ``rules=``, else by its name."""
        return self.rules or ModelRules.for_model(model)


def check_text(text: object) -> None:
    """Refuse a text that is not a string, or is empty, before anything counts or sends it (an
    int would fail deep inside token counting, bytes inside the request's encoding)."""
    if text is None:
        return
    if isinstance(text, str):
        if not text or text.isspace():  # no copy of the text, unlike strip(): per call
            # Nothing to extract from: the answer would be invented or empty, and paid for.
            raise ConfigurationError(
                f"the text is empty{' (only whitespace)' if text else ''}: nothing to extract "
                "from, and nothing was sent. Skip empty records before calling."
            )
        return
    hint = (
        " (decode it first: text.decode('utf-8'))" if isinstance(text, (bytes, bytearray)) else ""
    )
    raise ConfigurationError(f"the text must be a str, not {type(text).__name__}{hint}")


def _amount(value: Any) -> Decimal:
    """``max_cost`` as a `Decimal` (given as text, int, float or Decimal), or a clear error."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0:
        raise ConfigurationError(
            f'max_cost must be an amount of money, 0 or more (e.g. "0.05"), got {value!r}'
        )
    return amount
