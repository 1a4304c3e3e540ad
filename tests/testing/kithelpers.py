"""Helpers of the testing kit's tests: chat request bodies, and a minimal reader of
server-sent events for assertions on raw streams."""

from __future__ import annotations

import json
from typing import Any

SYSTEM = "Reply with JSON."


def chat_body(text: str = "Ada Lovelace, 36", **extra: Any) -> dict[str, Any]:
    """A chat completions request body in JSON mode, as a client would send it."""
    return {
        "model": "gpt-5.1",
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": text},
        ],
        "response_format": {"type": "json_object"},
        **extra,
    }


def data_events(raw: bytes) -> list[str]:
    """The ``data:`` payload of each event, in order."""
    events = []
    for block in raw.decode("utf-8").split("\n\n"):
        lines = [
            line[len("data:") :].strip() for line in block.splitlines() if line.startswith("data:")
        ]
        if lines:
            events.append("\n".join(lines))
    return events


def chunks(raw: bytes) -> list[dict[str, Any]]:
    """The JSON events before ``[DONE]``."""
    events = data_events(raw)
    assert events[-1] == "[DONE]", events[-1:]
    return [json.loads(event) for event in events[:-1]]


def joined_content(raw: bytes) -> str:
    return "".join(
        choice["delta"].get("content") or "" for chunk in chunks(raw) for choice in chunk["choices"]
    )
