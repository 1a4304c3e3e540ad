"""Throughput on Ray next to the local engine and next to Ray's own LLM batch processor, all in
the same run against the same loopback fake server (tests/fakeserver.py) answering after 50 ms.

- Ray's own processor: ``ray.data.llm``'s HTTP request processor sending the very request bodies
  extractor would send, keeping the raw responses: no parsing, validation, re-asks, usage, cost,
  cache or budget. It is the baseline the Ray engine must at least match. Its HTTP stage sends a
  batch's requests one after the other, and Ray Data runs up to 4 batches of an async UDF at
  once per task, so its concurrency is set by the batch size: each configuration tried is
  printed, and the best one is the baseline.
- extractor on Ray: ``extract_dataset`` (2 workers, 32 requests in flight between them) with
  the full semantics (parsing, validation, usage, cost, cluster-wide limits), and the command
  line ``extractor batch --engine ray --address ...`` (a subprocess joining the same Ray:
  its start-up, reading and writing included).
- The local engine: ``extractor batch`` (a subprocess: start-up, reading, writing included) at
  concurrency 32, as benchmarks/batch.py runs it.

Ray's processor and ``extract_dataset`` are timed on an initialised local Ray
(``ray.init(num_cpus=2)``), from the dataset's creation to its last row: actor start-up is
included, Ray's own start-up is not. Target: ``extract_dataset`` at least as fast as Ray's
processor at its best.

    python benchmarks/ray.py [--records 5000]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# This file is named ray.py: its folder must not shadow the ray package, here or in Ray's
# workers (which inherit the driver's sys.path).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import ray  # noqa: E402

from tests.fakeserver import FakeServer  # noqa: E402


def _local_benchmark() -> Any:
    """benchmarks/batch.py, for its record set-up and its run of the local engine."""
    spec = importlib.util.spec_from_file_location("batch_benchmark", HERE / "batch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


local = _local_benchmark()
LATENCY = 0.05
# (actors, batch size) for Ray's own processor. Its stages each reserve a CPU per actor or task
# by default, which would allow one actor here: they are given a tenth, as they mostly wait
# on the network.
RAY_CONFIGS = ((8, 16), (16, 8))
_SMALL = {"num_cpus": 0.1}


def run_ray_processor(server: FakeServer, bodies: list[str], actors: int, batch: int) -> float:
    """Seconds for Ray's HTTP request processor to send every body and collect the answers."""
    from ray.data.llm import HttpRequestProcessorConfig, build_processor

    config = HttpRequestProcessorConfig(
        url=server.base_url + "/chat/completions",
        headers={"Authorization": f"Bearer {local.KEY}"},
        batch_size=batch,
        concurrency=(actors, actors),
        http_request_stage=_SMALL,
    )
    processor = build_processor(
        config,
        preprocess=lambda row: {"payload": json.loads(row["body"])},
        postprocess=lambda row: {"answer": row["http_response"]["choices"][0]["message"]},
        preprocess_map_kwargs=_SMALL,
        postprocess_map_kwargs=_SMALL,
    )
    started = time.perf_counter()
    dataset = processor(ray.data.from_items([{"body": body} for body in bodies]))
    rows = sum(len(batch["answer"]) for batch in dataset.iter_batches(batch_size=None))
    elapsed = time.perf_counter() - started
    assert rows == len(bodies), f"Ray's processor returned {rows} of {len(bodies)} rows"
    return elapsed


def run_extract_dataset(server: FakeServer, work: Path, records: int) -> float:
    """Seconds for ``extract_dataset`` over the same records."""
    from extractor.ray import extract_dataset

    rows = [json.loads(line) for line in (work / "in.jsonl").read_text().splitlines()]
    started = time.perf_counter()
    dataset = extract_dataset(
        ray.data.from_items(rows),
        local.SCHEMA,
        workers=2,
        concurrency=local.CONCURRENCY,
        api_key=local.KEY,
        base_url=server.base_url,
    )
    done = sum(int(batch["ok"].sum()) for batch in dataset.iter_batches(batch_size=None))
    elapsed = time.perf_counter() - started
    assert done == records, f"extract_dataset validated {done} of {records} records"
    return elapsed


def run_ray_cli(work: Path, server: FakeServer, records: int, address: str) -> float:
    """Seconds for ``extractor batch --engine ray`` joining the Ray at ``address``."""
    for name in ("out.jsonl", "out.errors.jsonl"):
        (work / name).unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable, "-m", "extractor", "batch", "in.jsonl", "--schema", "person.json",
            "-o", "out.jsonl", "--concurrency", str(local.CONCURRENCY), "--no-progress",
            "--base-url", server.base_url, "--engine", "ray", "--address", address,
        ],
        cwd=work,
        env=local.env(),
        capture_output=True,
        check=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    written = (work / "out.jsonl").read_bytes().count(b"\n")
    assert written == records, f"batch --engine ray wrote {written} of {records} records"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--ray-only", action="store_true", help="skip the local engine")
    args = parser.parse_args()
    records = args.records

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        local.prepare(work, records)
        bodies = (work / "bodies.jsonl").read_text().splitlines()
        print(
            f"ray: {records} records, server latency {LATENCY * 1000:.0f} ms, "
            f"{os.cpu_count()} CPUs, local Ray with num_cpus=2"
        )
        context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        address = context.address_info["gcs_address"]
        with FakeServer(latency=LATENCY) as server:
            ours = records / run_extract_dataset(server, work, records)
            print(
                f"  extract_dataset (2 workers, {local.CONCURRENCY} in flight, validated):"
                f" {ours:7.1f} rec/s"
            )
            rate = records / run_ray_cli(work, server, records, address)
            print(
                f"  extractor batch --engine ray --address (start-up included): {rate:7.1f} rec/s"
            )
            best = 0.0
            for actors, batch in RAY_CONFIGS:
                rate = records / run_ray_processor(server, bodies, actors, batch)
                best = max(best, rate)
                print(
                    f"  Ray's HTTP request processor ({actors} actors, batch size {batch}, "
                    f"no validation): {rate:7.1f} rec/s"
                )
            if not args.ray_only:
                rate = records / local.run_batch(work, server, records)
                print(
                    f"  extractor batch, local engine (concurrency {local.CONCURRENCY}, "
                    f"start-up included): {rate:7.1f} rec/s"
                )
            print(
                f"  extract_dataset / best of Ray's processor: {ours / best:.2f}x "
                f"(target >= 1: {'met' if ours >= best else 'NOT met'})"
            )
        ray.shutdown()


if __name__ == "__main__":
    main()
