"""The batch job behind ``extractor batch``: a file of records in, two JSONL files out.

Every input record ends in exactly one of the two files: OUT for validated data, the errors
file for records that failed (with the reason, what they cost and the model's last output).
A job can be stopped at any moment (kill -9, Ctrl-C, the budget) and rerun with the same
command: on start the files are repaired (torn last line cut off) and read back, records
already in them are skipped, and the rest are done.

"Never pay twice", precisely: a record whose line is in a file is never requested again
(unless ``--retry-errors`` asks for its failure to be retried). What a kill -9 can waste is
what was spent on the records in flight at that moment, at most ``--concurrency`` of them:
their attempts so far, answered or not, were billed by the provider, but their lines were not
written, so the rerun does them again. With ``--cache``, a record whose validated answer had
already arrived is the exception: the answer is committed to the cache before its line is
written, and the rerun takes it from there for free. Each line's usage and cost are
everything spent on that record by runs that wrote it, so the files' totals equal the
provider's bill minus exactly that waste (tests/test_cli_e2e.py checks this after a kill -9).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import IO, Any, Protocol

from ..client import AsyncExtractor
from ..core.cost import Cost, Usage
from ..core.options import CallOptions
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
from ..many import bounded
from .cache import Cache, cache_key
from .inputs import Format, Record, id_key, read_records
from .keyindex import KeyIndex
from .outputs import JsonlWriter, Prior, Spent, compact_errors, ok_keys, repair_tail, scan

__all__ = ["Job", "JobAborted", "JobConfig", "Stats", "count_lines", "plain_data"]

_READ_CHUNK = 1000


def _fatal(error: ExtractionError) -> bool:
    if isinstance(error, (AuthenticationError, PermissionDeniedError, NotFoundError)):
        return True
    if isinstance(error, RateLimitError) and error.code == "insufficient_quota":
        return True
    return isinstance(error, ConfigurationError)


@dataclass
class JobConfig:
    input: str
    output: Path
    errors: Path
    format: Format
    id_field: str = "id"
    text_field: str = "text"
    concurrency: int = 8
    budget: Decimal | None = None
    retry_errors: bool = False
    options: CallOptions = field(default_factory=lambda: CallOptions())


@dataclass
class Stats:
    """What this run did, live; the summary at the end."""

    total: int | None = None  # records in the input, when known
    prior_ok: int = 0
    prior_failed: int = 0
    skipped: int = 0
    ok: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    attempts: int = 0
    usage: Usage = field(default_factory=Usage)
    cost: Decimal = Decimal(0)
    currency: str = ""
    priced: bool = True
    cache_hits: int = 0
    in_flight: int = 0
    started: float = field(default_factory=time.monotonic)
    stopped: str | None = None  # "budget", "interrupted", "aborted"
    job_usage: Usage = field(default_factory=Usage)  # both files, this run included
    job_cost: Decimal = Decimal(0)

    @property
    def done(self) -> int:
        return self.ok + sum(self.failed.values())

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        elapsed = self.elapsed
        return self.done / elapsed if elapsed > 0 else 0.0


class Reporter(Protocol):
    def update(self, stats: Stats) -> None: ...
    def message(self, text: str) -> None: ...
    def close(self, stats: Stats) -> None: ...


@dataclass
class _Outcome:
    ok: bool
    line: dict[str, Any]
    error_type: str = ""
    attempts: int = 0
    usage: Usage = field(default_factory=Usage)
    cost: Decimal | None = None
    cache_hit: bool = False
    answer: Any = None  # the value as the model writes it (wrapped if need be), for the cache


class Job:
    """One run of a batch job. `run` returns the stats; `interrupt` is the Ctrl-C handler."""

    def __init__(
        self,
        config: JobConfig,
        extractor: AsyncExtractor,
        target: Target[Any],
        *,
        stream: IO[bytes],
        cache: Cache | None = None,
        reporter: Reporter,
        total: Callable[[], int | None] | None = None,
    ) -> None:
        self.config = config
        self.extractor = extractor
        self.target = target
        self.cache = cache
        self.reporter = reporter
        self._stream = stream
        self._count = total
        model = config.options.get("model") or extractor.model
        self._price = extractor.price_for(model)
        self.stats = Stats(currency=self._price.currency if self._price else "")
        self.stats.priced = self._price is not None
        self._interrupts = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._input_done = False  # the whole input was read
        self._yielded = 0  # records handed on to be done
        self._aborted: JobAborted | None = None
        self._inflight_keys: dict[str, asyncio.Future[_Outcome]] = {}
        if config.budget is not None and self._price is None:
            raise ConfigurationError(
                f"--budget needs a price for the model {model!r}, and none is known."
            )

    # -- control -----------------------------------------------------------------------------

    def interrupt(self) -> None:
        """First call: start nothing new, let in-flight records finish. Second: abandon them."""
        self._interrupts += 1
        self.stats.stopped = "interrupted"
        if self._interrupts == 1:
            self.reporter.message(
                f"stopping: finishing {self.stats.in_flight} in-flight record(s); "
                "press Ctrl-C again to abandon them (they will be redone on the next run)"
            )
        else:
            self.reporter.message("abandoning in-flight records")
            self._abandon()

    def _abandon(self) -> None:
        for task in self._tasks:
            task.cancel()

    def _should_stop(self) -> bool:
        if self.stats.stopped is not None:
            return True
        budget = self.config.budget
        if budget is not None and self.stats.cost >= budget:
            self.stats.stopped = "budget"
            self.reporter.message(
                f"budget reached: spent {self.stats.cost:f} {self.stats.currency} of {budget}; "
                "starting no new records"
            )
            return True
        return False

    # -- the run -----------------------------------------------------------------------------

    async def run(self) -> Stats:
        config = self.config
        for path in (config.output, config.errors):
            if repair_tail(path):
                self.reporter.message(f"repaired a torn last line in {path}")
        prior = scan(config.output, config.errors)
        if prior.duplicates:
            compact_errors(config.errors, prior.ok)
            prior.ok.close()
            prior = scan(config.output, config.errors)
        self.stats.prior_ok = prior.ok_count
        self.stats.prior_failed = len(prior.failed)
        self.stats.job_usage = prior.spent.usage
        self.stats.job_cost = prior.spent.cost
        if self._count is not None:
            threading.Thread(target=self._set_total, daemon=True).start()

        out = JsonlWriter(config.output)
        errors = JsonlWriter(config.errors)
        try:
            records = self._todo(self._stream, prior)
            results = bounded(records, self._process, config.concurrency, stop=self._should_stop)
            async for outcome in results:
                self._account(outcome)
                (out if outcome.ok else errors).write(outcome.line)
                self.reporter.update(self.stats)
        finally:
            out.close()
            errors.close()
            if config.retry_errors and prior.failed:
                done = ok_keys(config.output)
                compact_errors(config.errors, done)
                done.close()
            prior.ok.close()
            self.reporter.close(self.stats)
        if self._aborted is not None:
            raise self._aborted
        if self._input_done and self._yielded == self.stats.done:
            self.stats.stopped = None  # every record is in a file: a late Ctrl-C changed nothing
        return self.stats

    def _set_total(self) -> None:
        assert self._count is not None
        with contextlib.suppress(OSError):
            self.stats.total = self._count()

    async def _todo(self, stream: Any, prior: Prior) -> AsyncIterator[tuple[Record, Spent | None]]:
        """The records still to do. Reading, duplicate detection and skipping run in a thread a
        chunk at a time: the input may be a slow pipe, and a resumed job may skip millions."""
        reader = read_records(
            stream,
            self.config.format,
            id_field=self.config.id_field,
            text_field=self.config.text_field,
        )
        seen = KeyIndex()
        try:
            while True:
                chunk = await asyncio.to_thread(self._next_chunk, reader, seen, prior)
                if chunk is None:
                    self._input_done = True
                    return
                for item in chunk:
                    self._yielded += 1
                    yield item
        finally:
            seen.close()

    def _next_chunk(
        self, reader: Iterator[Record], seen: KeyIndex, prior: Prior
    ) -> list[tuple[Record, Spent | None]] | None:
        """Up to a chunk of input records, those still to do; None at the end of the input."""
        records = list(islice(reader, _READ_CHUNK))
        if not records:
            return None
        repeats = seen.add_many(
            [(id_key(r.id, r.line), r.line) for r in records if r.problem is None]
        )
        if repeats:
            records = [_duplicate(r, repeats[r.line]) if r.line in repeats else r for r in records]
        keys = [_record_key(record) for record in records]
        done = prior.ok.present(keys)
        todo: list[tuple[Record, Spent | None]] = []
        for record, key in zip(records, keys, strict=True):
            if key in done:
                self.stats.skipped += 1
                continue
            earlier = prior.failed.get(key)
            if earlier is not None and not self.config.retry_errors:
                self.stats.skipped += 1
                continue
            todo.append((record, earlier))
        return todo

    async def _process(self, item: tuple[Record, Spent | None]) -> _Outcome:
        record, earlier = item
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            return self._with_earlier(await self._outcome(record), earlier)
        finally:
            self._tasks.discard(task)

    @staticmethod
    def _with_earlier(outcome: _Outcome, earlier: Spent | None) -> _Outcome:
        if earlier is not None:
            _carry(outcome, earlier)
        return outcome

    async def _outcome(self, record: Record) -> _Outcome:
        if record.problem is not None:
            outcome = _Outcome(False, {}, error_type="InputError", cost=self._cost(None))
            outcome.line = _error_line(record, "InputError", record.problem, None)
        else:
            assert record.text is not None
            self.stats.in_flight += 1
            try:
                outcome = await self._extract(record)
            finally:
                self.stats.in_flight -= 1
        return outcome

    async def _extract(self, record: Record) -> _Outcome:
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
                return self._from_cache(record, plain_data(self.target, value))
        future: asyncio.Future[_Outcome] = asyncio.get_running_loop().create_future()
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

    async def _call(self, record: Record) -> _Outcome:
        assert record.text is not None
        try:
            result = await self.extractor.extract_result(
                self.target, record.text, **self.config.options
            )
        except ExtractionError as exc:
            if _fatal(exc):
                # Every other record would fail the same way: stop, and write none of them.
                self._aborted = self._aborted or JobAborted(exc)
                self.stats.stopped = "aborted"
                self._abandon()
                raise asyncio.CancelledError from exc
            outcome = _Outcome(False, {}, error_type=type(exc).__name__)
            outcome.attempts = len(exc.attempts)
            outcome.usage = exc.usage or Usage()
            outcome.cost = self._cost(exc.cost)
            outcome.line = _error_line(record, type(exc).__name__, str(exc), _raw(exc))
            return outcome
        usage, cost = result.usage, self._cost(result.cost)
        answer = self.target.to_answer(result.value)
        line = {"id": record.id, "data": _unwrap(self.target, answer)}
        outcome = _Outcome(True, line, attempts=len(result.attempts), usage=usage, cost=cost)
        outcome.answer = answer
        return outcome

    def _from_cache(self, record: Record, data: Any) -> _Outcome:
        outcome = _Outcome(True, {"id": record.id, "data": data}, cache_hit=True)
        outcome.cost = self._cost(None)
        outcome.line["cached"] = True
        return outcome

    def _cost(self, cost: Cost | None) -> Decimal | None:
        """A line's cost: None only when the model has no known price."""
        if cost is not None:
            return cost.amount
        return Decimal(0) if self._price is not None else None

    def _cache_key(self, text: str) -> str:
        options = self.config.options
        body = self.extractor.request_body(self.target, text, **options)
        return cache_key(
            body,
            endpoint=repr(self.extractor),
            strict=options.get("strict", False),
            context=repr(options.get("context")),
        )

    def _account(self, outcome: _Outcome) -> None:
        line = outcome.line
        line["attempts"] = outcome.attempts
        line["usage"] = outcome.usage.to_dict()
        line["cost"] = outcome.cost
        if not outcome.ok:  # keep "raw" last, as it may be long
            line["raw"] = line.pop("raw", None)
        stats = self.stats
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


