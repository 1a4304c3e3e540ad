"""CPU per call of a service making many calls at once, next to the OpenAI SDK's in the same run.

1,000 async calls at concurrency 64 against the loopback fake server (tests/fakeserver.py)
answering after 20 ms, all extracting the reference invoice (benchmarks/invoice.py):

- ``extractor``: the default ``AsyncExtractor()`` (only ``api_key`` and ``base_url`` given),
  ``await ex.extract(Invoice, TEXT)``.
- ``openai``: the OpenAI SDK's ``AsyncOpenAI`` with the same messages, JSON mode
  (``response_format={"type": "json_object"}``), then ``Invoice.model_validate_json`` of the
  answer: the baseline. Target (issue 15): extractor's CPU per call at or below it.
- ``httpx``: a bare ``httpx.AsyncClient`` POST of the same body + ``model_validate_json``, for
  the record: what the HTTP stack alone costs with httpx's default pool.

Each contender runs in a fresh process of its own (so that no import or pool state is shared),
warms up with one call per connection, then times the 1,000 calls: CPU (``process_time``, the
client's process only) and wall time. Rounds alternate the contenders; medians are reported.

    pip install -e ".[bench]"
    python benchmarks/concurrency.py [--calls 1000] [--concurrency 64] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

from invoice import ANSWER, TEXT, Invoice  # noqa: E402

from extractor import AsyncExtractor, Extractor  # noqa: E402

LATENCY = 0.02
KEY = "sk-bench"
CONTENDERS = ("openai", "extractor", "httpx")


def make_call(name: str, base_url: str) -> Callable[[], Awaitable[object]]:
    """One call of contender ``name``, as a coroutine function."""
    if name == "extractor":
        ex = AsyncExtractor(api_key=KEY, base_url=base_url)

        async def extractor_call() -> object:
            return await ex.extract(Invoice, TEXT)

        return extractor_call
    body = Extractor(api_key=KEY).request_body(Invoice, TEXT)
    if name == "openai":
        from openai import AsyncOpenAI

        client = AsyncOpenAI(api_key=KEY, base_url=base_url)

        async def openai_call() -> object:
            completion = await client.chat.completions.create(
                model=body["model"],
                messages=body["messages"],
                response_format={"type": "json_object"},
            )
            return Invoice.model_validate_json(completion.choices[0].message.content or "")

        return openai_call
    import httpx

    http = httpx.AsyncClient(timeout=300)
    headers = {"Authorization": f"Bearer {KEY}"}
    url = base_url + "/chat/completions"

    async def httpx_call() -> object:
        response = await http.post(url, json=body, headers=headers)
        response.raise_for_status()
        content = response.json()["choices"][0]["message"]["content"]
        return Invoice.model_validate_json(content)

    return httpx_call


async def run(name: str, base_url: str, calls: int, concurrency: int) -> dict[str, float]:
    call = make_call(name, base_url)

    async def workers(count: int) -> None:
        remaining = iter(range(count))

        async def worker() -> None:
            for _ in remaining:
                value = await call()
                assert isinstance(value, Invoice)

        await asyncio.gather(*(worker() for _ in range(concurrency)))

    await workers(concurrency)  # open the connections and warm the caches
    cpu, wall = time.process_time(), time.perf_counter()
    await workers(calls)
    return {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall}


def measure(name: str, base_url: str, calls: int, concurrency: int) -> dict[str, float]:
    """Run one contender in a fresh process and read its figures back."""
    argv = [sys.executable, __file__, "--child", name, base_url, str(calls), str(concurrency)]
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    out = subprocess.run(argv, env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{name} failed:\n{out.stderr}")
    figures: dict[str, float] = json.loads(out.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=4, metavar=("NAME", "URL", "CALLS", "CONCURRENCY"))
    args = parser.parse_args()
    if args.child:
        name, url, calls, concurrency = args.child
        print(json.dumps(asyncio.run(run(name, url, int(calls), int(concurrency)))))
        return

    from tests.fakeserver import FakeServer, Reply

    print(
        f"{args.calls} calls at concurrency {args.concurrency}, server latency "
        f"{LATENCY * 1000:.0f} ms, {os.cpu_count()} CPUs, {args.rounds} rounds (medians)"
    )
    results: dict[str, list[dict[str, float]]] = {name: [] for name in CONTENDERS}
    with FakeServer(lambda request: Reply.text(ANSWER), latency=LATENCY) as server:
        for _ in range(args.rounds):
            for name in CONTENDERS:
                results[name].append(measure(name, server.base_url, args.calls, args.concurrency))
    medians = {
        name: {k: statistics.median(r[k] for r in runs) for k in ("cpu", "wall")}
        for name, runs in results.items()
    }
    base = medians["openai"]
    for name in CONTENDERS:
        cpu = medians[name]["cpu"] / args.calls
        wall = medians[name]["wall"]
        print(
            f"  {name:9} CPU {cpu * 1e3:6.2f} ms/call ({cpu / (base['cpu'] / args.calls):.2f}x "
            f"the SDK)   wall {wall:5.2f} s ({wall / base['wall']:.2f}x the SDK)"
        )
    ratio = medians["extractor"]["cpu"] / base["cpu"]
    print(f"extractor CPU per call: {ratio:.2f}x the SDK's (target <= 1: ", end="")
    print("met)" if ratio <= 1 else "NOT met)")


if __name__ == "__main__":
    main()
