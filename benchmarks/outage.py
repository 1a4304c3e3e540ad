"""How fast ``extractor batch`` gives up on a dead API, next to what the same job cost before
the outage stop (every record retried to the end and filed as failed), measured in the same run.

A 2,000-record job with the default settings (concurrency 8, 6 transport retries with
exponential backoff) against:

1. a port where nothing listens (connection refused), and
2. the loopback fake server (tests/fakeserver.py) answering every request with 503.

For each: the wall time of the real command (a subprocess, start-up included) until it exits
with the outage code (4), the requests the server saw, and the lines written to the errors
file (should be 0). Target: under a minute, with no record filed as failed.

The baseline is the job as it ran before: every record goes through all of its retries and
is filed as failed. Running 2,000 of those would take the better part of an hour, so it is
measured on its first ``concurrency`` records (the time for one round of records to fail,
from the same command with the stop disabled by a threshold above the job's size) and
extrapolated: rounds x that time.

    python benchmarks/outage.py [--records 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakeserver import FakeServer, Reply  # noqa: E402

SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}
CONCURRENCY = 8  # the command's default

# Runs the CLI with the outage stop raised above the job's size: the behaviour before it.
WITHOUT_STOP = r"""
import sys
import extractor.jobs.outage as outage
outage.OutageDetector.__init__.__defaults__ = (10**9,)
from extractor.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(workdir: Path, base_url: str, records: int, *, stop: bool) -> tuple[float, int, int]:
    """(seconds, exit code, lines in the errors file) of one batch command."""
    rows = "".join(
        json.dumps({"id": i, "text": f"rec-{i} name: Person {i}, age: {20 + i % 50}"}) + "\n"
        for i in range(records)
    )
    (workdir / "in.jsonl").write_text(rows)
    for name in ("out.jsonl", "out.errors.jsonl", "out.job.json"):
        (workdir / name).unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(EXTRACTOR_API_KEY="bench-key", PYTHONPATH=str(ROOT))
    args = ["batch", "in.jsonl", "--schema", "person.json", "-o", "out.jsonl"]
    args += ["--base-url", base_url, "--no-progress"]
    command = [sys.executable, "-m", "extractor"] if stop else [sys.executable, "-c", WITHOUT_STOP]
    started = time.perf_counter()
    done = subprocess.run(command + args, cwd=workdir, env=env, capture_output=True, timeout=3600)
    elapsed = time.perf_counter() - started
    errors = workdir / "out.errors.jsonl"
    failed = errors.read_bytes().count(b"\n") if errors.exists() else 0
    return elapsed, done.returncode, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    args = parser.parse_args()
    rounds = -(-args.records // CONCURRENCY)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "person.json").write_text(json.dumps(SCHEMA))
        dead = f"http://127.0.0.1:{_free_port()}/v1"
        with FakeServer(lambda request: Reply.server_error(503)) as down:
            cases = [("connection refused", dead, None), ("503 on every request", None, down)]
            for label, url, server in cases:
                base_url = url or server.base_url
                seconds, code, failed = _run(workdir, base_url, args.records, stop=True)
                requests = len(server.requests) if server else "-"
                if server:
                    server.reset()
                base, _, base_failed = _run(workdir, base_url, CONCURRENCY, stop=False)
                if server:
                    server.reset()
                print(
                    f"{label}: {args.records} records stopped in {seconds:.1f}s (exit {code}, "
                    f"{requests} requests, {failed} records filed as failed); without the "
                    f"stop: {base:.1f}s for the first {CONCURRENCY} records ({base_failed} "
                    f"filed as failed), ~{base * rounds / 60:.0f} min for all {args.records} "
                    f"(target: under 60s)"
                )


if __name__ == "__main__":
    main()
