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
from ..core.loop import cut_answer
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
from .outage import is_systematic
from .outputs import Spent

__all__ = [
    "RecordOutcome",
    "RecordProcessor",
    "account",
    "complete",
    "count",
    "error_line",
    "spend",
]


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
    earlier: Spent | None = None  # what earlier runs spent on the record (--retry-errors)

    @property
    def systematic(self) -> bool:
        """Failed on the API rather than on the record (see `extractor.jobs.outage`)."""
        return not self.ok and is_systematic(self.error_type)

    @property
    def error_text(self) -> str:
        error = self.line.get("error") or {}
        return f"{error.get('type', '')}: {error.get('message', '')}"


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
        """The record's outcome; raises `JobAborted` for an error that would fail every record.
        The record's kept input fields, if any, go in its line as ``input``."""
        if record.problem is not None:
            outcome = RecordOutcome(False, {}, error_type="InputError", cost=self._cost(None))
            outcome.line = error_line(record, "InputError", record.problem, None)
        else:
            outcome = await self._extract(record)
        if record.fields is not None:
            outcome.line = _with_input(outcome.line, record.fields)
        return outcome

    async def _extract(self, record: Record) -> RecordOutcome:
        assert record.text is not None
        if self.cache is None:
            return await self._call(record)
        key = self.cache_key(record.text)
        shared = self._inflight_keys.get(key)
        if shared is not None:  # the same text is being extracted right now: wait for it
            first = await asyncio.shield(shared)
            if first.ok:
                return self._from_cache(record, first.line["data"])
        hit = self.lookup(record, key)
        if hit is not None:
            return hit
        future: asyncio.Future[RecordOutcome] = asyncio.get_running_loop().create_future()
        self._inflight_keys[key] = future
        try:
            outcome = await self._call(record)
            self.store(key, outcome)
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

    def lookup(self, record: Record, key: str) -> RecordOutcome | None:
        """The record's outcome from the cache (``key``: its `cache_key`), or None."""
        assert self.cache is not None
        cached = self.cache.get(key)
        if cached is None:
            return None
        try:  # what is written to OUT is always valid, even from an old cache
            value = self.target.validate(cached["answer"])
        except (Invalid, KeyError, TypeError):
            return None
        return self._from_cache(record, self.target.plain(value))

    def store(self, key: str, outcome: RecordOutcome) -> None:
        """Keep a success in the cache. Called before its line is written: a crash in between
        costs nothing."""
        if outcome.ok and self.cache is not None:
            self.cache.put(key, {"answer": outcome.answer})

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

    def cache_key(self, text: str) -> str:
        """The cache key of a record's text: its first request, and how it is read."""
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


def spend(stats: Stats, outcome: RecordOutcome) -> None:
    """Count what this run spent on the record, whether or not its line gets written (an
    outage or a full disk can leave it undone): the summary and ``--budget`` count this
    run's money, and only it (what earlier runs spent is in ``outcome.earlier``)."""
    stats.attempts += outcome.attempts
    stats.usage += outcome.usage
    if outcome.cost is not None:
        stats.cost += outcome.cost
    if outcome.cache_hit:
        stats.cache_hits += 1


def complete(outcome: RecordOutcome) -> dict[str, Any]:
    """The record's line with everything spent on it, earlier runs' failures included
    (``raw`` last in an error line: it may be long)."""
    attempts, usage, cost = outcome.attempts, outcome.usage, outcome.cost
    earlier = outcome.earlier
    if earlier is not None:
        attempts += earlier.attempts
        usage += earlier.usage
        if cost is not None or earlier.cost:
            cost = (cost or Decimal(0)) + earlier.cost
    line = outcome.line
    line["attempts"] = attempts
    line["usage"] = usage.to_dict()
    line["cost"] = cost
    if not outcome.ok:
        line["raw"] = line.pop("raw", None)
    return line


def count(stats: Stats, outcome: RecordOutcome) -> None:
    """Count a record whose line was written: ok or failed, and this run's part of the files'
    totals."""
    if outcome.ok:
        stats.ok += 1
    else:
        stats.failed[outcome.error_type] += 1
    stats.job_usage += outcome.usage
    if outcome.cost is not None:
        stats.job_cost += outcome.cost


def account(stats: Stats, outcome: RecordOutcome) -> None:
    """`spend`, `complete` and `count` at once, for an engine that writes each line as soon
    as its record is done."""
    spend(stats, outcome)
    complete(outcome)
    count(stats, outcome)


def error_line(record: Record, kind: str, message: str, raw: str | None) -> dict[str, Any]:
    line: dict[str, Any] = {"id": record.id}
    if record.problem is not None:
        line["line"] = record.line
    line["error"] = {"type": kind, "message": message}
    line["raw"] = raw
    return line


def _with_input(line: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """``input`` right after ``data`` (or ``error``), before the accounting fields."""
    head = {k: v for k, v in line.items() if k != "raw"}
    head["input"] = fields
    if "raw" in line:
        head["raw"] = line["raw"]
    return head


def _raw(exc: ExtractionError) -> str | None:
    """The model's last output, for the errors file, cut as in a re-ask (every resume reads
    the errors file again)."""
    if isinstance(exc, ValidationFailed):
        raw = exc.raw
    elif isinstance(exc, TruncatedError):
        raw = exc.partial
    else:
        raw = exc.attempts[-1].raw if exc.attempts else None
    return None if raw is None else cut_answer(raw)
