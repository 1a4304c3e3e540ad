"""The OpenAI chat completions wire format as a server writes it, built in one place.

The fake model, the project's tests (respx responses and the loopback server) and the
benchmarks all answer with these payloads, so when the API changes a habit (a new field, a
chunk order) it is changed here once and every fake follows. Reading a stream back for an
assertion goes through the library's own `SSEDecoder`: a test never passes on a laxer parser
than the one users run.

Payloads are plain dicts, as ``json.loads`` of the real response gives them:

- `completion`: a ``chat.completion`` (content, refusal or a tool call; finish reason; usage
  with its cached and reasoning details);
- `chunk`, `usage_chunk`, `chunks`: ``chat.completion.chunk`` objects, and the whole series
  a stream sends (role chunk, deltas, finish chunk, usage-only chunk with empty ``choices``);
- `error_body`: ``{"error": {message, type, param, code}}`` with the type and code the API
  uses for an HTTP status;
- `sse_events`, `sse`: ``data: ...`` framing, ``[DONE]`` included; `read_events`,
  `read_chunks`, `streamed_content`: the same, read back;
- `Answer`: what a fake model says to one request, put on the wire for that request (its
  model, its forced tool, whether it asked for stream usage) with usage estimated the way
  ``extractor estimate`` counts tokens.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..core.cost import Usage
from ..core.tokens import MESSAGE_OVERHEAD, estimate_tokens
from ..wire.sse import SSEDecoder
from .exchange import message_text

__all__ = [
    "DEFAULT_USAGE",
    "Answer",
    "chunk",
    "chunks",
    "completion",
    "error_body",
    "read_chunks",
    "read_events",
    "sse",
    "sse_events",
    "streamed_content",
    "usage_chunk",
    "usage_object",
]

#: Usage of payloads built without one: round figures a test can sum by hand.
DEFAULT_USAGE = Usage(prompt_tokens=120, completion_tokens=30)
_ID = "chatcmpl-abc"
_MODEL = "gpt-5.1"
_CREATED = 1_764_045_000
_FINGERPRINT = "fp_fake"
_DONE = "[DONE]"

# What the API puts in "type" and "code" for an HTTP status (500 and above: server_error).
_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "model_not_found"),
    408: ("timeout", None),
    409: ("conflict", None),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}


# -- chat.completion -----------------------------------------------------------------------


def usage_object(usage: Usage = DEFAULT_USAGE) -> dict[str, Any]:
    """The ``usage`` object, details included: what ``wire.decode.read_usage`` reads."""
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _call_id(completion_id: str) -> str:
    return "call_" + completion_id.removeprefix("chatcmpl-")


def completion(
    content: str | None = None,
    *,
    refusal: str | None = None,
    tool: str | None = None,
    finish_reason: str = "stop",
    usage: Usage = DEFAULT_USAGE,
    id: str = _ID,
    model: str = _MODEL,
    created: int = _CREATED,
) -> dict[str, Any]:
    """A ``chat.completion`` with one choice. With ``tool`` (a function name), ``content`` is
    sent as the arguments of a call to it, and the message content is null."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": content,
        "refusal": refusal,
        "annotations": [],
    }
    if tool is not None and content is not None:
        message["content"] = None
        message["tool_calls"] = [
            {
                "id": _call_id(id),
                "type": "function",
                "function": {"name": tool, "arguments": content},
            }
        ]
    return {
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
        ],
        "usage": usage_object(usage),
        "service_tier": "default",
        "system_fingerprint": _FINGERPRINT,
    }


# -- chat.completion.chunk -----------------------------------------------------------------


