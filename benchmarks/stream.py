"""Streaming cost as the answer grows: is ``Extractor.stream`` linear in the answer's length?

An ``Order`` with 100, 200, 400 and 800 items (about 40 KB of JSON at 800) is streamed in
8-character deltas, one SSE event per delta and one network read per event, through
``httpx.MockTransport``, and consumed with ``ex.stream`` (reading every snapshot's value).
Targets (issue 3): at most 2.3x per doubling, 800 items in at most 0.25 s.

Baselines, measured in the same run on the same bytes:
- ``read+loads``: a bare httpx stream read that decodes nothing until the end, then one
  ``json.loads`` of the joined content: the floor for any streaming consumer.
- ``reparse``: what partial-object streaming commonly does, re-parsing the whole buffer with
  ``partial_json_parser`` on every chunk (quadratic); only run when that package is installed.

Run: ``python benchmarks/stream.py`` (``--repeat N`` takes the best of N runs).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import time
from collections.abc import Callable, Iterator

import httpx
import pydantic

from extractor import Extractor
from extractor.core.cost import Usage
from extractor.streaming import Done, Snapshot
from extractor.testing import wire

SIZES = (100, 200, 400, 800)
DELTA = 8


class Item(pydantic.BaseModel):
    sku: str
    qty: int
    price: float


class Order(pydantic.BaseModel):
    order_id: str
    customer: str
    items: list[Item]


def answer(n: int) -> str:
    rnd = random.Random(n)
    items = [
        {"sku": f"SKU-{i:05d}", "qty": rnd.randint(1, 9), "price": round(rnd.uniform(1, 99), 2)}
        for i in range(n)
    ]
    return json.dumps({"order_id": "ORD-1", "customer": "Ada Lovelace", "items": items})


def sse_events(text: str) -> list[bytes]:
    """The stream as the API frames it, one ``bytes`` per event: role chunk, content chunks,
    finish, usage, [DONE]."""
    usage = Usage(prompt_tokens=200, completion_tokens=len(text) // 3)
    return wire.sse_events(wire.chunks(text, size=DELTA, usage=usage))


def client(events: list[bytes]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=iter(events)
        )

    return httpx.Client(transport=httpx.MockTransport(handler))


def run_stream(events: list[bytes]) -> Order:
    ex = Extractor(api_key="sk-bench", http_client=client(events))
    last = None
    with ex.stream(Order, "the order text") as stream:
        for event in stream:
            if isinstance(event, Snapshot):
                last = event.value.items  # a consumer reads what it is shown
            elif isinstance(event, Done):
                value = event.value
    assert last is not None
    return value


def run_read_loads(events: list[bytes]) -> Order:
    with client(events) as http:
        request = http.build_request("POST", "https://api.example/v1/chat/completions")
        response = http.send(request, stream=True)
        body = b"".join(response.iter_bytes())
        response.close()
    parts = []
    for block in body.split(b"\n\n"):
        data = block.removeprefix(b"data: ")
        if data and data != b"[DONE]":
            for choice in json.loads(data)["choices"]:
                parts.append(choice["delta"].get("content") or "")
    return Order.model_validate_json("".join(parts))


def run_reparse(events: list[bytes]) -> Order:
    from partial_json_parser import loads as partial_loads  # type: ignore[import-untyped]

    with client(events) as http:
        request = http.build_request("POST", "https://api.example/v1/chat/completions")
        response = http.send(request, stream=True)
        buffer = ""
        for data in response.iter_bytes():
            payload = data.removeprefix(b"data: ").strip()
            if payload == b"[DONE]":
                continue
            for choice in json.loads(payload)["choices"]:
                delta = choice["delta"].get("content")
                if delta:
                    buffer += delta
                    partial_loads(buffer)
        response.close()
    return Order.model_validate_json(buffer)


def best(fn: Callable[[list[bytes]], Order], events: list[bytes], repeat: int) -> float:
    """Best wall-clock time of ``repeat`` runs."""
    return _best(fn, events, repeat, time.perf_counter)


def best_cpu(fn: Callable[[list[bytes]], Order], events: list[bytes], repeat: int) -> float:
    """Best CPU time of ``repeat`` runs: steadier than wall time on a shared machine."""
    return _best(fn, events, repeat, time.process_time)


def _best(
    fn: Callable[[list[bytes]], Order],
    events: list[bytes],
    repeat: int,
    clock: Callable[[], float],
) -> float:
    times = []
    for _ in range(repeat):
        started = clock()
        fn(events)
        times.append(clock() - started)
    return min(times)


def ratios(times: list[float]) -> Iterator[str]:
    yield "-"
    for before, after in itertools.pairwise(times):
        yield f"{after / before:.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    try:
        import partial_json_parser  # noqa: F401

        baselines = {"read+loads": run_read_loads, "reparse": run_reparse}
    except ImportError:
        baselines = {"read+loads": run_read_loads}
    streams = {n: sse_events(answer(n)) for n in SIZES}
    for n, events in streams.items():  # same value every way, before anything is timed
        expected = Order.model_validate_json(answer(n))
        assert run_stream(events) == expected
        for fn in baselines.values():
            assert fn(events) == expected
    results = {"stream": [best(run_stream, streams[n], args.repeat) for n in SIZES]}
    results["stream (cpu)"] = [best_cpu(run_stream, streams[n], args.repeat) for n in SIZES]
    for name, fn in baselines.items():
        repeat = 1 if name == "reparse" else args.repeat
        results[name] = [best(fn, streams[n], repeat) for n in SIZES]

    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average {load}")
    print(f"best of {args.repeat} (reparse: 1 run)\n")
    print(f"{'items':>6} {'JSON':>8} {'events':>7}  " + "  ".join(f"{k:>18}" for k in results))
    ratio_columns = {name: list(ratios(times)) for name, times in results.items()}
    for i, n in enumerate(SIZES):
        size = len(answer(n))
        cells = [f"{results[k][i]:8.4f}s {ratio_columns[k][i]:>7}" for k in results]
        print(f"{n:>6} {size:>8} {len(streams[n]):>7}  " + "  ".join(f"{c:>18}" for c in cells))
    print()
    for name in ("stream", "stream (cpu)"):
        worst = max(b / a for a, b in itertools.pairwise(results[name]))
        at_800 = results[name][-1]
        print(
            f"{name}: worst ratio per doubling {worst:.2f} (target <= 2.3), 800 items in "
            f"{at_800:.3f} s (target <= 0.25 s), {at_800 / results['read+loads'][-1]:.1f}x "
            "the read+loads floor"
        )


if __name__ == "__main__":
    main()
