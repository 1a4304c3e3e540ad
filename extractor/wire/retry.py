"""Transport retries: when to send the same request again, and how long to wait first.

These never touch the conversation (that is the engine's re-ask); they repeat one HTTP request
that got no usable answer. tenacity runs them; the policy is ours and shared by the sync and
async drivers, which differ only in how they sleep.

Most requests succeed at the first attempt, and tenacity's bookkeeping costs more than the
rest of a mocked call's own work, so the senders make the first attempt bare and hand a call
to tenacity only once it has failed in a retryable way (`replaying`): tenacity then counts the
failure as its first attempt, so waits, logs and the retry budget are the same either way.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import APIConnectionError, APIError

if TYPE_CHECKING:  # tenacity itself loads with the first retry
    from tenacity import AsyncRetrying, RetryCallState, Retrying
    from tenacity.wait import wait_base

__all__ = ["RetryPolicy", "areplaying", "is_retryable", "replaying"]

logger = logging.getLogger("extractor")

_RETRYABLE_STATUS = frozenset({408, 409, 429})

R = TypeVar("R")


def is_retryable(exc: BaseException) -> bool:
    """Connection errors, timeouts, 408, 409, 429 and 5xx; the server's ``x-should-retry``
    overrides. A 429 for an exhausted quota is final: waiting does not add credit."""
    if isinstance(exc, APIConnectionError):
        return True
    if not isinstance(exc, APIError) or exc.status_code is None:
        return False
    if exc.should_retry is not None:
        return exc.should_retry
    if exc.code == "insufficient_quota":
        return False
    return exc.status_code in _RETRYABLE_STATUS or exc.status_code >= 500


class RetryPolicy:
    """How many times to retry and how long to wait: the server's ``retry-after`` when it
    gave one (capped at ``max_retry_after``), otherwise exponential backoff with full jitter."""

    def __init__(
        self,
        *,
        max_transport_retries: int = 2,
        max_retry_after: float = 60.0,
        initial: float = 0.5,
        max_backoff: float = 8.0,
    ) -> None:
        self.max_transport_retries = max_transport_retries
        self.max_retry_after = max_retry_after
        self._initial = initial
        self._max_backoff = max_backoff

    @cached_property
    def _backoff(self) -> wait_base:
        from tenacity import wait_random_exponential

        return wait_random_exponential(multiplier=self._initial, max=self._max_backoff)

    def wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, APIError) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_retry_after)
        return float(self._backoff(state))

    def _options(self) -> dict[str, Any]:
        from tenacity import retry_if_exception, stop_after_attempt

        return {
            "stop": stop_after_attempt(self.max_transport_retries + 1),
            "wait": self.wait,
            "retry": retry_if_exception(is_retryable),
            "before_sleep": _log_retry,
            "reraise": True,
        }

    def retrying(self, sleep: Callable[[float], None]) -> Retrying:
        from tenacity import Retrying

        return Retrying(sleep=sleep, **self._options())

    def async_retrying(self, sleep: Callable[[float], Awaitable[None]]) -> AsyncRetrying:
        from tenacity import AsyncRetrying

        return AsyncRetrying(sleep=sleep, **self._options())


def replaying(failure: BaseException, attempt: Callable[..., R]) -> Callable[..., R]:
    """``attempt``, except that its first call raises ``failure`` (the first attempt, already
    made) instead of running: how a call that failed outside tenacity is handed to it."""
    first = _raise_once(failure)

    def replay(*args: Any) -> R:
        first()
        return attempt(*args)

    return replay


def areplaying(
    failure: BaseException, attempt: Callable[..., Awaitable[R]]
) -> Callable[..., Awaitable[R]]:
    """`replaying` for a coroutine function (tenacity awaits only coroutine functions)."""
    first = _raise_once(failure)

    async def replay(*args: Any) -> R:
        first()
        return await attempt(*args)

    return replay


def _raise_once(failure: BaseException) -> Callable[[], None]:
    pending = [failure]

    def first() -> None:
        if pending:
            raise pending.pop()

    return first


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    delay = state.next_action.sleep if state.next_action else 0.0
    logger.info("retrying in %.2fs after attempt %d: %s", delay, state.attempt_number, exc)
