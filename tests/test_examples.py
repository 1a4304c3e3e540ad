"""Every example runs offline to completion, as a newcomer would run it, with no key set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# What each example must print offline: proof it did its job, not just that it exited 0.
EXPECTED = {
    "quickstart": ["Ada Lovelace, born 1815: mathematician", "1 attempt(s), cost 0."],
    "entities": ["acquirer    Northwind Analytics  $420,000,000", "competitor  Contoso Data"],
    "validation": [
        "attempt 1: lines[0].sku: Value error, product code 'KB-2040' does not occur",
        "attempt 2: valid",
        "Dana Whitfield: 3 x KB-204, 2 x MS-11",
    ],
    "budget": ["#1: Aeropress Go, 4 stars", "#2: stopped after", "job budget of 0.003 CNY spent"],
    "service": ["HTTP 200: Triage(category='bug', urgency='high'", "cost 0."],
    "streaming": [
        "title: Grandma's lemon drizzle",
        "ingredients 1: name='butter'",
        "6. sugar: 85 g",
    ],
    "batch_csv": ["12 tickets: 12 ok, 0 failed", "billing"],
    "grounding": [
        "attempt 1: customer: this value does not appear in the text",
        "attempt 2: valid, every value found",
        "customer             'Dana Whitfield'",
        "lines[0].product     'A4 Recycling-\\npapier'  (normalised match)",
        "lines[0].unit_price  '23,90'  (normalised match)",
    ],
    "long_document": [
        "18,129 characters in 7 chunks: 78 action items",
        "read by the chunks, merged once each), 0 not in the text",
        "2024-01-12  Priya Nair    update the supplier list   <- 'January 12, 2024'",
    ],
}


def run(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("EXTRACTOR_API_KEY", "OPENAI_API_KEY")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_example_is_covered() -> None:
    scripts = {path.stem for path in EXAMPLES.glob("*.py") if not path.stem.startswith("_")}
    assert scripts == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_offline(name: str) -> None:
    result = run(name, "--offline")
    assert result.returncode == 0, result.stderr
    for line in EXPECTED[name]:
        assert line in result.stdout, result.stdout
    assert "Traceback" not in result.stderr


def test_without_key_or_offline_says_what_to_do() -> None:
    result = run("quickstart")
    assert result.returncode == 2
    assert "set EXTRACTOR_API_KEY (or OPENAI_API_KEY)" in result.stderr
    assert "--offline" in result.stderr
