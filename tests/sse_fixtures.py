"""Recorded-style OpenAI streams, built the way the real API frames them."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from typing import Any

USAGE = {
    "prompt_tokens": 120,
    "completion_tokens": 30,
    "total_tokens": 150,
    "prompt_tokens_details": {"cached_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0},
}


def chunk(
    delta: dict[str, Any] | None = None,
    finish_reason: str | None = None,
    *,
    choices: bool = True,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-abc",
        "object": "chat.completion.chunk",
        "created": 1764045000,
        "model": "gpt-5.1-2025-11-13",
        "system_fingerprint": None,
        "choices": (
            [{"index": 0, "delta": delta or {}, "logprobs": None, "finish_reason": finish_reason}]
            if choices
            else []
        ),
        "usage": usage,
    }


def content_chunks(
    text: str,
    size: int = 8,
    *,
    finish_reason: str | None = "stop",
    usage: dict[str, Any] | None = USAGE,
) -> list[dict[str, Any]]:
    """The first chunk with only the role, one chunk per ``size`` characters, the finishing
    chunk, and the usage-only chunk with empty choices."""
    out = [chunk({"role": "assistant", "content": "", "refusal": None})]
    out += [chunk({"content": text[i : i + size]}) for i in range(0, len(text), size)]
    if finish_reason is not None:
        out.append(chunk({}, finish_reason))
    if usage is not None:
        out.append(chunk(choices=False, usage=usage))
    return out


def sse_bytes(events: Iterable[dict[str, Any] | str], *, done: bool = True) -> bytes:
    parts = [e if isinstance(e, str) else json.dumps(e) for e in events]
    if done:
        parts.append("[DONE]")
    return "".join(f"data: {p}\n\n" for p in parts).encode()


def content_stream(text: str, size: int = 8, **kwargs: Any) -> bytes:
    return sse_bytes(content_chunks(text, size, **kwargs))


def split(body: bytes, cuts: Sequence[int]) -> list[bytes]:
    points = [0, *sorted(cuts), len(body)]
    return [body[a:b] for a, b in itertools.pairwise(points)]
