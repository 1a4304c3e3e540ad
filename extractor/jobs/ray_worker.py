"""The Ray Data worker: a callable class for ``map_batches`` that runs a batch's records
concurrently through one `AsyncExtractor`, with the cluster's limits and (optionally) its cache.

Ray Data starts a pool of these actors and hands each one batches; an async ``__call__`` lets
Ray run several batches on the same actor at once, and a semaphore keeps the actor's requests
in flight at its share of the job's ``concurrency`` whatever the batches. Every record goes
through the same `RecordProcessor` as in the local engine, so a row ends as exactly what the
local engine would write: a validated value, or an error with its type and message, and in
both cases the attempts, tokens and cost it took. A record never fails its batch.

Before a record starts, the worker asks the coordinator (`ray_limits`) whether it may: once the
budget is spent or the driver stopped the job, the rest of the batch comes back as not started
(``started`` false, error type ``NotStarted``), unpaid, for a rerun to do. An error that every
record would hit (a bad key, no quota, an unknown model) stops the whole job the same way and is
handed to the coordinator for the driver to report.

With a cache, answers go to one actor (`RemoteCache`) holding the sqlite file on the driver's
machine: the answer is committed there before the row leaves the worker, so when a worker dies
mid-batch and Ray Data runs the batch again elsewhere, the records already answered come from
the cache, free.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import ray
from ray.actor import ActorHandle
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from ..client import AsyncExtractor, ExtractorOptions
from ..core.cost import Usage
from ..core.options import CallOptions
from ..core.target import Target
from ..errors import JobAborted
from ..wire.pool import ShardedTransport
from ..wire.secret import Secret
from .cache import Cache
from .inputs import Record
from .ratelimit import LimitedTransport
from .ray_limits import ClusterLimits
from .records import RecordOutcome, RecordProcessor, error_line

__all__ = [
    "NOT_STARTED",
    "RESULT_COLUMNS",
    "ExtractWorker",
    "RemoteCache",
    "WorkerSpec",
    "outcome_from_row",
]

NOT_STARTED = "NotStarted"

# The columns a worker adds to each row, besides the id.
RESULT_COLUMNS = (
    "ok",
    "started",
    "data",
    "error_type",
    "error_message",
    "raw",
    "attempts",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "cost",
    "cached",
)


class _CacheStore:
    """The sqlite cache, inside an actor on the driver's machine (the file is there)."""

    def __init__(self, path: str) -> None:
        self._cache = Cache(path)

    def get(self, key: str) -> Any | None:
        return self._cache.get(key)

    def put(self, key: str, value: Any) -> None:
        self._cache.put(key, value)

    def close(self) -> None:
        self._cache.close()


