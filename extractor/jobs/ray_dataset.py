"""`extract_dataset`: extractor's batch semantics on a Ray Data ``Dataset``.

A row in, a row out, for every row: its id, and either the validated value or the error (type,
message, the model's last output), with the attempts, tokens and cost it took. The records run
in a pool of `ExtractWorker` actors (``map_batches``), each running its batches' records
concurrently through one `AsyncExtractor`; requests per minute, tokens per minute, the pauses
a 429 asks for, and the budget hold for the whole cluster (one coordinating actor,
`ray_limits`). The command line's ``--engine ray`` runs the same pipeline.
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ray
from ray.data import ActorPoolStrategy
from typing_extensions import Unpack

from ..client import AsyncExtractor, ExtractorOptions
from ..core.options import CallOptions
from ..errors import ConfigurationError
from ..wire.endpoint import resolve_key
from .ray_limits import ClusterLimits
from .ray_worker import ExtractWorker, RemoteCache, WorkerSpec

if TYPE_CHECKING:
    from ray.data import Dataset

__all__ = ["DEFAULT_WORKERS", "extract_dataset", "map_records", "worker_spec"]

DEFAULT_WORKERS = 2
DEFAULT_CONCURRENCY = 16


def extract_dataset(
    dataset: Dataset,
    target: Any,
    *,
    text_column: str = "text",
    id_column: str = "id",
    workers: int = DEFAULT_WORKERS,
    concurrency: int = DEFAULT_CONCURRENCY,
    rpm: float | None = None,
    tpm: float | None = None,
    budget: Decimal | float | str | None = None,
    cache: str | Path | None = None,
    model: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    batch_size: int | None = None,
    **options: Unpack[ExtractorOptions],
) -> Dataset:
    """Extract ``target`` from ``dataset[text_column]``; returns a lazy ``Dataset``.

    Output columns: ``id_column``; ``ok``; ``data`` (the validated value as JSON text, when
    ok); ``error_type``, ``error_message``, ``raw`` (when not); ``attempts``,
    ``prompt_tokens``, ``completion_tokens``, ``cached_tokens``, ``reasoning_tokens``,
    ``cost`` (decimal text, None without a known price), ``cached``; ``started`` is False for
    a row the job did not start because the budget was spent (its ``error_type`` is
    ``NotStarted``).

    ``workers`` actors run ``concurrency`` requests in flight between them; ``rpm``, ``tpm``
    and ``budget`` hold for all of them together. ``cache`` is a sqlite file on this machine
    that every worker reads and writes through one actor. Other keyword options are the
    extractor's (``max_retries=``, ``instructions=``, ``price=``, ...). Ray must be
    initialised (``ray.init()``).
    """
    if text_column == id_column:
        raise ConfigurationError("text_column and id_column must be different columns")
    columns = dataset.columns(fetch_if_missing=False)
    if columns is not None:
        missing = [name for name in (id_column, text_column) if name not in columns]
        if missing:
            raise ConfigurationError(
                f"the dataset has no column {missing[0]!r} (its columns: {', '.join(columns)});"
                " name the right ones with id_column= and text_column="
            )
    spec = worker_spec(
        target,
        workers=workers,
        concurrency=concurrency,
        rpm=rpm,
        tpm=tpm,
        budget=None if budget is None else Decimal(str(budget)),
        cache=RemoteCache.start(cache) if cache is not None else None,
        model=model,
        api_key=api_key,
        base_url=base_url,
        extractor_options=options,
        id_column=id_column,
        text_column=text_column,
    )
    return map_records(dataset, spec, workers=workers, batch_size=batch_size)


def worker_spec(
    target: Any,
    *,
    workers: int,
    concurrency: int,
    rpm: float | None,
    tpm: float | None,
    budget: Decimal | None,
    cache: RemoteCache | None,
    model: str | None,
    api_key: str | None,
    base_url: str | None,
    extractor_options: ExtractorOptions,
    options: CallOptions | None = None,
    id_column: str = "id",
    text_column: str = "text",
) -> WorkerSpec:
    """Check the settings here, on the driver, and start the coordinator: a mistake is
    reported before any worker starts, and nothing is sent."""
    if workers < 1 or concurrency < 1:
        raise ConfigurationError(
            f"workers and concurrency must be at least 1, not {workers} and {concurrency}"
        )
    extractor = AsyncExtractor(model=model, api_key=api_key, base_url=base_url, **extractor_options)
    extractor.check_key()
    call_model = (options or {}).get("model") or extractor.model
    if budget is not None and extractor.price_for(call_model) is None:
        raise ConfigurationError(
            f"a budget needs a price for the model {call_model!r}, and none is known: "
            "pass price= (or prices=)."
        )
    extractor.request_body(target, "a sample text", **(options or {}))  # a bad target or option
    limits = ClusterLimits.start(rpm, tpm, budget)
    return WorkerSpec(
        target=target,
        limits=limits,
        concurrency=math.ceil(concurrency / workers),
        model=model,
        base_url=base_url,
        api_key=resolve_key(api_key),
        extractor_options=extractor_options,
        options=options or CallOptions(),
        cache=cache,
        id_column=id_column,
        text_column=text_column,
    )


def map_records(
    dataset: Dataset, spec: WorkerSpec, *, workers: int, batch_size: int | None = None
) -> Dataset:
    """The ``map_batches`` stage both the Python API and the command line run.

    A batch holds a worker's share of the concurrency by default: Ray runs several batches
    per actor at once, so a slow record holds up only its own batch's row block, never the
    worker."""
    return dataset.map_batches(
        ExtractWorker,
        fn_constructor_kwargs={"spec": spec},
        batch_size=batch_size or spec.concurrency,
        batch_format="numpy",
        compute=ActorPoolStrategy(size=workers),
        num_cpus=_worker_cpus(workers),
    )


def _worker_cpus(workers: int) -> float:
    """A worker waits on the network most of the time: the pool asks for at most the CPUs the
    cluster has, so ``workers`` larger than its CPU count still all start."""
    resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
    return min(1.0, resources.get("CPU", 1.0) / workers)
