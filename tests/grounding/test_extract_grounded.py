"""``ground=True`` and ``require_grounding=True`` through the real extraction loop, against
the testing kit's fake model."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel

from extractor import ConfigurationError, Span, ValidationFailed
from extractor.grounding import inferred
from extractor.testing import FakeModel

TEXT = "Invoice INV-7 from ACME GmbH, issued 5 March 2024. Total: 1.234,50 EUR."


class Invoice(BaseModel):
    number: str
    seller: str
    total: float
    paid: bool = False
    status: Literal["open", "closed"] = "open"
    note: str = inferred(default="")


def at(span: Span | None) -> str | None:
    return None if span is None else TEXT[span.start : span.end]


def test_ground_gives_a_span_per_leaf_and_none_for_invented_values() -> None:
    fake = FakeModel().answer(
        {"number": "INV-7", "seller": "Acme Corp", "total": 1234.5, "paid": True,
         "status": "open", "note": "looks fine"}
    )  # fmt: skip
    result = fake.extractor().extract_result(Invoice, TEXT, ground=True)
    assert result.spans is not None
    assert {path: at(span) for path, span in result.spans.items()} == {
        "number": "INV-7",
        "seller": None,
        "total": "1.234,50",
    }
    assert result.ungrounded == ["seller"]
    assert len(fake.requests) == 1  # grounding alone never re-asks


def test_without_ground_there_are_no_spans() -> None:
    fake = FakeModel().answer({"number": "INV-7", "seller": "ACME GmbH", "total": 1234.5})
    assert fake.extractor().extract_result(Invoice, TEXT).spans is None


def test_require_grounding_feeds_invented_values_back_and_the_fix_is_grounded() -> None:
    fake = FakeModel().answer({"number": "INV-7", "seller": "Acme Corp", "total": 1234.5})
    fake.answer({"number": "INV-7", "seller": "ACME GmbH", "total": 1234.5})
    result = fake.extractor().extract_result(Invoice, TEXT, require_grounding=True)
    assert result.value.seller == "ACME GmbH"
    assert result.spans is not None and at(result.spans["seller"]) == "ACME GmbH"
    reask = fake.requests[1].user
    assert "- seller: this value does not appear in the text" in reask
    assert '(got "Acme Corp")' in reask
    assert [len(a.errors) for a in result.attempts] == [1, 0]


def test_require_grounding_gives_up_like_validation() -> None:
    fake = FakeModel().then(*[{"number": "INV-9", "seller": "ACME GmbH", "total": 1}] * 2)
    with pytest.raises(ValidationFailed, match=r"number: this value does not appear") as caught:
        fake.extractor().extract(Invoice, TEXT, require_grounding=True, max_retries=1)
    assert [e.path for e in caught.value.errors] == ["number", "total"]
    assert len(caught.value.attempts) == 2


def test_wrapped_targets_use_the_callers_paths() -> None:
    class Person(BaseModel):
        name: str

    fake = FakeModel().answer({"result": [{"name": "ACME GmbH"}, {"name": "Bob"}]})
    result = fake.extractor().extract_result(list[Person], TEXT, ground=True)
    assert result.spans == {"[0].name": Span(19, 28), "[1].name": None}


def test_json_schema_targets_and_the_marker() -> None:
    schema = {
        "type": "object",
        "properties": {
            "number": {"type": "string"},
            "summary": {"type": "string", "x-grounded": False},
            "issued": {"type": "string", "format": "date"},
        },
    }
    fake = FakeModel().answer({"number": "INV-7", "summary": "an invoice", "issued": "2024-03-05"})
    result = fake.extractor().extract_result(schema, TEXT, ground=True)
    assert result.spans is not None
    assert {p: at(s) for p, s in result.spans.items()} == {
        "number": "INV-7",
        "issued": "5 March 2024",
    }


def test_grounding_needs_the_text() -> None:
    fake = FakeModel()
    with pytest.raises(ConfigurationError, match="pass the source as text="):
        fake.extractor().extract(Invoice, messages=[{"role": "user", "content": TEXT}], ground=True)
    assert fake.requests == []


async def test_async_grounds_the_same_way() -> None:
    fake = FakeModel().answer({"number": "INV-7", "seller": "Initech", "total": 1234.5})
    fake.answer({"number": "INV-7", "seller": "ACME GmbH", "total": 1234.5})
    async with fake.async_extractor() as ex:
        result = await ex.extract_result(Invoice, TEXT, require_grounding=True)
    assert result.spans is not None and at(result.spans["seller"]) == "ACME GmbH"


def test_streams_ground_and_restart_on_invented_values() -> None:
    fake = FakeModel().answer({"number": "INV-7", "seller": "Initech", "total": 1234.5})
    fake.answer({"number": "INV-7", "seller": "ACME GmbH", "total": 1234.5})
    with fake.extractor().stream(Invoice, TEXT, require_grounding=True) as stream:
        events = [type(event).__name__ for event in stream]
    assert events.count("Restart") == 1 and events[-1] == "Done"
    assert stream.result.spans is not None and at(stream.result.spans["seller"]) == "ACME GmbH"
