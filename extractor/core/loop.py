"""The extraction loop, without I/O.

`ExtractionLoop` says what to send next (`next_request`) and judges what came back
(`receive`): done, ask again with feedback, or give up with a typed error. It never touches
the network or the clock, so the sync, async and streaming drivers share it unchanged and it
can be tested with plain `Completion` objects::

    loop = ExtractionLoop(plan)
    while True:
        body = loop.next_request()
        completion = send(body)            # the driver's only job
        if loop.receive(completion):
            return loop.result()
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..errors import (
    BadRequestError,
    BudgetExceeded,
    ErrorDetail,
    ExtractionError,
    ParseError,
    RefusalError,
    TruncatedError,
    ValidationFailed,
)
from . import prompt
from .completion import Completion
from .cost import Cost, Usage
from .plan import Budget, Plan
from .result import Attempt, Extraction
from .tokens import estimate_tokens
from .validate import Invalid

if TYPE_CHECKING:
    from ..grounding import Grounding, TextIndex

__all__ = ["ECHO_LIMIT", "MAX_REPORTED", "ExtractionLoop", "cut_answer"]

logger = logging.getLogger("extractor")

# What a re-ask hands back: at most this many characters of the rejected answer (the model
# writes a whole new answer anyway; a runaway one must not be sent back whole) ...
ECHO_LIMIT = 64_000
# ... and at most this many of its problems (an array of ten thousand wrong items).
MAX_REPORTED = 50
# Answers longer than this are judged off the event loop by the async driver: parsing and
# validating them can take long enough to stall every other request of a batch job.
HEAVY_ANSWER = 64_000

T = TypeVar("T")


class _Rejected(Exception):
    def __init__(self, details: Sequence[ErrorDetail], *, repaired: bool = False) -> None:
        self.details = details
        self.repaired = repaired


class ExtractionLoop(Generic[T]):
    """One call's conversation with the model, from first request to validated value."""

    value: T
    #: With grounding on: the answer as plain data (unwrapped), and where its values are.
    data: Any = None
    grounding: Grounding | None = None

    def __init__(self, plan: Plan[T], *, spent: Callable[[], Usage] | None = None) -> None:
        """``spent`` gives what the whole call has spent, for the budget check, when this
        loop is one of several (the chunks of a long text); by default this loop's usage."""
        self.plan = plan
        self.target = plan.target
        self._template = plan.template
        self._reask: list[dict[str, Any]] = []
        self._reasks = 0
        self._truncation_retried = False
        self._attempts: list[Attempt] = []
        self._usage = Usage()
        self._mode = plan.template.mode
        self._spent = spent or (lambda: self._usage)
        self._index: TextIndex | None = None

    @property
    def usage(self) -> Usage:
        return self._usage

    @property
    def cost(self) -> Cost | None:
        return self.plan.price.cost(self._usage) if self.plan.price else None

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        return tuple(self._attempts)

    def next_request(self) -> dict[str, Any]:
        """The JSON body of the next request; raises `BudgetExceeded` if it may not be sent."""
        body = self._template.body(self._reask)
        if self.plan.input_tokens is not None:
            self._check_window(self.plan.input_tokens, body)
        budget = self.plan.budget
        if budget.max_cost is not None or budget.max_total_tokens is not None:
            self._check_budget(budget, body)
        return body

    def receive(self, completion: Completion, *, duration: float = 0.0) -> bool:
        """Judge an answer: True when ``self.value`` holds the validated value, False when
        `next_request` should be called again."""
        self._usage += completion.usage
        if completion.refusal or completion.finish_reason == "content_filter":
            self._record(completion, duration, [ErrorDetail("", "the model refused")])
            raise self.fail(_refusal(completion))
        if completion.finish_reason == "length":
            self._record(completion, duration, [ErrorDetail("", "cut off at the token limit")])
            larger = None
            if self.plan.retry_truncated and not self._truncation_retried:
                larger = self._template.with_doubled_token_limit()
            if larger is None:
                raise self.fail(_truncated(completion))
            self._template, self._truncation_retried = larger, True
            return False
        try:
            self.value, repaired = self._validate(completion.content)
            if self.plan.ground:
                self._ground(completion.content or "")
        except _Rejected as rejected:
            details = rejected.details
            self._record(completion, duration, details, rejected.repaired)
            if self._reasks >= self.plan.max_retries:
                raise self.fail(self._exhausted(completion, details)) from None
            self._reasks += 1
            self._reask = self._template.reask(_echo(completion), prompt.feedback(_first(details)))
            return False
        self._record(completion, duration, (), repaired)
        return True

    @staticmethod
    def is_heavy(completion: Completion) -> bool:
        """Whether judging ``completion`` may take long enough to stall an event loop."""
        return len(completion.content or "") > HEAVY_ANSWER

    def fail(self, error: ExtractionError) -> ExtractionError:
        """Attach what this call spent to ``error`` (idempotent) and return it for raising."""
        error.usage = self._usage
        error.cost = self.cost
        error.attempts = tuple(self._attempts)
        return error

    def result(self) -> Extraction[T]:
        return Extraction(
            value=self.value,
            usage=self._usage,
            cost=self.cost,
            attempts=tuple(self._attempts),
            model=self.plan.model,
            spans=None if self.grounding is None else self.grounding.spans,
        )

    def _ground(self, content: str) -> None:
        """Find the answer's values in the source text; with ``require_grounding``, those not
        found reject the answer like validation errors, so that the re-ask names them."""
        from ..grounding import TextIndex, ungrounded_details  # only grounded calls need them
        from ..parse import parse

        self.data = self.target.unwrap_data(self._mode.prepare(parse(content).value, self.target))
        if self._index is None:
            self._index = TextIndex(self.plan.source or "")
        self.grounding = self.target.ground(self.data, self._index)
        if self.plan.require_grounding:
            missing = ungrounded_details(self.grounding)
            if missing:
                raise _Rejected(missing)

    def _validate(self, content: str | None) -> tuple[T, bool]:
        if not content or not content.strip():
            raise _Rejected([ErrorDetail("", "the answer was empty; expected a JSON object")])
        strict, context = self.plan.strict, self.plan.context
        if self._mode.validates_raw:
            try:
                return self.target.validate_json(content, strict=strict, context=context), False
            except Invalid as invalid:
                if invalid.is_json:
                    raise _Rejected(invalid.details) from None
        from ..parse import parse  # the lenient parser loads with the first answer that needs it

        try:
            parsed = parse(content)
        except ParseError as exc:
            raise _Rejected([ErrorDetail("", f"not valid JSON: {exc}")]) from None
        try:
            data = self._mode.prepare(parsed.value, self.target)
            return self.target.validate(data, strict=strict, context=context), parsed.repaired
        except Invalid as invalid:
            raise _Rejected(invalid.details, repaired=parsed.repaired) from None

    def _record(
        self,
        completion: Completion,
        duration: float,
        errors: Sequence[ErrorDetail],
        repaired: bool = False,
    ) -> None:
        attempt = Attempt(
            number=len(self._attempts) + 1,
            raw=completion.content,
            finish_reason=completion.finish_reason,
            usage=completion.usage,
            request_id=completion.request_id,
            errors=tuple(errors),
            repaired=repaired,
            duration=duration,
            reasoning=completion.reasoning,
        )
        self._attempts.append(attempt)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "attempt %d model=%s finish=%s tokens=%d+%d errors=%d repaired=%s request_id=%s",
                attempt.number,
                self.plan.model,
                attempt.finish_reason,
                attempt.usage.prompt_tokens,
                attempt.usage.completion_tokens,
                len(attempt.errors),
                attempt.repaired,
                attempt.request_id,
            )
        if self.plan.on_attempt is not None:
            self.plan.on_attempt(attempt)

    def _check_window(self, window: int, body: dict[str, Any]) -> None:
        """Refuse a request the model cannot take, before it costs anything."""
        messages = body["messages"]
        # Each character is at most one token: most requests are cleared without an estimate.
        if sum(len(m["content"]) for m in messages if isinstance(m.get("content"), str)) < window:
            return
        estimate = _estimate(body)
        if estimate > window:
            raise self.fail(
                BadRequestError(
                    f"the request is about {estimate:,} tokens, more than {self.plan.model} "
                    f"takes ({window:,} input tokens); nothing was sent. Cut the text (extract() "
                    "does it with chunk_size=; a stream sends the text whole), keep the schema "
                    "small (long enums, many fields), or, if the model takes more, say so with "
                    "rules=ModelRules(input_tokens=...).",
                    code="context_length_exceeded",
                )
            )

    def _check_budget(self, budget: Budget, body: dict[str, Any]) -> None:
        estimate = _estimate(body)
        usage = self._spent()
        spent = usage.total_tokens
        if budget.max_total_tokens is not None and spent + estimate > budget.max_total_tokens:
            raise self.fail(
                BudgetExceeded(
                    f"token budget: {spent} tokens spent, about {estimate} more needed for the "
                    f"next request, over max_total_tokens={budget.max_total_tokens}. "
                    "Raise the budget or shorten the input."
                )
            )
        if budget.max_cost is not None and self.plan.price is not None:
            price = self.plan.price
            spent_cost = price.cost(usage).amount
            next_cost = price.cost(Usage(prompt_tokens=estimate)).amount
            if spent_cost + next_cost > budget.max_cost:
                raise self.fail(
                    BudgetExceeded(
                        f"cost budget: {spent_cost:f} {price.currency} spent, about "
                        f"{next_cost:f} more for the next request's input, over max_cost="
                        f"{budget.max_cost}. Raise max_cost or shorten the input."
                    )
                )

    def _exhausted(self, completion: Completion, errors: Sequence[ErrorDetail]) -> ValidationFailed:
        attempts = len(self._attempts)
        listing = "\n".join(f"  - {error}" for error in _first(errors))
        return ValidationFailed(
            f"no conforming answer after {attempts} attempt{'s' * (attempts > 1)} "
            f"(max_retries={self.plan.max_retries}); the last answer's problems:\n{listing}\n"
            "Guide the model (instructions=, examples=), loosen the target, or raise max_retries.",
            errors=errors,
            raw=completion.content,
        )


