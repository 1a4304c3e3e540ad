"""Limits for a whole Ray cluster: one coordinating actor that every worker leases from.

Ray's own LLM processor applies its ``qps`` per actor and per batch, so ten workers send ten
times the rate, and a 429 slows only the worker that got it. A provider's limits are per
account, so here they live in one place: a `Coordinator` actor holds the job's requests- and
tokens-per-minute schedule (the local engine's `RateLimiter`, unchanged), the pause a 429
imposes, and the budget.

- Before each HTTP request (re-asks and transport retries included) a worker leases a slot:
  ``await coordinator.acquire(tokens)`` returns when the request may start. The wait happens
  in the actor, on the actor's clock, so it holds across machines whose clocks disagree, and a
  pause that begins while a worker is waiting still applies to it.
- A 429 seen by any worker pauses every worker for the server's retry-after.
- Before each record a worker asks ``admit()``; after it, it reports what the record cost with
  ``settle()``. Once the run has spent its budget, the driver stopped the job (Ctrl-C), or a
  worker reported an error no record can get past (``abort()``), nothing new is admitted: the
  budget is exceeded by at most what was in flight, as with the local engine, but counted
  over the whole cluster.

Workers reach the actor through `ClusterLimits`, a small picklable handle that Ray Data hands to
each worker; its `limiter()` has the `RateLimiter` interface, so the local engine's
`LimitedTransport` enforces the cluster's limits without knowing it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

import ray
from ray.actor import ActorHandle
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from ..core.cost import Usage
from ..errors import ExtractionError
from .ratelimit import RateLimiter

__all__ = ["ClusterLimiter", "ClusterLimits", "Coordinator", "CoordinatorStatus"]

# Every request in the cluster may be waiting in `acquire` at once; the other calls (pause,
# settle, status) must never queue behind them, so the actor takes far more concurrent calls
# than Ray's default of 1000. A waiting call is a suspended coroutine: cheap.
_MAX_CALLS = 100_000


@dataclass(frozen=True)
class CoordinatorStatus:
    """What the whole cluster has spent and whether new records are still admitted."""

    spent: Decimal = Decimal(0)
    usage: Usage = field(default_factory=Usage)
    records: int = 0  # records settled
    admitted: int = 0
    pauses: int = 0  # 429s that extended the pause
    stopped: str | None = None  # "budget", "aborted", or the reason the driver gave to `stop`
    error: ExtractionError | None = None  # what aborted the job


class Coordinator:
    """The limits of one job. Run as a Ray actor (`ClusterLimits.start`); a plain class so
    that its rules are the same code whether it runs in an actor or not, and so tests can give
    it a clock."""

    def __init__(
        self,
        rpm: float | None = None,
        tpm: float | None = None,
        budget: Decimal | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._limiter = RateLimiter(rpm, tpm, clock=clock, sleep=sleep)
        self._budget = budget
        self._spent = Decimal(0)
        self._usage = Usage()
        self._records = 0
        self._admitted = 0
        self._stopped: str | None = None
        self._error: ExtractionError | None = None

    async def acquire(self, tokens: int = 0) -> None:
        """Return when one more request of about ``tokens`` tokens may start."""
        await self._limiter.acquire(tokens)

    def pause(self, seconds: float) -> None:
        """A worker got a 429: nobody starts a request for ``seconds``."""
        self._limiter.pause(seconds)

    def adjust(self, tokens: int) -> None:
        """A request's real usage is known: correct its token reservation by ``tokens``."""
        self._limiter.adjust(tokens)

    def admit(self) -> bool:
        """May a new record start? No once the budget is spent or the job was stopped."""
        if self._stopped is None and self._budget is not None and self._spent >= self._budget:
            self._stopped = "budget"
        if self._stopped is not None:
            return False
        self._admitted += 1
        return True

    def settle(self, usage: Usage, cost: Decimal | None) -> None:
        """A record finished (or failed) having spent ``usage`` and ``cost``."""
        self._records += 1
        self._usage += usage
        if cost is not None:
            self._spent += cost

    def stop(self, reason: str) -> None:
        """Admit no new record from now on (the first reason given is kept)."""
        if self._stopped is None:
            self._stopped = reason

    def abort(self, error: ExtractionError) -> None:
        """A worker hit an error every record would hit (bad key, no quota): stop the job."""
        if self._error is None:
            self._error = error
        self.stop("aborted")

    def status(self) -> CoordinatorStatus:
        return CoordinatorStatus(
            spent=self._spent,
            usage=self._usage,
            records=self._records,
            admitted=self._admitted,
            pauses=self._limiter.pauses,
            stopped=self._stopped,
            error=self._error,
        )


class ClusterLimiter:
    """A `RateLimiter` look-alike whose schedule is the coordinator's: `LimitedTransport`
    calls it before every request and after every 429, in whichever worker it runs."""

    def __init__(self, actor: ActorHandle[Any], *, limits_tokens: bool) -> None:
        self._actor = actor
        self._limits_tokens = limits_tokens

    @property
    def limits_tokens(self) -> bool:
        return self._limits_tokens

    async def acquire(self, tokens: int = 0) -> None:
        await self._actor.acquire.remote(tokens)

    def pause(self, seconds: float) -> None:
        # Not awaited: the transport calls this synchronously, and the pause only has to reach
        # the actor before the next lease, which travels the same way.
        self._actor.pause.remote(seconds)

    def adjust(self, tokens: int) -> None:
        if self._limits_tokens and tokens:
            self._actor.adjust.remote(tokens)


@dataclass(frozen=True)
class ClusterLimits:
    """A handle on a job's coordinator, for the driver and for every worker (it pickles with
    its actor handle, so Ray Data can pass it to each worker's constructor)."""

    actor: ActorHandle[Any]
    limits_tokens: bool = False

    @classmethod
    def start(
        cls,
        rpm: float | None = None,
        tpm: float | None = None,
        budget: Decimal | None = None,
        *,
        coordinator: type[Coordinator] = Coordinator,
    ) -> ClusterLimits:
        """Start the coordinator on the driver's node (Ray must be initialised). It takes no
        CPU, so it never keeps a worker from being scheduled, and it dies with the driver:
        a killed job leaves nothing running behind it."""
        node = ray.get_runtime_context().get_node_id()
        actor_class = ray.remote(coordinator)
        actor = actor_class.options(
            num_cpus=0,
            max_concurrency=_MAX_CALLS,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=True),
        ).remote(rpm, tpm, budget)
        return cls(cast("ActorHandle[Any]", actor), limits_tokens=bool(tpm))

    def limiter(self) -> ClusterLimiter:
        return ClusterLimiter(self.actor, limits_tokens=self.limits_tokens)

    async def admit(self) -> bool:
        admitted: bool = await self.actor.admit.remote()
        return admitted

    async def settle(self, usage: Usage, cost: Decimal | None) -> None:
        await self.actor.settle.remote(usage, cost)

    def stop(self, reason: str) -> None:
        """From the driver: admit no new record; returns once the coordinator knows."""
        ray.get(self.actor.stop.remote(reason))

    async def abort(self, error: ExtractionError) -> None:
        await self.actor.abort.remote(error)

    def status(self) -> CoordinatorStatus:
        """The cluster's totals, from the driver (blocking)."""
        status: CoordinatorStatus = ray.get(self.actor.status.remote())
        return status
