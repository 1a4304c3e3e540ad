"""`Extractor` and `AsyncExtractor`: thin drivers around the sans-I/O `ExtractionLoop`.

All they add is I/O: send each request the loop asks for with httpx, retried by tenacity,
and hand the answer back. Configuration and per-call planning live in `_ExtractorBase`,
shared by both.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, TypeVar, overload

import httpx
from typing_extensions import Self, Unpack

from . import many
from .core.completion import Completion
from .core.cost import Price, PriceTable
from .core.loop import Budget, ExtractionLoop, Plan
from .core.options import CallOptions, DefaultOptions
from .core.result import Attempt, Extraction
from .core.target import Target
from .errors import ConfigurationError, ExtractionError
from .many import DEFAULT_CONCURRENCY, RecordInput, RecordResult
from .streaming import (
    AsyncExtractionStream,
    ExtractionStream,
    ItemEvent,
    StreamEvent,
    open_async_stream,
    open_stream,
)
from .wire.body import build_template
from .wire.endpoint import Endpoint, connection_error
from .wire.retry import RetryPolicy
from .wire.rules import ModelRules

__all__ = ["AsyncExtractor", "Extractor"]

T = TypeVar("T")

DEFAULT_MODEL = "gpt-5.1"
DEFAULT_TIMEOUT = httpx.Timeout(300.0, connect=10.0)


class _ExtractorBase:
    """Configuration, and turning one call's arguments into a `Plan`."""

    def __init__(
        self,
        model: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        max_retries: int = 3,
        max_transport_retries: int = 2,
        max_retry_after: float = 60.0,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        price: Price | None = None,
        prices: Mapping[str, Price] | None = None,
        rules: ModelRules | None = None,
        headers: Mapping[str, str] | None = None,
        on_attempt: Callable[[Attempt], object] | None = None,
        clock: Callable[[], float] = time.time,
        **defaults: Unpack[DefaultOptions],
    ) -> None:
        self.model = model or os.environ.get("EXTRACTOR_MODEL") or DEFAULT_MODEL
        self.max_retries = max_retries
        self.timeout = timeout
        self._endpoint = Endpoint(base_url=base_url, api_key=api_key, headers=headers, clock=clock)
        self._policy = RetryPolicy(
            max_retries=max_transport_retries, max_retry_after=max_retry_after
        )
        self._price = price
        self._prices = PriceTable(prices)
        self._rules = rules
        self._on_attempt = on_attempt
        self._defaults = defaults

    def __repr__(self) -> str:
        url = self._endpoint.url.removesuffix("/chat/completions")
        return f"{type(self).__name__}(model={self.model!r}, base_url={url!r})"

    def check_key(self) -> None:
        """Raise `ConfigurationError` now if no API key is configured, rather than at the
        first request: for tools that must fail before they create any file."""
        self._endpoint.headers()

    def price_for(self, model: str) -> Price | None:
        """The price used for ``model``: the extractor's ``price=``, else the price table."""
        return self._price or self._prices.get(model)

    def request_body(
        self, target: Any, text: str | None = None, **options: Unpack[CallOptions]
    ) -> dict[str, Any]:
        """The exact JSON body the first request of this call would send."""
        return self._plan(target, text, options).template.body()

    def _plan(self, target: Any, text: str | None, call: CallOptions) -> Plan[Any]:
        options: CallOptions = {**self._defaults, **call}
        model = options.get("model") or self.model
        resolved = Target.of(target)
        price = self.price_for(model)
        max_cost = options.get("max_cost")
        if max_cost is not None and price is None:
            raise ConfigurationError(
                f"max_cost needs a price for {model!r}: pass price=Price(input=..., output=...) "
                "or prices={model: Price(...)} to the extractor."
            )
        return Plan(
            target=resolved,
            template=build_template(
                resolved, text, options, self._rules or ModelRules.for_model(model), model
            ),
            model=model,
            max_retries=options.get("max_retries", self.max_retries),
            strict=options.get("strict"),
            context=options.get("context"),
            price=price,
            budget=Budget(
                max_cost=None if max_cost is None else Decimal(str(max_cost)),
                max_total_tokens=options.get("max_total_tokens"),
            ),
            retry_truncated=options.get("retry_truncated", False),
            on_attempt=self._on_attempt,
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
        **kwargs: Any,
    ) -> None:
        super().__init__(model, api_key, base_url, **kwargs)
        self._owns_client = http_client is None
        self._client = http_client or httpx.Client(timeout=self.timeout)
        # tenacity keeps each call's state thread-locally, so one Retrying serves every call
        # of a sync extractor, from any thread.
        self._retrying = self._policy.retrying(sleep)

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
        loop = ExtractionLoop(self._plan(target, text, options))
        try:
            while True:
                body = loop.next_request()
                started = time.perf_counter()
                completion = self._retrying(self._send, body)
                if loop.receive(completion, duration=time.perf_counter() - started):
                    return loop.result()
        except ExtractionError as exc:
            loop.fail(exc)
            raise

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
        return open_stream(self, target, text, options, partial_strings=partial_strings)

    def stream_items(
        self, item: type[T], text: str | None = None, **options: Unpack[CallOptions]
    ) -> ExtractionStream[ItemEvent[T], list[T]]:
        """Each element of a list of ``item`` as soon as it is complete and validated."""
        return open_stream(self, item, text, options, items=True)

    def _send(self, body: dict[str, Any]) -> Completion:
        request = self._endpoint.request(self._client, body)
        try:
            response = self._client.send(request)
        except httpx.TransportError as exc:
            raise connection_error(exc, self._endpoint.url) from exc
        return self._endpoint.completion(response)

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
        return many.extract_many(self, target, records, concurrency=concurrency, **options)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

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
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        **kwargs: Any,
    ) -> None:
        super().__init__(model, api_key, base_url, **kwargs)
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient(timeout=self.timeout)
        self._sleep = sleep

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
        loop = ExtractionLoop(self._plan(target, text, options))
        try:
            while True:
                body = loop.next_request()
                started = time.perf_counter()
                # Concurrent tasks share a thread, so each call needs its own AsyncRetrying.
                retrying = self._policy.async_retrying(self._sleep)
                completion: Completion = await retrying(self._send, body)
                if loop.receive(completion, duration=time.perf_counter() - started):
                    return loop.result()
        except ExtractionError as exc:
            loop.fail(exc)
            raise

    def stream(
        self,
        target: type[T],
        text: str | None = None,
        *,
        partial_strings: bool = False,
        **options: Unpack[CallOptions],
    ) -> AsyncExtractionStream[StreamEvent[T], T]:
        """Snapshots of the value while the model writes it, then the validated value: see
        `extractor.streaming`. Use it in an ``async with`` block so that stopping early closes the
        connection."""
        return open_async_stream(self, target, text, options, partial_strings=partial_strings)

    def stream_items(
        self, item: type[T], text: str | None = None, **options: Unpack[CallOptions]
    ) -> AsyncExtractionStream[ItemEvent[T], list[T]]:
        """Each element of a list of ``item`` as soon as it is complete and validated."""
        return open_async_stream(self, item, text, options, items=True)

    async def _send(self, body: dict[str, Any]) -> Completion:
        request = self._endpoint.request(self._client, body)
        try:
            response = await self._client.send(request)
        except httpx.TransportError as exc:
            raise connection_error(exc, self._endpoint.url) from exc
        return self._endpoint.completion(response)

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
        return many.aextract_many(self, target, records, concurrency=concurrency, **options)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
