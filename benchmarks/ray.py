"""Throughput on Ray next to the local engine and next to Ray's own LLM batch processor, all in
the same run against the same loopback fake server (tests/fakeserver.py) answering after 50 ms.

- Ray's own processor: ``ray.data.llm``'s HTTP request processor sending the very request bodies
  extractor would send, keeping the raw responses: no parsing, validation, re-asks, usage, cost,
  cache or budget. It is the baseline the Ray engine must at least match. Its HTTP stage sends a
  batch's requests one after the other, and Ray Data runs up to 4 batches of an async UDF at
  once per task, so its concurrency is set by the batch size: each configuration tried is
  printed, and the best one is the baseline.
- The local engine: ``extractor batch`` (a subprocess: start-up, reading, writing included) at
  concurrency 32, as benchmarks/batch.py runs it.

Both Ray figures are timed on an initialised local Ray (``ray.init(num_cpus=2)``), from the
dataset's creation to its last row, so actor start-up is included and Ray's own start-up is not.

    python benchmarks/ray.py [--records 5000]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
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
# (actors, batch size) for Ray's own processor. Its actors each reserve a CPU by default, which
# would allow only 2 here: they are given a fraction, as they mostly wait on the network.
RAY_CONFIGS = ((8, 16), (16, 8), (32, 4))


def run_ray_processor(server: FakeServer, bodies: list[str], actors: int, batch: int) -> float:
    """Seconds for Ray's HTTP request processor to send every body and collect the answers."""
    from ray.data.llm import HttpRequestProcessorConfig, build_processor

    config = HttpRequestProcessorConfig(
        url=server.base_url + "/chat/completions",
        headers={"Authorization": f"Bearer {local.KEY}"},
        batch_size=batch,
        concurrency=(actors, actors),
        http_request_stage={"num_cpus": 1 / actors},
    )
    processor = build_processor(
        config,
        preprocess=lambda row: {"payload": json.loads(row["body"])},
        postprocess=lambda row: {"answer": row["http_response"]["choices"][0]["message"]},
    )
    started = time.perf_counter()
    dataset = processor(ray.data.from_items([{"body": body} for body in bodies]))
    rows = sum(len(batch["answer"]) for batch in dataset.iter_batches(batch_size=None))
    elapsed = time.perf_counter() - started
    assert rows == len(bodies), f"Ray's processor returned {rows} of {len(bodies)} rows"
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
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        with FakeServer(latency=LATENCY) as server:
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
            print(f"  baseline (best of Ray's processor): {best:7.1f} rec/s")
        ray.shutdown()


if __name__ == "__main__":
    main()
