"""``stream_items`` over a text cut into chunks, without I/O.

The chunks are read one after the other, each by its own `StreamSession`; each item is
grounded in its chunk as soon as it is complete, and yielded only if it is new: an item read
again because it lies in the overlap of two chunks is the same item (the rules of
``grounding.merge``) and is not yielded twice. ``ItemReady.index`` is the item's place in the
final list. An item that a later chunk completes (a record cut by a chunk boundary, read in
part and then whole) is yielded again, with its index, once that chunk's answer is accepted:
the new value replaces the old.

A chunk whose answer is rejected and re-asked voids only its own new items: ``Restart.since``
is the index of the first. A chunk that fails for good does the same (a `Restart` whose
``since`` voids its items, if it had shown any) and the next chunk is read; the stream then
ends with `ChunkFailed` (what was found is in its ``.partial``), or with ``partial_ok=True``
with `Done`, the failed chunks in ``Extraction.failed_chunks``.

The drivers (``streaming.drive_chunks``) open each chunk's session in turn, pass every event
it gives through `translate` (or its error through `failed`), and end with `done`.
"""

from __future__ import annotations

from typing import Any

import pydantic_core

from ..errors import ExtractionError
from ..grounding import ItemMerger, TextIndex, ground
from .document import ChunkJob, DocumentCall
from .result import ErrorDetail, Extraction
from .session import Done, ItemInvalid, ItemReady, Restart, StreamSession
from .validate import Invalid, TargetValidator

__all__ = ["ItemsDocument"]


class ItemsDocument:
    """The items of a chunked text, each once, as the chunks' streams deliver them."""

    def __init__(self, document: DocumentCall[Any], items: TargetValidator) -> None:
        self.document = document
        self.jobs = document.jobs
        self._items = items
        self._merger = ItemMerger()
        target = document.target
        self._item_schema = target.value_schema.get("items") or {}
        self._root = target.schema
        self._index: TextIndex | None = None
        self._completed: set[int] = set()

    def open(self, job: ChunkJob) -> StreamSession:
        """The stream session reading ``job``'s chunk."""
        loop = job.next_loop()
        assert loop is not None, "a chunk of a stream is read once"
        self._index = TextIndex(job.chunk.text)
        self._merger.begin()
        self._completed.clear()
        return StreamSession(loop, items=self._items)

    def translate(self, job: ChunkJob, event: Any) -> list[Any]:
        """The events the caller sees for one event of the chunk's session."""
        if isinstance(event, ItemReady):
            assert self._index is not None
            data = pydantic_core.to_jsonable_python(event.value)
            spans = ground(data, self._item_schema, self._index, root=self._root).spans
            place, news = self._merger.add(data, spans, job.chunk.start, job.chunk.index)
            if news is None:
                return []  # read again in an overlap: nothing new
            if news is not data:
                self._completed.add(place)  # shown once the chunk's answer is accepted
                return []
            return [ItemReady(event.value, place, event.attempt)]
        if isinstance(event, Restart):
            self._completed.clear()
            return [Restart(event.attempt, event.errors, since=self._merger.begin())]
        if isinstance(event, Done):
            completed = [self._completed_item(place, event) for place in sorted(self._completed)]
            self._merger.end()
            self._completed.clear()
            job.next_loop()  # records the chunk's answer; a stream reads each chunk once
            return [item for item in completed if item is not None]
        assert isinstance(event, ItemInvalid)
        return [event]

    def failed(self, job: ChunkJob, error: ExtractionError) -> list[Any]:
        """The chunk failed for good: recorded, and its items shown so far voided."""
        job.fail(error)
        self._completed.clear()
        since = self._merger.abandon()
        if since is None:
            return []
        detail = ErrorDetail("", f"chunk {job.chunk.index} failed: {error}")
        return [Restart(len(self.document.attempts) + 1, [detail], since=since)]

    def done(self) -> Done[Any]:
        """The last event: the merged value of every chunk (raises `ChunkFailed` when a
        chunk failed and ``partial_ok`` is off)."""
        extraction: Extraction[Any] = self.document.result(self._merger.merged())
        return Done(extraction.value, extraction)

    def _completed_item(self, place: int, done: Done[Any]) -> ItemReady[Any] | None:
        plan = self.document.plan
        try:
            value = self._items.validate_python(
                self._merger.item(place), strict=plan.strict, context=plan.context
            )
        except Invalid:
            return None  # the merged value is validated as a whole at the end
        return ItemReady(value, place, len(done.extraction.attempts))
