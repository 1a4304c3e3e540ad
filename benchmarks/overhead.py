"""Per-call overhead of `Extractor.extract` and `AsyncExtractor.extract`, next to the floor
measured in the same run.

The floor is what any client must do: the same httpx POST through the same in-process
``httpx.MockTransport`` and ``Model.model_validate_json`` of the answer (sync with
``httpx.Client``, async with ``httpx.AsyncClient``). Target (issue 15): at most 1.2x the floor,
sync and async. Also prints the size of the rendered prompt schema for a nested reference
model next to a pretty-printed JSON Schema of it (target: at most half).

    python benchmarks/overhead.py
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable

import httpx
from invoice import PAYLOAD, TEXT, Invoice

from extractor import AsyncExtractor, Extractor
from extractor.core.target import Target

BASE_URL = "https://api.example.test/v1"
URL = BASE_URL + "/chat/completions"
TARGET = 1.2


def handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=PAYLOAD)


def floor(client: httpx.Client) -> Callable[[], object]:
    # The same request the library sends, prepared once: what a hand-written client pays.
    body = Extractor(api_key="sk-bench").request_body(Invoice, TEXT)
    headers = {"Authorization": "Bearer sk-bench"}

    def call() -> object:
        response = client.post(URL, json=body, headers=headers)
        content = response.json()["choices"][0]["message"]["content"]
        return Invoice.model_validate_json(content)

    return call


def ours(client: httpx.Client) -> Callable[[], object]:
    extractor = Extractor(api_key="sk-bench", base_url=BASE_URL, http_client=client)

    def call() -> object:
        return extractor.extract(Invoice, TEXT)

    return call


def async_floor(client: httpx.AsyncClient) -> Callable[[], Awaitable[object]]:
    body = Extractor(api_key="sk-bench").request_body(Invoice, TEXT)
    headers = {"Authorization": "Bearer sk-bench"}

    async def call() -> object:
        response = await client.post(URL, json=body, headers=headers)
        content = response.json()["choices"][0]["message"]["content"]
        return Invoice.model_validate_json(content)

    return call


def async_ours(client: httpx.AsyncClient) -> Callable[[], Awaitable[object]]:
    extractor = AsyncExtractor(api_key="sk-bench", base_url=BASE_URL, http_client=client)

    async def call() -> object:
        return await extractor.extract(Invoice, TEXT)

    return call


def per_call(fns: list[Callable[[], object]], calls: int, rounds: int) -> list[list[float]]:
    """CPU seconds per call of each function, one sample per round. Rounds alternate between
    the functions so that load on the machine weighs on them alike, and CPU time (not wall
    time) leaves out the time the process waited for a core."""
    for fn in fns:
        for _ in range(calls // 10):
            fn()  # warm caches, as a long-running service would be
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for fn, fn_samples in zip(fns, samples, strict=True):
            start = time.process_time()
            for _ in range(calls):
                fn()
            fn_samples.append((time.process_time() - start) / calls)
    return samples


async def async_per_call(
    fns: list[Callable[[], Awaitable[object]]], calls: int, rounds: int
) -> list[list[float]]:
    """`per_call` for coroutine functions, awaited one after another in one event loop."""
    for fn in fns:
        for _ in range(calls // 10):
            await fn()
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for fn, fn_samples in zip(fns, samples, strict=True):
            start = time.process_time()
            for _ in range(calls):
                await fn()
            fn_samples.append((time.process_time() - start) / calls)
    return samples


def report(label: str, floor: list[float], ours: list[float]) -> None:
    """Medians, and the median of the rounds' ratios (each round's pair ran back to back)."""
    ratio = statistics.median(o / f for o, f in zip(ours, floor, strict=True))
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(f"{label} (CPU time, median of {len(floor)} rounds)")
    print(
        f"  floor (httpx POST + model_validate_json): {statistics.median(floor) * 1e6:8.1f} µs/call"
    )
    print(
        f"  extractor.extract:                        {statistics.median(ours) * 1e6:8.1f} µs/call"
    )
    print(f"  ratio: {ratio:.2f}x the floor (target <= {TARGET}x: {verdict})")


async def run_async(calls: int, rounds: int) -> list[list[float]]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        return await async_per_call([async_floor(client), async_ours(client)], calls, rounds)


def main() -> None:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    report("sync", *per_call([floor(client), ours(client)], calls=300, rounds=21))
    report("async", *asyncio.run(run_async(calls=300, rounds=21)))

    pretty = json.dumps(Invoice.model_json_schema(), indent=2)
    rendered = Target.of(Invoice).prompt_schema
    print(
        f"prompt schema: {len(rendered)} chars vs pretty-printed JSON Schema: {len(pretty)} chars"
    )
    print(f"ratio: {len(rendered) / len(pretty):.2f} (target <= 0.5)")


if __name__ == "__main__":
    main()