def _estimate(body: dict[str, Any]) -> int:
    """Estimated prompt tokens of a request body."""
    return estimate_tokens(json.dumps(body["messages"], ensure_ascii=False))


def cut_answer(text: str) -> str:
    """An answer as it is handed on (in a re-ask, in the errors file): at most `ECHO_LIMIT`
    characters, and a note of its full length when it was cut."""
    if len(text) <= ECHO_LIMIT:
        return text
    return f"{text[:ECHO_LIMIT]}\n[... cut: the answer had {len(text):,} characters]"


def _echo(completion: Completion) -> Completion:
    """The rejected answer as the re-ask hands it back."""
    content = completion.content
    if content is None or len(content) <= ECHO_LIMIT:
        return completion
    return dataclasses.replace(completion, content=cut_answer(content))


def _first(errors: Sequence[ErrorDetail]) -> Sequence[ErrorDetail]:
    """At most `MAX_REPORTED` problems, and a line saying how many more there were."""
    if len(errors) <= MAX_REPORTED:
        return errors
    more = ErrorDetail("", f"... and {len(errors) - MAX_REPORTED:,} more problems like these")
    return [*errors[:MAX_REPORTED], more]


def _refusal(completion: Completion) -> RefusalError:
    if completion.refusal:
        return RefusalError(
            f"the model refused: {completion.refusal!r}. Re-asking rarely changes a refusal; "
            "check the text and instructions.",
            refusal=completion.refusal,
        )
    return RefusalError(
        "the provider's content filter stopped the answer (finish_reason=content_filter). "
        "Check the text; re-asking would be filtered again.",
    )


def _truncated(completion: Completion) -> TruncatedError:
    partial = completion.content or ""
    return TruncatedError(
        f"the answer was cut off at the token limit after {len(partial)} characters. Raise "
        "max_tokens, extract less per call, or pass retry_truncated=True (with max_tokens) "
        "to retry once with twice the limit.",
        partial=partial,
    )
