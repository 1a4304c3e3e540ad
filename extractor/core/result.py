"""What a call returns: the value, and the record of how it was obtained."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .cost import Cost, Usage

__all__ = ["Attempt", "ErrorDetail", "Extraction"]

T = TypeVar("T")


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
    had to mend the JSON (fences, trailing commas...) before it could be validated;
    ``reasoning`` is the thinking a reasoning model sent along with its answer, if any.
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

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Extraction(Generic[T]):
    """A validated value with its usage and cost summed over every attempt, failed ones too.

    ``cost`` is None when no price is known for the model.
    """

    value: T
    usage: Usage
    cost: Cost | None
    attempts: Sequence[Attempt] = field(default_factory=tuple)
    model: str = ""
