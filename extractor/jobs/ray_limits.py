"""Limits for a whole Ray cluster: one coordinating actor that every worker leases from.

Ray's own LLM processor applies its ``qps`` per actor and per batch, so ten workers send ten
times the rate, and a 429 slows only the worker that got it. A provider's limits are per
account, so here they live in one place: a `Coordinator` actor holds the job's requests- and
tokens-per-minute schedule (the local engine's `RateLimiter`, unchanged), the pause a 429
imposes, and the budget.

- Before each record a worker asks the coordinator to ``admit`` it, handing over what its
  records spent since it last asked. Once the run has spent its budget, the driver stopped the
  job (Ctrl-C), or a worker reported an error no record can get past (``abort``), nothing new
  is admitted: the budget is exceeded by at most what was in flight, as with the local engine,
  but counted over the whole cluster.
- With ``rpm`` or ``tpm``, before each HTTP request (re-asks and transport retries included) a
  worker leases a slot: ``acquire(tokens)`` returns when the request may start. The wait
  happens in the actor, on the actor's clock, so it holds across machines whose clocks
  disagree, and a pause that begins while a worker waits applies to it.
- A 429 seen by any worker pauses every worker for the server's retry-after: the coordinator
  holds the pause for every lease, and each admission tells the worker how long the pause has
  left. Without ``rpm``/``tpm`` a request needs no lease, so a worker learns of another's 429 at
  its next admission (one per record started, so within moments) rather than at each request:
  one round trip per record instead of three.

Workers reach the actor through `ClusterLimits`, a small picklable handle that Ray Data hands to
each worker; a worker makes its own `WorkerLimits` from it, whose ``limiter`` has the
`RateLimiter` interface, so the local engine's `LimitedTransport` enforces the cluster's limits
without knowing it.
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

__all__ = [
    "ClusterLimiter",
    "ClusterLimits",
    "Coordinator",
    "CoordinatorStatus",
    "WorkerLimits",
]

# Every request in the cluster may be waiting in `acquire` at once; the other calls (admit,
# pause, status) must never queue behind them, so the actor takes far more concurrent calls
# than Ray's default of 1000. A waiting call is a suspended coroutine: cheap.
_MAX_CALLS = 100_000


@dataclass(frozen=True)
class CoordinatorStatus:
    """What the whole cluster has spent and whether new records are still admitted."""

    spent: Decimal = Decimal(0)
    usage: Usage = field(default_factory=Usage)
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

    def admit(self, usage: Usage, cost: Decimal | None) -> float | None:
        """Settle what a worker spent since it last asked (``usage``, ``cost``), then: may it
        start a new record? None if not (the budget is spent or the job stopped); otherwise
        the seconds left of the current pause (0 when there is none)."""
        self.settle(usage, cost)
        if self._stopped is None and self._budget is not None and self._spent >= self._budget:
            self._stopped = "budget"
        if self._stopped is not None:
            return None
        self._admitted += 1
        return self._limiter.paused_for()

    def settle(self, usage: Usage, cost: Decimal | None) -> None:
        """Records finished (or failed) having spent ``usage`` and ``cost``."""
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
            admitted=self._admitted,
            pauses=self._limiter.pauses,
            stopped=self._stopped,
            error=self._error,
        )


class ClusterLimiter:
    """A `RateLimiter` look-alike for one worker: `LimitedTransport` calls it before every
    request and after every 429. With a rate to keep, each request leases from the
    coordinator; without, it only waits out the pause the worker last heard of."""

    def __init__(
        self,
        actor: ActorHandle[Any],
        *,
        rated: bool,
        limits_tokens: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._actor = actor
        self._rated = rated
        self._limits_tokens = limits_tokens
        self._clock = clock
        self._resume_at = 0.0

    @property
    def limits_tokens(self) -> bool:
        return self._limits_tokens

    async def acquire(self, tokens: int = 0) -> None:
        if self._rated:
            await self._actor.acquire.remote(tokens)
            return
        while (delay := self._resume_at - self._clock()) > 0:
            await asyncio.sleep(delay)

    def pause(self, seconds: float) -> None:
        self.paused(seconds)
        # Not awaited: the transport calls this synchronously; other workers hear of the pause
        # at their next lease or admission.
        self._actor.pause.remote(seconds)

    def paused(self, seconds: float) -> None:
        """No request from this worker for ``seconds`` (a pause the coordinator holds)."""
        self._resume_at = max(self._resume_at, self._clock() + seconds)

    def adjust(self, tokens: int) -> None:
        if self._limits_tokens and tokens:
            self._actor.adjust.remote(tokens)


class WorkerLimits:
    """A worker's side of the cluster's limits: admission per record, with what the worker's
    finished records spent reported along with it, and the limiter for its transport."""

    def __init__(self, limits: ClusterLimits) -> None:
        self._limits = limits
        self.limiter = ClusterLimiter(
            limits.actor, rated=limits.rated, limits_tokens=limits.limits_tokens
        )
        self._usage = Usage()
        self._cost: Decimal | None = None
        self._stopped = False

    async def admit(self) -> bool:
        """May a new record start? Once refused, never again: a job does not restart."""
        if self._stopped:
            await self.flush()
            return False
        usage, cost = self._take()
        pause: float | None = await self._limits.actor.admit.remote(usage, cost)
        if pause is None:
            self._stopped = True
            return False
        if pause > 0:
            self.limiter.paused(pause)
        return True

    def spent(self, usage: Usage, cost: Decimal | None) -> None:
        """A record finished: what it cost is reported with the next admission or flush."""
        self._usage += usage
        if cost is not None:
            self._cost = (self._cost or Decimal(0)) + cost

    async def flush(self) -> None:
        """Report what is still unreported, when no admission is about to carry it."""
        usage, cost = self._take()
        if usage != Usage() or cost is not None:
            await self._limits.actor.settle.remote(usage, cost)

    async def abort(self, error: ExtractionError) -> None:
        self._stopped = True
        await self._limits.actor.abort.remote(error)

    def _take(self) -> tuple[Usage, Decimal | None]:
        taken = self._usage, self._cost
        self._usage, self._cost = Usage(), None
        return taken


@dataclass(frozen=True)
class ClusterLimits:
    """A handle on a job's coordinator, for the driver and for every worker (it pickles with
    its actor handle, so Ray Data can pass it to each worker's constructor)."""

    actor: ActorHandle[Any]
    rated: bool = False  # rpm or tpm: every request leases
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
        return cls(cast("ActorHandle[Any]", actor), rated=bool(rpm or tpm), limits_tokens=bool(tpm))

    def for_worker(self) -> WorkerLimits:
        return WorkerLimits(self)

    def stop(self, reason: str) -> None:
        """From the driver: admit no new record; returns once the coordinator knows."""
        ray.get(self.actor.stop.remote(reason))

    def status(self) -> CoordinatorStatus:
        """The cluster's totals, from the driver (blocking)."""
        status: CoordinatorStatus = ray.get(self.actor.status.remote())
        return status
