"""Throughput of ``extractor batch`` next to the floor measured in the same run, and the peak
memory of ``extractor estimate`` on a huge input.

1. 2,000 records through the real ``batch`` command (a subprocess: start-up, reading, writing
   and fsync included) against the loopback fake server (tests/fakeserver.py) answering after
   50 ms, at concurrency 32. The floor: a bare loop of async httpx POSTs of the same request
   bodies, at the same concurrency, against the same server, in a subprocess of its own and
   timed from its first request to its last answer (its start-up excluded). Target: the
   command reaches at least 85% of the floor's throughput. Each round runs both back to back
   and the median of the rounds' ratios is reported, so a busy machine hurts both alike.
   For the record, a third figure: the same bare loop over httpx clients split into pools of
   the size the command uses (extractor/wire/pool.py says why it splits them).
2. Peak resident memory of ``extractor estimate`` over a generated 1,000,000-line JSONL input
   (ru_maxrss of that command alone, from getrusage in a small launcher process), next to the
   baseline of a command that only imports the CLI. Target: under 200 MB.
3. Peak resident memory of ``extractor batch`` resuming a job whose 1,000,000 records are all
   in OUT already (it reads both files back and skips every record): what the resume and
   duplicate-id bookkeeping costs on a huge job (no target given; memory should stay flat).

    python benchmarks/batch.py [--records 2000] [--rounds 3] [--lines 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractor import Extractor  # noqa: E402
from extractor.wire.pool import SHARD_SIZE  # noqa: E402
from tests.fakeserver import FakeServer  # noqa: E402

SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}
KEY = "bench-key"
CONCURRENCY = 32
LATENCY = 0.05

FLOOR = r"""
import asyncio, json, sys, time
import httpx

async def main(url, bodies_path, concurrency, key, pools):
    with open(bodies_path, "rb") as handle:
        bodies = [line.rstrip(b"\n") for line in handle]
    size = concurrency // pools
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    clients = [httpx.AsyncClient(limits=limits, timeout=60) for _ in range(pools)]
    queue = iter(bodies)

    async def worker(client):
        for body in queue:
            response = await client.post(url, content=body, headers=headers)
            response.raise_for_status()
            response.json()

    started = time.perf_counter()
    await asyncio.gather(*(worker(clients[n % pools]) for n in range(concurrency)))
    print(time.perf_counter() - started)
    for client in clients:
        await client.aclose()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])))
