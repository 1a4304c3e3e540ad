"""Grounding: where each extracted value is written in the text, and a re-ask for values the
model made up.

``ground=True`` gives ``result.spans``: every string and number of the value, by path, mapped
to its characters in the text (or None). ``require_grounding=True`` also sends values that are
nowhere in the text back to the model, like validation errors. Fields whose value is inferred
by design (a Literal, a bool, a field marked ``inferred()``) are not looked for.

    python examples/grounding.py [--offline]
"""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path
from typing import Literal

from _support import extractor, parse_args
from pydantic import BaseModel, Field

from extractor import inferred, render_html
from extractor.testing import FakeModel


class Line(BaseModel):
    product: str = Field(description="Product name as written")
    quantity: int
    unit_price: float = Field(description="Price of one unit, a plain number")


class Order(BaseModel):
    customer: str = Field(description="Who placed the order, as written")
    delivery: datetime.date = Field(description="Requested delivery date")
    lines: list[Line]
    urgent: bool
    tone: Literal["friendly", "neutral", "annoyed"]
    summary: str = inferred(description="The request in one short sentence")


TEXT = """\
From: Dana Whitfield <dana@whitfield-print.example>
Subject: Re-order for the Leipzig shop

Hello, please send us 12 boxes of A4 Recycling-
papier (each 1.234,50 EUR? no, sorry: 23,90 EUR a box) and 3 toner cartridges
TN-2420 at 64,00 EUR each. We need everything by 5 March 2024, it is rather urgent!"""


def main() -> None:
    args = parse_args(__doc__)
    answer = {
        "customer": "Dana Whitfield",
        "delivery": "2024-03-05",
        "lines": [
            {"product": "A4 Recyclingpapier", "quantity": 12, "unit_price": 23.9},
            {"product": "toner cartridges TN-2420", "quantity": 3, "unit_price": 64.0},
        ],
        "urgent": True,
        "tone": "friendly",
        "summary": "A re-order of paper and toner for delivery by early March.",
    }
    # Offline, the fake model first makes up the customer's company, then corrects itself
    # once the re-ask names the value it could not find.
    fake = FakeModel().answer({**answer, "customer": "Whitfield Print GmbH"}).answer(answer)
    with extractor(args, fake) as ex:
        result = ex.extract_result(Order, TEXT, require_grounding=True)

    for attempt in result.attempts:
        problems = "; ".join(str(error) for error in attempt.errors) or "valid, every value found"
        print(f"attempt {attempt.number}: {problems}")
    assert result.spans is not None
    for path, span in result.spans.items():
        where = "not in the text" if span is None else repr(TEXT[span.start : span.end])
        kind = "" if span is None or span.exact else "  (normalised match)"
        print(f"  {path:<20} {where}{kind}")

    # A page to check it by eye: the text with each value highlighted and labelled.
    page = Path(tempfile.gettempdir()) / "extractor-grounding.html"
    page.write_text(render_html(TEXT, result.value, result.spans, title="Order"), "utf-8")
    print(f"page: {page}")


if __name__ == "__main__":
    main()