def chunk(
    delta: Mapping[str, Any] | None = None,
    finish_reason: str | None = None,
    *,
    include_usage: bool = True,
    id: str = _ID,
    model: str = _MODEL,
    created: int = _CREATED,
) -> dict[str, Any]:
    """One ``chat.completion.chunk`` carrying ``delta`` for choice 0. ``include_usage``: the
    request asked for stream usage, so every chunk has ``"usage": null`` until the last."""
    payload: dict[str, Any] = {
        "id": id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "system_fingerprint": _FINGERPRINT,
        "choices": [
            {
                "index": 0,
                "delta": dict(delta or {}),
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
    }
    if include_usage:
        payload["usage"] = None
    return payload


def usage_chunk(
    usage: Usage = DEFAULT_USAGE, *, id: str = _ID, model: str = _MODEL, created: int = _CREATED
) -> dict[str, Any]:
    """The last chunk of a stream that asked for usage: empty ``choices``, the usage."""
    return {
        "id": id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "system_fingerprint": _FINGERPRINT,
        "choices": [],
        "usage": usage_object(usage),
    }


def chunks(
    content: str | None = None,
    *,
    refusal: str | None = None,
    tool: str | None = None,
    size: int = 8,
    finish_reason: str | None = "stop",
    usage: Usage | None = DEFAULT_USAGE,
    include_usage: bool = True,
    id: str = _ID,
    model: str = _MODEL,
    created: int = _CREATED,
) -> list[dict[str, Any]]:
    """The chunks of one streamed answer, in the order the API sends them: the role chunk,
    ``refusal`` then ``content`` in deltas of ``size`` characters (``content`` as the
    arguments of a call to ``tool`` when given), the chunk with ``finish_reason`` and the
    usage-only chunk. ``finish_reason=None`` leaves out the finish chunk and ``usage=None`` the
    usage chunk: a stream that stops early. ``include_usage=False``: the request did not ask
    for usage, so there is no ``usage`` key and no usage chunk. Frame them with `sse`."""
    ids: dict[str, Any] = {"id": id, "model": model, "created": created}
    calling = tool is not None and content is not None
    role = {
        "role": "assistant",
        "content": "" if content is not None and not calling else None,
        "refusal": "" if refusal is not None else None,
    }
    out = [chunk(role, include_usage=include_usage, **ids)]
    out += [
        chunk({"refusal": part}, include_usage=include_usage, **ids)
        for part in _split(refusal or "", size)
    ]
    if calling:
        head = {"index": 0, "id": _call_id(id), "type": "function"}
        deltas: list[dict[str, Any]] = [
            {"tool_calls": [{**head, "function": {"name": tool, "arguments": ""}}]}
        ]
        deltas += [
            {"tool_calls": [{"index": 0, "function": {"arguments": part}}]}
            for part in _split(content or "", size)
        ]
    else:
        deltas = [{"content": part} for part in _split(content or "", size)]
    out += [chunk(delta, include_usage=include_usage, **ids) for delta in deltas]
    if finish_reason is not None:
        out.append(chunk({}, finish_reason, include_usage=include_usage, **ids))
    if usage is not None and include_usage:
        out.append(usage_chunk(usage, **ids))
    return out


def _split(text: str, size: int) -> list[str]:
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)]


# -- errors --------------------------------------------------------------------------------


def error_body(
    status: int,
    message: str,
    *,
    type: str | None = None,
    param: str | None = None,
    code: str | None = None,
) -> dict[str, dict[str, Any]]:
    """``{"error": {message, type, param, code}}`` as the API sends it with HTTP ``status``,
    ``type`` and ``code`` defaulting to what it uses for that status. Also the event a stream
    that fails midway sends under HTTP 200 (pass 500 for a server error)."""
    default_type, default_code = _ERROR_TYPES.get(
        status, ("server_error", None) if status >= 500 else ("invalid_request_error", None)
    )
    error = {
        "message": message,
        "type": type or default_type,
        "param": param,
        "code": code if code is not None else default_code,
    }
    return {"error": error}


# -- server-sent events --------------------------------------------------------------------


def sse_events(events: Iterable[Mapping[str, Any] | str], *, done: bool = True) -> list[bytes]:
    """Each event framed as ``data: <json>`` and a blank line, one ``bytes`` per event (one
    network read each, as the API sends them); then ``data: [DONE]`` unless ``done=False``.
    A ``str`` event is sent as it is."""
    framed = [
        f"data: {event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)}\n\n"
        for event in events
    ]
    if done:
        framed.append(f"data: {_DONE}\n\n")
    return [event.encode() for event in framed]


def sse(events: Iterable[Mapping[str, Any] | str], *, done: bool = True) -> bytes:
    """The whole event-stream body: `sse_events` joined."""
    return b"".join(sse_events(events, done=done))


