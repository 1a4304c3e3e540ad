"""Values extracted from several chunks of one text, merged into one value.

Chunks are merged in text order, structurally, so any nesting works:

- objects merge key by key;
- a scalar takes the first *grounded* value (the first chunk where it was found in the text),
  else the first non-null one; a different non-null value from another chunk is reported as a
  ``Conflict``, never silently dropped;
- lists concatenate, except that an item from a later chunk that is *the same* as an item
  already there is merged into it (recursively, by these rules) instead of added. Two items are
  the same when at no leaf path both were grounded at places that do not overlap, and
  either (a) at some leaf path both were grounded and their spans overlap in the whole text:
  the same words, read twice because chunks overlap (or a record cut by a chunk boundary, read
  in part in one chunk and whole in the next); or (b) all their leaves are equal once
  normalised (case, width, whitespace; numbers by value): a record repeated with nothing in
  the text to tell it apart. So the same name found at two places of the text is two items:
  two mentions. Two items of the same chunk are never merged: the model listed them apart.

Spans come in chunk offsets and leave in whole-text offsets, under the merged value's paths.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Union

from ..core.result import Conflict, Span, format_path
from .intervals import Intervals

__all__ = ["ChunkValue", "Conflict", "Merged", "merge"]


@dataclass(frozen=True)
class ChunkValue:
    """What one chunk gave: its value (plain JSON data), its spans relative to the chunk (as
    ``ground`` returns them; paths missing are leaves not grounded by design), and where the
    chunk starts in the whole text."""

    value: Any
    spans: Mapping[str, Span | None]
    offset: int
    chunk: int = 0


@dataclass
class Merged:
    """The merged value, its spans in whole-text offsets under the merged paths, and every
    scalar two chunks disagreed on."""

    value: Any
    spans: dict[str, Span | None]
    conflicts: list[Conflict] = field(default_factory=list)


@dataclass
class _Leaf:
    value: Any
    span: Span | None
    groundable: bool
    chunk: int


_Node = Union[dict[str, "_Node"], list["_Node"], _Leaf]  # noqa: UP007 (a runtime alias)


def merge(parts: Sequence[ChunkValue]) -> Merged:
    """Merge chunk values given in text order (see the module's rules)."""
    conflicts: list[Conflict] = []
    tree: _Node | None = None
    for part in parts:
        node = _annotate(part.value, part.spans, part.offset, part.chunk, ())
        tree = node if tree is None else _merge(tree, node, (), conflicts)
    spans: dict[str, Span | None] = {}
    value = None if tree is None else _flatten(tree, (), spans)
    return Merged(value, spans, conflicts)


def _annotate(
    value: Any, spans: Mapping[str, Span | None], offset: int, chunk: int, parts: tuple[Any, ...]
) -> _Node:
    if isinstance(value, Mapping):
        return {
            str(k): _annotate(v, spans, offset, chunk, (*parts, str(k))) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_annotate(v, spans, offset, chunk, (*parts, i)) for i, v in enumerate(value)]
    path = format_path(parts)
    span = spans.get(path)
    return _Leaf(value, span and span.shifted(offset), path in spans, chunk)


def _merge(a: _Node, b: _Node, parts: tuple[Any, ...], conflicts: list[Conflict]) -> _Node:
    if isinstance(a, dict) and isinstance(b, dict):
        merged = dict(a)
        for key, node in b.items():
            merged[key] = _merge(a[key], node, (*parts, key), conflicts) if key in a else node
        return merged
    if isinstance(a, list) and isinstance(b, list):
        return _merge_lists(a, b, parts, conflicts)
    if isinstance(a, _Leaf) and a.value is None:
        return b
    if isinstance(b, _Leaf) and b.value is None:
        return a
    if isinstance(a, _Leaf) and isinstance(b, _Leaf):
        kept, other = (b, a) if a.span is None and b.span is not None else (a, b)
        if _normal(a.value) != _normal(b.value):
            conflicts.append(
                Conflict(format_path(parts), kept.value, other.value, kept.chunk, other.chunk)
            )
        return kept
    # Different shapes (an object in one chunk, a string in another): keep the first.
    conflicts.append(
        Conflict(format_path(parts), _plain(a), _plain(b), _first_chunk(a), _first_chunk(b))
    )
    return a


class _ItemIndex:
    """The items of a merged list, findable by grounded leaf span and by normalised leaves."""

    def __init__(self) -> None:
        self._by_path: defaultdict[tuple[Any, ...], Intervals[int]] = defaultdict(Intervals)
        self._by_key: defaultdict[Any, list[int]] = defaultdict(list)
        self._grounded: list[dict[tuple[Any, ...], Span]] = []

    def add(self, item: _Node, position: int) -> None:
        grounded = dict(_grounded_leaves(item, ()))
        while len(self._grounded) <= position:
            self._grounded.append({})
        self._grounded[position] = grounded
        for sub, span in grounded.items():
            self._by_path[sub].add(span.start, span.end, position)
        self._by_key[_key(item)].append(position)

    def same(self, item: _Node, taken: set[int]) -> int | None:
        grounded = dict(_grounded_leaves(item, ()))
        for position in self._overlapping(grounded):
            if position not in taken and self._compatible(grounded, self._grounded[position]):
                return position
        for position in self._by_key.get(_key(item), ()):
            if position not in taken and self._compatible(grounded, self._grounded[position]):
                return position
        return None

    def _overlapping(self, grounded: dict[tuple[Any, ...], Span]) -> list[int]:
        found: set[int] = set()
        for sub, span in grounded.items():
            if sub in self._by_path:
                found.update(self._by_path[sub].overlapping(span.start, span.end))
        return sorted(found)

    @staticmethod
    def _compatible(a: dict[tuple[Any, ...], Span], b: dict[tuple[Any, ...], Span]) -> bool:
        return all(
            a[sub].start < b[sub].end and a[sub].end > b[sub].start for sub in a.keys() & b.keys()
        )


class _ListMerge:
    """Items of one more chunk merged into the list so far, one at a time."""

    def __init__(
        self, items: list[_Node], parts: tuple[Any, ...], conflicts: list[Conflict]
    ) -> None:
        self.items = list(items)
        self._parts = parts
        self._conflicts = conflicts
        self._index = _ItemIndex()
        for position, item in enumerate(self.items):
            self._index.add(item, position)
        self._taken: set[int] = set()

    def add(self, item: _Node) -> tuple[int, bool]:
        """The item's place in the list, and whether it is new there (else it was merged
        into the item already at that place)."""
        match = self._index.same(item, self._taken)
        if match is not None:
            self.items[match] = _merge(
                self.items[match], item, (*self._parts, match), self._conflicts
            )
            self._taken.add(match)
            return match, False
        self.items.append(item)
        position = len(self.items) - 1
        self._index.add(item, position)
        self._taken.add(position)
        return position, True


def _merge_lists(
    a: list[_Node], b: list[_Node], parts: tuple[Any, ...], conflicts: list[Conflict]
) -> list[_Node]:
    merging = _ListMerge(a, parts, conflicts)
    for item in b:
        merging.add(item)
    return merging.items


class ItemMerger:
    """The list merge of `merge`, as a stream of items arrives chunk by chunk: whether each
    item is new (its place in the merged list), or one already kept, perhaps completed by it
    (a record cut by a chunk boundary, read in part and then whole). A chunk re-read after a
    rejected answer starts again from the list as it was before that chunk."""

    def __init__(self) -> None:
        self._kept: list[_Node] = []
        self._conflicts: list[Conflict] = []
        self._kept_conflicts = 0
        self._merging = _ListMerge([], (), self._conflicts)

    def begin(self) -> int:
        """A chunk (or a new reading of it) starts; returns how many items are kept."""
        del self._conflicts[self._kept_conflicts :]
        self._merging = _ListMerge(self._kept, (), self._conflicts)
        return len(self._kept)

    def add(
        self, item: Any, spans: Mapping[str, Span | None], offset: int, chunk: int
    ) -> tuple[int, Any | None]:
        """Add ``item`` (plain data; ``spans`` relative to the item and the chunk): its place
        in the list, and what is news there: ``item`` itself when it is new; the kept item as
        ``item`` completed it; None when it brought nothing."""
        place, new = self._merging.add(_annotate(item, spans, offset, chunk, ()))
        if new:
            return place, item
        # A match is always an item of an earlier chunk: a chunk's own items are never merged.
        now = _plain(self._merging.items[place])
        return place, (None if _plain(self._kept[place]) == now else now)

    def abandon(self) -> int | None:
        """The chunk failed for good: back to the items kept before it. Returns the place of
        its first new item when it had any (they are void), else None."""
        had_new = len(self._merging.items) > len(self._kept)
        first = self.begin()
        return first if had_new else None

    def item(self, place: int) -> Any:
        """The item at ``place`` as it stands, as plain data."""
        return _plain(self._merging.items[place])

    def end(self) -> None:
        """The chunk's answer was accepted: its items are kept."""
        self._kept = self._merging.items
        self._kept_conflicts = len(self._conflicts)

    def merged(self) -> Merged:
        """The items kept, as `merge` returns a merged list."""
        spans: dict[str, Span | None] = {}
        value = [_flatten(item, (i,), spans) for i, item in enumerate(self._kept)]
        return Merged(value, spans, self._conflicts[: self._kept_conflicts])


def _grounded_leaves(node: _Node, parts: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], Span]]:
    if isinstance(node, dict):
        return [leaf for k, v in node.items() for leaf in _grounded_leaves(v, (*parts, k))]
    if isinstance(node, list):
        return [leaf for i, v in enumerate(node) for leaf in _grounded_leaves(v, (*parts, i))]
    return [] if node.span is None else [(parts, node.span)]


def _key(node: _Node) -> Any:
    """The item's leaves, normalised, as a hashable value (nulls left out)."""
    if isinstance(node, dict):
        keys = ((k, _key(v)) for k, v in node.items())
        return frozenset((k, key) for k, key in keys if key is not None)
    if isinstance(node, list):
        return tuple(_key(v) for v in node)
    return _normal(node.value)


def _normal(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(unicodedata.normalize("NFKC", value).casefold().split())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    return value


def _plain(node: _Node) -> Any:
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node.value


def _first_chunk(node: _Node) -> int:
    if isinstance(node, dict):
        return min((_first_chunk(v) for v in node.values()), default=0)
    if isinstance(node, list):
        return min((_first_chunk(v) for v in node), default=0)
    return node.chunk


def _flatten(node: _Node, parts: tuple[Any, ...], spans: dict[str, Span | None]) -> Any:
    if isinstance(node, dict):
        return {k: _flatten(v, (*parts, k), spans) for k, v in node.items()}
    if isinstance(node, list):
        return [_flatten(v, (*parts, i), spans) for i, v in enumerate(node)]
    if node.groundable:
        spans[format_path(parts)] = node.span
    return node.value
