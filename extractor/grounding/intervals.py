"""A set of [start, end) intervals that answers "which ones overlap this one?" without
scanning them all: kept sorted by start, and only those starting within the longest length
before the query's start need checking."""

from __future__ import annotations

import bisect
from typing import Generic, TypeVar

__all__ = ["Intervals"]

T = TypeVar("T")


class Intervals(Generic[T]):
    def __init__(self) -> None:
        self._entries: list[tuple[int, int, int]] = []
        self._payloads: list[T] = []
        self._longest = 0

    def add(self, start: int, end: int, payload: T) -> None:
        bisect.insort(self._entries, (start, end, len(self._payloads)))
        self._payloads.append(payload)
        self._longest = max(self._longest, end - start)

    def overlapping(self, start: int, end: int) -> list[T]:
        """Payloads of the intervals sharing at least one position with [start, end), in the
        order they were added."""
        i = bisect.bisect_left(self._entries, (end,))
        found = []
        while i > 0 and self._entries[i - 1][0] >= start - self._longest:
            i -= 1
            lo, hi, n = self._entries[i]
            if lo < end and hi > start:
                found.append(n)
        return [self._payloads[n] for n in sorted(found)]
