"""What one attempt got back from the API, however it arrived.

A plain JSON response and a stream of SSE chunks both end up as a ``Completion``; from there
on the extraction loop does not care which it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .cost import Usage

__all__ = ["Completion"]


@dataclass(frozen=True)
class Completion:
    """The first choice of a chat completion, reduced to what extraction needs.

    ``content`` is the text to parse: the message content, or in tools mode the forced tool
    call's arguments (then ``tool_call_id`` is set, for the re-ask turn).
    """

    content: str | None
    finish_reason: str | None
    usage: Usage
    refusal: str | None = None
    request_id: str | None = None
    tool_call_id: str | None = None

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], request_id: str | None = None) -> Completion:
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
        return cls(
            content=content,
            finish_reason=choice.get("finish_reason"),
            usage=Usage.from_api(payload.get("usage")),
            refusal=message.get("refusal"),
            request_id=request_id or payload.get("id"),
            tool_call_id=tool_call_id,
        )
