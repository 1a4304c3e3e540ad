"""The coordinating actor holds one set of limits for every worker of a cluster: each worker
here is a separate Ray actor process leasing from it. The coordinator runs on a fake clock whose
sleeps advance it, so nothing waits for real."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import pytest
import ray

from extractor.core.cost import Usage
from extractor.jobs.ratelimit import LimitedTransport
from extractor.jobs.ray_limits import ClusterLimits, Coordinator
from tests.jobs.test_ratelimit import FakeTime

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("ray_cluster")]


class RecordingCoordinator(Coordinator):
    """A coordinator on a fake clock that remembers when it granted each lease."""

    def __init__(self, rpm: float | None, tpm: float | None, budget: Decimal | None) -> None:
        self.time = FakeTime()
        super().__init__(rpm, tpm, budget, clock=self.time.clock, sleep=self.time.sleep)
        self.starts: list[float] = []

    async def acquire(self, tokens: int = 0) -> None:
        await super().acquire(tokens)
        self.starts.append(self.time.now)

    def granted(self) -> list[float]:
        return self.starts


@ray.remote(num_cpus=0)
class Worker:
    """One worker process, doing what the Ray engine's workers do with the limits."""

    async def lease(self, limits: ClusterLimits, count: int) -> None:
        limiter = limits.limiter()
        await asyncio.gather(*(limiter.acquire() for _ in range(count)))

    async def post_and_get_429(self, limits: ClusterLimits) -> int:
        def rate_limited(request: httpx.Request) -> httpx.Response:
            return httpx.Response(429, headers={"retry-after-ms": "30000"}, json={"error": {}})

        transport = LimitedTransport(httpx.MockTransport(rate_limited), limits.limiter())
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.post("http://model.test/v1/chat/completions", json={})
        return response.status_code

    async def spend(self, limits: ClusterLimits, cost: str) -> int:
        """Do records until the coordinator admits no more; how many were done."""
        done = 0
        while await limits.admit():
            await limits.settle(Usage(100, 10), Decimal(cost))
            done += 1
        return done


@pytest.fixture(scope="module")
def workers() -> list[ray.actor.ActorHandle]:
    return [Worker.remote() for _ in range(2)]


def test_requests_per_minute_hold_for_all_workers_together(workers: list) -> None:
    limits = ClusterLimits.start(rpm=60, coordinator=RecordingCoordinator)  # one per second
    ray.get([worker.lease.remote(limits, 5) for worker in workers])
    starts = sorted(ray.get(limits.actor.granted.remote()))
    assert len(starts) == 10
    # One schedule for both: the k-th lease no earlier than k seconds, less the 1-second burst.
    # (Two workers with a limiter each would both start 5 requests within 4 seconds.)
    assert all(start >= k - 1 for k, start in enumerate(starts)), starts


def test_a_429_in_one_worker_pauses_the_others(workers: list) -> None:
    limits = ClusterLimits.start(coordinator=RecordingCoordinator)  # no rate: only pauses
    first, second = workers
    assert ray.get(first.post_and_get_429.remote(limits)) == 429
    for _ in range(100):  # the pause travels to the actor on its own: wait until it arrived
        if limits.status().pauses:
            break
        ray.get(first.lease.remote(limits, 0))
    assert limits.status().pauses == 1
    ray.get(second.lease.remote(limits, 1))
    before, after = ray.get(limits.actor.granted.remote())
    assert before == 0.0  # the first worker's request went at once
    assert after >= 30.0  # the second worker waited out the first one's retry-after


def test_the_budget_is_spent_once_for_the_whole_cluster(workers: list) -> None:
    limits = ClusterLimits.start(budget=Decimal("1.00"))
    done = sum(ray.get([worker.spend.remote(limits, "0.30") for worker in workers]))
    # Records start while less than 1.00 is spent: after 3 records (0.90) a 4th is admitted;
    # the other worker may have one more in flight at that moment, and nothing after it.
    assert 4 <= done <= 5
    status = limits.status()
    assert status.stopped == "budget"
    assert status.records == status.admitted == done
    assert status.spent == Decimal("0.30") * done
    assert status.usage == Usage(100 * done, 10 * done)

    stopped = ClusterLimits.start()
    stopped.stop("interrupted")  # Ctrl-C at the driver: no worker starts another record
    assert ray.get([worker.spend.remote(stopped, "0.30") for worker in workers]) == [0, 0]
    assert stopped.status().stopped == "interrupted"
