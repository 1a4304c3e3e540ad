"""The ready-made schemas used as extraction targets, end to end through `Extractor` with the
testing kit's fake model answering each sample's expected output."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from extractor import ValidationFailed
from extractor.core.modes import ModeName as Mode
from extractor.testing import FakeModel
from tests.schemas.test_schemas import NAMES, SCHEMAS, load, samples, subschemas


def descriptions(schema: dict[str, Any]) -> list[str]:
    return [sub["description"] for _, sub in subschemas(schema) if "description" in sub]


@pytest.mark.parametrize("mode", ["json", "json_schema", "tools", "compact"])
@pytest.mark.parametrize("name", NAMES)
def test_extract_with_schema_returns_the_answer(name: str, mode: Mode) -> None:
    schema = load(SCHEMAS / f"{name}.json")
    for text, expected in samples(name):
        fake = FakeModel().answer(expected)
        result = fake.extractor().extract(str(SCHEMAS / f"{name}.json"), text, mode=mode)
        assert result == expected
        assert len(fake.requests) == 1  # conformed at once: no re-ask
        request = fake.last
        assert text.strip() in request.text
        # json and compact modes show the schema in the system message; the others send it
        # as a parameter. Either way each description is there as the schema spells it.
        in_system = mode in ("json", "compact")
        where = request.system if in_system else json.dumps(request.body, ensure_ascii=False)
        for description in descriptions(schema):
            assert json.dumps(description, ensure_ascii=False)[1:-1] in where, description
        assert "$schema" not in request.system  # for editors and validators, not the model


def test_relative_schema_path_from_the_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(SCHEMAS.parent)
    text, expected = samples("invoice")[0]
    fake = FakeModel().answer(expected)
    assert fake.extractor().extract("schemas/invoice.json", text) == expected


def test_format_violation_is_reasked_with_its_path() -> None:
    text, expected = samples("invoice")[0]
    wrong = copy.deepcopy(expected)
    wrong["issue_date"] = "12 March 2024"
    wrong["currency"] = "£"
    fake = FakeModel().answer(wrong).answer(expected)
    assert fake.extractor().extract(str(SCHEMAS / "invoice.json"), text) == expected
    reask = fake.last.user
    assert "issue_date" in reask and "12 March 2024" in reask
    assert "currency" in reask


def test_answer_that_never_conforms_fails() -> None:
    text, expected = samples("ticket")[0]
    wrong = {**expected, "urgency": "urgent!!"}
    fake = FakeModel([wrong] * 2)
    with pytest.raises(ValidationFailed) as info:
        fake.extractor(max_retries=1).extract(str(SCHEMAS / "ticket.json"), text)
    assert any(error.path == "urgency" for error in info.value.errors)
