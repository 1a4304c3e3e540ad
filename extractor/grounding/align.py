"""Finding each value of an answer in the source text: its character span, or None.

The text is indexed once (``TextIndex``): its tokens with their offsets and a map from each
token to where it occurs, and, on first need, every number and every date it writes. A value
is then looked up through the rarest of its tokens and checked token by token around each
occurrence, so grounding many values costs one pass over the text plus work proportional to
the values' occurrences, never a scan of the text per value.

A value that occurs several times takes the occurrence nearest to its siblings: the values of
the same object (a list item, say) whose place is certain, else a place agreed by the
object's values together, else its ancestors' places.
"""

from __future__ import annotations

import bisect
import statistics
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.result import Span
from .dates import DateIndex, parse_iso_date
from .intervals import Intervals
from .leaves import Leaf, iter_leaves
from .numbers import NumberIndex
from .tokens import tokenize

__all__ = ["Grounding", "Span", "TextIndex", "ground"]

_MAX_CANDIDATES = 5000  # occurrences kept per value: enough to choose among, bounded work
_HYPHENS = str.maketrans("", "", "-\u2010\u00ad")
# What may stand between the words of a value in the text, whatever the value has there:
# whitespace, hyphens and dashes, and the light punctuation of names, numbers and codes.
_LOOSE = frozenset(
    " \t\r\n\f\v\u00a0\u2009\u202f\u3000-\u2010\u2011\u2013\u2014\u00ad.,'\u2019/_·()"
)


class TextIndex:
    """One text, indexed for looking values up. Build it once per text and ground any number
    of values against it."""

    def __init__(self, text: str) -> None:
        self.text = text
        tokens = tokenize(text)
        self._words = tokens.words
        self._starts = tokens.starts
        self._ends = tokens.ends
        positions: defaultdict[str, list[int]] = defaultdict(list)
        for i, word in enumerate(self._words):
            positions[word].append(i)
        self._positions: dict[str, list[int]] = positions
        self._numbers: NumberIndex | None = None
        self._dates: DateIndex | None = None

    def find(self, leaf: Leaf) -> list[Span]:
        """Every place the leaf's value is written, in text order."""
        value = leaf.value
        if isinstance(value, str):
            day = parse_iso_date(value) if leaf.kind == "date" else None
            if day is not None:
                if self._dates is None:
                    self._dates = DateIndex(self.text)
                found = self._dates.find(day)
                if found:
                    return [Span(s, e, self.text[s:e] == value) for s, e in found]
            return self.find_text(value)
        if self._numbers is None:
            self._numbers = NumberIndex(self.text)
        written = {str(value), repr(value)}
        return sorted(Span(s, e, self.text[s:e] in written) for s, e in self._numbers.find(value))

    def find_text(self, value: str) -> list[Span]:
        """Where the string is written, token by token (see ``tokens``)."""
        own = tokenize(value)
        if not own.words:
            return self._find_literal(value)
        gaps = {
            c for i in range(len(own.words) - 1) for c in value[own.ends[i] : own.starts[i + 1]]
        }
        allowed = _LOOSE | gaps
        found = self._find_words(own.words, allowed)
        unhyphenated = value.translate(_HYPHENS)
        if unhyphenated != value:
            # "well-known" broken as "well-\nknown" is indexed as one token, "wellknown".
            found += self._find_words(tokenize(unhyphenated).words, allowed)
        lead, trail = value[: own.starts[0]], value[own.ends[-1] :]
        spans = {self._span(start, end, value, lead, trail) for start, end in found}
        return sorted(spans)[:_MAX_CANDIDATES]

    def _find_words(self, words: list[str], allowed: frozenset[str]) -> list[tuple[int, int]]:
        """Where the tokens follow each other with nothing between them but whitespace, light
        punctuation, or what the value itself has there (so "Dana Whitfield" is not found in
        "dana@whitfield")."""
        lists = [self._positions.get(word) for word in words]
        if not all(lists):
            return []
        anchor = min(range(len(words)), key=lambda i: len(lists[i] or ()))
        count = len(words)
        found = []
        for position in lists[anchor] or ():
            first = position - anchor
            if (
                first >= 0
                and self._words[first : first + count] == words
                and self._separated_by(first, count, allowed)
            ):
                found.append((self._starts[first], self._ends[first + count - 1]))
                if len(found) >= _MAX_CANDIDATES:
                    break
        return found

    def _separated_by(self, first: int, count: int, allowed: frozenset[str]) -> bool:
        text, starts, ends = self.text, self._starts, self._ends
        return all(
            set(text[ends[i] : starts[i + 1]]) <= allowed for i in range(first, first + count - 1)
        )

    def _span(self, start: int, end: int, value: str, lead: str, trail: str) -> Span:
        """Widen a token match over the punctuation the value starts or ends with when the text
        has it too (``$12.50``, ``Ltd.``), then judge exactness."""
        if lead and _same(self.text[max(0, start - len(lead)) : start], lead):
            start -= len(lead)
        if trail and _same(self.text[end : end + len(trail)], trail):
            end += len(trail)
        return Span(start, end, self.text[start:end] == value)

    def _find_literal(self, value: str) -> list[Span]:
        """A value with no letters or digits at all (``€``, ``—``): only its exact form."""
        spans: list[Span] = []
        at = self.text.find(value)
        while at >= 0 and len(spans) < _MAX_CANDIDATES:
            spans.append(Span(at, at + len(value), True))
            at = self.text.find(value, at + 1)
        return spans


