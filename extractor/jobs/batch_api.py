"""The Batch API engine behind ``extractor batch --batch-api``: the same job as the local engine
(same input, same two output files, same lines), with the requests sent through OpenAI's Batch
API (and the gateways that copy it), which answers within 24 hours at half the price.

A job runs in rounds. Each round uploads the records' next requests as JSONL files (``POST
/files``, purpose ``batch``), split at the provider's limits (50,000 requests, 200 MB per file),
creates one batch per file (``POST /batches``), polls them (``GET /batches/{id}``) until each
ends, and downloads their output and error files. Every answer goes through the record's own
`ExtractionLoop`, exactly as on the live path: a conforming answer is written to OUT; an answer
that needs a re-ask puts the re-ask in the next round (or, with ``reask_live``, sends it to the
live API at once); a refusal, a truncation or a spent ``max_retries`` goes to the errors file.
Requests that got no answer (the batch expired, failed validation or was cancelled, or the
request itself failed with a status worth retrying) go into the next round as they were, at
most ``MAX_MISSES`` times.

Resumable. The job keeps its state in a file beside OUT (``OUT.batches.json``, rewritten
atomically at each step): the batches submitted and not yet read, and for each record still
in progress the answers it got so far. A rerun of the same command (after kill -9, Ctrl-C or
a crash) replays those answers into fresh loops and polls the batches already submitted
instead of submitting them again. A batch created just before a kill, before its id could be
saved, is found again by its input file (``GET /batches``). Every record ends exactly once in
OUT or the errors file, written through the same `RecordProcessor` and `outputs` machinery as
the local engine, so a line records what the record cost (at the batch price) across runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import IO, Any

import httpx

from ..client import AsyncExtractor
from ..core.completion import Completion
from ..core.cost import Usage
from ..core.loop import ExtractionLoop
from ..core.plan import Plan
from ..core.prices import Price
from ..core.target import Target
from ..core.tokens import request_tokens
from ..errors import (
    APIError,
    ConfigurationError,
    ExtractionError,
    JobAborted,
    NotFoundError,
    OutputError,
)
from ..many import bounded
from ..wire.decode import load_json, read_completion
from ..wire.endpoint import Endpoint
from ..wire.retry import RetryPolicy, is_retryable
from ..wire.secret import excerpt
from .cache import Cache
from .config import JobConfig, Reporter, Stats
from .inputs import Record, id_key
from .local import Job, carry
from .outage import is_systematic
from .outputs import JsonlWriter, Prior, Spent
from .records import RecordOutcome, account

__all__ = ["BatchApi", "BatchApiJob", "BatchLimits", "batch_price", "batch_summary", "state_path"]

ENDPOINT = "/v1/chat/completions"
#: Rounds a request may go unanswered (expired, failed or cancelled batch, retryable error)
#: before its record is filed as failed.
MAX_MISSES = 3
_TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
_STATE_VERSION = 1


@dataclass(frozen=True)
class BatchLimits:
    """The provider's limits on one batch (OpenAI's by default)."""

    max_requests: int = 50_000
    max_bytes: int = 200 * 1024 * 1024


def batch_price(price: Price, factor: Decimal = Decimal("0.5")) -> Price:
    """The price of a request sent through the Batch API: the live price times ``factor``."""
    cached = None if price.cached_input is None else price.cached_input * factor
    return Price(price.input * factor, price.output * factor, cached, price.currency)


def state_path(output: Path) -> Path:
    """Where a job writing ``output`` keeps its Batch API state."""
    return output.with_name(output.name + ".batches.json")


class BatchApi:
    """The Files and Batches endpoints, with the same transport retries as live requests."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        endpoint: Endpoint,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._endpoint = endpoint
        self._retrying = (policy or RetryPolicy(max_transport_retries=6)).async_retrying(sleep)

    async def upload(self, data: bytes, name: str) -> str:
        """Upload a JSONL file of requests; its file id."""
        files = {"file": (name, data, "application/jsonl")}
        obj = await self._call("POST", "/files", files=files, data={"purpose": "batch"})
        return str(obj["id"])

    async def create(self, file_id: str, metadata: dict[str, str]) -> dict[str, Any]:
        body = {
            "input_file_id": file_id,
            "endpoint": ENDPOINT,
            "completion_window": "24h",
            "metadata": metadata,
        }
        return await self._call("POST", "/batches", json=body)

    async def get(self, batch_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/batches/{batch_id}")

    async def find(self, file_id: str, *, pages: int = 10) -> dict[str, Any] | None:
        """The batch created from ``file_id``, looked for among the newest batches."""
        after: str | None = None
        for _ in range(pages):
            params: dict[str, Any] = {"limit": 100, **({"after": after} if after else {})}
            page = await self._call("GET", "/batches", params=params)
            for batch in page.get("data") or []:
                if batch.get("input_file_id") == file_id:
                    return dict(batch)
            if not page.get("has_more") or not page.get("data"):
                return None
            after = page["data"][-1]["id"]
        return None

    def error(self, status: int, body: Any, request_id: str | None) -> APIError:
        """The typed error of one request that the batch answered with an error status."""
        headers = {"x-request-id": request_id} if request_id else {}
        response = httpx.Response(status, content=json.dumps(body).encode(), headers=headers)
        return self._endpoint.error(response)

    async def content(self, file_id: str) -> bytes:
        response: httpx.Response = await self._retrying(
            self._send, "GET", f"/files/{file_id}/content", {}
        )
        return response.content

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response: httpx.Response = await self._retrying(self._send, method, path, kwargs)
        try:
            obj = load_json(response.content)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            text = excerpt(response.text, 200, self._endpoint.secret)
            raise APIError(
                f"{method} {self._endpoint.url_for(path)} answered {response.status_code} with "
                f"something that is not a JSON object: {text!r}. Does this server offer the "
                "Batch API?",
                status_code=response.status_code,
            )
        return obj

    async def _send(self, method: str, path: str, kwargs: dict[str, Any]) -> httpx.Response:
        headers = dict(self._endpoint.headers())
        if "files" in kwargs:
            headers.pop("Content-Type", None)  # httpx sets the multipart boundary
        url = self._endpoint.url_for(path)
        try:
            response = await self._client.request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise self._endpoint.connection_error(exc, url) from None
        if response.is_error:
            error = self._endpoint.error(response)
            error.message = f"{method} {url}: {error.message}"
            if isinstance(error, NotFoundError) and path in ("/files", "/batches"):
                error.message += " Does this server offer the Batch API? If not, drop --batch-api."
            raise error
        return response


@dataclass
class _Pending:
    """A record still in progress: its loop, and the answers it got (what the state keeps)."""

    record: Record
    earlier: Spent | None
    loop: ExtractionLoop[Any]
    answers: list[dict[str, Any]] = field(default_factory=list)
    misses: int = 0
    live_usage: Usage = field(default_factory=Usage)
    cache_key: str | None = None  # with a cache: where its validated answer goes


@dataclass
class BatchStats:
    rounds: int = 0
    batches: int = 0
    requests: int = 0
    live_requests: int = 0
    resumed: int = 0  # batches picked up from an earlier run


class BatchApiJob(Job):
    """A batch job whose requests go through the Batch API; see the module docstring."""

    def __init__(
        self,
        config: JobConfig,
        extractor: AsyncExtractor,
        target: Target[Any],
        api: BatchApi,
        *,
        stream: IO[bytes],
        reporter: Reporter,
        total: Callable[[], int | None] | None = None,
        cache: Cache | None = None,
        limits: BatchLimits = BatchLimits(),
        price_factor: Decimal = Decimal("0.5"),
        reask_live: bool = False,
        poll_interval: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(
            config, extractor, target, stream=stream, reporter=reporter, total=total, cache=cache
        )
        self.api = api
        self.extractor = extractor
        self.target = target
        self.limits = limits
        self.reask_live = reask_live
        self.poll_interval = poll_interval
        self._sleep = sleep
        self.live_price = self.processor.price
        self.price = None if self.live_price is None else batch_price(self.live_price, price_factor)
        self.batch_stats = BatchStats()
        self.state_file = state_path(config.output)
        self._pending: dict[str, _Pending] = {}
        self._batches: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._statuses: dict[str, str] = {}  # the last status of each batch of this round
        self._shown = ""

    # -- control -----------------------------------------------------------------------------

    def interrupt(self) -> None:
        """Stop polling; the batches go on at the provider and a rerun picks them up."""
        self.stats.stopped = "interrupted"
        self.reporter.message(
            "stopping: the submitted batches go on at the provider; rerun the same command "
            "to collect them (nothing is submitted twice)"
        )
        self._wake.set()

    # -- the run -----------------------------------------------------------------------------

    async def run(self) -> Stats:
        prior, out, errors = self._open()
        try:
            await self._load(prior, out, errors)
            while self.stats.stopped is None:
                await self._adopt()
                if not self._batches and not await self._submit(out, errors):
                    break
                await self._poll(out, errors)
        except JobAborted:
            self.stats.stopped = "aborted"
            raise
        except APIError as exc:  # the Files or Batches endpoints, after transport retries
            if is_systematic(type(exc).__name__):
                # Down, not wrong: the state file keeps every batch and record for a rerun.
                self.stats.stopped = "outage"
                self.stats.undone = len(self._pending)
                self.outage = str(exc)
                self.reporter.message(f"stopping: the Batch API is not answering ({exc})")
            else:
                self.stats.stopped = "aborted"
                raise JobAborted(exc) from exc
        finally:
            self._close(prior, out, errors)
        if not self._pending and not self._batches:
            self.state_file.unlink(missing_ok=True)
            self.stats.stopped = None
        return self.stats

    async def _load(self, prior: Prior, out: JsonlWriter, errors: JsonlWriter) -> None:
        """Read the records still to do, and the state an earlier run left."""
        state = self._read_state()
        self._batches = list(state.get("batches", []))
        self.batch_stats.resumed = len(self._batches)
        saved: dict[str, Any] = state.get("records", {})
        async for record, earlier in self._todo(self._stream, prior):
            if record.problem is not None:
                self._write(await self.processor.process(record), earlier, out, errors)
                continue
            key = _key(record)
            cache_key, hit = self._cached(record)
            if hit is not None:  # an answer paid for before: no request
                self._write(hit, earlier, out, errors)
                continue
            pending = _Pending(record, earlier, ExtractionLoop(self._plan(record)))
            pending.cache_key = cache_key
            self._pending[key] = pending
            entry = saved.get(key)
            if entry:
                for answer in entry.get("answers", []):
                    outcome = self._answer(pending, answer)
                    if outcome is not None:
                        self._finish(key, outcome, out, errors)
                        break
                pending.misses = int(entry.get("misses", 0))
        if self._batches:
            self.reporter.message(
                f"{len(self._pending)} record(s) to do, {len(self._batches)} batch(es) "
                "submitted by an earlier run to collect"
            )
        self._save()

    def _cached(self, record: Record) -> tuple[str | None, RecordOutcome | None]:
        """With ``--cache``: the record's cache key, and its outcome if an earlier job already
        paid for its answer."""
        if self.processor.cache is None:
            return None, None
        assert record.text is not None
        key = self.processor.cache_key(record.text)
        return key, self.processor.lookup(record, key)

    def _plan(self, record: Record) -> Any:
        assert record.text is not None
        plan = self.extractor.planner.plan(self.target, record.text, self.config.options)
        return replace(plan, price=self.price)

    # -- submitting ----------------------------------------------------------------------------

    async def _submit(self, out: JsonlWriter, errors: JsonlWriter) -> bool:
        """Submit the next round: every pending record not in a batch. False if none."""
        busy = {key for batch in self._batches for key in batch["keys"]}
        lines: list[tuple[str, bytes]] = []
        refused: list[tuple[str, ExtractionError]] = []
        for key, pending in self._pending.items():
            if key in busy:
                continue
            try:
                body = pending.loop.next_request()
            except ExtractionError as spent:  # a per-call budget spent
                refused.append((key, spent))
                continue
            line = {"custom_id": key, "method": "POST", "url": ENDPOINT, "body": body}
            lines.append((key, (json.dumps(line, ensure_ascii=False) + "\n").encode()))
        for key, error in refused:
            self._finish(key, self._failed(self._pending[key], error), out, errors)
        lines = self._affordable(lines)
        if not lines:
            return False
        self.batch_stats.rounds += 1
        self._statuses.clear()
        for chunk in self._split(lines):
            data = b"".join(encoded for _, encoded in chunk)
            name = f"extractor-round{self.batch_stats.rounds}.jsonl"
            file_id = await self.api.upload(data, name)
            batch = {"file": file_id, "id": None, "keys": [key for key, _ in chunk]}
            self._batches.append(batch)
            self._save()  # the file is known before the batch exists: see _adopt
            await self._create(batch)
        return True

    def _affordable(self, lines: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
        """The requests of the next round that ``--budget`` still pays for, at the batch price:
        each request's input as sent and an answer of the usual size. A batch is paid once
        submitted, so the budget is checked before it, not while it runs; the requests left
        out wait for a rerun (with a new budget), and the job stops with "budget"."""
        budget = self.config.budget
        if budget is None or self.price is None:
            return lines
        left = budget - self._spent()
        answer = self._job_plan.template.mode.answer_tokens(self.target)
        kept: list[tuple[str, bytes]] = []
        for key, encoded in lines:
            left -= self.price.cost(Usage(request_tokens(encoded), answer)).amount
            if left < 0:
                break
            kept.append((key, encoded))
        if len(kept) < len(lines):
            self.reporter.message(
                f"budget: {self._spent():f} {self.price.currency} of {budget} spent; submitting "
                f"{len(kept)} of {len(lines)} requests, the rest wait for a rerun"
            )
            if not kept:
                self.stats.stopped = "budget"
        return kept

    def _spent(self) -> Decimal:
        """What this run spent: the records it finished, and the answers of those in progress."""
        return self.stats.cost + sum(
            (self._cost(p.loop.usage, p.live_usage) for p in self._pending.values()), Decimal(0)
        )

    def _cost(self, usage: Usage, live_usage: Usage) -> Decimal:
        """What ``usage`` cost: batch answers at the batch price, the part of it spent on live
        re-asks (``live_usage``) at the live one."""
        assert self.price is not None and self.live_price is not None
        batch = self.price.cost(_minus(usage, live_usage)).amount
        return batch + self.live_price.cost(live_usage).amount

    def _split(self, lines: list[tuple[str, bytes]]) -> Iterator[list[tuple[str, bytes]]]:
        chunk: list[tuple[str, bytes]] = []
        size = 0
        for key, encoded in lines:
            if len(encoded) > self.limits.max_bytes:
                raise ConfigurationError(
                    f"the request for record {key} is {len(encoded)} bytes, over the Batch "
                    f"API's limit of {self.limits.max_bytes} per file; shorten the text."
                )
            if chunk and (
                len(chunk) >= self.limits.max_requests
                or size + len(encoded) > self.limits.max_bytes
            ):
                yield chunk
                chunk, size = [], 0
            chunk.append((key, encoded))
            size += len(encoded)
        if chunk:
            yield chunk

    async def _create(self, batch: dict[str, Any]) -> None:
        created = await self.api.create(batch["file"], {"extractor_output": self.state_file.name})
        batch["id"] = created["id"]
        self._statuses[created["id"]] = str(created.get("status"))
        self.batch_stats.batches += 1
        self.batch_stats.requests += len(batch["keys"])
        self._save()

    async def _adopt(self) -> None:
        """Batches whose file was uploaded but whose id was never saved (a kill in between):
        find the batch made from that file, or create it now."""
        for batch in self._batches:
            if batch.get("id") is None:
                found = await self.api.find(batch["file"])
                if found is None:
                    await self._create(batch)
                else:
                    batch["id"] = found["id"]
                    self._save()

    # -- polling and reading -----------------------------------------------------------------

    async def _poll(self, out: JsonlWriter, errors: JsonlWriter) -> None:
        """Poll the open batches until every one has ended, reading each as it ends."""
        while self._batches and self.stats.stopped is None:
            for batch in list(self._batches):
                obj = await self.api.get(batch["id"])
                status = str(obj.get("status"))
                self._statuses[batch["id"]] = status
                if status in _TERMINAL:
                    await self._read(batch, obj, out, errors)
            self._show()
            if self._batches and self.stats.stopped is None:
                await self._pause()

    async def _pause(self) -> None:
        """Wait ``poll_interval`` seconds, or less if interrupted."""
        self._wake.clear()
        waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._wake.wait())]
        waits.append(asyncio.ensure_future(self._sleep(self.poll_interval)))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    def _show(self) -> None:
        counts = Counter(self._statuses.values())
        states = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
        rounds = self.batch_stats.rounds
        text = f"{f'round {rounds}' if rounds else 'an earlier run'}: batches {states}"
        if text != self._shown:  # a line when something changed, not one per poll
            self._shown = text
            self.reporter.message(text)
        self.reporter.update(self.stats)

    async def _read(
        self, batch: dict[str, Any], obj: dict[str, Any], out: JsonlWriter, errors: JsonlWriter
    ) -> None:
        """Feed a finished batch's answers to their records' loops; requests without an
        answer are missed and go into the next round."""
        batch_id = str(batch["id"])
        answered: set[str] = set()
        live: list[str] = []
        for file_key in ("output_file_id", "error_file_id"):
            file_id = obj.get(file_key)
            if not file_id:
                continue
            for row in _jsonl(await self.api.content(str(file_id))):
                key = str(row.get("custom_id"))
                pending = self._pending.get(key)
                if pending is None or key not in batch["keys"]:
                    continue  # written already (a rerun reading a batch again), or not ours
                if any(answer.get("batch") == batch_id for answer in pending.answers):
                    continue  # replayed from the state file already
                answered.add(key)
                answer = {"batch": batch_id, **_answer_of(row)}
                outcome = self._answer(pending, answer)
                if outcome is not None:
                    self._finish(key, outcome, out, errors)
                elif self.reask_live and answer["status"] == 200:
                    live.append(key)
        reason = _batch_problem(obj)
        for key in batch["keys"]:
            pending = self._pending.get(key)
            if pending is None or key in answered:
                continue
            if any(answer.get("batch") == batch_id for answer in pending.answers):
                continue
            pending.misses += 1
            if pending.misses >= MAX_MISSES:
                error = APIError(
                    f"no answer from the Batch API after {pending.misses} batches (the last "
                    f"{reason}). Rerun the command later, or run without --batch-api."
                )
                self._finish(key, self._failed(pending, error), out, errors)
        if reason != "completed":
            self.reporter.message(f"batch {batch_id} {reason}: its unanswered requests go again")
        self._batches.remove(batch)
        self._save()
        stop = lambda: self.stats.stopped is not None  # noqa: E731
        async for key, outcome in bounded(live, self._live, self.config.concurrency, stop=stop):
            self._finish(key, outcome, out, errors)
        if live:
            self._save()

    def _answer(self, pending: _Pending, answer: dict[str, Any]) -> RecordOutcome | None:
        """Feed one answer to the record's loop: its outcome when the record is done, None
        when it needs another request (or, for a retryable error, another try)."""
        status = int(answer.get("status") or 0)
        if status != 200:
            error = self._error(answer)
            if error is None or is_retryable(error):
                pending.misses += 1  # a miss: the same request goes in the next round
                if pending.misses < MAX_MISSES:
                    return None
                error = error or APIError(f"the Batch API could not run the request: {answer}")
            return self._failed(pending, error)
        completion = read_completion(answer.get("body") or {}, answer.get("request_id"))
        return self._receive(pending, completion, answer)

    def _receive(
        self, pending: _Pending, completion: Completion, answer: dict[str, Any] | None
    ) -> RecordOutcome | None:
        """The loop's judgement of one completion. A batch ``answer`` needing a re-ask is kept
        for the state file; a live one is not (a rerun redoes the live re-asks)."""
        try:
            done = pending.loop.receive(completion)
        except ExtractionError as exc:
            return self._failed(pending, exc)
        if done:
            outcome = self.processor.succeeded(pending.record, pending.loop.result())
            return self._priced(pending, outcome)
        if answer is not None:
            pending.answers.append(answer)
        pending.misses = 0
        return None

    async def _live(self, key: str) -> tuple[str, RecordOutcome]:
        """With ``reask_live``: the record's re-asks sent to the live API, at the live price
        (``--concurrency`` records at a time)."""
        pending = self._pending[key]
        while True:
            try:
                body = pending.loop.next_request()
                self.batch_stats.live_requests += 1
                completion = await self.extractor.sender.send(body)
            except ExtractionError as exc:
                return key, self._failed(pending, exc)
            pending.live_usage += completion.usage
            outcome = self._receive(pending, completion, None)
            if outcome is not None:
                return key, outcome

    def _error(self, answer: dict[str, Any]) -> APIError | None:
        """The typed error of a request the Batch API answered with an error status."""
        status = int(answer.get("status") or 0)
        if not status:
            return None
        return self.api.error(status, answer.get("body"), answer.get("request_id"))

    def _failed(self, pending: _Pending, error: ExtractionError) -> RecordOutcome:
        pending.loop.fail(error)
        return self._priced(pending, self.processor.failed(pending.record, error))

    def _priced(self, pending: _Pending, outcome: RecordOutcome) -> RecordOutcome:
        """The outcome with its cost at the prices it was paid (`_cost`)."""
        if self.price is not None:
            outcome.cost = self._cost(outcome.usage, pending.live_usage)
        return outcome

    def _finish(
        self, key: str, outcome: RecordOutcome, out: JsonlWriter, errors: JsonlWriter
    ) -> None:
        pending = self._pending.pop(key)
        if pending.cache_key is not None:
            self.processor.store(pending.cache_key, outcome)
        self._write(outcome, pending.earlier, out, errors)

    def _write(
        self,
        outcome: RecordOutcome,
        earlier: Spent | None,
        out: JsonlWriter,
        errors: JsonlWriter,
    ) -> None:
        if earlier is not None:
            carry(outcome, earlier)
        account(self.stats, outcome)
        (out if outcome.ok else errors).write(outcome.line)
        self.reporter.update(self.stats)

    # -- the state file ----------------------------------------------------------------------

    def _read_state(self) -> dict[str, Any]:
        try:
            text = self.state_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise OutputError(f"cannot read {str(self.state_file)!r}: {exc.strerror}") from None
        try:
            state = json.loads(text)
        except ValueError:
            raise OutputError(
                f"{str(self.state_file)!r} is not JSON: it was not written by this tool or was "
                "edited. Remove it to start the Batch API job afresh (batches it lists are "
                "then paid for again)."
            ) from None
        if not isinstance(state, dict) or state.get("version") != _STATE_VERSION:
            raise OutputError(f"{str(self.state_file)!r} is not an extractor Batch API state.")
        if state.get("job") != self._fingerprint:
            raise ConfigurationError(
                f"{str(self.state_file)!r} belongs to a job run with another model, schema, "
                "instructions or --max-retries: its answers would be judged by other rules. "
                "Rerun with the options of that job, or choose another output (or remove the "
                "file: the batches it lists are then paid for again)."
            )
        return state

    @cached_property
    def _job_plan(self) -> Plan[Any]:
        """The plan every record's shares: any record's text stands for all."""
        return self.extractor.planner.plan(self.target, "TEXT", self.config.options)

    @cached_property
    def _fingerprint(self) -> str:
        """What decides how requests are built and answers judged, hashed: a state file is
        only taken up by the same job."""
        plan = self._job_plan
        decisive = [plan.template.body(), plan.max_retries, plan.strict, plan.retry_truncated]
        text = json.dumps(decisive, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _save(self) -> None:
        """Write the state atomically: a kill leaves the old file or the new one."""
        state = {
            "version": _STATE_VERSION,
            "job": self._fingerprint,
            "batches": self._batches,
            "records": {
                key: {"answers": pending.answers, "misses": pending.misses}
                for key, pending in self._pending.items()
                if pending.answers or pending.misses
            },
            "saved": time.time(),
        }
        temporary = self.state_file.with_name(self.state_file.name + ".tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(state, handle, ensure_ascii=False, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.state_file)


def _key(record: Record) -> str:
    return id_key(record.id, record.line)


def _minus(total: Usage, part: Usage) -> Usage:
    return Usage(
        total.prompt_tokens - part.prompt_tokens,
        total.completion_tokens - part.completion_tokens,
        total.cached_tokens - part.cached_tokens,
        total.reasoning_tokens - part.reasoning_tokens,
    )


def _jsonl(data: bytes) -> Iterator[dict[str, Any]]:
    for raw in data.splitlines():
        if raw.strip():
            try:
                row = load_json(raw)
            except ValueError:
                continue
            if isinstance(row, dict):
                yield row


def _answer_of(row: dict[str, Any]) -> dict[str, Any]:
    """An output or error file line, as the state file keeps it."""
    response = row.get("response") or {}
    if response:
        return {
            "status": response.get("status_code"),
            "request_id": response.get("request_id"),
            "body": response.get("body"),
        }
    return {"status": 0, "error": row.get("error")}


def _batch_problem(obj: dict[str, Any]) -> str:
    status = str(obj.get("status"))
    errors = (obj.get("errors") or {}).get("data") or []
    if errors:
        first = errors[0]
        return f"{status}: {first.get('code')}: {first.get('message')}"
    return status


def batch_summary(job: BatchApiJob) -> str:
    """What the Batch API part of a run did, for the end-of-run summary."""
    counts = job.batch_stats
    price = job.price
    rate = (
        f"{price.input:f}/{price.output:f} {price.currency} per 1M input/output tokens"
        if price is not None
        else "unknown"
    )
    lines = [
        "batch api",
        f"  rounds:      {counts.rounds}",
        f"  batches:     {counts.batches} created this run"
        + (f", {counts.resumed} picked up from an earlier run" if counts.resumed else ""),
        f"  requests:    {counts.requests} in batches"
        + (f", {counts.live_requests} live re-asks" if counts.live_requests else ""),
        f"  batch price: {rate}",
    ]
    if job.stats.stopped == "interrupted":
        lines.append(f"  state:       {job.state_file} (rerun the same command to collect)")
    return "\n".join(lines)
