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
of snapshots. `StreamSession` holds all the logic without I/O (SSE bytes in, events out, the
extraction loop deciding); the sync and async drivers below only move bytes.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, get_args, get_origin

import httpx
import pydantic

from .core.completion import Completion
from .core.cost import Cost, Usage
from .core.loop import ExtractionLoop
from .core.options import CallOptions
from .core.partial import Snapshots
from .core.result import Attempt, Extraction
from .core.target import _WRAPPER_KEY
from .core.validate import Invalid, JSONSchemaValidator, PydanticValidator, TargetValidator
from .errors import ErrorDetail, ExtractionError, ParseError, StreamError
from .parse import IncrementalParser
from .wire.chunks import ChunkAssembler
from .wire.endpoint import Endpoint, connection_error
from .wire.sse import ServerSentEvent, SSEDecoder

if TYPE_CHECKING:
    from .client import AsyncExtractor, Extractor

__all__ = [
    "AsyncExtractionStream",
    "Done",
    "ExtractionStream",
    "ItemEvent",
    "ItemInvalid",
    "ItemReady",
    "Restart",
    "Snapshot",
    "StreamEvent",
    "StreamSession",
]

T = TypeVar("T")
E = TypeVar("E")
R = TypeVar("R")


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    """The value as far as it has arrived, in the target's type: fields not yet complete are
    None (and absent from ``model_fields_set``); complete parts are validated, the whole is
    not. ``attempt`` counts from 1."""

    value: T
    attempt: int


@dataclass(frozen=True)
class ItemReady(Generic[T]):
    """One list element, complete and validated; ``index`` is its place in the list."""

    value: T
    index: int
    attempt: int


@dataclass(frozen=True)
class ItemInvalid:
    """A complete list element that does not conform; the whole answer will be re-asked
    at its end unless the re-ask budget is spent."""

    index: int
    errors: Sequence[ErrorDetail]
    raw: Any
    attempt: int


@dataclass(frozen=True)
class Restart:
    """The answer just streamed was rejected (``errors`` say why) and the model is asked
    again: everything shown since the start or the previous Restart is void."""

    attempt: int
    errors: Sequence[ErrorDetail]


@dataclass(frozen=True)
class Done(Generic[T]):
    """The validated value, always the last event; ``extraction`` has usage, cost, attempts."""

    value: T
    extraction: Extraction[T]


StreamEvent = Snapshot[T] | Restart | Done[T]
ItemEvent = ItemReady[T] | ItemInvalid | Restart | Done[list[T]]

_STREAM_OPTIONS = {"stream": True, "stream_options": {"include_usage": True}}