def _same(written: str, value: str) -> bool:
    return written == value or unicodedata.normalize("NFKC", written) == value


@dataclass(frozen=True)
class Grounding:
    """The leaves of one value and where each was found (``None``: not in the text)."""

    leaves: tuple[Leaf, ...]
    spans: dict[str, Span | None]

    @property
    def ungrounded(self) -> list[Leaf]:
        return [leaf for leaf in self.leaves if self.spans.get(leaf.path) is None]


def ground(
    value: Any,
    schema: Mapping[str, Any],
    text: str | TextIndex,
    *,
    root: Mapping[str, Any] | None = None,
) -> Grounding:
    """Find every string and number leaf of ``value`` (plain JSON data, checked against
    ``schema``, the target's JSON Schema; ``root`` as for `iter_leaves`) in ``text``."""
    index = text if isinstance(text, TextIndex) else TextIndex(text)
    leaves = iter_leaves(value, schema, root=root)
    candidates = [index.find(leaf) for leaf in leaves]
    chosen = _choose(leaves, candidates)
    return Grounding(tuple(leaves), {leaf.path: chosen[i] for i, leaf in enumerate(leaves)})


def _choose(leaves: Sequence[Leaf], candidates: Sequence[list[Span]]) -> list[Span | None]:
    """One occurrence per leaf: the only one, or the one nearest the place of its object,
    leaving aside occurrences inside words another leaf was found at (the ``3`` of
    ``March 3`` is the date's, not a quantity's) unless there is nothing else."""
    places = _places(leaves, candidates)
    taken: Intervals[None] = Intervals()
    chosen: list[Span | None] = [found[0] if len(found) == 1 else None for found in candidates]
    for span in chosen:
        if span is not None:
            taken.add(span.start, span.end, None)
    for i, (leaf, found) in enumerate(zip(leaves, candidates, strict=True)):
        if len(found) <= 1:
            continue
        free = [span for span in found if not taken.overlapping(span.start, span.end)] or found
        place = next(
            (
                places[leaf.parts[:depth]]
                for depth in range(len(leaf.parts) - 1, -1, -1)
                if leaf.parts[:depth] in places
            ),
            None,
        )
        chosen[i] = span = free[0] if place is None else _nearest(free, place)
        taken.add(span.start, span.end, None)
    return chosen


def _places(
    leaves: Sequence[Leaf], candidates: Sequence[list[Span]]
) -> dict[tuple[str | int, ...], float]:
    """Where each object of the value sits in the text: the median of its leaves found only
    once (at any depth below it); for an object with none, the occurrence of its least
    ambiguous leaf that its other leaves' occurrences are closest to."""
    certain: defaultdict[tuple[str | int, ...], list[int]] = defaultdict(list)
    groups: defaultdict[tuple[str | int, ...], list[list[Span]]] = defaultdict(list)
    for leaf, found in zip(leaves, candidates, strict=True):
        if found:
            groups[leaf.parts[:-1]].append(found)
        if len(found) == 1:
            for depth in range(len(leaf.parts)):
                certain[leaf.parts[:depth]].append(found[0].start)
    places: dict[tuple[str | int, ...], float] = {
        parts: statistics.median(starts) for parts, starts in certain.items()
    }
    for parts, group in groups.items():
        if parts in places or len(group) < 2:
            continue
        pivot = min(group, key=len)
        starts = [[span.start for span in found] for found in group]
        places[parts] = min(
            (span.start for span in pivot[:200]),
            key=lambda at: sum(_distance(s, at) for s in starts),
        )
    return places


def _distance(starts: list[int], at: float) -> float:
    i = bisect.bisect_left(starts, at)
    return min(abs(starts[j] - at) for j in (i - 1, i) if 0 <= j < len(starts))


def _nearest(found: list[Span], place: float) -> Span:
    starts = [span.start for span in found]
    i = bisect.bisect_left(starts, place)
    return min(
        (found[j] for j in (i - 1, i) if 0 <= j < len(found)), key=lambda s: abs(s.start - place)
    )
