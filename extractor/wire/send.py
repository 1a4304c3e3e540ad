"""Senders: the only code that puts a request on the wire, with transport retries.

A sender takes a request body (built by the sans-I/O core), sends it with the caller's httpx
client through the `Endpoint`, and hands back a `Completion` (or, for streams, the open
response); the `RetryPolicy` decides when the same request is sent again. `Sender` and
`AsyncSender` differ only in the I/O calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ..core.completion import Completion
from ..errors import APIError
from .endpoint import Endpoint
from .retry import RetryPolicy, areplaying, is_retryable, replaying

if TYPE_CHECKING:
    from tenacity import Retrying

__all__ = ["AsyncSender", "Sender", "is_event_stream"]

R = TypeVar("R")


class Sender:
    """Sends request bodies with a sync ``httpx.Client``.

    tenacity keeps each call's state thread-locally, so one ``Retrying`` serves every retried
    call, from any thread.
    """

    def __init__(
        self,
        client: httpx.Client,
        endpoint: Endpoint,
        policy: RetryPolicy,
        sleep: Callable[[float], None],
    ) -> None:
        self.client = client
        self.endpoint = endpoint
        self._policy = policy
        self._sleep = sleep

    def send(self, body: dict[str, Any]) -> Completion:
        """The completion the API answers ``body`` with, retried as the policy says."""
        return self._retried(self._send_once, body)

    def open_stream(self, body: dict[str, Any]) -> httpx.Response:
        """An open streamed response to ``body`` (read whole when it is not an event stream);
        error statuses raise their typed error, retried as the policy says."""
        return self._retried(self._open_once, body)

    def _retried(self, attempt: Callable[[dict[str, Any]], R], body: dict[str, Any]) -> R:
        """``attempt(body)``, handed to tenacity only after a retryable failure."""
        try:
            return attempt(body)
        except APIError as exc:
            if not is_retryable(exc):
                raise
            failure = exc
        return self._retrying(replaying(failure, attempt), body)

    @cached_property
    def _retrying(self) -> Retrying:
        return self._policy.retrying(self._sleep)

    def iter_bytes(self, response: httpx.Response) -> Iterator[bytes]:
        """The body as it arrives, up to the endpoint's ``max_response_bytes``."""
        limit, size = self.endpoint.max_response_bytes, 0
        for data in _chunks(response):
            size += len(data)
            if size > limit:
                raise self.endpoint.too_large(response)
            yield data

    def _send_once(self, body: dict[str, Any]) -> Completion:
        request = self.endpoint.request(self.client, body)
        try:
            response = self.client.send(request, stream=True)
            try:
                self._read(response)
            finally:
                response.close()
        except httpx.TransportError as exc:
            raise self.endpoint.connection_error(exc) from None
        return self.endpoint.completion(response)

    def _read(self, response: httpx.Response) -> None:
        """Read the whole body, up to the endpoint's ``max_response_bytes``."""
        _check_length(response, self.endpoint)
        if not response.is_stream_consumed:
            _set_content(response, b"".join(self.iter_bytes(response)))

    def _open_once(self, body: dict[str, Any]) -> httpx.Response:
        request = self.endpoint.request(self.client, body)
        try:
            response = self.client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise self.endpoint.connection_error(exc) from None
        if response.is_error or not is_event_stream(response):
            try:
                self._read(response)
            except httpx.TransportError as exc:
                raise self.endpoint.connection_error(exc) from None
            finally:
                response.close()
        if response.is_error:
            raise self.endpoint.error(response)
        return response


