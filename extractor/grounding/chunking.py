"""Cutting a long text into chunks a model can read, each knowing where it sits in the whole.

A chunk ends at the last paragraph break in the second half of its window, else the last
sentence end, else the last whitespace, else (a run with no break at all, such as CJK text
without punctuation) at the window's edge. The next chunk starts a little before the previous
one ended (``overlap`` characters, moved forward to a sentence or word start), so that a
record cut by a boundary is whole in one of the two chunks; merging removes what the overlap
makes the model find twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigurationError

__all__ = ["Chunk", "default_overlap", "split_text"]

_PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_SENTENCE = re.compile(
    r"(?<=[.!?;:\u2026])[\"')\]\u201d\u2019]*\s+|(?<=[\u3002\uff01\uff1f\uff1b])\s*"
)
_WORD = re.compile(r"\s+")


@dataclass(frozen=True)
class Chunk:
    """``text`` is ``whole[start:end]``; ``index`` counts chunks from 0."""

    index: int
    start: int
    end: int
    text: str


def default_overlap(size: int) -> int:
    """A tenth of the chunk, at most 2,000 characters: room for a record or two."""
    return min(size // 10, 2000)


def split_text(text: str, size: int, *, overlap: int | None = None) -> list[Chunk]:
    """Chunks of at most ``size`` characters covering all of ``text``."""
    if size < 2:
        raise ConfigurationError(f"chunk size must be at least 2 characters, got {size}")
    overlap = default_overlap(size) if overlap is None else overlap
    if not 0 <= overlap < size // 2:
        raise ConfigurationError(
            f"overlap must be between 0 and half the chunk size ({size // 2 - 1} for size "
            f"{size}), got {overlap}"
        )
    chunks: list[Chunk] = []
    start = 0
    while True:
        end, at_break = (len(text), True) if len(text) - start <= size else _cut(text, start, size)
        chunks.append(Chunk(len(chunks), start, end, text[start:end]))
        if end >= len(text):
            return chunks
        lo = max(start + 1, end - overlap)
        # A cut inside a run with no break (no whitespace, no punctuation) overlaps by bare
        # characters; any other cut restarts at a sentence or word start.
        start = _restart(text, lo, end) if at_break else lo


def _last(pattern: re.Pattern[str], text: str, lo: int, hi: int) -> int | None:
    last = None
    for m in pattern.finditer(text, lo, hi):
        last = m.end()
    return last


def _cut(text: str, start: int, size: int) -> tuple[int, bool]:
    """Where the chunk starting at ``start`` ends, and whether that is at a break."""
    half, limit = start + size // 2, start + size
    for pattern in (_PARAGRAPH, _SENTENCE, _WORD):
        at = _last(pattern, text, half, limit)
        if at is not None and at > half:
            return at, True
    return limit, False


def _restart(text: str, lo: int, end: int) -> int:
    """Where the next chunk starts after a cut at a break: the first sentence start in the
    overlap, else the first word start, else the end of the previous chunk."""
    for pattern in (_SENTENCE, _WORD):
        m = pattern.search(text, lo - 1, end)  # a break just before ``lo`` starts a chunk at it
        if m is not None and m.end() < end:
            return m.end()
    return end
