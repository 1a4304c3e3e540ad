"""The HTTP edge: turn a request body into an ``httpx.Request`` and an ``httpx.Response`` into
a `Completion` or a typed `APIError`.

Nothing here sends anything: the senders (`extractor.wire.send`) call their own client's
``send`` and hand the response back, so sync and async share every rule about headers, status
codes and errors. The API key lives in a `Secret`, which no repr shows.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

import httpx

from ..core.completion import Completion
from ..errors import APIError, ConfigurationError
from .api_errors import error_from_response
from .decode import read_completion
from .secret import Secret

__all__ = ["DEFAULT_BASE_URL", "Endpoint", "Secret", "resolve_key"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def resolve_key(api_key: str | None) -> Secret | None:
    """The key given, or else the one in the environment; None when there is none."""
    key = api_key or os.environ.get("EXTRACTOR_API_KEY") or os.environ.get("OPENAI_API_KEY")
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
    ) -> None:
        base_url = (
            base_url
            or os.environ.get("EXTRACTOR_BASE_URL")
            or os.environ.get("OPENAI_BASE_URL")
            or DEFAULT_BASE_URL
        )
        self.url = base_url.rstrip("/") + "/chat/completions"
        self._key = resolve_key(api_key)
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
        content = json.dumps(body, ensure_ascii=False).encode()
        url = self._parsed_url
        if client.cookies or client.params or url.is_relative_url:
            return client.build_request("POST", url, content=content, headers=self.headers())
        extensions = {"timeout": client.timeout.as_dict()}
        headers = self._merged_headers(client.headers)
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

    def completion(self, response: httpx.Response) -> Completion:
        """The completion in a (fully read) response, or the typed error it stands for."""
        if response.is_error:
            raise self.error(response)
        try:
            payload = json.loads(response.content)
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or "choices" not in payload:
            raise APIError(
                f"the server at {self.url} answered {response.status_code} with something that "
                f"is not a chat completion: {response.text[:200]!r}. Check base_url.",
                status_code=response.status_code,
                request_id=response.headers.get("x-request-id"),
            )
        return read_completion(payload, request_id=response.headers.get("x-request-id"))

    def error(self, response: httpx.Response) -> APIError:
        return error_from_response(response, secret=self._key, clock=self._clock)
