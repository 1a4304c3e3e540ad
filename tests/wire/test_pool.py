"""Sharded connection pools: requests spread over small pools, released when read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
from pydantic import BaseModel

from extractor import AsyncExtractor
from extractor.wire.pool import DEFAULT_CONNECTIONS, ShardedTransport
from tests.fakeserver import FakeServer


class Person(BaseModel):
    name: str
    age: int


async def test_requests_go_to_the_least_busy_shard_and_free_it_when_closed() -> None:
    gates = [asyncio.Event() for _ in range(6)]
    seen: list[int] = []

    def make(size: int) -> httpx.AsyncBaseTransport:
        assert size == 4  # 8 connections in pools of at most 4
        shard = len(made)

        async def handler(request: httpx.Request) -> httpx.Response:
            seen.append(shard)
            await gates[int(request.url.params["n"])].wait()

            async def body() -> AsyncIterator[bytes]:  # streamed, as from a socket
                yield b"ok"

            return httpx.Response(200, content=body())

        made.append(shard)
        return httpx.MockTransport(handler)

    made: list[int] = []
    transport = ShardedTransport(8, shard_size=4, make=make)
    assert len(made) == 2
    async with httpx.AsyncClient(transport=transport) as client:
        tasks = [asyncio.create_task(client.get(f"http://x/?n={n}")) for n in range(4)]
        await asyncio.sleep(0.01)
        assert sorted(seen) == [0, 0, 1, 1]  # balanced while all four are in flight
        for gate in gates[:4]:
            gate.set()
        await asyncio.gather(*tasks)
        assert transport._active == [0, 0]  # every response read and closed: all free again
        gates[4].set()
        response = await client.get("http://x/?n=4")
        assert response.text == "ok" and transport._active == [0, 0]


def test_shard_sizes_cover_the_connections() -> None:
    sizes: list[int] = []

    def make(size: int) -> httpx.AsyncBaseTransport:
        sizes.append(size)
        return httpx.MockTransport(lambda request: httpx.Response(200))

    ShardedTransport(32, make=make)
    assert sizes == [8, 8, 8, 8]
    sizes.clear()
    ShardedTransport(5, make=make)
    assert sizes == [5]
    sizes.clear()
    ShardedTransport(10, make=make)
    assert sizes == [5, 5]


def test_an_async_extractor_s_own_client_shards_its_pool(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    client = AsyncExtractor(api_key="k").sender.client
    assert isinstance(client._transport, ShardedTransport)
    assert sum(pool_size(shard) for shard in client._transport._shards) >= DEFAULT_CONNECTIONS


def test_a_proxy_in_the_environment_keeps_httpx_s_own_transport(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    client = AsyncExtractor(api_key="k").sender.client
    assert not isinstance(client._transport, ShardedTransport)
    assert any(transport is not None for transport in client._mounts.values())


def test_a_given_client_is_used_as_is() -> None:
    mine = httpx.AsyncClient()
    assert AsyncExtractor(api_key="k", http_client=mine).sender.client is mine


async def test_many_concurrent_calls_over_the_default_client() -> None:
    with FakeServer(latency=0.01) as server:
        async with AsyncExtractor(api_key="k", base_url=server.base_url) as ex:
            texts = [f"rec-{i} name: P{i}, age: {i}" for i in range(40)]
            people = await asyncio.gather(*(ex.extract(Person, text) for text in texts))
    assert [p.age for p in people] == list(range(40))


def pool_size(transport: httpx.AsyncBaseTransport) -> int:
    assert isinstance(transport, httpx.AsyncHTTPTransport)
    return transport._pool._max_connections
