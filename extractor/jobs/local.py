"""The local engine behind ``extractor batch``: a file of records in, two JSONL files out,
the records run concurrently on this machine's event loop.

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
provider's bill minus exactly that waste (tests/e2e/test_cli.py checks this after a kill -9).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from itertools import islice
from typing import IO, Any

from ..client import AsyncExtractor
from ..core.target import Target
from ..errors import ConfigurationError, JobAborted
from ..many import bounded
from .cache import Cache
from .config import JobConfig, Reporter, Stats
from .inputs import Record, id_key, read_records
from .keyindex import KeyIndex
from .outputs import JsonlWriter, Prior, Spent, compact_errors, ok_keys, repair_tail, scan
from .records import RecordOutcome, RecordProcessor, account

__all__ = ["Job", "carry"]

_READ_CHUNK = 1000


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
        self.processor = RecordProcessor(extractor, target, config.options, cache=cache)
        self.reporter = reporter
        self._stream = stream
        self._count = total
        price = self.processor.price
        self.stats = Stats(currency=price.currency if price else "")
        self.stats.priced = price is not None
        self._interrupts = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._input_done = False  # the whole input was read
        self._yielded = 0  # records handed on to be done
        self._aborted: JobAborted | None = None
        if config.budget is not None and price is None:
            model = config.options.get("model") or extractor.model
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

    def _open(self) -> tuple[Prior, JsonlWriter, JsonlWriter]:
        """Repair the output files, read back what earlier runs did, and open them."""
        config = self.config
        for path in (config.output, config.errors):
            if repair_tail(path):
                self.reporter.message(f"repaired a torn last line in {path}")
        prior = scan(config.output, config.errors)
        if prior.duplicates:
            compact_errors(config.errors, prior.ok)
            prior.ok.close()
            prior = scan(config.output, config.errors)
        self.stats.job_usage = prior.spent.usage
        self.stats.job_cost = prior.spent.cost
        if self._count is not None:
            threading.Thread(target=self._set_total, daemon=True).start()
        return prior, JsonlWriter(config.output), JsonlWriter(config.errors)

    async def run(self) -> Stats:
        prior, out, errors = self._open()
        try:
            async for outcome in self._outcomes(self._todo(self._stream, prior)):
                self._account(outcome)
                (out if outcome.ok else errors).write(outcome.line)
                self.reporter.update(self.stats)
        finally:
            self._close(prior, out, errors)
        if self._aborted is not None:
            raise self._aborted
        if self._input_done and self._yielded == self.stats.done:
            self.stats.stopped = None  # every record is in a file: a late Ctrl-C changed nothing
        return self.stats

    def _outcomes(
        self, todo: AsyncIterator[tuple[Record, Spent | None]]
    ) -> AsyncIterator[RecordOutcome]:
        """The records' outcomes as they finish. Here they run concurrently on this event
        loop; another engine (`extractor.jobs.ray_job`) runs them elsewhere."""
        return bounded(todo, self._process, self.config.concurrency, stop=self._should_stop)

    def _close(self, prior: Prior, out: JsonlWriter, errors: JsonlWriter) -> None:
        """Close the files; with ``--retry-errors``, drop the old lines of records now done."""
        out.close()
        errors.close()
        if self.config.retry_errors and prior.failed:
            done = ok_keys(self.config.output)
            compact_errors(self.config.errors, done)
            done.close()
        prior.ok.close()
        self.reporter.close(self.stats)

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

    async def _process(self, item: tuple[Record, Spent | None]) -> RecordOutcome:
        record, earlier = item
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.stats.in_flight += 1
        try:
            outcome = await self.processor.process(record)
        except JobAborted as aborted:
            # Every other record would fail the same way: stop, and write none of them.
            self._aborted = self._aborted or aborted
            self.stats.stopped = "aborted"
            self._abandon()
            raise asyncio.CancelledError from aborted
        finally:
            self.stats.in_flight -= 1
            self._tasks.discard(task)
        if earlier is not None:
            carry(outcome, earlier)
        return outcome

    def _account(self, outcome: RecordOutcome) -> None:
        account(self.stats, outcome)


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


def carry(outcome: RecordOutcome, earlier: Spent) -> None:
    """A retried record's line carries what its earlier failures cost: the old line goes."""
    outcome.attempts += earlier.attempts
    outcome.usage += earlier.usage
    if outcome.cost is not None or earlier.cost:
        outcome.cost = (outcome.cost or Decimal(0)) + earlier.cost
