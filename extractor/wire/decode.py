"""Reading what the chat completions API sends back: a completion object, usage, request ids.

One place for the shapes providers send, so that a whole response (`Endpoint.completion`) and
a stream (`ChunkAssembler`) read them the same way. Providers differ from OpenAI in ways that
matter to a user:

- content may be a list of typed parts (Mistral's reasoning models: ``thinking`` parts, then
  ``text`` parts): the text parts are the answer, the thinking is kept apart;
- reasoning may be billed outside ``completion_tokens`` (xAI, Gemini): ``total_tokens`` is
  then larger than prompt + completion, and the difference is output the user pays for;
- usage may sit in a provider field (Groq streams: ``x_groq.usage``);
- the request id comes under other headers (Azure: ``apim-request-id``);
- error bodies take several shapes: OpenAI's ``{"error": {"message", "type", "code"}}``, the
  flat ``{"object": "error", "message", "type", "code"}`` of Mistral and vLLM,
  ``{"error": "a string"}``, FastAPI's ``{"detail": ...}``, Gemini's list of one error, and
  OpenRouter's, whose real cause sits in ``error.metadata.raw``.

Nothing here trusts the shape of what arrives: a field of the wrong type reads as absent,
never as an exception.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pydantic_core

from ..core.completion import Completion
from ..core.cost import Usage

__all__ = [
    "REQUEST_ID_HEADERS",
    "content_text",
    "describe_error",
    "load_json",
    "read_completion",
    "read_usage",
    "request_id",
    "usage_of",
]

# Where providers put the request id a support ticket asks for, most common first: OpenAI and
# most gateways, Azure OpenAI (its API management layer, then the service), Anthropic-style,
# AWS, and Mistral's gateway.
REQUEST_ID_HEADERS = (
    "x-request-id",
    "apim-request-id",
    "x-ms-request-id",
    "request-id",
    "x-amzn-requestid",
    "x-kong-request-id",
)

_REQUEST_ID_RANKS = {name.encode(): rank for rank, name in enumerate(REQUEST_ID_HEADERS)}
_TEXT_PARTS = frozenset({"text", "output_text"})
_REASONING_PARTS = frozenset({"thinking", "reasoning"})


def load_json(data: str | bytes) -> Any:
    """Parse a JSON document that came over the wire; anything unreadable, nesting too deep
    included, raises ``ValueError``. pydantic-core's parser is three times as fast as
    ``json.loads`` on chunk-sized documents (which matters at thousands of chunks per answer)
    and stops at 200 levels of nesting; it rejects lone surrogate escapes, which ``json.loads``
    accepts, so those documents get a second chance there."""
    try:
        return pydantic_core.from_json(data)
    except ValueError as exc:
        if "recursion limit" in str(exc):
            raise
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


def request_id(raw_headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The request id among a response's raw headers (``response.headers.raw``), by the
    order of `REQUEST_ID_HEADERS`. One pass over the raw pairs: an ``httpx.Headers`` lookup
    decodes every header each time, which six lookups per response would pay six times."""
    found: bytes = b""
    found_rank = len(REQUEST_ID_HEADERS)
    for name, value in raw_headers:
        rank = _REQUEST_ID_RANKS.get(name.lower())
        if rank is not None and rank < found_rank and value:
            found, found_rank = value, rank
    return found.decode("latin-1") if found else None


def usage_of(payload: Mapping[str, Any]) -> Any:
    """The usage object of a completion or chunk, wherever the provider put it."""
    usage = payload.get("usage")
    if not usage:
        groq = payload.get("x_groq")
        usage = groq.get("usage") if isinstance(groq, dict) else None
    return usage


def read_usage(usage: Any) -> Usage:
    """A ``usage`` object; absent, null or unreadable counts are zero.

    ``completion_tokens`` comes out as the billed output: when the provider's total is larger
    than prompt + completion, the difference is reasoning it billed outside
    ``completion_tokens``, and is added to both.
    """
    if not isinstance(usage, dict):
        return Usage()
    prompt = _count(usage.get("prompt_tokens"))
    completion = _count(usage.get("completion_tokens"))
    details = usage.get("completion_tokens_details")
    reasoning = _count(details.get("reasoning_tokens")) if isinstance(details, dict) else 0
    hidden = _count(usage.get("total_tokens")) - prompt - completion
    if hidden > 0:
        completion += hidden
        reasoning = max(reasoning, hidden)
    details = usage.get("prompt_tokens_details")
    cached = _count(details.get("cached_tokens")) if isinstance(details, dict) else 0
    if not cached:
        cached = _count(usage.get("prompt_cache_hit_tokens"))  # DeepSeek
    return Usage(prompt, completion, min(cached, prompt), min(reasoning, completion))


