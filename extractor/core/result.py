"""What a call returns: the value, and the record of how it was obtained (attempts, and
for grounded or chunked calls, where each value is in the text and what the chunks did)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .cost import Cost, Usage

__all__ = [
    "Attempt",
    "ChunkFailure",
    "Conflict",
    "ErrorDetail",
    "Extraction",
    "Location",
    "Span",
    "format_path",
    "spans_to_dict",
]

T = TypeVar("T")

#: A place in an answer: keys and list indexes from the root.
Location = tuple[str | int, ...]


def format_path(parts: Iterable[str | int]) -> str:
    """``("items", 2, "price")`` → ``items[2].price``: what a person would write, and how
    error details and spans name a place in a value."""
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


@dataclass(frozen=True)
class ErrorDetail:
    """One validation problem: where (``items[2].price``), what, and the offending value."""

    path: str
    message: str
    value: Any = None

    def __str__(self) -> str:
        where = self.path or "(root)"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Attempt:
    """One request to the model and what became of its answer.

    ``errors`` is empty for the attempt that succeeded; ``repaired`` says the lenient parser
    had to mend the JSON (fences, trailing commas...) or values were mended before it could be
    validated (``repairs`` lists those, e.g. ``currency: "cny" -> "CNY"``); ``reasoning`` is
    the thinking a reasoning model sent along with its answer, if any. ``patch`` names the
    fields a patch re-ask asked for: ``raw`` is then the reply with those fields only, and the
    answer judged (``errors``) is the previous one with the reply's fields in place.
    """

    number: int
    raw: str | None
    finish_reason: str | None
    usage: Usage
    request_id: str | None = None
    errors: Sequence[ErrorDetail] = ()
    repaired: bool = False
    duration: float = 0.0
    reasoning: str | None = None
    repairs: Sequence[str] = ()
    patch: Sequence[str] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True, order=True)
class Span:
    """Where a value is written in the source text: ``text[start:end]``. ``exact`` is True
    when that slice is the value character for character, False when it matched after
    normalisation (case, whitespace, width, hyphenation, another spelling of the number or
    date)."""

    start: int
    end: int
    exact: bool = field(default=True, compare=False)

    def shifted(self, offset: int) -> Span:
        return Span(self.start + offset, self.end + offset, self.exact)

    def to_dict(self) -> dict[str, Any]:
        """As JSON output files and the command line write it."""
        return {"start": self.start, "end": self.end, "exact": self.exact}


def spans_to_dict(spans: Mapping[str, Span | None]) -> dict[str, dict[str, Any] | None]:
    """Spans as JSON data: each path to ``{"start", "end", "exact"}``, or null when the value
    is not in the text."""
    return {path: None if span is None else span.to_dict() for path, span in spans.items()}


@dataclass(frozen=True)
class Conflict:
    """Two chunks of a long text gave different values for one scalar: ``kept`` (from chunk
    ``kept_chunk``) won, ``other`` (from chunk ``other_chunk``) was set aside."""

    path: str
    kept: Any
    other: Any
    kept_chunk: int
    other_chunk: int

    def __str__(self) -> str:
        return (
            f"{self.path or '(root)'}: kept {self.kept!r} (chunk {self.kept_chunk}), "
            f"set aside {self.other!r} (chunk {self.other_chunk})"
        )


@dataclass(frozen=True)
class ChunkFailure:
    """A chunk of a long text whose extraction failed: which one, where it lies in the text
    (``text[start:end]``), and the error (an ``ExtractionError``, with what it spent)."""

    index: int
    start: int
    end: int
    error: Exception

    def __str__(self) -> str:
        return f"chunk {self.index} (characters {self.start}-{self.end}): {self.error}"


@dataclass(frozen=True)
class Extraction(Generic[T]):
    """A validated value with its usage and cost summed over every attempt, failed ones too.

    ``cost`` is None when no price is known for the model. ``spans`` (with ``ground=True``)
    maps the path of every string and number leaf of the value (``items[2].price``) to where
    it is written in the text, or to None when it is nowhere in it. A text extracted in
    ``chunks`` also reports the scalars its chunks disagreed on (``conflicts``) and, with
    ``partial_ok=True``, the chunks that failed (``failed_chunks``: the value holds what the
    others found).
    """

    value: T
    usage: Usage
    cost: Cost | None
    attempts: Sequence[Attempt] = field(default_factory=tuple)
    model: str = ""
    spans: Mapping[str, Span | None] | None = None
    chunks: int = 1
    conflicts: Sequence[Conflict] = ()
    failed_chunks: Sequence[ChunkFailure] = ()

    @property
    def ungrounded(self) -> list[str]:
        """Paths of the values not found in the text (empty unless grounded)."""
        return [path for path, span in (self.spans or {}).items() if span is None]
