"""Reading what the chat completions API sends back: a completion object, and usage.

One place for the shapes providers send, so that a whole response (`Endpoint.completion`) and
a stream (`ChunkAssembler`) read them the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.completion import Completion
from ..core.cost import Usage

__all__ = ["read_completion", "read_usage"]


def read_usage(usage: Mapping[str, Any] | None) -> Usage:
    """The ``usage`` object of a completion or chunk; absent or null parts count as zero."""
    if not usage:
        return Usage()
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    return Usage(
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        cached_tokens=int(prompt_details.get("cached_tokens") or 0),
        reasoning_tokens=int(completion_details.get("reasoning_tokens") or 0),
    )


def read_completion(payload: Mapping[str, Any], request_id: str | None = None) -> Completion:
    """The first choice of a ``chat.completion`` object. The answer is the message content, or
    the arguments of the first tool call when there is one (tools mode)."""
    choices = payload.get("choices") or []
    choice: Mapping[str, Any] = choices[0] if choices else {}
    message: Mapping[str, Any] = choice.get("message") or {}
    content = message.get("content")
    tool_call_id = None
    tool_calls = message.get("tool_calls") or []
    if tool_calls:
        call = tool_calls[0]
        tool_call_id = call.get("id")
        content = (call.get("function") or {}).get("arguments")
    return Completion(
        content=content,
        finish_reason=choice.get("finish_reason"),
        usage=read_usage(payload.get("usage")),
        refusal=message.get("refusal"),
        request_id=request_id or payload.get("id"),
        tool_call_id=tool_call_id,
    )
