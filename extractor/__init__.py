"""Typed, validated extraction with LLMs over OpenAI-compatible chat completions.

from extractor import Extractor
person = Extractor().extract(Person, "Ada Lovelace, born 1815 in London")

The public API is what ``extractor.__all__`` and ``extractor.testing.__all__`` list (pinned by
tests/test_public_api.py). The subpackages (``core``, ``wire``, ``jobs``) and every other
module are internal: importable, documented for contributors in docs/architecture.md, and
free to change between releases.

Only the errors, costs and results load with the package; every other public name loads on
first use (`__getattr__` below). ``import extractor`` is then cheap for what needs no client
(the pytest plugin, ``except extractor.ExtractionError``, the CLI's ``--help``), and
``from extractor import Extractor`` loads the client without the stream machinery,
``extract_many``, the lenient parser, asyncio, tenacity or jsonschema, which load when a call
first needs them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .core.cost import Cost, Usage
from .core.prices import Price
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
from .wire.rules import ModelRules

if TYPE_CHECKING:
    from .client import AsyncExtractor, Extractor, ExtractorOptions
    from .core.options import CallOptions
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

#: Public names loaded on first use, and the module each comes from.
_LAZY = {
    "AsyncExtractor": ".client",
    "Extractor": ".client",
    "ExtractorOptions": ".client",
    "CallOptions": ".core.options",
    "inferred": ".grounding",
    "render_html": ".grounding",
    "RecordResult": ".many",
    "loads": ".parse",
    "AsyncExtractionStream": ".streaming",
    "Done": ".streaming",
    "ExtractionStream": ".streaming",
    "ItemEvent": ".streaming",
    "ItemInvalid": ".streaming",
    "ItemReady": ".streaming",
    "Restart": ".streaming",
    "Snapshot": ".streaming",
    "StreamEvent": ".streaming",
}

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


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'extractor' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
