"""The HTTP edge: turn a request body into an ``httpx.Request`` and an ``httpx.Response`` into
a `Completion` or a typed `APIError`.

Nothing here sends anything: the senders (`extractor.wire.send`) call their own client's
``send`` and hand the response back, so sync and async share every rule about headers, status
codes and errors. The API key lives in a `Secret`, which no repr shows and which redacts every
text built from a response.

Responses are read up to ``max_response_bytes`` (the senders enforce it): no extraction answer
comes near the default, and a server that sends hundreds of megabytes must not take the
process's memory with it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

import httpx

from ..core.completion import Completion
from ..errors import APIConnectionError, APIError, ConfigurationError
from .api_errors import connection_error, error_from_response
from .decode import load_json, read_completion, request_id
from .secret import Secret, excerpt

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "Endpoint",
    "Secret",
    "resolve_key",
]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# 8 MiB: a 128k-token answer is about half a megabyte, a few with every character escaped;
# a batch job may hold one response per connection in memory.
DEFAULT_MAX_RESPONSE_BYTES = 8 * 2**20


def resolve_key(api_key: str | None) -> Secret | None:
    """The key given, or else the one in the environment; None when there is none."""
    key = api_key or os.environ.get("EXTRACTOR_API_KEY") or os.environ.get("OPENAI_API_KEY")
    # A key file saved with CRLF, or pasted with a newline: the whitespace is not the key.
    key = key.strip() if key else None
    return Secret(key) if key else None


class Endpoint:
    """Where requests go and how they are authenticated.

    The key is resolved at construction but only demanded when a request is built, so that
    an extractor can be created (and its prompts inspected) without one.
    """

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str | None,
        headers: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.base_url = (
            base_url
            or os.environ.get("EXTRACTOR_BASE_URL")
            or os.environ.get("OPENAI_BASE_URL")
            or DEFAULT_BASE_URL
        ).rstrip("/")
        self.url = _join(self.base_url, "/chat/completions")
        self._key = resolve_key(api_key)
        self.max_response_bytes = max_response_bytes
        self._extra_headers = dict(headers or {})
        self._headers: dict[str, str] | None = None
        self._merged: tuple[list[tuple[bytes, bytes]], httpx.Headers] | None = None
        self._clock = clock

    def __repr__(self) -> str:
        return f"Endpoint(url={self.url!r})"

    def headers(self) -> dict[str, str]:
        if self._headers is None:
            if self._key is None:
                raise ConfigurationError(
                    "no API key: set EXTRACTOR_API_KEY (or OPENAI_API_KEY) in the environment, "
                    "or pass api_key= to the extractor."
                )
            if not all("!" <= char <= "~" for char in self._key.value):
                raise ConfigurationError(
                    "the API key contains a space, a control character or a non-ASCII "
                    "character, which no provider's key has and no HTTP header can carry. "
                    "Check the key's source (a key file with stray characters, a copy-paste)."
                )
            self._headers = {
                "Authorization": f"Bearer {self._key.value}",
                "Content-Type": "application/json",
                **self._extra_headers,
            }
        return self._headers

    def request(
        self, client: httpx.Client | httpx.AsyncClient, body: Mapping[str, Any]
    ) -> httpx.Request:
        """The POST of ``body``, as ``client.build_request`` would make it.

        ``build_request`` parses the URL and merges cookies, query parameters and headers on
        every call: a quarter of a mocked call. When the client has no cookies or parameters
        to apply and the URL is absolute (the usual case), the request is built here from the
        URL parsed once and the client's headers merged with ours (again only when the
        client's have changed), which is all it would do.
        """
        try:
            content = json.dumps(body, ensure_ascii=False).encode()
        except UnicodeEncodeError as exc:
            raise ConfigurationError(
                f"the request holds {exc.object[exc.start]!r}, a lone surrogate that is not "
                "valid Unicode and cannot be sent: usually bytes that were not UTF-8, decoded "
                "with errors='surrogateescape' (as sys.stdin and os.environ do). Decode the "
                "input with the right encoding, or with errors='replace'."
            ) from None
        try:
            url = self._parsed_url
            if url.scheme not in ("http", "https") and not (
                url.is_relative_url and str(client.base_url)
            ):
                # httpx would say so only as a connection error, blaming the network.
                raise httpx.InvalidURL(
                    "base_url must start with http:// or https:// "
                    "(a relative one needs an http_client with a base_url)"
                )
            if client.cookies or client.params or url.is_relative_url:
                return client.build_request("POST", url, content=content, headers=self.headers())
            extensions = {"timeout": client.timeout.as_dict()}
            headers = self._merged_headers(client.headers)
        except (httpx.InvalidURL, UnicodeEncodeError) as exc:
            raise ConfigurationError(
                f"cannot build a request to {self.url}: {self.redact(str(exc))}. Check base_url "
                "and headers= (header values must be ASCII)."
            ) from None
        return httpx.Request("POST", url, content=content, headers=headers, extensions=extensions)

    def _merged_headers(self, theirs: httpx.Headers) -> httpx.Headers:
        """The client's headers with ours over them, as ``build_request`` merges them."""
        raw = theirs.raw
        merged = self._merged
        if merged is None or merged[0] != raw:
            headers = httpx.Headers(theirs)
            headers.update(self._parsed_headers)
            merged = self._merged = (raw, headers)
        return merged[1]  # httpx.Request copies it

    @cached_property
    def _parsed_url(self) -> httpx.URL:
        return httpx.URL(self.url)

    @cached_property
    def _parsed_headers(self) -> httpx.Headers:
        return httpx.Headers(self.headers())  # raises, and caches nothing, without a key

    def url_for(self, path: str) -> str:
        """The URL of another endpoint of the same API (``/files``, ``/batches``)."""
        return _join(self.base_url, path)

    @property
    def secret(self) -> Secret | None:
        return self._key

    def redact(self, text: str) -> str:
        """``text`` without the API key in any form."""
        return self._key.redact(text) if self._key is not None else text

    def completion(self, response: httpx.Response) -> Completion:
        """The completion in a (fully read) response, or the typed error it stands for."""
        if response.is_error:
            raise self.error(response)
        rid = request_id(response.headers.raw)
        try:
            payload = load_json(response.content)
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or "choices" not in payload:
            raise APIError(
                f"the server at {self.url} answered {response.status_code} with something that "
                f"is not a chat completion: {excerpt(response.text, 200, self._key)!r}. "
                "Check base_url.",
                status_code=response.status_code,
                request_id=rid,
            )
        completion = read_completion(payload, request_id=rid)
        if completion.content and self._key is not None:
            redacted = self._key.redact(completion.content)
            if redacted is not completion.content:
                completion = dataclasses.replace(completion, content=redacted)
        return completion

    def error(self, response: httpx.Response) -> APIError:
        return error_from_response(response, secret=self._key, clock=self._clock)

    def connection_error(
        self, exc: httpx.TransportError, url: str | None = None
    ) -> APIConnectionError:
        """The typed error for ``exc``, its text redacted. Raise it ``from None``: httpx's
        error can name a header value, and a chained cause would print it unredacted."""
        return connection_error(exc, url or self.url, self._key)

    def too_large(self, response: httpx.Response) -> APIError:
        """The error for a response larger than ``max_response_bytes``."""
        return APIError(
            f"the server at {self.url} sent more than {self.max_response_bytes:,} bytes "
            f"(status {response.status_code}); reading stopped there. No extraction answer is "
            "that large: check the server, or raise max_response_bytes= if it really is.",
            status_code=response.status_code,
            request_id=request_id(response.headers.raw),
        )


def _join(base_url: str, path: str) -> str:
    """``{base_url}{path}``, keeping a query (Azure's ``?api-version=``) after the path."""
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL as exc:
        raise ConfigurationError(f"base_url {base_url!r} is not a URL: {exc}.") from None
    if not url.query:
        return base_url.rstrip("/") + path
    return str(url.copy_with(path=url.path.rstrip("/") + path))