def content_text(content: Any) -> tuple[str | None, str | None]:
    """Message (or delta) content as ``(answer text, reasoning text)``.

    A string is the answer. A list of typed parts gives its ``text`` parts as the answer and
    its ``thinking`` parts as the reasoning; other parts (images, citations) are not text to
    parse. A lone part (an object) is read as a list of one. Anything else is no answer.
    """
    if isinstance(content, str):
        return content, None
    if isinstance(content, Mapping):
        content = [content]
    if not isinstance(content, list):
        return None, None
    texts: list[str] = []
    reasoning: list[str] = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, Mapping):
            kind = part.get("type")
            if kind in _TEXT_PARTS and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif kind in _REASONING_PARTS:
                inner = part.get(kind)
                if inner is None:
                    inner = part.get("text")
                text, _ = content_text(inner)
                if text:
                    reasoning.append(text)
    return ("".join(texts) if texts else None), ("".join(reasoning) if reasoning else None)


def read_completion(payload: Any, request_id: str | None = None) -> Completion:
    """The first choice of a ``chat.completion`` object. The answer is the message content, or
    the arguments of the first tool call when there is one (tools mode)."""
    payload = _mapping(payload)
    choices = payload.get("choices")
    choice = _mapping(choices[0]) if isinstance(choices, list) and choices else {}
    message = _mapping(choice.get("message"))
    content: Any = message.get("content")
    reasoning = None
    if not isinstance(content, str):
        content, reasoning = content_text(content)
    if reasoning is None:  # DeepSeek, vLLM and OpenRouter put it in a field of its own
        reasoning = _string(message.get("reasoning_content")) or _string(message.get("reasoning"))
    tool_call_id = None
    tool_calls = message.get("tool_calls")
    if isinstance(tool_calls, list) and tool_calls:
        call = _mapping(tool_calls[0])
        tool_call_id = _string(call.get("id"))
        content = _string(_mapping(call.get("function")).get("arguments"))
    return Completion(
        content=content,
        finish_reason=_string(choice.get("finish_reason")),
        usage=read_usage(usage_of(payload)),
        refusal=_string(message.get("refusal")),
        request_id=request_id or _string(payload.get("id")),
        tool_call_id=tool_call_id,
        reasoning=reasoning,
    )


def describe_error(error: object) -> tuple[str, str | None]:
    """The message and code of an error body (or an error event's payload), in any shape."""
    if isinstance(error, list) and error:  # Gemini: a list of one error body
        error = error[0]
    if not isinstance(error, Mapping):
        return _text(error), None
    inner = error.get("error")
    if isinstance(inner, Mapping):
        message, code = describe_error(inner)
        return message, code or _code(error)
    if isinstance(inner, str) and inner:
        return inner, _code(error)
    for field in ("message", "detail", "msg"):
        value = error.get(field)
        if value:
            message = _text(value)
            break
    else:
        message = _text(error)
    metadata = error.get("metadata")
    raw = metadata.get("raw") if isinstance(metadata, Mapping) else None
    if raw:  # OpenRouter: the upstream provider's own words
        provider = metadata.get("provider_name") if isinstance(metadata, Mapping) else None
        message += f" ({provider or 'upstream'} said: {_text(raw)})"
    return message, _code(error)


def _code(error: Mapping[str, object]) -> str | None:
    for field in ("code", "type", "status"):
        value = error.get(field)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and value != "":
            return str(value)
    return None


def _text(value: object) -> str:
    """A message as text: strings as they are, a list of FastAPI-style problems one per
    line, anything else as JSON."""
    if isinstance(value, str):
        return value or "no details given"
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        return "; ".join(_problem(v) for v in value)
    if value is None:
        return "no details given"
    return json.dumps(value, ensure_ascii=False, default=str)


def _problem(problem: Mapping[str, object]) -> str:
    message = problem.get("msg") or problem.get("message")
    if not isinstance(message, str):
        return json.dumps(problem, ensure_ascii=False, default=str)
    location = problem.get("loc")
    if isinstance(location, list):
        return ".".join(str(part) for part in location) + f": {message}"
    return message


_EMPTY: Mapping[str, Any] = {}


def _mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is an object (JSON gives dicts), else an empty one."""
    return value if isinstance(value, dict) else _EMPTY


def _string(value: Any) -> str | None:
    """A non-empty string, else None (``"id": ""`` is no id)."""
    return value if isinstance(value, str) and value else None


def _count(value: Any) -> int:
    """A token count; anything that is not a non-negative number counts as zero."""
    if type(value) is int:
        return value if value > 0 else 0
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return 0
    try:
        count = int(value)
    except (ValueError, OverflowError):
        return 0
    return max(count, 0)
