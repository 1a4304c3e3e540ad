"""``extractor batch --engine ray``: the local engine's job, with the records run on Ray.

Everything but running the records is the local engine's (`Job`): the input is read here, on
the driver, by the same reader; the output files are repaired, read back and skipped over the
same way; lines are written by the driver alone, as results come back, with the same
accounting, progress and summary. Only `_outcomes` differs: the records still to do go to
Ray Data in windows of `WINDOW` records, through the same ``map_batches`` stage as
`extract_dataset`, and each row that comes back becomes the outcome the local engine would
have had.

Why exactly once holds, and why resumption is an anti-join on the ids the driver already
wrote rather than Ray Data's checkpointing: the files are the record of what is done, and
only the driver writes them, one whole line per record, as soon as its row arrives. A rerun
skips every id that has a line (the local engine's resume scan, unchanged), so it needs no
state of its own that could disagree with the files, and works the same after a kill -9 of
the driver, a Ctrl-C, a budget stop or a lost cluster. Ray Data's checkpoints record which
input blocks a pipeline finished writing to its own sink; they would be a second record of
the same facts, at block granularity (a killed driver would redo whole blocks, paying again
for records whose lines are already written), and they cannot see the errors file or
``--retry-errors``. Within one run, Ray Data retries a batch whose worker died; a row
already written is never written twice (its window key is checked), and with ``--cache`` the
records of that batch whose answers had arrived are not paid again: the worker committed
them to the cache actor before its batch could return.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from typing import Any

import ray
from ray.exceptions import RayError

from ..errors import ExtractionError, JobAborted
from .inputs import Record
from .local import Job, carry
from .outputs import Spent
from .ray_dataset import map_records
from .ray_limits import CoordinatorStatus
from .ray_worker import WorkerSpec, outcome_from_row
from .records import RecordOutcome

__all__ = ["WINDOW", "RayJob", "connect"]

# Records the driver hands to Ray Data at a time: it holds their texts until their rows are
# back. A window ends with a short drain (its last batches), so windows are large.
WINDOW = 20_000

_KEY = "key"  # the column carrying a row's place in its window


# Ray's messages that say nothing to the user of a batch job: that the local cluster uses
# token authentication (it should), that progress bars are off (we turned them off), and each
# dataset's start and end (the job prints its own progress and summary).
_QUIET_LOGGERS = {
    "ray._private.authentication.authentication_token_setup": logging.ERROR,
    "ray.data._internal.progress": logging.ERROR,
    "ray.data": logging.WARNING,
}


def connect(address: str | None) -> None:
    """Join the Ray cluster at ``address``, or start a local one. Ray's own progress bars
    and chatter are turned off (its warnings and errors stay): the job prints its own
    progress and summary, as locally."""
    for name, level in _QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    ray.init(
        address=address,
        include_dashboard=False if address is None else None,
        log_to_driver=False,
        logging_level=logging.WARNING,
    )
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False


class RayJob(Job):
    """A `Job` whose records run on a Ray cluster (Ray must be initialised)."""

    def __init__(self, *args: Any, spec: WorkerSpec, workers: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spec = spec
        self.workers = workers
        self._abandoned = asyncio.Event()
        self._returned = 0  # rows that came back from Ray, this run

    def interrupt(self) -> None:
        super().interrupt()
        self.spec.limits.stop("interrupted")  # no worker starts another record
        if self._interrupts > 1:
            self._abandoned.set()

    def _should_stop(self) -> bool:
        self._follow(self.spec.limits.status())
        return super()._should_stop()

    def _follow(self, status: CoordinatorStatus) -> None:
        """Take over what the coordinator decided for the whole cluster."""
        self.stats.in_flight = max(0, status.admitted - self._returned)
        if status.stopped == "budget" and self.stats.stopped is None:
            self.stats.stopped = "budget"
            self.reporter.message(
                f"budget reached: the cluster spent {status.spent:f} {self.stats.currency} of "
                f"{self.config.budget}; starting no new records"
            )
        elif status.stopped == "aborted" and status.error is not None and self._aborted is None:
            self._aborted = JobAborted(status.error)
            self.stats.stopped = "aborted"

    async def _outcomes(
        self, todo: AsyncIterator[tuple[Record, Spent | None]]
    ) -> AsyncIterator[RecordOutcome]:
        window: list[tuple[Record, Spent | None]] = []
        try:
            async for item in todo:
                record, _ = item
                if record.problem is not None:  # an input error: no request, done here
                    yield await self._process(item)
                    continue
                window.append(item)
                if len(window) >= WINDOW:
                    async for outcome in self._run_window(window):
                        yield outcome
                    window = []
                    if self._should_stop() or self._abandoned.is_set():
                        return
            if window and not self._should_stop():
                async for outcome in self._run_window(window):
                    yield outcome
        finally:
            if isinstance(todo, AsyncGenerator):
                await todo.aclose()

    async def _run_window(
        self, window: list[tuple[Record, Spent | None]]
    ) -> AsyncIterator[RecordOutcome]:
        rows = [{_KEY: key, "text": record.text} for key, (record, _) in enumerate(window)]
        blocks = max(1, len(rows) // max(1, self.spec.concurrency))
        dataset = ray.data.from_items(rows, override_num_blocks=min(blocks, 1000))
        results = map_records(dataset, self.spec, workers=self.workers)
        batches = iter(results.iter_batches(batch_size=None, batch_format="numpy"))
        written: set[int] = set()
        while True:
            batch = await self._next(batches)
            if batch is None:
                return
            for row in _rows(batch):
                self._returned += 1
                key = int(row[_KEY])
                if not row["started"] or key in written:
                    continue  # not started: left for a rerun; already written: a retried batch
                written.add(key)
                record, earlier = window[key]
                outcome = outcome_from_row(row, record)
                if earlier is not None:
                    carry(outcome, earlier)
                yield outcome
            self._follow(self.spec.limits.status())

    async def _next(self, batches: Iterator[dict[str, Any]]) -> dict[str, Any] | None:
        """The next block of rows (None at the end, or once a second Ctrl-C abandons the
        records in flight: they are redone on the next run)."""
        if self._abandoned.is_set():
            return None
        fetch = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
        abandon = asyncio.ensure_future(self._abandoned.wait())
        await asyncio.wait((fetch, abandon), return_when=asyncio.FIRST_COMPLETED)
        abandon.cancel()
        if not fetch.done():
            fetch.add_done_callback(lambda done: done.exception())  # nobody waits any more
            return None
        try:
            return fetch.result()
        except RayError as exc:  # the cluster, not a record: stop, keeping what is written
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise JobAborted(
                ExtractionError(f"Ray failed: {reason}. The records written are kept; rerun.")
            ) from exc


def _rows(batch: dict[str, Any]) -> Iterator[dict[str, Any]]:
    columns = {name: values.tolist() for name, values in batch.items()}
    names = list(columns)
    for values in zip(*(columns[name] for name in names), strict=True):
        yield dict(zip(names, values, strict=True))
