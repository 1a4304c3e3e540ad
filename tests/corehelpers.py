"""Builders shared by the core's tests: OpenAI-shaped payloads and extractors wired to respx."""

from __future__ import annotations

import json
from typing import Any

import httpx

from extractor import Price

BASE_URL = "https://api.test/v1"
URL = BASE_URL + "/chat/completions"
KEY = "sk-test-SECRET-0123456789abcdef"
# No list price covers api.test: tests about cost arithmetic set a gateway's price, as its users do.
GATEWAY_PRICE = Price("1.80", "15.00", currency="CNY", source="the gateway's price page")


def completion(
    content: str | None = None,
    *,
    finish_reason: str = "stop",
    prompt_tokens: int = 100,
    completion_tokens: int = 20,
    cached_tokens: int = 0,
    reasoning_tokens: int = 0,
    refusal: str | None = None,
    tool_arguments: str | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal}
    if tool_arguments is not None:
        message["content"] = None
        message["tool_calls"] = [
            {
                "id": "call_abc",
                "type": "function",
                "function": {"name": "Person", "arguments": tool_arguments},
            }
        ]
    return {
        "id": "chatcmpl-123",
        "object": "chat.completion",
        "model": "gpt-5.1",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached_tokens},
            "completion_tokens_details": {"reasoning_tokens": reasoning_tokens},
        },
    }


def reply(content: Any, **kwargs: Any) -> httpx.Response:
    """A 200 response whose message content is ``content`` (dumped to JSON unless a str)."""
    text = content if isinstance(content, str) else json.dumps(content)
    return httpx.Response(200, json=completion(text, **kwargs), headers={"x-request-id": "req_1"})


def error(
    status: int, message: str = "boom", code: str | None = None, **headers: str
) -> httpx.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
    return httpx.Response(status, json=body, headers={"x-request-id": "req_err", **headers})


def bodies(route: Any) -> list[dict[str, Any]]:
    """The JSON bodies of every request a respx route saw."""
    return [json.loads(call.request.content) for call in route.calls]