def _error_line(record: Record, kind: str, message: str, raw: str | None) -> dict[str, Any]:
    line: dict[str, Any] = {"id": record.id}
    if record.problem is not None:
        line["line"] = record.line
    line["error"] = {"type": kind, "message": message}
    line["raw"] = raw
    return line


def plain_data(target: Target[Any], value: Any) -> Any:
    """A validated value as plain JSON data, as OUT and ``extractor extract`` print it."""
    return _unwrap(target, target.to_answer(value))


def _unwrap(target: Target[Any], answer: Any) -> Any:
    # A wrapped target's answer is an object with the value as its only property.
    return next(iter(answer.values())) if target.wrapped else answer


def _duplicate(record: Record, first: int) -> Record:
    key = id_key(record.id, record.line)
    return Record(
        record.line,
        record.id,
        problem=f"line {record.line}: duplicate id {key} (first seen on line {first}); "
        "ids must be unique",
    )


def _record_key(record: Record) -> str:
    """Records with an input problem are known by their line (a duplicate shares its id with
    the record it duplicates); the others by their id."""
    return id_key(None if record.problem is not None else record.id, record.line)


def _carry(outcome: _Outcome, earlier: Spent) -> None:
    """A retried record's line carries what its earlier failures cost: the old line goes."""
    outcome.attempts += earlier.attempts
    outcome.usage += earlier.usage
    if outcome.cost is not None or earlier.cost:
        outcome.cost = (outcome.cost or Decimal(0)) + earlier.cost


def _raw(exc: ExtractionError) -> str | None:
    """The model's last output, for the errors file."""
    if isinstance(exc, ValidationFailed):
        return exc.raw
    if isinstance(exc, TruncatedError):
        return exc.partial
    return exc.attempts[-1].raw if exc.attempts else None


def count_lines(path: str, *, header: bool = False) -> int:
    """Lines in ``path`` (one record each, near enough for a progress bar's total)."""
    lines = 0
    last = b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    return max(0, lines - (1 if header else 0))
