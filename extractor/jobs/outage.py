"""Telling an outage from a bad record.

A record that fails with a connection error, a timeout, a 5xx or a 429 after all its
transport retries says little about the record and much about the API. When several such
failures come in a row, with no success between them, the API is down (or refusing us), and
every further record would fail the same way after the same minute of retries: the job should
stop and be rerun later, and those records are not failures of theirs to file in the errors
file (where a plain rerun would skip them). So such failures are held back instead of being
written: a success releases them (they were isolated failures, and are filed as usual);
``threshold`` of them in a row trip the detector, and the job stops with them undone.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")

__all__ = ["OUTAGE_THRESHOLD", "SYSTEMATIC_ERRORS", "OutageDetector", "is_systematic"]

# Failures in a row, after each one's transport retries, that mean the API is down. Each has
# already been retried for tens of seconds, so three in a row is not bad luck.
OUTAGE_THRESHOLD = 3


# The errors (by type name, as outcome lines carry them, whichever engine made them) about the
# API rather than the record: it could not be reached, timed out, answered 5xx (or 408/409),
# or kept rate-limiting, through every transport retry. (A 429 for no quota is not among
# them: it stops the job at once, as a bad key does.)
SYSTEMATIC_ERRORS = frozenset(
    {"APIConnectionError", "APITimeoutError", "ServerError", "RateLimitError"}
)


def is_systematic(error_type: str) -> bool:
    """Whether a record that failed with ``error_type`` failed on the API, not on itself."""
    return error_type in SYSTEMATIC_ERRORS


class OutageDetector(Generic[T]):
    """Holds back the systematic failures of a run of them (whatever the engine keeps for a
    finished record); see the module docstring."""

    def __init__(self, threshold: int = OUTAGE_THRESHOLD) -> None:
        self.threshold = threshold
        self.held: list[T] = []

    def hold(self, item: T, systematic: bool) -> bool:
        """True if ``item`` (a record that failed ``systematic``-ally or not) is held back:
        not to be written now."""
        if not systematic:
            return False
        self.held.append(item)
        return True

    @property
    def tripped(self) -> bool:
        return len(self.held) >= self.threshold

    def release(self) -> list[T]:
        """The held failures, to be written after all: the run of them was broken."""
        held, self.held = self.held, []
        return held
