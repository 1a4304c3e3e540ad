"""One record of a batch job, from input to output line: shared by every engine.

`RecordProcessor` runs the extraction for a record (through the cache when there is one) and
builds the line that goes to OUT (``{"id", "data", ...}``) or to the errors file (``{"id",
"error": {"type", "message"}, ..., "raw"}``), with the attempts, usage and cost it took.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..client import AsyncExtractor
from ..core.cost import Cost, Usage
from ..core.options import CallOptions
from ..core.result import Extraction, spans_to_dict
from ..core.target import Target
from ..core.validate import Invalid
from ..errors import (
    AuthenticationError,
    ConfigurationError,
    ExtractionError,
    JobAborted,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    TruncatedError,
    ValidationFailed,
)
from .cache import Cache, cache_key
from .config import Stats
from .inputs import Record

__all__ = ["RecordOutcome", "RecordProcessor", "account", "error_line"]


def _fatal(error: ExtractionError) -> bool:
    if isinstance(error, (AuthenticationError, PermissionDeniedError, NotFoundError)):
        return True
    if isinstance(error, RateLimitError) and error.code == "insufficient_quota":
        return True
    return isinstance(error, ConfigurationError)


@dataclass
class RecordOutcome:
    """One record's output line and what it cost; ``ok`` says which file it goes to."""

    ok: bool
    line: dict[str, Any]
    error_type: str = ""
    attempts: int = 0
    usage: Usage = field(default_factory=Usage)
    cost: Decimal | None = None
    cache_hit: bool = False
    answer: Any = None  # the value as the model writes it (wrapped if need be), for the cache


