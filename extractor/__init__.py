"""Typed, validated extraction with LLMs over OpenAI-compatible chat completions.

from extractor import Extractor
person = Extractor().extract(Person, "Ada Lovelace, born 1815 in London")
"""

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

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncExtractor",
    "Attempt",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceeded",
    "CallOptions",
    "ConfigurationError",
    "Cost",
    "ErrorDetail",
    "Extraction",
    "ExtractionError",
    "Extractor",
    "ModelRules",
    "NotFoundError",
    "ParseError",
    "PermissionDeniedError",
    "Price",
    "RateLimitError",
    "RefusalError",
    "ServerError",
    "StreamError",
    "TruncatedError",
    "Usage",
    "ValidationFailed",
    "loads",
]
