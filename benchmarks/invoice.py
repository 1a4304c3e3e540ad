"""The reference call of the benchmarks: a five-field invoice model with nested objects and a
list, the answer a model gives for it, and the text it is extracted from. overhead.py and
concurrency.py measure the same call, so their figures can be read together."""

from __future__ import annotations

import json
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from extractor.core.cost import Usage
from extractor.testing import wire

__all__ = ["ANSWER", "PAYLOAD", "TEXT", "Address", "Invoice", "LineItem"]


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
