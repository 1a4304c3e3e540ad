"""Many extractions at once: ``extract_many`` for services and notebooks.

Results come back as they finish, not in input order, each carrying its record's id, so one
slow record never holds up the others. At most ``concurrency`` records are in flight, and
records are pulled from the input only as slots free up, so a generator over a huge file is
never read ahead. A failed record yields its error (with what it spent); it does not stop the
others.

Records are texts (the id is the position, from 0), ``(id, text)`` pairs, or mappings with
``id`` and ``text`` keys.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .core.cost import Cost, Usage
from .core.options import DEFAULT_CONCURRENCY
from .core.result import Attempt, Extraction
from .errors import ConfigurationError, ExtractionError

__all__ = ["RecordResult", "aextract_many", "bounded", "extract_many"]

T = TypeVar("T")
X = TypeVar("X")
R = TypeVar("R")

RecordInput = str | tuple[Any, str] | Mapping[str, Any]


@dataclass(frozen=True)
class RecordResult(Generic[T]):
    """The outcome of one record: ``extraction`` on success, ``error`` on failure."""

    id: Any
    extraction: Extraction[T] | None = None
    error: ExtractionError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def value(self) -> T:
        """The extracted value; raises the record's error if it failed."""
        if self.error is not None:
            raise self.error
        assert self.extraction is not None
        return self.extraction.value

    @property
    def usage(self) -> Usage:
        """Tokens spent on the record, failed attempts included, whether it failed or not."""
        if self.extraction is not None:
            return self.extraction.usage
        return (self.error.usage if self.error is not None else None) or Usage()

    @property
    def cost(self) -> Cost | None:
        """What the record cost, failed or not (a failure is billed too); None when the
        model has no known price."""
        if self.extraction is not None:
            return self.extraction.cost
        return self.error.cost if self.error is not None else None

    @property
    def attempts(self) -> Sequence[Attempt]:
        """The record's attempts (re-asks included), failed or not."""
        if self.extraction is not None:
            return self.extraction.attempts
        return self.error.attempts if self.error is not None else ()


def _records(records: Iterable[RecordInput]) -> Iterator[tuple[Any, str]]:
    for position, record in enumerate(records):
        if isinstance(record, str):
            yield position, record
        elif isinstance(record, tuple) and len(record) == 2:
            yield record[0], record[1]
        elif isinstance(record, Mapping) and isinstance(record.get("text"), str):
            yield record.get("id", position), record["text"]
        else:
            raise ConfigurationError(
                f"record {position} is {type(record).__name__}: pass texts, (id, text) pairs, "
                "or mappings with 'id' and 'text' keys."
            )


async def bounded(
    items: Iterable[X] | AsyncIterable[X],
    work: Callable[[X], Awaitable[R]],
    concurrency: int,
    *,
    stop: Callable[[], bool] = lambda: False,
) -> AsyncGenerator[R, None]:
    """Run ``work`` over ``items`` with at most ``concurrency`` in flight, yielding results as
    they finish. ``stop()`` is asked before each new item is started (never once the items are
    exhausted); once it says yes, the ones in flight finish and nothing new starts (the item
    in hand is dropped). Closing the generator cancels what is in flight."""
    if concurrency < 1:
        raise ConfigurationError(f"concurrency must be at least 1, not {concurrency}")
    finished: asyncio.Queue[asyncio.Task[R]] = asyncio.Queue()
    in_flight: set[asyncio.Task[R]] = set()
    source: Iterator[X] | AsyncIterator[X] = (
        aiter(items) if isinstance(items, AsyncIterable) else iter(items)
    )
    exhausted = False

    async def pull() -> X | None:
        nonlocal exhausted
        try:
            if isinstance(source, AsyncIterator):
                return await anext(source)
            return next(source)
        except (StopIteration, StopAsyncIteration):
            exhausted = True
            return None

    stopped = False
    try:
        while True:
            while not exhausted and not stopped and len(in_flight) < concurrency:
                # Pull first, so stop() is asked only when there is something left to start.
                item = await pull()
                if exhausted:
                    break
                if stop():
                    stopped = True
                    break
                task = asyncio.ensure_future(work(item))  # type: ignore[arg-type]
                in_flight.add(task)
                task.add_done_callback(finished.put_nowait)
            if not in_flight:
                return
            task = await finished.get()
            in_flight.discard(task)
            if not task.cancelled():
                yield task.result()
    finally:
        for task in in_flight:
            task.cancel()
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)
        if isinstance(source, AsyncGenerator):
            await source.aclose()


async def aextract_many(
    extract: Callable[[str], Awaitable[Extraction[T]]],
    records: Iterable[RecordInput],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> AsyncIterator[RecordResult[T]]:
    """Run ``extract`` over each record's text, ``concurrency`` at a time, yielding each
    record's result as it finishes (``AsyncExtractor.extract_many`` passes its
    ``extract_result`` with the call's target and options)."""

    async def one(record: tuple[Any, str]) -> RecordResult[T]:
        record_id, text = record
        try:
            return RecordResult(record_id, await extract(text))
        except ExtractionError as exc:
            return RecordResult(record_id, error=exc)

    async for result in bounded(_records(records), one, concurrency):
        yield result


def extract_many(
    extract: Callable[[str], Extraction[T]],
    records: Iterable[RecordInput],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> Iterator[RecordResult[T]]:
    """Run ``extract`` over each record's text in ``concurrency`` threads (the sync client is
    thread-safe, and the caller needs no event loop), yielding results as they finish."""
    if concurrency < 1:
        raise ConfigurationError(f"concurrency must be at least 1, not {concurrency}")

    def one(record: tuple[Any, str]) -> RecordResult[T]:
        record_id, text = record
        try:
            return RecordResult(record_id, extract(text))
        except ExtractionError as exc:
            return RecordResult(record_id, error=exc)

    pool = concurrent.futures.ThreadPoolExecutor(concurrency, thread_name_prefix="extract")
    pending: set[concurrent.futures.Future[RecordResult[T]]] = set()
    try:
        for record in _records(records):
            if len(pending) >= concurrency:
                done, pending = concurrent.futures.wait(
                    pending, return_when=concurrent.futures.FIRST_COMPLETED
                )
                yield from (future.result() for future in done)
            pending.add(pool.submit(one, record))
        for future in concurrent.futures.as_completed(pending):
            pending.discard(future)
            yield future.result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)