class AsyncSender:
    """Sends request bodies with an ``httpx.AsyncClient``; one instance serves many
    concurrent calls."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        endpoint: Endpoint,
        policy: RetryPolicy,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.client = client
        self.endpoint = endpoint
        self._policy = policy
        self._sleep = sleep

    async def send(self, body: dict[str, Any]) -> Completion:
        """The completion the API answers ``body`` with, retried as the policy says."""
        return await self._retried(self._send_once, body)

    async def open_stream(self, body: dict[str, Any]) -> httpx.Response:
        """An open streamed response to ``body`` (read whole when it is not an event stream);
        error statuses raise their typed error, retried as the policy says."""
        return await self._retried(self._open_once, body)

    async def _retried(
        self, attempt: Callable[[dict[str, Any]], Awaitable[R]], body: dict[str, Any]
    ) -> R:
        """``await attempt(body)``, handed to tenacity only after a retryable failure."""
        try:
            return await attempt(body)
        except APIError as exc:
            if not is_retryable(exc):
                raise
            failure = exc
        # Concurrent tasks share a thread, so each retried call needs its own AsyncRetrying.
        retrying = self._policy.async_retrying(self._sleep)
        result: R = await retrying(areplaying(failure, attempt), body)
        return result

    async def iter_bytes(self, response: httpx.Response) -> AsyncIterator[bytes]:
        """The body as it arrives, up to the endpoint's ``max_response_bytes``."""
        limit, size = self.endpoint.max_response_bytes, 0
        async for data in _achunks(response):
            size += len(data)
            if size > limit:
                raise self.endpoint.too_large(response)
            yield data

    async def _send_once(self, body: dict[str, Any]) -> Completion:
        request = self.endpoint.request(self.client, body)
        try:
            response = await self.client.send(request, stream=True)
            try:
                await self._read(response)
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            raise self.endpoint.connection_error(exc) from None
        return self.endpoint.completion(response)

    async def _read(self, response: httpx.Response) -> None:
        """Read the whole body, up to the endpoint's ``max_response_bytes``."""
        _check_length(response, self.endpoint)
        if not response.is_stream_consumed:
            _set_content(response, b"".join([data async for data in self.iter_bytes(response)]))

    async def _open_once(self, body: dict[str, Any]) -> httpx.Response:
        request = self.endpoint.request(self.client, body)
        try:
            response = await self.client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise self.endpoint.connection_error(exc) from None
        if response.is_error or not is_event_stream(response):
            try:
                await self._read(response)
            except httpx.TransportError as exc:
                raise self.endpoint.connection_error(exc) from None
            finally:
                await response.aclose()
        if response.is_error:
            raise self.endpoint.error(response)
        return response


def is_event_stream(response: httpx.Response) -> bool:
    """Anything but a JSON content type is read as an event stream, as it arrives (some
    gateways send none, or a wrong one); a JSON one is read whole."""
    content_type = response.headers.get("content-type", "")
    return not content_type.startswith("application/json")


def _chunks(response: httpx.Response) -> Iterator[bytes]:
    if response.is_stream_consumed:  # a body already in memory (httpx.Response(content=...))
        return response.iter_bytes()
    return response.iter_raw() if _is_identity(response) else response.iter_bytes()


def _achunks(response: httpx.Response) -> AsyncIterator[bytes]:
    if response.is_stream_consumed:
        return response.aiter_bytes()
    return response.aiter_raw() if _is_identity(response) else response.aiter_bytes()


def _check_length(response: httpx.Response, endpoint: Endpoint) -> None:
    """Refuse at once a body whose declared length (or, already in memory, whose length) is
    over the bound."""
    if response.is_stream_consumed:
        size = len(response.content)
    else:
        declared = response.headers.get("content-length", "")
        size = int(declared) if declared.isdigit() else 0
    if size > endpoint.max_response_bytes:
        raise endpoint.too_large(response)


def _set_content(response: httpx.Response, content: bytes) -> None:
    """Store a body read in bounded steps where ``response.read()`` would have put it, so that
    ``.content``, ``.text`` and ``.json()`` work as after a plain read."""
    response._content = content


def _is_identity(response: httpx.Response) -> bool:
    """Whether the body is sent as is: then its raw bytes are read without httpx's decoder
    chain, which costs more than the SSE decoding per chunk. (Compressed bodies go through it.)"""
    encoding: str = response.headers.get("content-encoding", "identity")
    return encoding == "identity"
