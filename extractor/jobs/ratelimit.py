"""Client-side requests-per-minute and tokens-per-minute limits for a batch job.

One `RateLimiter` is shared by every task of a job and consulted before each HTTP request,
re-asks and transport retries included, since the provider counts those too. It spaces
requests evenly (GCRA: each request reserves the next slot), so the job never bursts a
minute's worth of requests at once and then idles. A 429 pauses everyone until the server's
retry-after has passed: one task being told to slow down means they all are.

Time is injected (``clock``, ``sleep``) so tests run without waiting.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import httpx

from ..core.tokens import request_tokens
from ..wire.api_errors import retry_after
from ..wire.decode import read_usage

__all__ = ["LimitedTransport", "Limiter", "RateLimiter"]

# How far ahead of its even spacing a request may go: a short burst smooths the start.
_BURST_SECONDS = 1.0


class _Schedule:
    """Virtual scheduling of one limit: ``tat`` is when the next unit is due."""

    def __init__(self, per_minute: float) -> None:
        if per_minute <= 0:
            raise ValueError("a per-minute limit must be positive")
        self.interval = 60.0 / per_minute  # seconds per unit
        self.tat = 0.0

    def reserve(self, now: float, units: float) -> float:
        """Reserve ``units`` and return when the caller may start."""
        start = max(self.tat - _BURST_SECONDS, now)
        self.tat = max(self.tat, now) + units * self.interval
        return start

    def adjust(self, units: float) -> None:
        """Correct an earlier reservation by ``units`` (negative gives time back)."""
        self.tat += units * self.interval


class RateLimiter:
    """``await limiter.acquire(tokens)`` before each request; ``limiter.pause(seconds)``
    after a 429; ``limiter.adjust(actual - estimated)`` once the usage is known."""

    def __init__(
        self,
        rpm: float | None = None,
        tpm: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._requests = _Schedule(rpm) if rpm else None
        self._tokens = _Schedule(tpm) if tpm else None
        self._clock = clock
        self._sleep = sleep
        self._paused_until = 0.0
        self.pauses = 0

    @property
    def limits_tokens(self) -> bool:
        return self._tokens is not None

    async def acquire(self, tokens: int = 0) -> None:
        """Wait until one more request of about ``tokens`` tokens may start."""
        now = self._clock()
        start = now
        if self._requests is not None:
            start = max(start, self._requests.reserve(now, 1))
        if self._tokens is not None:
            start = max(start, self._tokens.reserve(now, tokens))
        while True:
            start = max(start, self._paused_until)
            delay = start - self._clock()
            if delay <= 0:
                return
            await self._sleep(delay)

    def pause(self, seconds: float) -> None:
        """Nobody starts a request for ``seconds`` (the server said so with a 429)."""
        until = self._clock() + max(0.0, seconds)
        if until > self._paused_until:
            self._paused_until = until
            self.pauses += 1

    def adjust(self, tokens: int) -> None:
        """Correct the token reservation of a request whose real usage is now known."""
        if self._tokens is not None and tokens:
            self._tokens.adjust(tokens)


class Limiter(Protocol):
    """What `LimitedTransport` asks: a `RateLimiter` in this process, or the Ray engine's
    handle on the cluster's coordinator (`extractor.jobs.ray_limits.ClusterLimiter`)."""

    @property
    def limits_tokens(self) -> bool: ...
    async def acquire(self, tokens: int = 0) -> None: ...
    def pause(self, seconds: float) -> None: ...
    def adjust(self, tokens: int) -> None: ...


class LimitedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that asks the limiter before every request it sends and tells it
    about every 429, so the limits hold whichever task, re-ask or retry sends the request."""

    def __init__(self, inner: httpx.AsyncBaseTransport, limiter: Limiter) -> None:
        self._inner = inner
        self._limiter = limiter

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        estimate = 0
        if self._limiter.limits_tokens:
            estimate = request_tokens(request.content)
        await self._limiter.acquire(estimate)
        response = await self._inner.handle_async_request(request)
        if response.status_code == 429:
            delay = retry_after(response.headers, time.time())
            self._limiter.pause(_DEFAULT_429_PAUSE if delay is None else delay)
        elif estimate and response.status_code == 200:
            body = await response.aread()
            self._limiter.adjust(_billed_tokens(body) - estimate)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


# When a 429 names no delay, everyone waits this long before trying again.
_DEFAULT_429_PAUSE = 1.0


def _billed_tokens(body: bytes) -> int:
    try:
        return read_usage(json.loads(body).get("usage")).total_tokens
    except (ValueError, AttributeError, TypeError):
        return 0
