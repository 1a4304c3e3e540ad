"""One streamed call, without I/O: SSE bytes in, typed events out, the extraction loop
deciding.

`StreamSession` gives the next request body to POST (``request``), takes the response's bytes
as they arrive (``feed``) and its end (``end``), and turns them into events: `Snapshot` (the
value so far, typed), `ItemReady`/`ItemInvalid` (one finished list element), `Restart` (the
answer was rejected and the model is asked again) and `Done` (the validated value). The sync
and async drivers in `extractor.streaming` only move bytes between a response and a session.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..errors import ExtractionError, ParseError, StreamError
from ..parse import IncrementalParser
from ..wire.chunks import ChunkAssembler
from ..wire.secret import Secret
from ..wire.sse import ServerSentEvent, SSEDecoder
from .completion import Completion
from .loop import ExtractionLoop
from .partial import Snapshots
from .result import ErrorDetail, Extraction
from .target import WRAPPER_KEY
from .validate import Invalid, TargetValidator

__all__ = [
    "Done",
    "ItemEvent",
    "ItemInvalid",
    "ItemReady",
    "Restart",
    "Snapshot",
    "StreamEvent",
    "StreamSession",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    """The value as far as it has arrived, in the target's type: fields not yet complete are
    None (and absent from ``model_fields_set``); complete parts are validated, the whole is
    not. ``attempt`` counts from 1."""

    value: T
    attempt: int


@dataclass(frozen=True)
class ItemReady(Generic[T]):
    """One list element, complete and validated; ``index`` is its place in the list. Over a
    text in chunks, an index shown before means a later chunk completed that element: this
    value replaces it."""

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
    again: everything shown since the start or the previous Restart is void. Over a text in
    chunks (``stream_items(..., chunk_size=...)``) only the chunk being read is asked again:
    the items from index ``since`` on are void, those before stay."""

    attempt: int
    errors: Sequence[ErrorDetail]
    since: int = 0


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
        secret: Secret | None = None,
    ) -> None:
        self.loop = loop
        self._secret = secret
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

    def whole(self, content: bytes, decode: Callable[[], Completion], duration: float) -> list[Any]:
        """A response read in full because it did not say it was an event stream: an event
        stream sent under a JSON content type, or a server that ignored ``stream: true`` and
        sent one plain completion (``decode`` reads it)."""
        if content.lstrip().startswith((b"data:", b"event:", b":")):
            return [*self.feed(content), *self.end(duration)]
        completion = decode()
        events: list[Any] = []
        if completion.content:
            self._feed_parser(completion.content, events)
        return self._judge(completion, duration, events)

    def broken(self, cause: str) -> StreamError:
        """The error for a connection that broke mid-stream (``cause`` describes how)."""
        return StreamError(
            f"the connection broke in the middle of the stream ({cause}); "
            "nothing partial is returned. Retry the call.",
            request_id=self._assembler.request_id,
        )

    def fail(self, exc: ExtractionError) -> ExtractionError:
        return self.loop.fail(exc)

    def _begin(self) -> None:
        self._attempt = len(self.loop.attempts) + 1
        self._decoder = SSEDecoder()
        self._assembler = ChunkAssembler(secret=self._secret)
        self._reset_parser()

    def _reset_parser(self) -> None:
        # A list target is always wrapped (JSON mode answers objects): its items are where
        # the mode writes them ({"result": [...]}; compact: {"values": [[...]]}).
        mode = self.loop.plan.template.mode
        item_path = mode.items_path if self._items is not None else None
        self._parser: IncrementalParser | None = IncrementalParser(
            partial_strings=self._partial_strings, item_path=item_path
        )
        self._snapshots = Snapshots(self._annotation, context=self.loop.plan.context)
        self._live = mode.live(self.loop.target, self.loop.patch_fields)
        self._item_count = 0
        # A patch reply shows as the merged answer: the properties it writes are added to
        # the rest of the previous answer as they arrive (one dict, so that the snapshots
        # stay incremental).
        self._preview = self.loop.patch_preview()

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
            root = self._live(parser.value)
            if self._preview is not None and isinstance(root, dict):
                self._preview.update(root)
                root = self._preview
            if self._wrapped:
                if not isinstance(root, dict) or WRAPPER_KEY not in root:
                    return
                root = root[WRAPPER_KEY]
            events.append(Snapshot(self._snapshots.snapshot(root), self._attempt))

    def _item(self, raw: Any) -> ItemReady[Any] | ItemInvalid:
        assert self._items is not None
        index = self._item_count
        self._item_count += 1
        plan = self.loop.plan
        try:
            # Prepared as the loop prepares the whole answer (which is wrapped: a list target).
            prepared = plan.template.mode.prepare({WRAPPER_KEY: [raw]}, self.loop.target)
            raw = prepared[WRAPPER_KEY][0]
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
