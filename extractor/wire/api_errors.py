"""Errors from responses: an HTTP error status, or a request that got no answer, turned into
the library's typed `APIError`, with the server's own message, code, request id and requested
delay (``retry-after``).

Error bodies come in several shapes (`extractor.wire.decode.describe_error` reads them).
Every text taken from a body or a transport error is redacted before it is cut to length.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

import httpx

from ..errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from .decode import describe_error, load_json, request_id
from .secret import Secret, excerpt

__all__ = ["connection_error", "error_from_response", "retry_after"]

_MESSAGE_LIMIT = 500

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


def error_from_response(
    response: httpx.Response,
    *,
    secret: Secret | None = None,
    clock: Callable[[], float] = time.time,
) -> APIError:
    """The typed error for an error response (its body must have been read)."""
    status = response.status_code
    message, code = _error_body(response)
    message = excerpt(message, _MESSAGE_LIMIT, secret)
    if code is not None:
        code = excerpt(code, 100, secret)
    cls = _STATUS_ERRORS.get(status) or (ServerError if status >= 500 else APIError)
    rid = request_id(response.headers.raw)
    hint = _HINTS.get(cls, "")
    if cls is RateLimitError and code == "insufficient_quota":
        hint = "The account is out of quota: add credit or use another key."
    text = f"{status} {response.reason_phrase or ''}".strip() + f": {message}"
    if code:
        text += f" (code: {code})"
    if rid:
        text += f" [request id: {rid}]"
    should_retry = response.headers.get("x-should-retry")
    return cls(
        f"{text}. {hint}".rstrip(),
        status_code=status,
        code=code,
        request_id=rid,
        retry_after=retry_after(response.headers, clock()),
        should_retry=None if should_retry is None else should_retry.lower() == "true",
    )


def _error_body(response: httpx.Response) -> tuple[str, str | None]:
    try:
        payload = load_json(response.content)
    except ValueError:
        return (response.text.strip() or "no details given"), None
    return describe_error(payload)


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


def connection_error(
    exc: httpx.TransportError, url: str, secret: Secret | None = None
) -> APIConnectionError:
    """The typed error for a request that got no answer (httpx's own text is redacted: it
    can quote a header value)."""
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(
            f"the request to {url} timed out ({type(exc).__name__}). Raise timeout= or try "
            "again later."
        )
    cause = excerpt(str(exc) or "connection failed", _MESSAGE_LIMIT, secret)
    return APIConnectionError(
        f"could not reach {url}: {type(exc).__name__}: {cause}. Check the network and base_url."
    )
