"""Per-call overhead of `Extractor.extract`, next to the floor measured in the same run.

The floor is what any client must do: the same httpx POST through the same in-process
``httpx.MockTransport`` and ``Model.model_validate_json`` of the answer. The target is at most
1.5x the floor. Also prints the size of the rendered prompt schema for a nested reference
model next to a pretty-printed JSON Schema of it (target: at most half).

    python benchmarks/overhead.py
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Literal

import httpx
from pydantic import BaseModel, Field

from extractor import Extractor
from extractor.core.cost import Usage
from extractor.core.target import Target
from extractor.testing import wire


class Address(BaseModel):
    street: str = Field(description="Street and number")
    city: str
    postal_code: str | None = Field(None, description="As written in the text")
    country: str = Field(description="ISO 3166-1 alpha-2 code", min_length=2, max_length=2)


class LineItem(BaseModel):
    description: str
    quantity: float = Field(gt=0)
    unit_price: float = Field(description="Price of one unit, without tax")
    currency: Literal["CNY", "USD", "EUR"] = "CNY"


class Invoice(BaseModel):
    """An invoice as issued by the seller."""

    number: str = Field(description="Invoice number as printed")
    issued: date
    seller: str
    buyer: str | None = None
    billing_address: Address
    items: list[LineItem] = Field(min_length=1)
    total: float = Field(description="Grand total including tax")
    notes: str | None = None


ANSWER = json.dumps(
    {
        "number": "INV-2024-0042",
        "issued": "2024-03-01",
        "seller": "ACME Ltd",
        "buyer": "Globex",
        "billing_address": {"street": "1 Main St", "city": "Springfield", "country": "US"},
        "items": [
            {"description": "Widget", "quantity": 3, "unit_price": 9.5},
            {"description": "Gadget", "quantity": 1, "unit_price": 20},
        ],
        "total": 48.5,
    }
)
PAYLOAD = wire.completion(ANSWER, usage=Usage(prompt_tokens=400, completion_tokens=90))
TEXT = "Invoice INV-2024-0042 from ACME Ltd to Globex, 1 Main St, Springfield, US. " * 3
URL = "https://api.example.test/v1/chat/completions"


def handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=PAYLOAD)


def floor(client: httpx.Client) -> Callable[[], object]:
    # The same request the library sends, prepared once: what a hand-written client pays.
    body = Extractor(api_key="sk-bench").request_body(Invoice, TEXT)
    headers = {"Authorization": "Bearer sk-bench"}

    def call() -> object:
        response = client.post(URL, json=body, headers=headers)
        content = response.json()["choices"][0]["message"]["content"]
        return Invoice.model_validate_json(content)

    return call


def ours(client: httpx.Client) -> Callable[[], object]:
    extractor = Extractor(
        api_key="sk-bench", base_url="https://api.example.test/v1", http_client=client
    )

    def call() -> object:
        return extractor.extract(Invoice, TEXT)

    return call


def per_call(fns: list[Callable[[], object]], calls: int, rounds: int) -> list[float]:
    """Median seconds per call of each function; rounds alternate between them so that
    load on the machine weighs on both alike."""
    for fn in fns:
        for _ in range(calls // 10):
            fn()  # warm caches, as a long-running service would be
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for fn, fn_samples in zip(fns, samples, strict=True):
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            fn_samples.append((time.perf_counter() - start) / calls)
    return [statistics.median(fn_samples) for fn_samples in samples]


def main() -> None:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    floor_s, ours_s = per_call([floor(client), ours(client)], calls=1000, rounds=9)
    print(f"floor (httpx POST + model_validate_json): {floor_s * 1e6:8.1f} µs/call")
    print(f"extractor.extract:                        {ours_s * 1e6:8.1f} µs/call")
    print(f"ratio: {ours_s / floor_s:.2f}x the floor (target <= 1.5x)")

    pretty = json.dumps(Invoice.model_json_schema(), indent=2)
    rendered = Target.of(Invoice).prompt_schema
    print(
        f"prompt schema: {len(rendered)} chars vs pretty-printed JSON Schema: {len(pretty)} chars"
    )
    print(f"ratio: {len(rendered) / len(pretty):.2f} (target <= 0.5)")


if __name__ == "__main__":
    main()
