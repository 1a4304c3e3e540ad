"""Connections for many concurrent calls: several small httpx pools instead of one large one.

httpcore's connection pool checks every pooled connection (a socket poll each) every time a
request is queued or finished, so its CPU cost per request grows with the pool's size; at 32
connections that bookkeeping, not the network, bounds a batch job's throughput (on a 2-CPU
machine, about 70 requests/s where the latency allows 640; see encode/httpcore#928). Spreading
the same number of connections over pools of at most ``SHARD_SIZE`` keeps each scan short:
the job still has ``concurrency`` connections, and each request goes to the pool with the
fewest requests in flight.

Batch jobs size it to their concurrency; an `AsyncExtractor` that creates its own client uses
it too (`default_async_client`), with as many connections as httpx's default pool allows, so
that a service making many calls at once gets the benefit without knowing about it.
"""

from __future__ import annotations

import ssl
import urllib.request
from collections.abc import AsyncIterator, Callable
from functools import partial

import httpx

__all__ = ["DEFAULT_CONNECTIONS", "SHARD_SIZE", "ShardedTransport", "default_async_client"]

SHARD_SIZE = 8
#: httpx's default ``max_connections``: the default client allows as many as before.
DEFAULT_CONNECTIONS = 100


def default_async_client(timeout: httpx.Timeout | float) -> httpx.AsyncClient:
    """The client of an `AsyncExtractor` given none: sharded pools, unless the environment
    names a proxy (httpx applies ``HTTPS_PROXY`` and friends only to a client whose transport
    it builds itself, so then it does)."""
    if urllib.request.getproxies():
        return httpx.AsyncClient(timeout=timeout)
    return httpx.AsyncClient(timeout=timeout, transport=ShardedTransport(DEFAULT_CONNECTIONS))


class ShardedTransport(httpx.AsyncBaseTransport):
    """``connections`` connections in pools of at most ``SHARD_SIZE``."""

    def __init__(
        self,
        connections: int,
        *,
        shard_size: int = SHARD_SIZE,
        make: Callable[[int], httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        count = max(1, -(-connections // shard_size))
        size = -(-connections // count)
        if make is None:
            # One TLS context for all pools: loading the CA bundle is the slow part of each.
            context = httpx.create_ssl_context()
            make = partial(_http_transport, context)
        self._shards = [make(size) for _ in range(count)]
        self._active = [0] * count

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = min(range(len(self._shards)), key=self._active.__getitem__)
        self._active[index] += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._active[index] -= 1

        try:
            response = await self._shards[index].handle_async_request(request)
        except BaseException:
            release()
            raise
        # The connection is busy until the body has been read and the response closed.
        response.stream = _Releasing(response.stream, release)
        return response

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()


def _http_transport(context: ssl.SSLContext, connections: int) -> httpx.AsyncBaseTransport:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncHTTPTransport(verify=context, limits=limits)


class _Releasing(httpx.AsyncByteStream):
    def __init__(
        self, stream: httpx.AsyncByteStream | httpx.SyncByteStream, release: Callable[[], None]
    ) -> None:
        self._stream = stream
        self._release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        assert isinstance(self._stream, httpx.AsyncByteStream)
        async for chunk in self._stream:
            yield chunk
        self._release()  # read to the end: the connection is free again

    async def aclose(self) -> None:
        try:
            if isinstance(self._stream, httpx.AsyncByteStream):
                await self._stream.aclose()
        finally:
            self._release()
