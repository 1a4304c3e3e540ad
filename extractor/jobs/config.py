"""A batch job's settings, and what a run did (its live statistics and summary).

Every engine (the local one in `extractor.jobs.local`, and any other) fills the same `Stats`
and reports to the same `Reporter`, so summaries and progress look the same whatever runs
the records.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from ..core.cost import Usage
from ..core.options import CallOptions
from .inputs import Format, Keep

__all__ = ["JobConfig", "Reporter", "Stats"]


@dataclass
class JobConfig:
    output: Path
    errors: Path
    format: Format
    id_field: str | None = None  # None: "id" where present, else the line number
    text_field: str = "text"
    delimiter: str | None = None  # CSV: sniffed from the header when None
    keep: Keep = None  # the input's other fields to carry into the output lines
    concurrency: int = 8
    budget: Decimal | None = None
    retry_errors: bool = False
    options: CallOptions = field(default_factory=lambda: CallOptions())


@dataclass
class Stats:
    """What this run did, live; the summary at the end."""

    total: int | None = None  # records in the input, when known
    skipped: int = 0
    ok: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    attempts: int = 0
    usage: Usage = field(default_factory=Usage)
    cost: Decimal = Decimal(0)
    currency: str = ""
    priced: bool = True
    price: str = ""  # the price applied, with its source (`Price.describe`)
    cache_hits: int = 0
    in_flight: int = 0
    started: float = field(default_factory=time.monotonic)
    stopped: str | None = None  # "budget", "interrupted", "aborted", "outage", "write error"
    undone: int = 0  # records started but left for the next run (an outage, a write error)
    job_usage: Usage = field(default_factory=Usage)  # both files, this run included
    job_cost: Decimal = Decimal(0)

    @property
    def done(self) -> int:
        return self.ok + sum(self.failed.values())

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        elapsed = self.elapsed
        return self.done / elapsed if elapsed > 0 else 0.0


class Reporter(Protocol):
    def update(self, stats: Stats) -> None: ...
    def message(self, text: str) -> None: ...
    def close(self, stats: Stats) -> None: ...