def read_events(raw: bytes) -> list[str]:
    """The ``data`` of each event of an event-stream body, in order (``[DONE]`` included),
    decoded by the library's own `SSEDecoder`."""
    decoder = SSEDecoder()
    return [event.data for event in [*decoder.feed(raw), *decoder.close()]]


def read_chunks(raw: bytes) -> list[dict[str, Any]]:
    """The JSON events of a complete stream, ``[DONE]`` left out. AssertionError when the
    stream does not end with ``[DONE]``: read a cut stream with `read_events`."""
    events = read_events(raw)
    assert events and events[-1] == _DONE, f"the stream does not end with [DONE]: {events[-1:]}"
    return [json.loads(event) for event in events[:-1]]


def streamed_content(raw: bytes) -> str:
    """The message content a complete stream delivered, its deltas joined."""
    return "".join(
        choice["delta"].get("content") or ""
        for payload in read_chunks(raw)
        for choice in payload["choices"]
        if choice.get("index", 0) == 0
    )


# -- answering a request -------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What a fake model says to one request, before it is put on the wire.

    The request decides the rest, as it does for the real API: the model named, the tool the
    answer is a call to (the forced ``tool_choice``, else the only tool), the finish reason
    of a tool call, and for a stream whether usage is sent. ``usage=None`` estimates it:
    prompt tokens of each message's text plus ``MESSAGE_OVERHEAD`` per message, and of the
    tools and response format; completion tokens of the answer (``estimate_tokens``).
    """

    content: str | None = None
    refusal: str | None = None
    finish_reason: str = "stop"
    usage: Usage | None = None

    def usage_for(self, request: Mapping[str, Any]) -> Usage:
        if self.usage is not None:
            return self.usage
        messages = request.get("messages")
        prompt = sum(
            estimate_tokens(message_text(message)) + MESSAGE_OVERHEAD
            for message in (messages if isinstance(messages, list) else [])
            if isinstance(message, dict)
        )
        prompt += sum(
            estimate_tokens(json.dumps(request[extra], ensure_ascii=False))
            for extra in ("tools", "response_format")
            if extra in request
        )
        answer = (self.content or "") + (self.refusal or "")
        return Usage(prompt_tokens=prompt, completion_tokens=estimate_tokens(answer))

    def completion(self, request: Mapping[str, Any], *, id: str, created: int) -> dict[str, Any]:
        """The ``chat.completion`` for ``request``."""
        return completion(
            self.content,
            refusal=self.refusal,
            tool=_tool(request),
            finish_reason=self._finish_reason(request),
            usage=self.usage_for(request),
            id=id,
            model=_model(request),
            created=created,
        )

    def chunks(
        self,
        request: Mapping[str, Any],
        *,
        id: str,
        created: int,
        size: int,
        cut_after: int | None = None,
    ) -> list[dict[str, Any]]:
        """The chunks streamed for ``request``. ``cut_after``: the stream stops after that
        many characters of the content, with no finish reason and no usage."""
        options = request.get("stream_options")
        cut = cut_after is not None
        return chunks(
            (self.content or "")[:cut_after] if cut else self.content,
            refusal=self.refusal,
            tool=_tool(request),
            size=size,
            finish_reason=None if cut else self._finish_reason(request),
            usage=None if cut else self.usage_for(request),
            include_usage=isinstance(options, dict) and options.get("include_usage") is True,
            id=id,
            model=_model(request),
            created=created,
        )

    def _finish_reason(self, request: Mapping[str, Any]) -> str:
        if self.finish_reason == "stop" and self.content is not None and _tool(request):
            # A forced tool_choice finishes with "stop"; an optional tool call with "tool_calls".
            return "stop" if isinstance(request.get("tool_choice"), dict) else "tool_calls"
        return self.finish_reason


def _model(request: Mapping[str, Any]) -> str:
    model = request.get("model")
    return model if isinstance(model, str) and model else _MODEL


def _tool(request: Mapping[str, Any]) -> str | None:
    """The function the model must call: the forced ``tool_choice``, else the only tool."""
    choice = request.get("tool_choice")
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        if isinstance(name, str):
            return name
    tools = request.get("tools")
    if isinstance(tools, list) and tools and choice != "none":
        name = ((tools[0] or {}).get("function") or {}).get("name")
        if isinstance(name, str):
            return name
    return None
