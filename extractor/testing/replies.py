"""Scripted answers of the fake model, and the OpenAI wire format they are served in.

A `Reply` says what the model does (answer, refuse, stop at the token limit, fail with an HTTP
error, drop the connection); `response_for` turns it into the exact response a chat
completions endpoint would give for a particular request: a ``chat.completion`` object, or
for ``stream: true`` a series of ``chat.completion.chunk`` server-sent events.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pydantic

from ..core.cost import Usage
from .exchange import ChunkedStream, SeenRequest, message_text

__all__ = ["Reply", "estimate_tokens"]

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


def estimate_tokens(text: str) -> int:
    """About four characters per token, as for English text with OpenAI's tokenizers."""
    return max(1, math.ceil(len(text) / 4))


@dataclass(frozen=True)
class Reply:
    """One scripted turn of the fake model. Build it with the class methods.

    ``usage`` overrides the estimate (prompt: a quarter of the characters of each message
    plus 4 per message, and of the tools and response format; completion: a quarter of the
    answer's characters). For streamed
    requests, ``chunk_chars`` is the size of each content delta and ``read_size`` (bytes)
    re-splits the whole event stream into network reads of that size, cutting through events
    and multi-byte characters as real networks do.
    """

    content: str | None = None
    refusal: str | None = None
    finish_reason: str = "stop"
    status: int = 200
    error: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    usage: Usage | None = None
    transport_error: type[httpx.TransportError] | None = None
    stream_error_after: int | None = None
    stream_cut_after: int | None = None
    chunk_chars: int = 4
    read_size: int | None = None

    # -- constructors --------------------------------------------------------------------

    @classmethod
    def answer(
        cls, value: Any, *, target: Any = None, usage: Usage | None = None, **options: Any
    ) -> Reply:
        """The model answers ``value``. A string is sent as is (broken JSON, prose and fences
        included); a pydantic model instance as its JSON; anything else through
        ``json.dumps``. With ``target`` (what the code under test extracts, e.g.
        ``list[Person]``), ``value`` is a Python value of that type, written the way the
        library expects the model to answer for it (lists and other non-objects wrapped)."""
        if target is not None:
            from ..core.target import Target

            value = Target.of(target).to_answer(value)
        elif isinstance(value, pydantic.BaseModel):
            value = value.model_dump(mode="json")
        content = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return cls(content=content, usage=usage, **options)

    @classmethod
    def refuse(cls, message: str = "I'm sorry, I can't help with that.") -> Reply:
        """A ``message.refusal``, as structured-output models send when they decline."""
        return cls(refusal=message)

    @classmethod
    def content_filter(cls, partial: str = "") -> Reply:
        """The provider's content filter stopped the answer (``finish_reason: content_filter``)."""
        return cls(content=partial or None, finish_reason="content_filter")

    @classmethod
    def truncated(cls, partial: str, **options: Any) -> Reply:
        """The answer hit the token limit: ``partial`` then ``finish_reason: length``."""
        return cls(content=partial, finish_reason="length", **options)

    @classmethod
    def http_error(
        cls,
        status: int,
        message: str = "",
        *,
        code: str | None = None,
        type: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """An HTTP error with an OpenAI-style body ``{"error": {message, type, param, code}}``."""
        default_type, default_code = _ERROR_TYPES.get(
            status, ("server_error", None) if status >= 500 else ("invalid_request_error", None)
        )
        error = {
            "message": message or f"The fake model was scripted to fail with HTTP {status}.",
            "type": type or default_type,
            "param": param,
            "code": code if code is not None else default_code,
        }
        return cls(status=status, error=error, headers=dict(headers or {}))

    @classmethod
    def rate_limited(
        cls, retry_after: float | None = 1.0, *, code: str = "rate_limit_exceeded"
    ) -> Reply:
        """429 with ``retry-after`` (seconds) when given; ``code="insufficient_quota"`` for
        an account out of credit, which clients must not retry."""
        headers = {} if retry_after is None else {"retry-after": f"{retry_after:g}"}
        message = (
            "You exceeded your current quota, please check your plan and billing details."
            if code == "insufficient_quota"
            else "Rate limit reached for requests. Please try again later."
        )
        return cls.http_error(429, message, code=code, headers=headers)

    @classmethod
    def disconnect(cls) -> Reply:
        """The connection drops before any answer (``httpx.ConnectError``)."""
        return cls(transport_error=httpx.ConnectError)

    @classmethod
    def timeout(cls) -> Reply:
        """No answer in time (``httpx.ReadTimeout``)."""
        return cls(transport_error=httpx.ReadTimeout)

    @classmethod
    def stream_error(cls, partial: str, message: str = "The server had an error.") -> Reply:
        """For streamed requests: ``partial`` arrives, then an ``{"error": ...}`` event under
        HTTP 200, as real APIs send when they fail mid-answer."""
        return cls(
            content=partial,
            stream_error_after=len(partial),
            error={"message": message, "type": "server_error", "param": None, "code": None},
        )

    @classmethod
    def stream_cut(cls, partial: str) -> Reply:
        """For streamed requests: ``partial`` arrives and then the stream just ends, with no
        finish reason and no ``[DONE]`` (a dropped connection)."""
        return cls(content=partial, stream_cut_after=len(partial))

    def with_options(self, **changes: Any) -> Reply:
        """A copy with fields changed, e.g. ``reply.with_options(read_size=7)``."""
        return replace(self, **changes)

    # -- wire format ---------------------------------------------------------------------

    def response_for(
        self, request: httpx.Request, seen: SeenRequest, number: int
    ) -> httpx.Response:
        """The HTTP response a chat completions endpoint gives ``request`` for this reply.
        ``number`` (1-based) makes ids and ``x-request-id`` unique and predictable."""
        if self.transport_error is not None:
            raise self.transport_error(
                f"{self.transport_error.__name__} scripted by FakeModel", request=request
            )
        request_id = f"req_fake_{number:04d}"
        headers = {"x-request-id": request_id, **self.headers}
        if self.status >= 400:
            return httpx.Response(
                self.status,
                headers=headers,
                json={"error": dict(self.error or {})},
                request=request,
            )
        builder = _Completion(self, seen, number)
        if seen.stream:
            events = builder.events()
            chunks = [f"data: {event}\n\n".encode() for event in events]
            if self.read_size:
                raw = b"".join(chunks)
                chunks = [raw[i : i + self.read_size] for i in range(0, len(raw), self.read_size)]
            return httpx.Response(
                200,
                headers={**headers, "content-type": "text/event-stream; charset=utf-8"},
                stream=ChunkedStream(chunks),
                request=request,
            )
        return httpx.Response(200, headers=headers, json=builder.payload(), request=request)


class _Completion:
    """Builds the ``chat.completion`` object, or its chunks, for one reply to one request."""

    def __init__(self, reply: Reply, seen: SeenRequest, number: int) -> None:
        self.reply = reply
        self.seen = seen
        self.id = f"chatcmpl-fake{number:04d}"
        self.created = 1_700_000_000 + number
        self.model = seen.model or "gpt-5.1"
        self.tool_name = _forced_tool(seen.json)

    def usage(self) -> dict[str, Any]:
        usage = self.reply.usage
        if usage is None:
            answer = (self.reply.content or "") + (self.reply.refusal or "")
            prompt = sum(estimate_tokens(message_text(m)) + 4 for m in self.seen.messages)
            prompt += sum(
                estimate_tokens(json.dumps(self.seen.json[extra], ensure_ascii=False))
                for extra in ("tools", "response_format")
                if extra in self.seen.json
            )
            usage = Usage(prompt_tokens=prompt, completion_tokens=estimate_tokens(answer))
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

    @property
    def finish_reason(self) -> str:
        reason = self.reply.finish_reason
        if reason == "stop" and self.tool_name and self.reply.content is not None:
            # A forced tool_choice finishes with "stop"; an optional tool call with "tool_calls".
            forced = isinstance(self.seen.json.get("tool_choice"), dict)
            return "stop" if forced else "tool_calls"
        return reason

    def _tool_call(self, arguments: str) -> dict[str, Any]:
        return {
            "id": f"call_{self.id[-4:]}",
            "type": "function",
            "function": {"name": self.tool_name, "arguments": arguments},
        }

    def payload(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": self.reply.content,
            "refusal": self.reply.refusal,
            "annotations": [],
        }
        if self.tool_name and self.reply.content is not None:
            message["content"] = None
            message["tool_calls"] = [self._tool_call(self.reply.content)]
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": self.finish_reason,
                }
            ],
            "usage": self.usage(),
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        }

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> str:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_fake",
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
        }
        if self._include_usage:
            chunk["usage"] = None
        return json.dumps(chunk, ensure_ascii=False)

    @property
    def _include_usage(self) -> bool:
        options = self.seen.json.get("stream_options")
        return isinstance(options, dict) and options.get("include_usage") is True

    def events(self) -> list[str]:
        """The ``data:`` payloads of the stream, in order, ending with ``[DONE]``."""
        reply = self.reply
        events = [self._chunk({"role": "assistant", "content": "", "refusal": None})]
        if reply.refusal is not None:
            events += [
                self._chunk({"refusal": part}) for part in _split(reply.refusal, reply.chunk_chars)
            ]
        content = reply.content or ""
        stop_at = (
            reply.stream_error_after
            if reply.stream_error_after is not None
            else reply.stream_cut_after
        )
        sent = content if stop_at is None else content[:stop_at]
        for index, part in enumerate(_split(sent, reply.chunk_chars)):
            if self.tool_name:
                call: dict[str, Any] = {"index": 0, "function": {"arguments": part}}
                if index == 0:
                    call = {"index": 0, **self._tool_call(part)}
                events.append(self._chunk({"tool_calls": [call]}))
            else:
                events.append(self._chunk({"content": part}))
        if reply.stream_error_after is not None:
            return [*events, json.dumps({"error": dict(reply.error or {})})]
        if reply.stream_cut_after is not None:
            return events
        events.append(self._chunk({}, self.finish_reason))
        if self._include_usage:
            events.append(
                json.dumps(
                    {
                        "id": self.id,
                        "object": "chat.completion.chunk",
                        "created": self.created,
                        "model": self.model,
                        "system_fingerprint": "fp_fake",
                        "choices": [],
                        "usage": self.usage(),
                    }
                )
            )
        return [*events, "[DONE]"]


def _split(text: str, size: int) -> list[str]:
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)]


def _forced_tool(body: Mapping[str, Any]) -> str | None:
    """The function the model must call: the forced ``tool_choice``, else the only tool."""
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        if isinstance(name, str):
            return name
    tools = body.get("tools")
    if isinstance(tools, list) and tools and choice != "none":
        name = ((tools[0] or {}).get("function") or {}).get("name")
        if isinstance(name, str):
            return name
    return None
