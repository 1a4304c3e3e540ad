"""``extract_many``: bounded concurrency, results as they finish, errors per record."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from extractor import AsyncExtractor, ConfigurationError, Extractor, RefusalError
from extractor.many import bounded
from extractor.testing import wire
from tests.fakeserver import person_answer
from tests.helpers import BASE_URL


class Person(BaseModel):
    name: str
    age: int


def _text(request: httpx.Request) -> str:
    body = json.loads(request.content)
    return str(body["messages"][1]["content"])


def _answer(request: httpx.Request) -> httpx.Response:
    text = _text(request)
    if "REFUSE" in text:
        return httpx.Response(200, json=wire.completion(refusal="no"))
    return httpx.Response(200, json=wire.completion(json.dumps(person_answer(text))))


def texts(n: int) -> list[str]:
    return [f"name: P{i}, age: {i}" for i in range(n)]


async def test_async_results_come_as_they_finish_with_their_ids() -> None:
    release_first = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if "P0," in _text(request):
            await release_first.wait()  # record 0 is slow: it must not hold the others up
        return _answer(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    aex = AsyncExtractor(api_key="k", base_url=BASE_URL, http_client=client)
    order = []
    async for result in aex.extract_many(Person, [("a", texts(3)[0]), ("b", texts(3)[1])]):
        order.append(result.id)
        release_first.set()
        assert result.ok and result.extraction is not None
    assert order == ["b", "a"]
    await client.aclose()


async def test_async_concurrency_is_bounded_and_input_is_pulled_lazily() -> None:
    active = peak = 0
    pulled = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        active -= 1
        return _answer(request)

    def records() -> Iterator[str]:
        nonlocal pulled
        for text in texts(40):
            pulled += 1
            yield text

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    aex = AsyncExtractor(api_key="k", base_url=BASE_URL, http_client=client)
    results = aex.extract_many(Person, records(), concurrency=4)
    first = await anext(results)
    assert pulled <= 5  # never read ahead of the free slots
    rest = [result async for result in results]
    assert peak <= 4
    values = {r.id: r.value for r in [first, *rest]}
    assert values == {i: Person(name=f"P{i}", age=i) for i in range(40)}
    await client.aclose()


async def test_a_failed_record_yields_its_error_and_the_others_go_on() -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(_answer))
    aex = AsyncExtractor(api_key="k", base_url=BASE_URL, http_client=client)
    records: list[Any] = [{"id": "x", "text": "REFUSE"}, {"id": "y", "text": texts(2)[1]}]
    results = {r.id: r async for r in aex.extract_many(Person, records)}
    assert isinstance(results["x"].error, RefusalError)
    assert results["x"].error.usage is not None  # what it spent comes with it
    with pytest.raises(RefusalError):
        _ = results["x"].value
    assert results["y"].value == Person(name="P1", age=1)
    await client.aclose()


def test_sync_extract_many_uses_threads_within_the_bound() -> None:
    lock = threading.Lock()
    active = peak = 0
    barrier = threading.Barrier(3, timeout=10)

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        if "P0," in _text(request) or "P1," in _text(request) or "P2," in _text(request):
            barrier.wait()  # the first three really run at the same time
        with lock:
            active -= 1
        return _answer(request)

    ex = Extractor(
        api_key="k",
        base_url=BASE_URL,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    results = list(ex.extract_many(Person, texts(12), concurrency=3))
    assert peak == 3
    assert sorted(r.id for r in results) == list(range(12))
    assert all(r.ok for r in results)


def test_bad_records_and_concurrency_are_configuration_errors() -> None:
    ex = Extractor(
        api_key="k",
        base_url=BASE_URL,
        http_client=httpx.Client(transport=httpx.MockTransport(_answer)),
    )
    with pytest.raises(ConfigurationError, match="record 0 is int"):
        list(ex.extract_many(Person, [5]))  # type: ignore[list-item]
    with pytest.raises(ConfigurationError, match="concurrency"):
        list(ex.extract_many(Person, ["x"], concurrency=0))


async def test_bounded_stop_lets_in_flight_finish_and_starts_nothing_new() -> None:
    started: list[int] = []
    stopped: list[bool] = []

    async def work(n: int) -> int:
        started.append(n)
        await asyncio.sleep(0)
        return n

    done = []
    async for n in bounded(range(100), work, 3, stop=lambda: bool(stopped)):
        done.append(n)
        stopped.append(True)
    assert sorted(done) == sorted(started) and len(started) == 3