class StreamSession:
    """One streamed call, without I/O: ``request()`` gives the next body to POST; the
    response's bytes go to ``feed``; its end to ``end``, which either finishes the call or
    starts a re-ask (``finished`` stays False and ``request()`` is called again)."""

    def __init__(
        self,
        loop: ExtractionLoop[Any],
        *,
        items: TargetValidator | None = None,
        partial_strings: bool = False,
    ) -> None:
        self.loop = loop
        self.finished = False
        self._items = items
        self._partial_strings = partial_strings
        target = loop.target
        self._wrapped = target.wrapped
        self._annotation = target.annotation
        self._begin()

    def request(self) -> dict[str, Any]:
        body = self.loop.next_request()
        self._begin()
        return {**body, **_STREAM_OPTIONS}

    def opened(self, request_id: str | None) -> None:
        self._assembler.request_id = request_id

    def feed(self, data: bytes) -> list[Any]:
        return self._take(self._decoder.feed(data))

    def end(self, duration: float = 0.0) -> list[Any]:
        """The response ended: judge the answer."""
        events = self._take(self._decoder.close())
        return self._judge(self._assembler.completion(), duration, events)

    def whole(self, response: httpx.Response, endpoint: Endpoint, duration: float) -> list[Any]:
        """A response read in full because it did not say it was an event stream: a server
        that ignored ``stream: true`` (one plain completion), or an event stream sent under
        a JSON content type."""
        if response.content.lstrip().startswith((b"data:", b"event:", b":")):
            return [*self.feed(response.content), *self.end(duration)]
        completion = endpoint.completion(response)
        events: list[Any] = []
        if completion.content:
            self._feed_parser(completion.content, events)
        return self._judge(completion, duration, events)

    def broken(self, exc: httpx.TransportError) -> StreamError:
        return StreamError(
            f"the connection broke in the middle of the stream ({type(exc).__name__}: {exc}); "
            "nothing partial is returned. Retry the call.",
            request_id=self._assembler.request_id,
        )

    def fail(self, exc: ExtractionError) -> ExtractionError:
        return self.loop.fail(exc)

    def _begin(self) -> None:
        self._attempt = len(self.loop.attempts) + 1
        self._decoder = SSEDecoder()
        self._assembler = ChunkAssembler()
        self._reset_parser()

    def _reset_parser(self) -> None:
        # A list target is always wrapped as {"result": [...]}: JSON mode answers objects.
        item_path = (_WRAPPER_KEY,) if self._items is not None else None
        self._parser: IncrementalParser | None = IncrementalParser(
            partial_strings=self._partial_strings, item_path=item_path
        )
        self._snapshots = Snapshots(self._annotation, context=self.loop.plan.context)
        self._item_count = 0

    def _take(self, sse_events: list[ServerSentEvent]) -> list[Any]:
        events: list[Any] = []
        event = self._assembler.event
        for sse in sse_events:
            delta = event(sse)
            if delta.reset:
                self._reset_parser()
            if delta.text:
                self._feed_parser(delta.text, events)
        return events

    def _feed_parser(self, text: str, events: list[Any]) -> None:
        parser = self._parser
        if parser is None:
            return
        try:
            changed = parser.feed(text)
        except ParseError:
            # No more previews of this answer; the loop judges the whole text at the end.
            self._parser = None
            return
        if self._items is not None:
            for raw in parser.pop_items():
                events.append(self._item(raw))
        elif changed:
            root = parser.value
            if self._wrapped:
                if not isinstance(root, dict) or _WRAPPER_KEY not in root:
                    return
                root = root[_WRAPPER_KEY]
            events.append(Snapshot(self._snapshots.snapshot(root), self._attempt))

    def _item(self, raw: Any) -> ItemReady[Any] | ItemInvalid:
        assert self._items is not None
        index = self._item_count
        self._item_count += 1
        plan = self.loop.plan
        # Prepared as the loop prepares the whole answer (which is wrapped: a list target).
        raw = plan.template.mode.prepare({_WRAPPER_KEY: [raw]}, self.loop.target)[_WRAPPER_KEY][0]
        try:
            value = self._items.validate_python(raw, strict=plan.strict, context=plan.context)
        except Invalid as invalid:
            return ItemInvalid(index, invalid.details, raw, self._attempt)
        return ItemReady(value, index, self._attempt)

    def _judge(self, completion: Completion, duration: float, events: list[Any]) -> list[Any]:
        if not self.loop.receive(completion, duration=duration):
            rejected = self.loop.attempts[-1]
            events.append(Restart(rejected.number + 1, rejected.errors))
            return events
        self.finished = True
        extraction = self.loop.result()
        if self._items is not None:
            # Elements the parser could only close at the very end (a repaired answer).
            value = extraction.value
            for index in range(self._item_count, len(value)):
                events.append(ItemReady(value[index], index, self._attempt))
        events.append(Done(extraction.value, extraction))
        return events


class _Outcome(Generic[R]):
    """What the call has spent so far, readable during and after the stream, also after an
    error or an early stop; and its result once it has one."""

    _session: StreamSession
    _result: Extraction[R] | None = None
    _error: ExtractionError | None = None

    @property
    def usage(self) -> Usage:
        """Tokens of every answered attempt. An abandoned attempt's are not known: the API
        reports usage only at the end of a stream."""
        return self._session.loop.usage

    @property
    def cost(self) -> Cost | None:
        return self._session.loop.cost

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        return self._session.loop.attempts

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


class ExtractionStream(_Outcome[R], Generic[E, R]):
    """An iterator of events; use it in a ``with`` block so that stopping early closes the
    HTTP response."""

    def __init__(self, session: StreamSession, events: Generator[E, None, None]) -> None:
        self._session = session
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


class AsyncExtractionStream(_Outcome[R], Generic[E, R]):
    """The async twin of `ExtractionStream`: ``async with`` and ``async for``."""

    def __init__(self, session: StreamSession, events: AsyncGenerator[E, None]) -> None:
        self._session = session
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


def open_stream(
    extractor: Extractor,
    target: Any,
    text: str | None,
    options: CallOptions,
    *,
    items: bool = False,
    partial_strings: bool = False,
) -> ExtractionStream[Any, Any]:
    session = _session(extractor, target, text, options, items, partial_strings)
    return ExtractionStream(session, _drive(extractor, session))


