"""Every error the library raises, in one hierarchy.

    ExtractionError
    ├── ConfigurationError        the call cannot be made as configured (no key, bad target...)
    │   ├── InputError                a batch input cannot be read at all
    │   └── OutputError               a batch output file cannot be used
    ├── JobAborted                a batch job stopped on an error no record can get past
    ├── ParseError                the model's answer is not JSON, even after repair
    ├── ValidationFailed          re-asks are spent and the answer still does not conform
    ├── RefusalError              the model refused, or the content filter stopped it
    ├── TruncatedError            the answer was cut off by the token limit
    ├── BudgetExceeded            the next attempt would exceed the call's cost or token budget
    ├── ChunkFailed               a chunk of a long text failed; .partial has what the rest found
    └── APIError                  the API answered with an error, or could not be reached
        ├── BadRequestError           400 / 422
        ├── AuthenticationError       401
        ├── PermissionDeniedError     403
        ├── NotFoundError             404
        ├── RateLimitError            429
        ├── ServerError               5xx (and 408 / 409 once retries are spent)
        ├── StreamError               an error event or a broken stream under HTTP 200
        └── APIConnectionError        the request never got an answer
            └── APITimeoutError

Errors raised after money was spent carry what was spent: ``usage``, ``cost`` and
``attempts`` are filled in by the extraction loop before the error leaves the library, so a
batch job can account for a failed record exactly as for a successful one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .core.result import ErrorDetail

if TYPE_CHECKING:
    from .core.cost import Cost, Usage
    from .core.result import Attempt, ChunkFailure, Extraction

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceeded",
    "ChunkFailed",
    "ConfigurationError",
    "ErrorDetail",
    "ExtractionError",
    "InputError",
    "JobAborted",
    "NotFoundError",
    "OutputError",
    "ParseError",
    "PermissionDeniedError",
    "RateLimitError",
    "RefusalError",
    "ServerError",
    "StreamError",
    "TruncatedError",
    "ValidationFailed",
]


class ExtractionError(Exception):
    """Base of every error raised by extractor."""

    usage: Usage | None = None
    cost: Cost | None = None
    attempts: Sequence[Attempt] = ()

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(ExtractionError):
    """The call cannot be made as configured; nothing was sent."""


class InputError(ConfigurationError):
    """A batch input cannot be read at all (missing file, CSV without the text column);
    nothing was written."""


class OutputError(ConfigurationError):
    """A batch output file cannot be used (not JSONL, not writable); nothing was written."""


class JobAborted(ExtractionError):
    """A batch job stopped on an error no record can get past (bad key, no quota, unknown
    model): ``error`` is that error. The records done so far are kept."""

    def __init__(self, error: ExtractionError) -> None:
        super().__init__(str(error))
        self.error = error


class ParseError(ExtractionError):
    """Text that is not JSON, even after the lenient parser's repairs.

    ``position`` is the character offset where parsing gave up.
    """

    def __init__(self, message: str, *, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


class ValidationFailed(ExtractionError):
    """Every attempt was answered, but none conformed to the target."""

    def __init__(
        self, message: str, *, errors: Sequence[ErrorDetail] = (), raw: str | None = None
    ) -> None:
        super().__init__(message)
        self.errors = list(errors)
        self.raw = raw


class RefusalError(ExtractionError):
    """The model refused to answer (``message.refusal`` or ``finish_reason: content_filter``).

    Re-asking a refusal rarely helps and always costs, so it is raised at once.
    """

    def __init__(self, message: str, *, refusal: str | None = None) -> None:
        super().__init__(message)
        self.refusal = refusal


class TruncatedError(ExtractionError):
    """The answer hit the token limit (``finish_reason: length``); ``partial`` is what came."""

    def __init__(self, message: str, *, partial: str = "") -> None:
        super().__init__(message)
        self.partial = partial


class BudgetExceeded(ExtractionError):
    """The call's ``max_cost`` or token budget would be exceeded by another attempt."""


class ChunkFailed(ExtractionError):
    """A text extracted in chunks had chunks that failed after their retries.

    ``failures`` says which (`ChunkFailure`: index, character range, the chunk's own error);
    ``partial`` is the `Extraction` of what the other chunks found, merged and validated (None
    when nothing was found or it does not validate on its own). Nothing is dropped silently:
    pass ``partial_ok=True`` to get the partial extraction returned, failures listed, instead.
    """

    def __init__(
        self,
        message: str,
        *,
        failures: Sequence[ChunkFailure] = (),
        partial: Extraction[Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.failures = list(failures)
        self.partial = partial


class APIError(ExtractionError):
    """The API answered with an error status, or could not be reached.

    ``status_code``, ``code`` and ``request_id`` come from the response when there was one;
    ``retry_after`` is the server's requested delay in seconds, when it gave one.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        should_retry: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.request_id = request_id
        self.retry_after = retry_after
        self.should_retry = should_retry


class BadRequestError(APIError):
    """400 or 422: the server rejected the request's content."""


class AuthenticationError(APIError):
    """401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(APIError):
    """403: the key is valid but may not use this model or endpoint."""


class NotFoundError(APIError):
    """404: wrong ``base_url`` or model name."""


class RateLimitError(APIError):
    """429: too many requests or tokens, or the account is out of quota."""


class ServerError(APIError):
    """5xx, 408 or 409 that outlasted the transport retries."""


class StreamError(APIError):
    """An error event inside a 200 stream, or a stream that ended before it finished."""


class APIConnectionError(APIError):
    """The request got no answer: DNS, refused or dropped connection, TLS."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""
