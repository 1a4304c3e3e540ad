"""What a call returns: the value, and the record of how it was obtained."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..errors import ErrorDetail
from .cost import Cost, Usage

__all__ = ["Attempt", "Extraction"]

T = TypeVar("T")


@dataclass(frozen=True)
class Attempt:
    """One request to the model and what became of its answer.

    ``errors`` is empty for the attempt that succeeded; ``repaired`` says the lenient parser
    had to mend the JSON (fences, trailing commas...) before it could be validated.
    """

    number: int
    raw: str | None
    finish_reason: str | None
    usage: Usage
    request_id: str | None = None
    errors: Sequence[ErrorDetail] = ()
    repaired: bool = False
    duration: float = 0.0

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
