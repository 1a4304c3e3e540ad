"""Streaming extraction: typed snapshots (or finished list items) while the model writes, then
the validated value, with the same re-ask rules as ``extract``.

A stream is an iterator of events, used in a ``with`` block so that stopping early closes the
connection::

    with ex.stream(Order, text) as stream:
        for event in stream:
            match event:
                case Snapshot(value=order):  # fields not complete yet are None
                    render(order)
                case Restart(errors=errors):  # the answer was rejected; the model is re-asked
                    clear()
                case Done(value=order):  # validated, exactly as extract() returns it
                    save(order)
    print(stream.result.usage, stream.result.cost)

``stream_items(Person, text)`` yields `ItemReady` (and `ItemInvalid`) per list element instead
of snapshots. `extractor.core.session.StreamSession` holds all the logic without I/O (SSE
bytes in, events out, the extraction loop deciding); the sync and async drivers below only
move bytes between a sender's responses and the session.
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from typing import Any, Generic, Protocol, TypeVar

import httpx

from .core.cost import Cost, Usage
from .core.document_stream import ItemsDocument
from .core.result import Attempt, Extraction
from .core.session import (
    Done,
    ItemEvent,
    ItemInvalid,
    ItemReady,
    Restart,
    Snapshot,
    StreamEvent,
    StreamSession,
)
from .errors import ExtractionError
from .wire.send import AsyncSender, Sender, is_event_stream

__all__ = [
    "AsyncExtractionStream",
    "Done",
    "ExtractionStream",
    "ItemEvent",
    "ItemInvalid",
    "ItemReady",
    "Restart",
    "Snapshot",
    "Spending",
    "StreamEvent",
    "drive",
    "drive_async",
    "drive_chunks",
    "drive_chunks_async",
]

E = TypeVar("E")
R = TypeVar("R")


class Spending(Protocol):
    """What a streamed call has spent: its loop's, or a chunked call's over every chunk."""

    @property
    def usage(self) -> Usage: ...
    @property
    def cost(self) -> Cost | None: ...
    @property
    def attempts(self) -> tuple[Attempt, ...]: ...


class _StreamState(Generic[R]):
    """What the call has spent so far, readable during and after the stream, also after an
    error or an early stop; and its result once it has one."""

    _spending: Spending
    _result: Extraction[R] | None = None
    _error: ExtractionError | None = None

    @property
    def usage(self) -> Usage:
        """Tokens of every answered attempt. An abandoned attempt's are not known: the API
        reports usage only at the end of a stream."""
        return self._spending.usage

    @property
    def cost(self) -> Cost | None:
        return self._spending.cost

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        return self._spending.attempts

    @property
    def result(self) -> Extraction[R]:
        """The `Extraction`, once the `Done` event has been yielded; the error that ended
        the stream, if one did."""
        if self._error is not None:
            raise self._error
        if self._result is None:
            raise RuntimeError(
                "the stream has not finished: iterate it to the Done event (or call until_done())."
            )
        return self._result

    def _seen(self, event: Any) -> None:
        if type(event) is Done:
            self._result = event.extraction


class ExtractionStream(_StreamState[R], Generic[E, R]):
    """An iterator of events; use it in a ``with`` block so that stopping early closes the
    HTTP response."""

    def __init__(self, spending: Spending, events: Generator[E, None, None]) -> None:
        self._spending = spending
        self._events = events

    def __iter__(self) -> Iterator[E]:
        return self

    def __next__(self) -> E:
        try:
            event = next(self._events)
        except ExtractionError as exc:
            self._error = exc
            raise
        self._seen(event)
        return event

    def until_done(self) -> Extraction[R]:
        """Consume the remaining events and return the result."""
        for _ in self:
            pass
        return self.result

    def close(self) -> None:
        """Stop: close the HTTP response (idempotent)."""
        self._events.close()

    def __enter__(self) -> ExtractionStream[E, R]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncExtractionStream(_StreamState[R], Generic[E, R]):
    """The async twin of `ExtractionStream`: ``async with`` and ``async for``."""

    def __init__(self, spending: Spending, events: AsyncGenerator[E, None]) -> None:
        self._spending = spending
        self._events = events

    def __aiter__(self) -> AsyncIterator[E]:
        return self

    async def __anext__(self) -> E:
        try:
            event = await self._events.__anext__()
        except ExtractionError as exc:
            self._error = exc
            raise
        self._seen(event)
        return event

    async def until_done(self) -> Extraction[R]:
        async for _ in self:
            pass
        return self.result

    async def aclose(self) -> None:
        """Stop: close the HTTP response (idempotent)."""
        await self._events.aclose()

    async def __aenter__(self) -> AsyncExtractionStream[E, R]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def drive(sender: Sender, session: StreamSession) -> Generator[Any, None, None]:
    """The events of a streamed call, moving bytes between ``sender``'s responses and the
    session until it has finished."""
    try:
        while not session.finished:
            body = session.request()
            started = time.perf_counter()
            response = sender.open_stream(body)
            try:
                if not is_event_stream(response):
                    decode = functools.partial(sender.endpoint.completion, response)
                    yield from session.whole(response.content, decode, _since(started))
                    continue
                session.opened(response.headers.get("x-request-id"))
                try:
                    for data in sender.iter_bytes(response):
                        yield from session.feed(data)
                except httpx.TransportError as exc:
                    raise session.broken(_describe(exc)) from exc
                yield from session.end(_since(started))
            finally:
                response.close()
    except ExtractionError as exc:
        session.fail(exc)
        raise


async def drive_async(sender: AsyncSender, session: StreamSession) -> AsyncGenerator[Any, None]:
    """`drive`, with an async sender."""
    try:
        while not session.finished:
            body = session.request()
            started = time.perf_counter()
            response = await sender.open_stream(body)
            try:
                if not is_event_stream(response):
                    decode = functools.partial(sender.endpoint.completion, response)
                    for event in session.whole(response.content, decode, _since(started)):
                        yield event
                    continue
                session.opened(response.headers.get("x-request-id"))
                try:
                    async for data in sender.iter_bytes(response):
                        for event in session.feed(data):
                            yield event
                except httpx.TransportError as exc:
                    raise session.broken(_describe(exc)) from exc
                for event in session.end(_since(started)):
                    yield event
            finally:
                await response.aclose()
    except ExtractionError as exc:
        session.fail(exc)
        raise


def drive_chunks(sender: Sender, document: ItemsDocument) -> Generator[Any, None, None]:
    """The events of ``stream_items`` over a chunked text: the chunks' streams one after the
    other, a failed chunk recorded and the next one read, then the merged `Done`."""
    for job in document.jobs:
        session = document.open(job)
        try:
            for event in drive(sender, session):
                yield from document.translate(job, event)
        except ExtractionError as exc:
            yield from document.failed(job, exc)
    yield document.done()


async def drive_chunks_async(
    sender: AsyncSender, document: ItemsDocument
) -> AsyncGenerator[Any, None]:
    """`drive_chunks`, with an async sender."""
    for job in document.jobs:
        session = document.open(job)
        try:
            async for event in drive_async(sender, session):
                for translated in document.translate(job, event):
                    yield translated
        except ExtractionError as exc:
            for translated in document.failed(job, exc):
                yield translated
    yield document.done()


def _describe(exc: httpx.TransportError) -> str:
    return f"{type(exc).__name__}: {exc}"


def _since(started: float) -> float:
    return time.perf_counter() - started