@dataclass(frozen=True)
class RemoteCache:
    """A `Cache` look-alike for `RecordProcessor` in a worker, backed by the cache actor.

    Calls block the worker's event loop for one round trip, as the local cache blocks it for
    one sqlite statement; ``put`` must block, since the answer has to be committed before the
    row that depends on it leaves the worker."""

    actor: ActorHandle[Any]

    @classmethod
    def start(cls, path: str | Path) -> RemoteCache:
        node = ray.get_runtime_context().get_node_id()
        actor = (
            ray.remote(_CacheStore)
            .options(
                num_cpus=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False),
            )
            .remote(str(Path(path).resolve()))
        )
        handle: ActorHandle[Any] = actor  # type: ignore[assignment]
        cache = cls(handle)
        ray.get(handle.get.remote(""))  # the file opens now: a bad path fails before any work
        return cache

    def get(self, key: str) -> Any | None:
        return ray.get(self.actor.get.remote(key))

    def put(self, key: str, value: Any) -> None:
        ray.get(self.actor.put.remote(key, value))

    def close(self) -> None:
        ray.get(self.actor.close.remote())


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs, pickled to each worker by Ray Data.

    ``target`` is what the user passed (a type, or a JSON Schema dict); the key travels as a
    `Secret`, so no repr or log line shows it."""

    target: Any
    limits: ClusterLimits
    concurrency: int  # requests in flight per worker
    model: str | None = None
    base_url: str | None = None
    api_key: Secret | None = None
    extractor_options: ExtractorOptions = field(default_factory=lambda: ExtractorOptions())
    options: CallOptions = field(default_factory=lambda: CallOptions())
    cache: RemoteCache | None = None
    id_column: str = "id"
    text_column: str = "text"


class ExtractWorker:
    """``ds.map_batches(ExtractWorker, fn_constructor_kwargs={"spec": spec}, ...)``."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.limits = spec.limits.for_worker()
        limited = LimitedTransport(ShardedTransport(spec.concurrency), self.limits.limiter)
        client = httpx.AsyncClient(transport=limited, timeout=httpx.Timeout(300, connect=10))
        extractor = AsyncExtractor(
            model=spec.model,
            api_key=spec.api_key.value if spec.api_key else None,
            base_url=spec.base_url,
            http_client=client,
            **spec.extractor_options,
        )
        cache: Any = spec.cache  # a RemoteCache stands in for the local Cache
        self.processor = RecordProcessor(
            extractor, Target.of(spec.target), spec.options, cache=cache
        )
        self._slots: asyncio.Semaphore | None = None
        self._waiting = 0  # records waiting for a slot

    async def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        if self._slots is None:  # created here, in the event loop Ray runs batches in
            self._slots = asyncio.Semaphore(self.spec.concurrency)
        ids = _column(batch, self.spec.id_column)
        texts = _column(batch, self.spec.text_column)
        rows = await asyncio.gather(
            *(self._one(record_id, text) for record_id, text in zip(ids, texts, strict=True))
        )
        columns: dict[str, list[Any]] = {self.spec.id_column: ids}
        for name in RESULT_COLUMNS:
            columns[name] = [row[name] for row in rows]
        return columns

    async def _one(self, record_id: Any, text: Any) -> dict[str, Any]:
        assert self._slots is not None
        self._waiting += 1
        async with self._slots:
            self._waiting -= 1
            if not await self.limits.admit():
                return _not_started()
            try:
                outcome = await self.processor.process(_record(record_id, text))
            except JobAborted as aborted:
                await self.limits.abort(aborted.error)
                return _not_started()
            self.limits.spent(outcome.usage, outcome.cost)
            if not self._waiting:
                # No record is about to be admitted and carry this spend along: report it now,
                # so the budget never waits for it.
                await self.limits.flush()
            return _row(outcome)


def _column(batch: dict[str, Any], name: str) -> list[Any]:
    values = batch[name]
    return list(values.tolist() if hasattr(values, "tolist") else values)


def _record(record_id: Any, text: Any) -> Record:
    if isinstance(text, str) and text.strip():
        return Record(0, record_id, text=text)
    return Record(0, record_id, problem=f"no text: the text column holds {text!r}")


def _not_started() -> dict[str, Any]:
    """The row of a record the job stopped before (budget spent, Ctrl-C, or aborted): unpaid,
    and left for a rerun."""
    row = _row(RecordOutcome(False, {}, error_type=NOT_STARTED, cost=None))
    row.update(
        started=False,
        error_type=NOT_STARTED,
        error_message="not started: the job stopped (budget spent, interrupted, or aborted)",
    )
    return row


def _row(outcome: RecordOutcome) -> dict[str, Any]:
    """A record's outcome as result columns. The value travels as JSON text: Arrow would give
    every object of a column the same keys, adding nulls the schema may not allow."""
    line = outcome.line
    error = line.get("error") or {}
    usage = outcome.usage
    return {
        "ok": outcome.ok,
        "started": True,
        "data": json.dumps(line["data"], ensure_ascii=False) if outcome.ok else None,
        "error_type": None if outcome.ok else error.get("type"),
        "error_message": None if outcome.ok else error.get("message"),
        "raw": None if outcome.ok else line.get("raw"),
        "attempts": outcome.attempts,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cached_tokens": usage.cached_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "cost": None if outcome.cost is None else str(outcome.cost),
        "cached": outcome.cache_hit,
    }


def outcome_from_row(row: dict[str, Any], record: Record) -> RecordOutcome:
    """The driver's side of `_row`: the outcome the local engine would have had."""
    usage = Usage(
        int(row["prompt_tokens"]),
        int(row["completion_tokens"]),
        int(row["cached_tokens"]),
        int(row["reasoning_tokens"]),
    )
    cost = None if row["cost"] is None else Decimal(row["cost"])
    if row["ok"]:
        line: dict[str, Any] = {"id": record.id, "data": json.loads(row["data"])}
        if row["cached"]:
            line["cached"] = True
        return RecordOutcome(
            True, line, attempts=int(row["attempts"]), usage=usage, cost=cost,
            cache_hit=bool(row["cached"]),
        )  # fmt: skip
    kind = str(row["error_type"])
    line = error_line(record, kind, str(row["error_message"]), row["raw"])
    return RecordOutcome(
        False, line, error_type=kind, attempts=int(row["attempts"]), usage=usage, cost=cost
    )
