"""The HTTP edge: turn a request body into an ``httpx.Request`` and an ``httpx.Response`` into
a `Completion` or a typed `APIError`.

Nothing here sends anything: the sync and async drivers call their own client's ``send`` and
hand the response back, so both share every rule about headers, status codes and errors.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ..core.completion import Completion
from ..errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

__all__ = ["DEFAULT_BASE_URL", "Endpoint", "connection_error", "error_from_response"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"

_STATUS_ERRORS: Mapping[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: ServerError,
    409: ServerError,
    422: BadRequestError,
    429: RateLimitError,
}

_HINTS: Mapping[type[APIError], str] = {
    AuthenticationError: "Check the API key (EXTRACTOR_API_KEY, OPENAI_API_KEY or api_key=).",
    PermissionDeniedError: "This key may not use this model or endpoint.",
    NotFoundError: "Check base_url and the model name.",
    BadRequestError: "The server rejected the request; gateway-specific parameter rules can "
    "be set with rules=ModelRules(...), extra fields with extra_body=.",
    RateLimitError: "Slow down: lower concurrency, or set requests/tokens per minute limits.",
    ServerError: "The provider is failing; try again later.",
}


class _Secret:
    """Holds the API key so that no repr, log line or traceback variable dump shows it."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<secret>"

    def redact(self, text: str) -> str:
        return text.replace(self.value, "<secret>") if self.value else text


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
        key = api_key or os.environ.get("EXTRACTOR_API_KEY") or os.environ.get("OPENAI_API_KEY")
        self._key = _Secret(key) if key else None
        self._extra_headers = dict(headers or {})
        self._headers: dict[str, str] | None = None
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
        content = json.dumps(body, ensure_ascii=False).encode()
        return client.build_request("POST", self.url, content=content, headers=self.headers())

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
        return Completion.from_payload(payload, request_id=response.headers.get("x-request-id"))

    def error(self, response: httpx.Response) -> APIError:
        return error_from_response(response, secret=self._key, clock=self._clock)


def error_from_response(
    response: httpx.Response,
    *,
    secret: _Secret | None = None,
    clock: Callable[[], float] = time.time,
) -> APIError:
    """The typed error for an error response (its body must have been read)."""
    status = response.status_code
    message, code = _error_body(response)
    if secret is not None:
        message = secret.redact(message)
    cls = _STATUS_ERRORS.get(status) or (ServerError if status >= 500 else APIError)
    request_id = response.headers.get("x-request-id")
    hint = _HINTS.get(cls, "")
    if cls is RateLimitError and code == "insufficient_quota":
        hint = "The account is out of quota: add credit or use another key."
    text = f"{status} {response.reason_phrase or ''}".strip() + f": {message}"
    if code:
        text += f" (code: {code})"
    if request_id:
        text += f" [request id: {request_id}]"
    should_retry = response.headers.get("x-should-retry")
    return cls(
        f"{text}. {hint}".rstrip(),
        status_code=status,
        code=code,
        request_id=request_id,
        retry_after=retry_after(response.headers, clock()),
        should_retry=None if should_retry is None else should_retry.lower() == "true",
    )


def _error_body(response: httpx.Response) -> tuple[str, str | None]:
    try:
        payload = response.json()
    except ValueError:
        return (response.text.strip()[:500] or "no details given"), None
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        code = error.get("code") or error.get("type")
        return str(error.get("message") or "no details given"), None if code is None else str(code)
    if isinstance(error, str):
        return error, None
    return json.dumps(payload)[:500], None


def retry_after(headers: httpx.Headers, now: float) -> float | None:
    """Seconds the server asked us to wait: ``retry-after-ms``, then ``retry-after`` as
    seconds or as an HTTP date. None when it did not say (or said something unreadable)."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


def connection_error(exc: httpx.TransportError, url: str) -> APIConnectionError:
    """The typed error for a request that got no answer."""
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(
            f"the request to {url} timed out ({type(exc).__name__}). Raise timeout= or try "
            "again later."
        )
    return APIConnectionError(
        f"could not reach {url}: {type(exc).__name__}: {exc or 'connection failed'}. Check the "
        "network and base_url."
    )