def open_async_stream(
    extractor: AsyncExtractor,
    target: Any,
    text: str | None,
    options: CallOptions,
    *,
    items: bool = False,
    partial_strings: bool = False,
) -> AsyncExtractionStream[Any, Any]:
    session = _session(extractor, target, text, options, items, partial_strings)
    return AsyncExtractionStream(session, _adrive(extractor, session))


def _session(
    extractor: Extractor | AsyncExtractor,
    target: Any,
    text: str | None,
    options: CallOptions,
    items: bool,
    partial_strings: bool,
) -> StreamSession:
    validator = None
    if items:
        target, validator = list_target(target)
    loop = ExtractionLoop(extractor._plan(target, text, options))
    extractor.check_key()  # no API key: raise now, as extract() would, not on first use
    return StreamSession(loop, items=validator, partial_strings=partial_strings)


def list_target(item: Any) -> tuple[Any, TargetValidator]:
    """The list target for an item type (``list[Item]`` itself is accepted too), and the
    validator of one item."""
    if isinstance(item, dict):
        defs = {k: v for k, v in item.items() if k in ("$defs", "definitions")}
        inner = {k: v for k, v in item.items() if k not in defs and k != "$schema"}
        return {"type": "array", "items": inner, **defs}, JSONSchemaValidator(item)
    if get_origin(item) is list:
        (element,) = get_args(item) or (Any,)
        return item, PydanticValidator(pydantic.TypeAdapter(element))
    return list[item], PydanticValidator(pydantic.TypeAdapter(item))


def _drive(extractor: Extractor, session: StreamSession) -> Generator[Any, None, None]:
    endpoint, client = extractor._endpoint, extractor._client

    def open_response(body: dict[str, Any]) -> httpx.Response:
        request = endpoint.request(client, body)
        try:
            response = client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise connection_error(exc, endpoint.url) from exc
        if response.is_error or not _is_event_stream(response):
            try:
                response.read()
            finally:
                response.close()
        if response.is_error:
            raise endpoint.error(response)
        return response

    try:
        while not session.finished:
            body = session.request()
            started = time.perf_counter()
            response = extractor._retrying(open_response, body)
            try:
                if not _is_event_stream(response):
                    yield from session.whole(response, endpoint, _since(started))
                    continue
                session.opened(response.headers.get("x-request-id"))
                try:
                    raw = _is_identity(response)
                    for data in response.iter_raw() if raw else response.iter_bytes():
                        yield from session.feed(data)
                except httpx.TransportError as exc:
                    raise session.broken(exc) from exc
                yield from session.end(_since(started))
            finally:
                response.close()
    except ExtractionError as exc:
        session.fail(exc)
        raise


async def _adrive(extractor: AsyncExtractor, session: StreamSession) -> AsyncGenerator[Any, None]:
    endpoint, client = extractor._endpoint, extractor._client

    async def open_response(body: dict[str, Any]) -> httpx.Response:
        request = endpoint.request(client, body)
        try:
            response = await client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise connection_error(exc, endpoint.url) from exc
        if response.is_error or not _is_event_stream(response):
            try:
                await response.aread()
            finally:
                await response.aclose()
        if response.is_error:
            raise endpoint.error(response)
        return response

    try:
        while not session.finished:
            body = session.request()
            started = time.perf_counter()
            retrying = extractor._policy.async_retrying(extractor._sleep)
            response: httpx.Response = await retrying(open_response, body)
            try:
                if not _is_event_stream(response):
                    for event in session.whole(response, endpoint, _since(started)):
                        yield event
                    continue
                session.opened(response.headers.get("x-request-id"))
                try:
                    raw = _is_identity(response)
                    async for data in response.aiter_raw() if raw else response.aiter_bytes():
                        for event in session.feed(data):
                            yield event
                except httpx.TransportError as exc:
                    raise session.broken(exc) from exc
                for event in session.end(_since(started)):
                    yield event
            finally:
                await response.aclose()
    except ExtractionError as exc:
        session.fail(exc)
        raise


def _is_event_stream(response: httpx.Response) -> bool:
    """Anything but a JSON content type is read as an event stream, as it arrives (some
    gateways send none, or a wrong one); a JSON one is read whole (`StreamSession.whole`)."""
    content_type = response.headers.get("content-type", "")
    return not content_type.startswith("application/json")


def _is_identity(response: httpx.Response) -> bool:
    """Whether the body is sent as is: then its raw bytes are read without httpx's decoder
    chain, which costs more than the SSE decoding per chunk. (Compressed bodies go through it.)"""
    encoding: str = response.headers.get("content-encoding", "identity")
    return encoding == "identity"


def _since(started: float) -> float:
    return time.perf_counter() - started
