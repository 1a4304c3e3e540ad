"""`Extractor` and `AsyncExtractor`: the drivers, thin I/O around the sans-I/O core.

Each one is a `Planner` (the configuration, turning a call into a `Plan`) and a sender (the
HTTP client, the endpoint and the transport retries). A call plans, then runs the
`ExtractionLoop`, sending each body the loop asks for; streaming runs a `StreamSession`
instead. The two classes differ only in the I/O calls.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

import httpx
from typing_extensions import Self, Unpack

from .core.document import DOCUMENT_OPTIONS, ChunkJob, DocumentCall, plan_document
from .core.loop import ExtractionLoop
from .core.options import DEFAULT_CONCURRENCY, CallOptions, DefaultOptions, check_options
from .core.plan import Plan, Planner
from .core.prices import Price
from .core.result import Attempt, Extraction
from .errors import ConfigurationError, ExtractionError
from .wire.endpoint import DEFAULT_MAX_RESPONSE_BYTES, Endpoint
from .wire.pool import default_async_client
from .wire.retry import RetryPolicy
from .wire.rules import ModelRules
from .wire.send import AsyncSender, Sender

if TYPE_CHECKING:
    # Streams and extract_many are imported when first used: a plain `extract` needs neither
    # them nor asyncio, and `import extractor` stays light (issue 15).
    from .core.document_stream import ItemsDocument
    from .core.session import ItemEvent, StreamEvent, StreamSession
    from .many import RecordInput, RecordResult
    from .streaming import AsyncExtractionStream, ExtractionStream

__all__ = ["AsyncExtractor", "Extractor", "ExtractorOptions"]

T = TypeVar("T")

DEFAULT_MODEL = "gpt-5.1"
# What stream_items takes of the chunking options: it reads the chunks one by one, once.
_ITEM_STREAM_OPTIONS = frozenset({"chunk_size", "chunk_overlap", "partial_ok"})
DEFAULT_TIMEOUT = httpx.Timeout(300.0, connect=10.0)


class ExtractorOptions(DefaultOptions, total=False):
    """The keyword options of `Extractor` and `AsyncExtractor`: their own settings, plus
    defaults for every call (`DefaultOptions`)."""

    max_retries: int
    max_transport_retries: int
    max_retry_after: float
    timeout: float | httpx.Timeout
    price: Price | None
    prices: Mapping[str, Price] | None
    rules: ModelRules | None
    headers: Mapping[str, str] | None
    max_response_bytes: int
    on_attempt: Callable[[Attempt], object] | None
    clock: Callable[[], float]


_OWN_OPTIONS = frozenset(ExtractorOptions.__annotations__)
_DEFAULT_OPTIONS = frozenset(DefaultOptions.__annotations__)


def _environment_price() -> Price | None:
    """``$EXTRACTOR_PRICE`` (``"1.80/15.00 CNY"``): the price of whatever model the endpoint
    serves, for gateways with their own price list."""
    spec = os.environ.get("EXTRACTOR_PRICE", "").strip()
    if not spec:
        return None
    try:
        return Price.parse(spec, source="$EXTRACTOR_PRICE")
    except ValueError as exc:
        raise ConfigurationError(f"EXTRACTOR_PRICE: {exc}") from None


def _check_settings(options: ExtractorOptions) -> None:
    """Refuse settings of the wrong type now, with a clear error, rather than let them fail
    later inside httpx or the planner with an error that is not the library's."""
    price, prices = options.get("price"), options.get("prices")
    headers, rules = options.get("headers"), options.get("rules")
    problem = None
    if price is not None and not isinstance(price, Price):
        problem = f"price= must be a Price(input=..., output=...), not {type(price).__name__}"
    elif prices is not None and not (
        isinstance(prices, Mapping)
        and all(isinstance(k, str) and isinstance(v, Price) for k, v in prices.items())
    ):
        problem = "prices= must map model names to Price(...) values"
    elif headers is not None and not (
        isinstance(headers, Mapping)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
    ):
        problem = "headers= must map header names to string values"
    elif rules is not None and not isinstance(rules, ModelRules):
        problem = f"rules= must be a ModelRules(...), not {type(rules).__name__}"
    if problem is not None:
        raise ConfigurationError(problem)


