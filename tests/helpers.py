"""What the tests share besides the wire format (built by ``extractor.testing.wire``): where
the fake API lives, a key to look for in leaks, request bodies, and respx conveniences."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal

import httpx
from pydantic import BaseModel, Field

from extractor.core.cost import Usage
from extractor.core.prices import Price
from extractor.testing import wire

BASE_URL = "https://api.test/v1"
URL = BASE_URL + "/chat/completions"
KEY = "sk-test-SECRET-0123456789abcdef"
# No list price covers api.test: tests about cost arithmetic set a gateway's price, as its users do.
GATEWAY_PRICE = Price("1.80", "15.00", currency="CNY", source="the gateway's price page")
SYSTEM = "Reply with JSON."
#: The usage `reply` reports unless told otherwise (tests assert sums of it).
USAGE = Usage(prompt_tokens=100, completion_tokens=20)


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


def reply(content: Any, *, usage: Usage = USAGE, **options: Any) -> httpx.Response:
    """A 200 answering ``content`` (dumped to JSON unless a str); ``options`` go to
    ``wire.completion`` (``finish_reason``, ``refusal``, ``tool``)."""
    text = content if isinstance(content, str) else json.dumps(content)
    payload = wire.completion(text, usage=usage, **options)
    return httpx.Response(200, json=payload, headers={"x-request-id": "req_1"})


def error(
    status: int, message: str = "boom", code: str | None = None, **headers: str
) -> httpx.Response:
    """An HTTP error with the API's error body; ``headers`` as keywords (``retry-after``...)."""
    body = wire.error_body(status, message, code=code)
    return httpx.Response(status, json=body, headers={"x-request-id": "req_err", **headers})


def bodies(route: Any) -> list[dict[str, Any]]:
    """The JSON bodies of every request a respx route saw."""
    return [json.loads(call.request.content) for call in route.calls]


# The six-field invoice of the simulated cost workload (benchmarks/cost.py), whose faults
# tests/core/test_patch.py replays. No docstring: it would be a description in every prompt.
class Invoice(BaseModel):
    number: str = Field(pattern=r"^INV-\d{4}$")
    issued: date
    seller: str
    total: float = Field(gt=0)
    currency: Literal["CNY", "USD", "EUR"]
    paid: bool
