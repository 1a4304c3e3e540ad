"""Typed, validated extraction with LLMs over OpenAI-compatible chat completions.

from extractor import Extractor
person = Extractor().extract(Person, "Ada Lovelace, born 1815 in London")

The public API is what ``extractor.__all__`` and ``extractor.testing.__all__`` list (pinned by
tests/test_public_api.py). The subpackages (``core``, ``wire``, ``jobs``) and every other
module are internal: importable, documented for contributors in docs/architecture.md, and
free to change between releases.
"""

from .client import AsyncExtractor, Extractor, ExtractorOptions
from .core.cost import Cost, Price, Usage
from .core.options import CallOptions
from .core.result import Attempt, ChunkFailure, Conflict, Extraction, Span
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BudgetExceeded,
    ChunkFailed,
    ConfigurationError,
    ErrorDetail,
    ExtractionError,
    InputError,
    JobAborted,
    NotFoundError,
    OutputError,
    ParseError,
    PermissionDeniedError,
    RateLimitError,
    RefusalError,
    ServerError,
    StreamError,
    TruncatedError,
    ValidationFailed,
)
from .grounding import inferred, render_html
from .many import RecordResult
from .parse import loads
from .streaming import (
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
from .wire.rules import ModelRules

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
    "ChunkFailed",
    "ChunkFailure",
    "ConfigurationError",
    "Conflict",
    "Cost",
    "Done",
    "ErrorDetail",
    "Extraction",
    "ExtractionError",
    "ExtractionStream",
    "Extractor",
    "ExtractorOptions",
    "InputError",
    "ItemEvent",
    "ItemInvalid",
    "ItemReady",
    "JobAborted",
    "ModelRules",
    "NotFoundError",
    "OutputError",
    "ParseError",
    "PermissionDeniedError",
    "Price",
    "RateLimitError",
    "RecordResult",
    "RefusalError",
    "Restart",
    "ServerError",
    "Snapshot",
    "Span",
    "StreamError",
    "StreamEvent",
    "TruncatedError",
    "Usage",
    "ValidationFailed",
    "inferred",
    "loads",
    "render_html",
]