class _ExtractorBase:
    """Configuration shared by both drivers: the planner, the endpoint, the retry policy."""

    def __init__(
        self,
        model: str | None,
        api_key: str | None,
        base_url: str | None,
        options: ExtractorOptions,
    ) -> None:
        check_options(options, _OWN_OPTIONS | _DEFAULT_OPTIONS, type(self).__name__ + "()")
        _check_settings(options)
        defaults = DefaultOptions(**{k: v for k, v in options.items() if k in _DEFAULT_OPTIONS})  # type: ignore[typeddict-item]
        self._endpoint = Endpoint(
            base_url=base_url,
            api_key=api_key,
            headers=options.get("headers"),
            clock=options.get("clock", time.time),
            max_response_bytes=options.get("max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES),
        )
        self.planner = Planner(
            model=model or os.environ.get("EXTRACTOR_MODEL") or DEFAULT_MODEL,
            max_retries=options.get("max_retries", 3),
            price=options.get("price"),
            prices=options.get("prices"),
            host=httpx.URL(self._endpoint.url).host,
            fallback_price=_environment_price(),
            rules=options.get("rules"),
            on_attempt=options.get("on_attempt"),
            defaults=defaults,
        )
        self.timeout = options.get("timeout", DEFAULT_TIMEOUT)
        if not isinstance(self.timeout, httpx.Timeout) and (
            not isinstance(self.timeout, (int, float))
            or isinstance(self.timeout, bool)
            or not self.timeout > 0
        ):
            # httpx would only fail at the first request, with a TypeError or ValueError.
            raise ConfigurationError(
                f"timeout= must be a number of seconds above 0 or an httpx.Timeout, "
                f"got {self.timeout!r}"
            )
        self._policy = RetryPolicy(
            max_transport_retries=options.get("max_transport_retries", 2),
            max_retry_after=options.get("max_retry_after", 60.0),
        )

    @property
    def model(self) -> str:
        """The model of every call that does not name its own."""
        return self.planner.model

    @property
    def max_retries(self) -> int:
        """Re-asks per call after an invalid answer (transport retries are separate)."""
        return self.planner.max_retries

    def __repr__(self) -> str:
        url = self._endpoint.base_url
        return f"{type(self).__name__}(model={self.model!r}, base_url={url!r})"

    def check_key(self) -> None:
        """Raise `ConfigurationError` now if no API key is configured, rather than at the
        first request: for tools that must fail before they create any file."""
        self._endpoint.headers()

    def price_for(self, model: str) -> Price | None:
        """The price used for ``model``: the extractor's ``price=``, else the price table."""
        return self.planner.price_for(model)

    def request_body(
        self, target: Any, text: str | None = None, **options: Unpack[CallOptions]
    ) -> dict[str, Any]:
        """The exact JSON body the first request of this call would send (a copy: the
        planner shares its parts between calls)."""
        return copy.deepcopy(self.planner.plan(target, text, options).template.body())

    def _refuse(self, options: CallOptions, names: Iterable[str]) -> None:
        refused = sorted(set(names) & {**self.planner.defaults, **options}.keys())
        if refused:
            raise ConfigurationError(
                f"stream() reads the text in one request and stream_items() chunk by chunk, "
                f"once: {', '.join(refused)} only work with extract() and extract_result()."
            )

    def _items_document(
        self, item: Any, text: str | None, options: CallOptions
    ) -> ItemsDocument | None:
        """``stream_items`` over a text in chunks, or None when it is read in one request."""
        from .core.document_stream import ItemsDocument
        from .core.target import list_target

        self._refuse(options, DOCUMENT_OPTIONS - _ITEM_STREAM_OPTIONS)
        target, validator = list_target(item)
        document = plan_document(self.planner, target, text, options)
        if document is None:
            return None
        self.check_key()  # no API key: raise now, as extract() would, not on first use
        return ItemsDocument(document, validator, secret=self._endpoint.secret)

    def _session(
        self,
        target: Any,
        text: str | None,
        options: CallOptions,
        *,
        items: bool = False,
        partial_strings: bool = False,
    ) -> StreamSession:
        from .core.session import StreamSession
        from .core.target import list_target

        self._refuse(options, DOCUMENT_OPTIONS - (_ITEM_STREAM_OPTIONS if items else set()))
        validator = None
        if items:
            target, validator = list_target(target)
        plan: Plan[Any] = self.planner.plan(target, text, options)
        self.check_key()  # no API key: raise now, as extract() would, not on first use
        return StreamSession(
            ExtractionLoop(plan),
            items=validator,
            partial_strings=partial_strings,
            secret=self._endpoint.secret,
        )


def _check_client(client: object, kind: type, other: str) -> None:
    """Refuse a client of the wrong kind when the extractor is made: the sync extractor given
    an ``httpx.AsyncClient`` would otherwise fail at its first call with an AttributeError on
    an un-awaited coroutine."""
    if client is not None and not isinstance(client, kind):
        raise ConfigurationError(
            f"http_client= must be an httpx.{kind.__name__}, not {type(client).__name__} ({other})"
        )


class Extractor(_ExtractorBase):
    """Extract typed values from text, synchronously.

    ``http_client`` is used as given (proxies, custom transports, ``httpx.MockTransport`` in
    tests) and left open; a client the extractor creates itself is closed by `close`.
    """

    def __init__(
        self,
        model: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **options: Unpack[ExtractorOptions],
    ) -> None:
        super().__init__(model, api_key, base_url, options)
        _check_client(http_client, httpx.Client, "an httpx.AsyncClient goes with AsyncExtractor")
        self._owns_client = http_client is None
        client = http_client or httpx.Client(timeout=self.timeout)
        self.sender = Sender(client, self._endpoint, self._policy, sleep)

    @overload
    def extract(
        self, target: type[T], text: str | None = None, **options: Unpack[CallOptions]
    ) -> T: ...
    @overload
    def extract(
        self, target: Any, text: str | None = None, **options: Unpack[CallOptions]
    ) -> Any: ...
    def extract(self, target: Any, text: str | None = None, **options: Unpack[CallOptions]) -> Any:
        """The validated value extracted from ``text`` (and/or ``messages``)."""
        return self.extract_result(target, text, **options).value

    @overload
    def extract_result(
        self, target: type[T], text: str | None = None, **options: Unpack[CallOptions]
    ) -> Extraction[T]: ...
    @overload
    def extract_result(
        self, target: Any, text: str | None = None, **options: Unpack[CallOptions]
    ) -> Extraction[Any]: ...
    def extract_result(
        self, target: Any, text: str | None = None, **options: Unpack[CallOptions]
    ) -> Extraction[Any]:
        """The value with its usage, cost and attempts."""
        document = plan_document(self.planner, target, text, options)
        if document is not None:
            return self._extract_document(document)
        loop = ExtractionLoop(self.planner.plan(target, text, options))
        self._drive(loop)
        return loop.result()

    def _drive(self, loop: ExtractionLoop[Any]) -> None:
        """Send what the loop asks for until it holds a value; its error, with what it
        spent, otherwise."""
        try:
            while True:
                body = loop.next_request()
                started = time.perf_counter()
                completion = self.sender.send(body)
                if loop.receive(completion, duration=time.perf_counter() - started):
                    return
        except ExtractionError as exc:
            loop.fail(exc)
            raise

    def _extract_document(self, document: DocumentCall[Any]) -> Extraction[Any]:
        """The chunks of a long text, ``document.concurrency`` at a time on threads (the
        HTTP client is thread-safe), then their merge."""

        def run(job: ChunkJob) -> None:
            while (loop := job.next_loop()) is not None:
                try:
                    self._drive(loop)
                except ExtractionError as exc:
                    job.fail(exc)

        from concurrent.futures import ThreadPoolExecutor  # only long texts need threads

        pool = ThreadPoolExecutor(max_workers=document.concurrency)
        try:
            for future in [pool.submit(run, job) for job in document.jobs]:
                future.result()
        except BaseException:  # Ctrl-C, or a bug: start no other chunk
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        return document.result()

    def stream(
        self,
        target: type[T],
        text: str | None = None,
        *,
        partial_strings: bool = False,
        **options: Unpack[CallOptions],
    ) -> ExtractionStream[StreamEvent[T], T]:
        """Snapshots of the value while the model writes it, then the validated value: see
        `extractor.streaming`. Use it in a ``with`` block so that stopping early closes the
        connection."""
        from .streaming import ExtractionStream, drive

        session = self._session(target, text, options, partial_strings=partial_strings)
        return ExtractionStream(session.loop, drive(self.sender, session))

    def stream_items(
        self, item: type[T], text: str | None = None, **options: Unpack[CallOptions]
    ) -> ExtractionStream[ItemEvent[T], list[T]]:
        """Each element of a list of ``item`` as soon as it is complete and validated; over
        a long text, chunk by chunk (see `extractor.core.document_stream`)."""
        from .streaming import ExtractionStream, drive, drive_chunks

        document = self._items_document(item, text, options)
        if document is not None:
            return ExtractionStream(document.document, drive_chunks(self.sender, document))
        session = self._session(item, text, options, items=True)
        return ExtractionStream(session.loop, drive(self.sender, session))

    @overload
    def extract_many(
        self,
        target: type[T],
        records: Iterable[RecordInput],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        **options: Unpack[CallOptions],
    ) -> Iterator[RecordResult[T]]: ...
    @overload
    def extract_many(
        self,
        target: Any,
        records: Iterable[RecordInput],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        **options: Unpack[CallOptions],
    ) -> Iterator[RecordResult[Any]]: ...
    def extract_many(
        self,
        target: Any,
        records: Iterable[RecordInput],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        **options: Unpack[CallOptions],
    ) -> Iterator[RecordResult[Any]]:
        """Extract from many records, ``concurrency`` at a time; yields each record's result
        (value or error, with its id) as it finishes. See `extractor.many`."""
        from . import many

        self.planner.check(options, "extract_many()")

        def one(text: str) -> Extraction[Any]:
            return self.extract_result(target, text, **options)

        return many.extract_many(one, records, concurrency=concurrency)

    def close(self) -> None:
        if self._owns_client:
            self.sender.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncExtractor(_ExtractorBase):
    """Extract typed values from text in asyncio code; one instance serves many concurrent
    calls (each call has its own loop state; the client is shared)."""

    def __init__(
        self,
        model: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        **options: Unpack[ExtractorOptions],
    ) -> None:
        import asyncio

        super().__init__(model, api_key, base_url, options)
        _check_client(http_client, httpx.AsyncClient, "an httpx.Client goes with Extractor")
        self._owns_client = http_client is None
        client = http_client or default_async_client(self.timeout)
        self.sender = AsyncSender(client, self._endpoint, self._policy, sleep or asyncio.sleep)

    @overload
    async def extract(
        self, target: type[T], text: str | None = None, **options: Unpack[CallOptions]
    ) -> T: ...
    @overload
    async def extract(
        self, target: Any, text: str | None = None, **options: Unpack[CallOptions]
    ) -> Any: ...
    async def extract(
        self, target: Any, text: str | None = None, **options: Unpack[CallOptions]
    ) -> Any:
        """The validated value extracted from ``text`` (and/or ``messages``)."""
        return (await self.extract_result(target, text, **options)).value

    @overload
    async def extract_result(
        self, target: type[T], text: str | None = None, **options: Unpack[CallOptions]
    ) -> Extraction[T]: ...
    @overload
    async def extract_result(
        self, target: Any, text: str | None = None, **options: Unpack[CallOptions]
    ) -> Extraction[Any]: ...
    async def extract_result(
        self, target: Any, text: str | None = None, **options: Unpack[CallOptions]
    ) -> Extraction[Any]:
        """The value with its usage, cost and attempts."""
        document = plan_document(self.planner, target, text, options)
        if document is not None:
            return await self._extract_document(document)
        loop = ExtractionLoop(self.planner.plan(target, text, options))
        await self._drive(loop)
        return loop.result()

    async def _drive(self, loop: ExtractionLoop[Any]) -> None:
        try:
            while True:
                body = loop.next_request()
                started = time.perf_counter()
                completion = await self.sender.send(body)
                duration = time.perf_counter() - started
                if loop.is_heavy(completion):  # other tasks and signals keep running meanwhile
                    import asyncio  # not loaded by `import extractor`: sync code never needs it

                    done = await asyncio.to_thread(loop.receive, completion, duration=duration)
                else:
                    done = loop.receive(completion, duration=duration)
                if done:
                    return
        except ExtractionError as exc:
            loop.fail(exc)
            raise

    async def _extract_document(self, document: DocumentCall[Any]) -> Extraction[Any]:
        """The chunks of a long text, ``document.concurrency`` at a time, then their merge."""
        import asyncio

        slots = asyncio.Semaphore(document.concurrency)

        async def run(job: ChunkJob) -> None:
            async with slots:
                while (loop := job.next_loop()) is not None:
                    try:
                        await self._drive(loop)
                    except ExtractionError as exc:
                        job.fail(exc)

        tasks = [asyncio.ensure_future(run(job)) for job in document.jobs]
        try:
            await asyncio.gather(*tasks)
        except BaseException:  # cancelled, or a bug: stop the other chunks too
            for task in tasks:
                task.cancel()
            raise
        return document.result()

    def stream(
        self,
        target: type[T],
        text: str | None = None,
        *,
        partial_strings: bool = False,
        **options: Unpack[CallOptions],
    ) -> AsyncExtractionStream[StreamEvent[T], T]:
        """Snapshots of the value while the model writes it, then the validated value: see
        `extractor.streaming`. Use it in an ``async with`` block so that stopping early closes
        the connection."""
        from .streaming import AsyncExtractionStream, drive_async

        session = self._session(target, text, options, partial_strings=partial_strings)
        return AsyncExtractionStream(session.loop, drive_async(self.sender, session))

    def stream_items(
        self, item: type[T], text: str | None = None, **options: Unpack[CallOptions]
    ) -> AsyncExtractionStream[ItemEvent[T], list[T]]:
        """Each element of a list of ``item`` as soon as it is complete and validated; over
        a long text, chunk by chunk."""
        from .streaming import AsyncExtractionStream, drive_async, drive_chunks_async

        document = self._items_document(item, text, options)
        if document is not None:
            events = drive_chunks_async(self.sender, document)
            return AsyncExtractionStream(document.document, events)
        session = self._session(item, text, options, items=True)
        return AsyncExtractionStream(session.loop, drive_async(self.sender, session))

    @overload
    def extract_many(
        self,
        target: type[T],
        records: Iterable[RecordInput],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        **options: Unpack[CallOptions],
    ) -> AsyncIterator[RecordResult[T]]: ...
    @overload
    def extract_many(
        self,
        target: Any,
        records: Iterable[RecordInput],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        **options: Unpack[CallOptions],
    ) -> AsyncIterator[RecordResult[Any]]: ...
    def extract_many(
        self,
        target: Any,
        records: Iterable[RecordInput],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        **options: Unpack[CallOptions],
    ) -> AsyncIterator[RecordResult[Any]]:
        """``async for`` over each record's result as it finishes, ``concurrency`` at a time.
        See `extractor.many`."""
        from . import many

        self.planner.check(options, "extract_many()")

        async def one(text: str) -> Extraction[Any]:
            return await self.extract_result(target, text, **options)

        return many.aextract_many(one, records, concurrency=concurrency)

    async def aclose(self) -> None:
        if self._owns_client:
            await self.sender.client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
