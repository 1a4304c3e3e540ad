"""Progress output without a terminal: plain periodic lines, and the summary."""

from __future__ import annotations

import io
from collections import Counter
from decimal import Decimal

from extractor.core.cost import Usage
from extractor.jobs.config import Stats
from extractor.jobs.progress import PlainReporter, make_reporter, summary


def test_plain_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    reporter = make_reporter(enabled=True, stream=stream, interval=0.0)
    assert isinstance(reporter, PlainReporter)
    stats = Stats(
        total=10, ok=3, failed=Counter(ValidationFailed=1), cost=Decimal("0.5"), currency="CNY"
    )
    reporter.update(stats)
    line = stream.getvalue()
    assert "4/10 records, 3 ok, 1 failed" in line and "spent 0.5000 CNY" in line


def test_no_progress_prints_messages_only() -> None:
    stream = io.StringIO()
    reporter = make_reporter(enabled=False, stream=stream, interval=0.0)
    reporter.update(Stats(ok=1))
    reporter.message("budget reached")
    assert stream.getvalue() == "[extractor] budget reached\n"


def test_summary_lists_failures_by_type_tokens_cost_and_cache_hits() -> None:
    stats = Stats(
        ok=5,
        failed=Counter(RefusalError=2, TruncatedError=1),
        attempts=9,
        usage=Usage(prompt_tokens=100, completion_tokens=20, cached_tokens=64),
        cost=Decimal("0.00048"),
        currency="CNY",
        cache_hits=2,
    )
    text = summary(stats)
    assert "failed:      3 (RefusalError 2, TruncatedError 1)" in text
    assert "tokens:      120 (100 prompt, of which 64 cached; 20 completion)" in text
    assert "cost:        0.00048 CNY" in text and "cache hits:  2" in text
