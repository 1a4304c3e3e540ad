"""Token usage, and an amount of money.

Money is ``Decimal`` throughout: a batch job sums millions of tiny amounts, and float drift
would make the summary disagree with the sum of its lines. Prices live in `prices.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["MILLION", "Cost", "Usage"]

MILLION = Decimal(1_000_000)
_FIELDS = ("prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens")


@dataclass(frozen=True)
class Usage:
    """Tokens as the API reported them; ``cached_tokens`` and ``reasoning_tokens`` are subsets
    of ``prompt_tokens`` and ``completion_tokens`` respectively."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.cached_tokens + other.cached_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Usage:
        """The inverse of `to_dict` (how output files store usage); missing counts are zero."""
        data = data or {}
        return cls(**{name: int(data.get(name) or 0) for name in _FIELDS})

    def to_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cached_tokens": self.cached_tokens,
            "reasoning_tokens": self.reasoning_tokens,
        }


@dataclass(frozen=True)
class Cost:
    amount: Decimal
    currency: str

    def __add__(self, other: Cost) -> Cost:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Cost(self.amount + other.amount, self.currency)

    def __str__(self) -> str:
        return f"{self.amount:f} {self.currency}"
