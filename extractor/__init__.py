"""Typed, validated extraction with LLMs over OpenAI-compatible chat completions.

from extractor import Extractor
person = Extractor().extract(Person, "Ada Lovelace, born 1815 in London")
"""

from .batch import RecordResult
from .client import AsyncExtractor, Extractor
from .cost import Cost, Price, Usage
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BudgetExceeded,
    ConfigurationError,
    ErrorDetail,
    ExtractionError,
    NotFoundError,
    ParseError,
    PermissionDeniedError,
    RateLimitError,
    RefusalError,
    ServerError,
    StreamError,
    TruncatedError,
    ValidationFailed,
)
from .parse import loads
from .request import CallOptions, ModelRules
from .result import Attempt, Extraction
from .stream import (
    AsyncExtractionStream,
    Done,
    ExtractionStream,
    ItemEvent,
    ItemInvalid,
    ItemReady,
    Restart,
    Snapshot,
    StreamEvent,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncExtractionStream",
    "AsyncExtractor",
    "Attempt",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceeded",
    "CallOptions",
    "ConfigurationError",
    "Cost",
    "Done",
    "ErrorDetail",
    "Extraction",
    "ExtractionError",
    "ExtractionStream",
    "Extractor",
    "ItemEvent",
    "ItemInvalid",
    "ItemReady",
    "ModelRules",
    "NotFoundError",
    "ParseError",
    "PermissionDeniedError",
    "Price",
    "RateLimitError",
    "RecordResult",
    "RefusalError",
    "Restart",
    "ServerError",
    "Snapshot",
    "StreamError",
    "StreamEvent",
    "TruncatedError",
    "Usage",
    "ValidationFailed",
    "loads",
]
