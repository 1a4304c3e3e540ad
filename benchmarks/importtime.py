"""What ``import extractor`` costs, next to its dependencies' own import in the same run.

Each figure is the cumulative time ``python -X importtime`` reports for the imports in a fresh
interpreter (start-up excluded), the best of ``--repeat`` runs taken in turns: wall-clock
import times on a shared machine vary several-fold with its load, and the best run is the one
least disturbed. Figures:

- ``import extractor`` from this tree;
- ``from extractor import Extractor``: what a service or script pays before its first call;
- ``import extractor`` from ``--before DIR`` (an older checkout: ``git archive REV | tar -x
  -C DIR``), when given. Target (issue 15): at most half of it;
- ``import httpx, pydantic``: the floor that no code built on them can go below.

The process's CPU time over the same statement is given too: it moves less with the load.

It also lists which of the heavy optional parts ``from extractor import Extractor`` loaded
(asyncio, jsonschema, tenacity, the stream machinery, extract_many, the lenient parser,
grounding): none should be, as a plain sync ``extract`` needs none of them.

    python benchmarks/importtime.py [--before DIR] [--repeat 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAZY = (
    "asyncio",
    "jsonschema",
    "tenacity",
    "extractor.streaming",
    "extractor.core.session",
    "extractor.many",
    "extractor.parse",
    "extractor.grounding",
)


def import_ms(statement: str, path: Path | None) -> tuple[float, float]:
    """Milliseconds ``-X importtime`` gives the imports ``statement`` makes (the cumulative
    times of the top-level imports after start-up, which ends with ``site``), and the
    process's CPU milliseconds over the statement."""
    env = {**os.environ, "PYTHONPATH": str(path) if path else ""}
    timed = f"import time\n_t = time.process_time()\n{statement}\nprint(time.process_time() - _t)"
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", timed],
        cwd=tempfile.gettempdir(),  # not a checkout: ``-c`` puts the working directory first
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    total, started = 0, False
    for line in out.stderr.splitlines():
        fields = line.split("|")
        if len(fields) != 3 or fields[2].startswith("  "):
            continue  # not an import, or imported by another one
        if started:
            total += int(fields[1])
        started = started or fields[2].strip() == "site"
    return total / 1000, float(out.stdout) * 1000


def loaded_after_import() -> list[str]:
    probe = (
        "import sys, json\nfrom extractor import Extractor\n"
        f"print(json.dumps([m for m in {LAZY!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tempfile.gettempdir(),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: list[str] = json.loads(out.stdout)
    return loaded


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path, help="an older checkout to compare with")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    before = args.before.resolve() if args.before else None
    runs: dict[str, tuple[str, Path | None]] = {
        "import extractor": ("import extractor", ROOT),
        "from extractor import Extractor": ("from extractor import Extractor", ROOT),
        "import httpx, pydantic (floor)": ("import httpx, pydantic", None),
    }
    if before:
        runs["import extractor (before)"] = ("import extractor", before)
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeat):
        for name, (statement, path) in runs.items():
            importtime, cpu_ms = import_ms(statement, path)
            wall[name].append(importtime)
            cpu[name].append(cpu_ms)
    best = {name: min(values) for name, values in wall.items()}
    print(f"{args.repeat} fresh interpreters each: -X importtime best (median), CPU time median")
    for name in runs:
        print(
            f"  {name:32} {best[name]:7.1f} ms ({statistics.median(wall[name]):7.1f} ms)"
            f"   CPU {statistics.median(cpu[name]):7.1f} ms"
        )
    if before:
        for name in ("import extractor", "from extractor import Extractor"):
            ratio = best[name] / best["import extractor (before)"]
            cpu_ratio = statistics.median(cpu[name]) / statistics.median(
                cpu["import extractor (before)"]
            )
            verdict = "met" if max(ratio, cpu_ratio) <= 0.5 else "NOT met"
            print(
                f"{name}: {ratio:.2f}x `import extractor` before ({cpu_ratio:.2f}x in CPU "
                f"time; target <= 0.5: {verdict})"
            )
    print(
        "optional parts loaded by `from extractor import Extractor`: "
        f"{loaded_after_import() or 'none'}"
    )


if __name__ == "__main__":
    main()