"""


def env() -> dict[str, str]:
    variables = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    variables.update(EXTRACTOR_API_KEY=KEY, PYTHONPATH=str(ROOT))
    return variables


def prepare(work: Path, records: int) -> None:
    (work / "person.json").write_text(json.dumps(SCHEMA))
    extractor = Extractor(api_key=KEY)
    with open(work / "in.jsonl", "w") as inputs, open(work / "bodies.jsonl", "w") as bodies:
        for i in range(records):
            text = f"rec-{i} name: Person {i}, age: {i % 90}"
            inputs.write(json.dumps({"id": i, "text": text}) + "\n")
            body = extractor.request_body(SCHEMA, text)
            bodies.write(json.dumps(body, ensure_ascii=False) + "\n")


def run_floor(work: Path, server: FakeServer, pools: int = 1) -> float:
    """Seconds for the bare httpx loop over all the bodies, in a fresh process."""
    url = server.base_url + "/chat/completions"
    bodies = str(work / "bodies.jsonl")
    out = subprocess.run(
        [sys.executable, "-c", FLOOR, url, bodies, str(CONCURRENCY), KEY, str(pools)],
        env=env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def run_batch(work: Path, server: FakeServer, records: int) -> float:
    for name in ("out.jsonl", "out.errors.jsonl"):
        (work / name).unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "extractor",
            "batch",
            "in.jsonl",
            "--schema",
            "person.json",
            "-o",
            "out.jsonl",
            "--concurrency",
            str(CONCURRENCY),
            "--no-progress",
            "--base-url",
            server.base_url,
        ],
        cwd=work,
        env=env(),
        capture_output=True,
        check=True,
    )
    elapsed = time.perf_counter() - started
    written = (work / "out.jsonl").read_bytes().count(b"\n")
    assert written == records, f"batch wrote {written} of {records} records"
    return elapsed


# Linux keeps a process's peak RSS across exec, so a child forked from this (large) process
# would report at least this process's size. A small launcher forks the measured command
# instead and reports resource.getrusage(RUSAGE_CHILDREN) for it alone.
LAUNCHER = r"""
import resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
elapsed = time.perf_counter() - started
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, elapsed)
"""


def peak_rss_mb(argv: list[str], cwd: Path) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of one command, measured by getrusage in its parent."""
    out = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *argv],
        cwd=cwd,
        env=env(),
        capture_output=True,
        text=True,
        check=True,
    )
    code, kib, elapsed = out.stdout.split()
    if code != "0":
        raise SystemExit(f"{argv} exited with {code}")
    return int(kib) / 1024, float(elapsed)  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        prepare(work, args.records)
        print(
            f"batch: {args.records} records, concurrency {CONCURRENCY}, "
            f"server latency {LATENCY * 1000:.0f} ms, {os.cpu_count()} CPUs"
        )
        pools = CONCURRENCY // SHARD_SIZE
        ratios, sharded_ratios = [], []
        with FakeServer(latency=LATENCY) as server:
            for round_ in range(1, args.rounds + 1):
                floor = args.records / run_floor(work, server)
                batch = args.records / run_batch(work, server, args.records)
                sharded = args.records / run_floor(work, server, pools)
                ratios.append(batch / floor)
                sharded_ratios.append(batch / sharded)
                print(
                    f"  round {round_}: floor {floor:6.1f} rec/s   extractor batch "
                    f"{batch:6.1f} rec/s (start-up included) = {ratios[-1]:.0%} of the floor"
                    f"   [httpx in {pools} pools of {SHARD_SIZE}: {sharded:6.1f} rec/s]"
                )
        ratio = statistics.median(ratios)
        print(
            f"  median of the rounds: {ratio:.0%} of the floor (target >= 85%: "
            f"{'met' if ratio >= 0.85 else 'NOT met'}); "
            f"{statistics.median(sharded_ratios):.0%} of httpx in the same pools"
        )
        print(f"  latency bound at this concurrency: {CONCURRENCY / LATENCY:.0f} rec/s")

        big = work / "big.jsonl"
        with open(big, "w") as handle:
            line = '{"id": %d, "text": "Ticket %d: my order #%d arrived damaged, please refund."}\n'
            for i in range(args.lines):
                handle.write(line % (i, i, i * 7))
        size = big.stat().st_size / 1e6
        print(f"estimate: {args.lines} lines ({size:.0f} MB)")
        base_rss, _ = peak_rss_mb([sys.executable, "-c", "import extractor.cli"], work)
        rss, seconds = peak_rss_mb(
            [sys.executable, "-m", "extractor", "estimate", str(big), "--schema", "person.json"],
            work,
        )
        print(
            f"  peak RSS: extractor estimate {rss:.0f} MB in {seconds:.1f}s   "
            f"baseline (import only) {base_rss:.0f} MB   target < 200 MB: "
            f"{'met' if rss < 200 else 'NOT met'}"
        )

        done = work / "done.jsonl"
        usage = '"usage":{"prompt_tokens":100,"completion_tokens":7},"cost":0.0002853'
        with open(done, "w") as handle:
            for i in range(args.lines):
                handle.write(f'{{"id":{i},"data":{{"name":"x","age":1}},"attempts":1,{usage}}}\n')
        rss, seconds = peak_rss_mb(
            [
                sys.executable, "-m", "extractor", "batch", str(big), "--schema", "person.json",
                "-o", str(done), "--no-progress", "--base-url", "http://127.0.0.1:9/v1",
            ],
            work,
        )  # fmt: skip
        print(f"resume: {args.lines} records, all already in OUT")
        print(
            f"  peak RSS: extractor batch {rss:.0f} MB in {seconds:.1f}s   "
            f"baseline (import only) {base_rss:.0f} MB"
        )


if __name__ == "__main__":
    main()
