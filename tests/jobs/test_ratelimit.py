"""The client-side rate limiter, on an injected clock: no test waits for real."""

from __future__ import annotations

import asyncio
import itertools

import httpx

from extractor.jobs.ratelimit import LimitedTransport, RateLimiter


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def starts(limiter: RateLimiter, time: FakeTime, tokens: list[int]) -> list[float]:
    """When each of a series of requests may start (sequentially, as one task)."""
    result = []
    for count in tokens:
        await limiter.acquire(count)
        result.append(time.now)
    return result


async def test_requests_per_minute_are_spaced_evenly_after_a_short_burst() -> None:
    time = FakeTime()
    limiter = RateLimiter(rpm=120, clock=time.clock, sleep=time.sleep)  # one per 0.5 s
    times = await starts(limiter, time, [0] * 8)
    assert times[:3] == [0.0, 0.0, 0.0]  # a one-second burst
    gaps = [b - a for a, b in itertools.pairwise(times[2:])]
    assert all(abs(gap - 0.5) < 1e-9 for gap in gaps)
    # 8 requests at 120/min: no minute-long window holds more than 120 + the burst.
    assert times[-1] >= (8 - 3) * 0.5


async def test_tokens_per_minute_limit_by_size() -> None:
    time = FakeTime()
    limiter = RateLimiter(tpm=6000, clock=time.clock, sleep=time.sleep)  # 100 tokens/s
    times = await starts(limiter, time, [100, 100, 1000, 100])
    # 100 + 100 fit the burst; the 1000-token request then waits its turn, and the next one
    # waits for the 1000 tokens to be paid off.
    assert times[0] == 0.0
    assert times[3] - times[2] >= 9.0


async def test_adjust_gives_back_overestimated_tokens() -> None:
    time = FakeTime()
    limiter = RateLimiter(tpm=6000, clock=time.clock, sleep=time.sleep)
    await limiter.acquire(1000)
    limiter.adjust(-900)  # it really used 100
    await limiter.acquire(100)
    assert time.now <= 1.0


async def test_concurrent_waiters_each_get_their_own_slot() -> None:
    time = FakeTime()
    limiter = RateLimiter(rpm=60, clock=time.clock, sleep=time.sleep)
    finished: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        finished.append(time.now)

    await asyncio.gather(*(one() for _ in range(6)))
    assert len(finished) == 6
    assert max(finished) >= 4.0  # 6 requests at one per second, after a burst of 2


async def test_pause_after_429_holds_everyone() -> None:
    time = FakeTime()
    limiter = RateLimiter(clock=time.clock, sleep=time.sleep)  # no limits: only pauses
    await limiter.acquire()
    assert time.now == 0.0
    limiter.pause(2.5)
    await limiter.acquire()
    assert time.now == 2.5
    assert limiter.pauses == 1


async def test_transport_pauses_on_429_and_counts_real_usage() -> None:
    time = FakeTime()
    limiter = RateLimiter(tpm=60_000, clock=time.clock, sleep=time.sleep)
    responses = iter(
        [
            httpx.Response(429, headers={"retry-after-ms": "1500"}, json={"error": {}}),
            httpx.Response(200, json={"usage": {"prompt_tokens": 10, "completion_tokens": 5}}),
        ]
    )
    seen: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(time.now)
        return next(responses)

    transport = LimitedTransport(httpx.MockTransport(handler), limiter)
    async with httpx.AsyncClient(transport=transport) as client:
        first = await client.post("http://x/v1/chat/completions", content=b"{}" * 400)
        assert first.status_code == 429
        second = await client.post("http://x/v1/chat/completions", content=b"{}" * 400)
        assert second.json()["usage"]["prompt_tokens"] == 10  # the body is still readable
    assert seen[1] - seen[0] >= 1.5


async def test_transport_leaves_a_body_declared_too_large_unread() -> None:
    """Counting a 200 MB answer's tokens would hold it whole; the sender refuses it unread."""
    time = FakeTime()
    limiter = RateLimiter(tpm=60_000, clock=time.clock, sleep=time.sleep)
    pulled: list[int] = []

    class Huge(httpx.AsyncByteStream):
        async def __aiter__(self):  # type: ignore[no-untyped-def]
            for _ in range(200):
                pulled.append(1)
                yield b"a" * 2**20

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Huge(), headers={"content-length": str(200 * 2**20)})

    transport = LimitedTransport(httpx.MockTransport(handler), limiter)
    async with httpx.AsyncClient(transport=transport) as client:
        request = client.build_request("POST", "http://x/v1/chat/completions", content=b"{}")
        response = await client.send(request, stream=True)
        await response.aclose()
    assert pulled == []
