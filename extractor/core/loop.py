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

Two things keep re-asks few and cheap. An answer that parses but does not validate is first
mended locally where nothing is in doubt (`extractor.core.repair`: ``"cny"`` for ``"CNY"``,
``"6,512.24"`` for a number), unless ``strict=True``. And when every remaining problem lies
inside top-level properties of the answer (a missing field, a wrong value, anything under
``items[3]``), the re-ask is a patch: it asks for only those properties, and the reply is
merged into the answer (its keys replace) and judged whole; a patch reply that cannot be read
is asked for the same properties again. A problem at the root (not an object, a key that must
go), an answer that is not JSON, a wrapped target (everything is under one key) or a mode
whose reply must fit the whole schema get a full re-ask, as before.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
from .result import Attempt, Extraction, Location
from .schema import render
from .target import WRAPPER_KEY
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
    """An answer that does not conform: its problems and where each must be fixed (None when
    that is not known: an answer that is not JSON)."""

    def __init__(
        self, details: Sequence[ErrorDetail], locations: Sequence[Location] | None = None
    ) -> None:
        self.details = details
        self.locations = locations


@dataclass
class _Answer:
    """What became of one reply on its way to the validator."""

    #: The answer as validated (prepared, keyed), or None when the text went to the validator
    #: directly (the fast path of a conforming answer).
    data: Any = None
    #: The lenient parser or local repair mended it.
    repaired: bool = False
    #: The values repair mended, one line each.
    repairs: tuple[str, ...] = ()
    #: ``data`` is the previous answer with the reply's properties in place (a patch).
    merged: bool = False


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
        # A pending patch re-ask: the properties it asks for, and the answer they go into.
        self._asked: tuple[str, ...] | None = None
        self._base: dict[str, Any] = {}

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
        asked, self._asked = self._asked, None
        answer = _Answer()
        try:
            self.value = self._validate(completion.content, asked, answer)
            if self.plan.ground:
                self._ground(completion.content or "", answer)
        except _Rejected as rejected:
            details = rejected.details
            self._record(completion, duration, details, answer, asked)
            if self._reasks >= self.plan.max_retries:
                raise self.fail(self._exhausted(completion, details, answer, asked)) from None
            self._reasks += 1
            self._reask = self._next_reask(completion, rejected, answer)
            return False
        self._record(completion, duration, (), answer, asked)
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

    def _ground(self, content: str, answer: _Answer) -> None:
        """Find the answer's values (as validated: repaired, merged) in the source text; with
        ``require_grounding``, those not found reject the answer like validation errors, so
        that the re-ask names them."""
        from ..grounding import TextIndex, ungrounded_details  # only grounded calls need them

        if answer.data is None:
            from ..parse import parse

            answer.data = self._mode.prepare(parse(content).value, self.target)
        self.data = self.target.unwrap_data(answer.data)
        if self._index is None:
            self._index = TextIndex(self.plan.source or "")
        self.grounding = self.target.ground(self.data, self._index)
        if self.plan.require_grounding:
            missing = ungrounded_details(self.grounding)
            if missing:
                top = (WRAPPER_KEY,) if self.target.wrapped else ()
                places = [(*top, *leaf.parts) for leaf in self.grounding.ungrounded]
                raise _Rejected(missing, places)

    def _validate(self, content: str | None, asked: tuple[str, ...] | None, answer: _Answer) -> T:
        """The validated value of a reply; ``asked`` names the properties a patch re-ask
        asked for (None: the reply is a whole answer)."""
        if not content or not content.strip():
            empty = ErrorDetail("", "the answer was empty; expected a JSON object")
            raise self._unreadable(empty, asked, answer)
        invalid = None
        if asked is None and self._mode.validates_raw:
            try:
                return self.target.validate_json(
                    content, strict=self.plan.strict, context=self.plan.context
                )
            except Invalid as exc:
                invalid = exc if exc.is_json else None
        from ..parse import parse  # the lenient parser loads with the first answer that needs it

        try:
            parsed = parse(content)
        except ParseError as exc:
            if invalid is not None:  # JSON to pydantic, past the lenient parser's depth limit
                raise _Rejected(invalid.details) from None
            raise self._unreadable(
                ErrorDetail("", f"not valid JSON: {exc}"), asked, answer
            ) from None
        answer.repaired = parsed.repaired
        try:
            if asked is None:
                answer.data = self._mode.prepare(parsed.value, self.target)
            else:
                answer.data, answer.merged = self._merge(parsed.value, asked, answer)
        except Invalid as exc:  # the mode cannot read it (compact: a wrong number of values)
            raise _Rejected(exc.details, exc.locations) from None
        return self._conform(answer, invalid)

    def _unreadable(
        self, problem: ErrorDetail, asked: tuple[str, ...] | None, answer: _Answer
    ) -> _Rejected:
        """A reply that could not be read (empty, not JSON, not an object). A patch reply is
        asked for the same fields again, into the same answer: a full re-ask would have the
        model write everything again from a conversation that no longer shows its answer, and
        the values it does not write again (optional ones) would be lost."""
        if asked is None:
            return _Rejected([problem])
        answer.data = self._base
        return _Rejected([problem], [(name,) for name in asked])

    def _merge(
        self, reply: Any, asked: tuple[str, ...], answer: _Answer
    ) -> tuple[dict[str, Any], bool]:
        """The answer a patch reply makes: the previous answer with the reply's properties
        replacing its own, and True; or the reply alone and False when it is a whole answer
        (written in the form of a whole answer, or holding every required property, every
        property the previous answer had, and more than was asked: the model wrote it all
        again). A reply that leaves out a property it was not asked for is a patch, however
        much else it holds: taken whole, it would drop that property's value."""
        values = self._mode.patch_values(reply, self.target, asked)
        if not isinstance(values, dict):
            fields = ", ".join(asked)
            detail = ErrorDetail("", f"expected a JSON object of the fields {fields}")
            raise self._unreadable(detail, asked, answer)
        if self._mode.whole_reply(reply, asked):
            return values, False
        required = self.target.schema.get("required") or ()
        kept = self._base.keys() - set(asked)
        if (
            all(name in values for name in required)
            and kept <= values.keys()
            and not values.keys() <= set(asked)
        ):
            return values, False
        return {**self._base, **values}, True

    def _conform(self, answer: _Answer, invalid: Invalid | None) -> T:
        """Validate ``answer.data`` (``invalid``: already found not to conform), mending what
        `repair` can when it does not; raises `_Rejected` with the problems left."""
        if invalid is None:
            try:
                return self._check(answer.data, answer.merged)
            except Invalid as exc:
                invalid = exc
        fixed = None
        if not self.plan.strict:  # strict validation is the opt-out of local repair
            from .repair import repair  # loaded with the first answer that needs mending

            fixed = repair(answer.data, invalid.mendable, self.target.schema)
        if fixed is None:
            raise _Rejected(invalid.details, invalid.locations)
        answer.data, notes = fixed
        answer.repaired, answer.repairs = True, tuple(notes)
        try:
            return self._check(answer.data, answer.merged)
        except Invalid as exc:
            raise _Rejected(exc.details, exc.locations) from None

    def _check(self, data: Any, merged: bool) -> T:
        strict, context = self.plan.strict, self.plan.context
        if merged and self._mode.validates_raw and self.target.annotation is not None:
            # Judged as the JSON it stands for, as a whole answer's text is: pydantic's strict
            # mode takes an ISO date or an enum's value from JSON, not from Python data.
            text = json.dumps(data, ensure_ascii=False)
            return self.target.validate_json(text, strict=strict, context=context)
        return self.target.validate(data, strict=strict, context=context)

    def _next_reask(
        self, completion: Completion, rejected: _Rejected, answer: _Answer
    ) -> list[dict[str, Any]]:
        """The messages of the re-ask after ``completion`` was rejected: a patch re-ask
        when every problem is inside top-level properties of an object answer, else a full
        one.

        A patch re-ask hands back the reply as the model wrote it, not the merged answer:
        the model sees its own turn, which holds every value it is asked to correct (a
        missing one is named in the feedback), and nothing that is not asked about is sent
        again after the first round, where the reply is only the last patch. A full re-ask
        after a patch shows the merged answer instead, since the model must write all of it
        again and its last turn held only part."""
        errors = _first(rejected.details)
        fields = self._patch_fields(rejected, answer)
        if fields is None:
            shown = completion
            if answer.merged:
                shown = dataclasses.replace(
                    completion, content=self._mode.write(answer.data, self.target)
                )
            return self._template.reask(_echo(shown), prompt.feedback(errors))
        self._asked, self._base = fields, answer.data
        return self._template.reask(_echo(completion), prompt.feedback(errors, fields))

    def _patch_fields(self, rejected: _Rejected, answer: _Answer) -> tuple[str, ...] | None:
        """The top-level properties a patch re-ask should ask for, or None for a full one."""
        locations = rejected.locations
        if (
            locations is None
            or not self._mode.patches
            or self.target.wrapped
            or not isinstance(answer.data, dict)
        ):
            return None
        fields: dict[str, None] = {}
        for location in locations:
            if not location or not isinstance(location[0], str):
                return None  # a problem at the root: a patch cannot fix it
            fields[location[0]] = None
        return tuple(fields)

    @property
    def patch_fields(self) -> tuple[str, ...]:
        """The properties the pending patch re-ask asks for; empty when the next reply is a
        whole answer."""
        return self._asked or ()

    def patch_preview(self) -> dict[str, Any] | None:
        """For a stream: while a patch reply arrives, the previous answer without the
        properties asked for, which the reply's are added to as they come (a preview of the
        merged answer); None when the next reply is a whole answer."""
        if self._asked is None:
            return None
        return {key: value for key, value in self._base.items() if key not in self._asked}

    def _record(
        self,
        completion: Completion,
        duration: float,
        errors: Sequence[ErrorDetail],
        answer: _Answer | None = None,
        asked: tuple[str, ...] | None = None,
    ) -> None:
        answer = answer or _Answer()
        attempt = Attempt(
            number=len(self._attempts) + 1,
            raw=completion.content,
            finish_reason=completion.finish_reason,
            usage=completion.usage,
            request_id=completion.request_id,
            errors=tuple(errors),
            repaired=answer.repaired,
            duration=duration,
            reasoning=completion.reasoning,
            repairs=answer.repairs,
            patch=asked or (),
        )
        self._attempts.append(attempt)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "attempt %d model=%s finish=%s tokens=%d+%d errors=%d repaired=%s request_id=%s"
                "%s%s",
                attempt.number,
                self.plan.model,
                attempt.finish_reason,
                attempt.usage.prompt_tokens,
                attempt.usage.completion_tokens,
                len(attempt.errors),
                attempt.repaired,
                attempt.request_id,
                f" patch={','.join(attempt.patch)}" if attempt.patch else "",
                f" repairs={'; '.join(attempt.repairs)}" if attempt.repairs else "",
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

    def _exhausted(
        self,
        completion: Completion,
        errors: Sequence[ErrorDetail],
        answer: _Answer,
        asked: tuple[str, ...] | None,
    ) -> ValidationFailed:
        attempts = len(self._attempts)
        listing = "\n".join(f"  - {error}" for error in _first(errors))
        raw = completion.content
        if answer.merged and asked is not None:
            # The problems are about the merged answer: show it, and the reply that made it.
            raw = (
                f"{render(answer.data)}\n[the answer before, with the last reply's fields in "
                f"place; the reply (asked for {', '.join(asked)}): {raw}]"
            )
        return ValidationFailed(
            f"no conforming answer after {attempts} attempt{'s' * (attempts > 1)} "
            f"(max_retries={self.plan.max_retries}); the last answer's problems:\n{listing}\n"
            "Guide the model (instructions=, examples=), loosen the target, or raise max_retries.",
            errors=errors,
            raw=raw,
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
