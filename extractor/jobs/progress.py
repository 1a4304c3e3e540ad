"""How a batch job shows its progress: a live bar on a terminal, plain lines otherwise.

The bar uses rich (the ``progress`` extra), imported only when it is shown; without rich, or
when stderr is not a terminal (a log file, CI), a plain line is printed every ``interval``
seconds instead. Both write to stderr: stdout stays free for data.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from .config import Stats

__all__ = ["PlainReporter", "make_reporter", "summary"]


def _money(stats: Stats, exact: bool = False) -> str:
    if not stats.priced:
        return "cost unknown (no price for this model)"
    amount = f"{stats.cost:f}" if exact else f"{stats.cost:.4f}"
    return f"{amount} {stats.currency}"


def _counts(stats: Stats) -> str:
    completed = stats.skipped + stats.done
    total = f"/{stats.total}" if stats.total is not None else ""
    failed = sum(stats.failed.values())
    return f"{completed}{total} records, {stats.ok} ok, {failed} failed"


def _eta(stats: Stats) -> str:
    if stats.total is None or stats.rate <= 0:
        return ""
    left = max(0, stats.total - stats.skipped - stats.done)
    seconds = int(left / stats.rate)
    return f", ETA {seconds // 60}m{seconds % 60:02d}s"


class PlainReporter:
    """A line every ``interval`` seconds."""

    def __init__(self, stream: IO[str] = sys.stderr, *, interval: float = 10.0) -> None:
        self._stream = stream
        self._interval = interval
        self._last = time.monotonic()

    def update(self, stats: Stats) -> None:
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self.message(
                f"{_counts(stats)}, {stats.rate:.1f}/s, spent {_money(stats)}{_eta(stats)}"
            )

    def message(self, text: str) -> None:
        print(f"[extractor] {text}", file=self._stream, flush=True)

    def close(self, stats: Stats) -> None:
        pass


class QuietReporter(PlainReporter):
    """``--no-progress``: messages (stops, repairs) only."""

    def update(self, stats: Stats) -> None:
        pass


class RichReporter:
    """The live bar: done/total, ok/failed, rate, spend so far, ETA."""

    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self._console = Console(file=stream)
        self._progress = Progress(
            TextColumn("[bold]extracting"),
            BarColumn(),
            TextColumn("{task.completed}/{task.fields[total_text]}"),
            TextColumn("[green]{task.fields[ok]} ok[/] [red]{task.fields[failed]} failed[/]"),
            TextColumn("{task.fields[rate]}/s"),
            TextColumn("{task.fields[spent]}"),
            TimeRemainingColumn(),
            console=self._console,
            transient=False,
        )
        self._task = self._progress.add_task(
            "batch", total=None, total_text="?", ok=0, failed=0, rate="0.0", spent=""
        )
        self._started = False
        self._last = 0.0

    def _start(self) -> None:
        if not self._started:
            self._started = True
            self._progress.start()

    def update(self, stats: Stats, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        self._start()
        fields: dict[str, Any] = {
            "ok": stats.ok,
            "failed": sum(stats.failed.values()),
            "rate": f"{stats.rate:.1f}",
            "spent": "spent " + _money(stats),
            "total_text": "?" if stats.total is None else str(stats.total),
        }
        self._progress.update(
            self._task, completed=stats.skipped + stats.done, total=stats.total, **fields
        )

    def message(self, text: str) -> None:
        self._console.print(f"[extractor] {text}")

    def close(self, stats: Stats) -> None:
        self.update(stats, force=True)
        self._progress.stop()
        self._started = False


def make_reporter(
    *, enabled: bool, stream: IO[str] = sys.stderr, interval: float = 10.0
) -> PlainReporter | RichReporter:
    if not enabled:
        return QuietReporter(stream)
    if stream.isatty():
        try:
            return RichReporter(stream)
        except ImportError:
            pass
    return PlainReporter(stream, interval=interval)


def summary(stats: Stats) -> str:
    """The end-of-run summary."""
    failed = sum(stats.failed.values())
    by_type = ", ".join(f"{kind} {count}" for kind, count in stats.failed.most_common())
    usage = stats.usage
    lines = [
        "summary" + (f" (stopped: {stats.stopped})" if stats.stopped else ""),
        f"  ok:          {stats.ok}",
        f"  failed:      {failed}" + (f" ({by_type})" if by_type else ""),
        f"  skipped:     {stats.skipped} (already in the output files)",
        f"  attempts:    {stats.attempts}",
        f"  tokens:      {usage.total_tokens} ({usage.prompt_tokens} prompt, of which "
        f"{usage.cached_tokens} cached; {usage.completion_tokens} completion)",
        f"  cost:        {_money(stats, exact=True)}",
        f"  cache hits:  {stats.cache_hits}",
        f"  elapsed:     {stats.elapsed:.1f}s",
    ]
    job = stats.job_usage
    if stats.skipped:
        cost = f"{stats.job_cost:f} {stats.currency}" if stats.priced else "cost unknown"
        lines.append(f"  whole job:   {job.total_tokens} tokens, {cost} (both files)")
    return "\n".join(lines)