class RecordProcessor:
    """One record in, its output line out: the validated value (through the cache when there
    is one), or the error line with what the record cost. Every engine runs records through
    it, so the lines are the same whichever engine wrote them.

    An error no record can get past (bad key, no quota, unknown model) is raised as
    `JobAborted` instead of becoming an error line.
    """

    def __init__(
        self,
        extractor: AsyncExtractor,
        target: Target[Any],
        options: CallOptions,
        *,
        cache: Cache | None = None,
    ) -> None:
        self.extractor = extractor
        self.target = target
        self.options = options
        self.cache = cache
        model = options.get("model") or extractor.model
        self.price = extractor.price_for(model)
        self._inflight_keys: dict[str, asyncio.Future[RecordOutcome]] = {}

    async def process(self, record: Record) -> RecordOutcome:
        """The record's outcome; raises `JobAborted` for an error that would fail every record."""
        if record.problem is not None:
            outcome = RecordOutcome(False, {}, error_type="InputError", cost=self._cost(None))
            outcome.line = error_line(record, "InputError", record.problem, None)
            return outcome
        return await self._extract(record)

    async def _extract(self, record: Record) -> RecordOutcome:
        assert record.text is not None
        if self.cache is None:
            return await self._call(record)
        key = self._cache_key(record.text)
        shared = self._inflight_keys.get(key)
        if shared is not None:  # the same text is being extracted right now: wait for it
            first = await asyncio.shield(shared)
            if first.ok:
                return self._from_cache(record, first.line["data"])
        cached = self.cache.get(key)
        if cached is not None:
            try:  # what is written to OUT is always valid, even from an old cache
                value = self.target.validate(cached["answer"])
            except (Invalid, KeyError, TypeError):
                pass
            else:
                return self._from_cache(record, self.target.plain(value))
        future: asyncio.Future[RecordOutcome] = asyncio.get_running_loop().create_future()
        self._inflight_keys[key] = future
        try:
            outcome = await self._call(record)
            if outcome.ok:
                # Committed before the line is written: a crash in between costs nothing.
                self.cache.put(key, {"answer": outcome.answer})
            future.set_result(outcome)
            return outcome
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else must log it
            raise
        finally:
            del self._inflight_keys[key]

    async def _call(self, record: Record) -> RecordOutcome:
        assert record.text is not None
        try:
            result = await self.extractor.extract_result(self.target, record.text, **self.options)
        except ExtractionError as exc:
            return self.failed(record, exc)
        return self.succeeded(record, result)

    def succeeded(self, record: Record, result: Extraction[Any]) -> RecordOutcome:
        """The outcome of a record whose extraction gave a validated value."""
        usage, cost = result.usage, self._cost(result.cost)
        answer = self.target.to_answer(result.value)
        line = {"id": record.id, "data": self.target.plain(result.value)}
        if result.spans is not None:
            line["spans"] = spans_to_dict(result.spans)
        outcome = RecordOutcome(True, line, attempts=len(result.attempts), usage=usage, cost=cost)
        outcome.answer = answer
        return outcome

    def failed(self, record: Record, exc: ExtractionError) -> RecordOutcome:
        """The outcome of a record whose extraction failed; raises `JobAborted` for an error
        that would fail every record."""
        if _fatal(exc):
            # Every other record would fail the same way: stop, and write none of them.
            raise JobAborted(exc) from exc
        outcome = RecordOutcome(False, {}, error_type=type(exc).__name__)
        outcome.attempts = len(exc.attempts)
        outcome.usage = exc.usage or Usage()
        outcome.cost = self._cost(exc.cost)
        outcome.line = error_line(record, type(exc).__name__, str(exc), _raw(exc))
        return outcome

    def _from_cache(self, record: Record, data: Any) -> RecordOutcome:
        outcome = RecordOutcome(True, {"id": record.id, "data": data}, cache_hit=True)
        if self.options.get("ground") or self.options.get("require_grounding"):
            # The cache keeps answers, not where they were found: look them up again (local,
            # and the same text gives the same spans).
            assert record.text is not None
            outcome.line["spans"] = spans_to_dict(self.target.ground(data, record.text).spans)
        outcome.cost = self._cost(None)
        outcome.line["cached"] = True
        return outcome

    def _cost(self, cost: Cost | None) -> Decimal | None:
        """A line's cost: None only when the model has no known price."""
        if cost is not None:
            return cost.amount
        return Decimal(0) if self.price is not None else None

    def _cache_key(self, text: str) -> str:
        options = self.options
        body = self.extractor.request_body(self.target, text, **options)
        # How the text is read changes the answer without changing the first request: a value
        # cached without require_grounding may be one it would have refused.
        reading = {key: value for key, value in options.items() if key in _READING and value}
        return cache_key(
            body,
            endpoint=repr(self.extractor),
            strict=options.get("strict", False),
            context=repr(options.get("context")),
            **({"reading": reading} if reading else {}),
        )


_READING = ("require_grounding", "chunk_size", "chunk_overlap", "passes")


def account(stats: Stats, outcome: RecordOutcome) -> None:
    """Complete an outcome's line with what the record cost, and count it in ``stats``."""
    line = outcome.line
    line["attempts"] = outcome.attempts
    line["usage"] = outcome.usage.to_dict()
    line["cost"] = outcome.cost
    if not outcome.ok:  # keep "raw" last, as it may be long
        line["raw"] = line.pop("raw", None)
    if outcome.ok:
        stats.ok += 1
    else:
        stats.failed[outcome.error_type] += 1
    stats.attempts += outcome.attempts
    stats.usage += outcome.usage
    stats.job_usage += outcome.usage
    if outcome.cost is not None:
        stats.cost += outcome.cost
        stats.job_cost += outcome.cost
    if outcome.cache_hit:
        stats.cache_hits += 1


def error_line(record: Record, kind: str, message: str, raw: str | None) -> dict[str, Any]:
    line: dict[str, Any] = {"id": record.id}
    if record.problem is not None:
        line["line"] = record.line
    line["error"] = {"type": kind, "message": message}
    line["raw"] = raw
    return line


def _raw(exc: ExtractionError) -> str | None:
    """The model's last output, for the errors file."""
    if isinstance(exc, ValidationFailed):
        return exc.raw
    if isinstance(exc, TruncatedError):
        return exc.partial
    return exc.attempts[-1].raw if exc.attempts else None
