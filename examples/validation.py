"""Nested models, validators and validation context: the answer must be grounded in the text.

A validator that rejects an answer makes the library ask again, with the error fed back to the
model. Here every product code must occur in the source text, which the validator reads from
the validation ``context``; and the line totals must add up to the order total. Offline, the
fake model first invents a product code, is corrected, and gets it right on the re-ask.

    python examples/validation.py [--offline]
"""

from __future__ import annotations

from _support import extractor, parse_args
from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from extractor.testing import FakeModel


class Line(BaseModel):
    sku: str = Field(description="Product code exactly as written in the text")
    quantity: int = Field(gt=0, description="Units ordered")
    total: float = Field(ge=0, description="Line total in the order currency")

    @field_validator("sku")
    @classmethod
    def sku_must_be_in_the_text(cls, sku: str, info: ValidationInfo) -> str:
        # `context` is whatever you pass to extract(..., context=...): here, the source text.
        source = (info.context or {}).get("source", "")
        if sku not in source:
            raise ValueError(f"product code {sku!r} does not occur in the text; copy it exactly")
        return sku


class Customer(BaseModel):
    name: str = Field(description="Customer's name")
    email: str | None = Field(default=None, description="Customer's email address, if given")


class Order(BaseModel):
    customer: Customer
    lines: list[Line] = Field(min_length=1, description="One entry per product ordered")
    total: float = Field(description="Order total as stated")

    @model_validator(mode="after")
    def lines_add_up(self) -> Order:
        if abs(sum(line.total for line in self.lines) - self.total) > 0.01:
            raise ValueError("the line totals do not add up to the order total")
        return self


TEXT = """\
Hi, this is Dana Whitfield (dana@whitfield.example). Please send 3 x KB-204 keyboards at
$49.00 each and 2 x MS-11 mice at $19.50 each. That's $186.00 in total, right?"""


def main() -> None:
    args = parse_args(__doc__)
    # --offline: the fake model first invents a product code, then corrects it when told.
    customer = {"name": "Dana Whitfield", "email": "dana@whitfield.example"}
    keyboards = {"sku": "KB-204", "quantity": 3, "total": 147.0}
    mice = {"sku": "MS-11", "quantity": 2, "total": 39.0}
    invented = {**keyboards, "sku": "KB-2040"}
    fake = FakeModel()
    fake.answer({"customer": customer, "lines": [invented, mice], "total": 186.0})
    fake.answer({"customer": customer, "lines": [keyboards, mice], "total": 186.0})

    with extractor(args, fake) as ex:
        result = ex.extract_result(Order, TEXT, context={"source": TEXT})

    for attempt in result.attempts:  # what happened on the way, re-asks included
        problems = "; ".join(str(error) for error in attempt.errors) or "valid"
        print(f"attempt {attempt.number}: {problems}")
    order = result.value
    lines = ", ".join(f"{line.quantity} x {line.sku}" for line in order.lines)
    print(f"{order.customer.name}: {lines}")
    print(f"total ${order.total:.2f}")


if __name__ == "__main__":
    main()
