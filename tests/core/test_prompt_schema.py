"""The schema as the model is shown it: smaller, and meaning the same answers."""

from __future__ import annotations

import json
from typing import Literal

import jsonschema
import pytest
from pydantic import BaseModel, Field

from extractor.core.schema import for_prompt


class Address(BaseModel):
    street: str = Field(description="Street and number", pattern=r"^\d+ ")
    city: str
    zip: str | None = Field(None, max_length=10)


class Item(BaseModel):
    sku: str
    qty: int = Field(gt=0, examples=[3])


class Order(BaseModel):
    customer: str
    ship_to: Address
    bill_to: Address | None = None
    items: list[Item] = []
    status: Literal["open", "paid"] | None = None


class Node(BaseModel):
    name: str
    children: list[Node] = []


def test_single_use_definitions_are_inlined_and_shared_or_recursive_ones_kept() -> None:
    schema = for_prompt(Order.model_json_schema())
    assert set(schema["$defs"]) == {"Address"}  # used twice
    assert schema["properties"]["items"]["items"]["properties"]["qty"] == {
        "type": "integer",
        "exclusiveMinimum": 0,
        "examples": [3],
    }


def test_nullable_is_written_compactly_and_empty_defaults_and_titles_go() -> None:
    schema = for_prompt(Order.model_json_schema())
    status = schema["properties"]["status"]
    assert status == {"enum": ["open", "paid", None], "type": ["string", "null"]}
    assert schema["$defs"]["Address"]["properties"]["zip"] == {
        "type": ["string", "null"],
        "maxLength": 10,
    }
    assert "default" not in schema["properties"]["items"]
    assert "title" not in json.dumps(schema)


def test_descriptions_patterns_bounds_are_kept() -> None:
    text = json.dumps(for_prompt(Order.model_json_schema()))
    for kept in ("Street and number", '"pattern"', '"maxLength"', '"exclusiveMinimum"'):
        assert kept in text


def test_nullable_reference_and_overlapping_keywords_keep_the_long_form() -> None:
    node = {"anyOf": [{"type": "string", "description": "a"}, {"type": "null"}], "description": "b"}
    schema = for_prompt({"type": "object", "properties": {"x": node}})
    assert schema["properties"]["x"] == node
    by_ref = for_prompt(Order.model_json_schema())["properties"]["bill_to"]
    assert by_ref == {"anyOf": [{"$ref": "#/$defs/Address"}, {"type": "null"}]}


SHIP = {"street": "1 Main", "city": "x"}
ANSWERS = [
    {"customer": "a", "ship_to": SHIP},
    {"customer": "a", "ship_to": {"street": "Main", "city": "x"}},
    {"customer": "a", "ship_to": {"street": "1 Main", "city": "x", "zip": None}},
    {"customer": "a", "ship_to": {"street": "1 Main", "city": "x", "zip": "12345678901"}},
    {"customer": "a", "ship_to": SHIP, "status": None},
    {"customer": "a", "ship_to": SHIP, "status": "shipped"},
    {"customer": "a", "ship_to": SHIP, "items": [{"sku": "s", "qty": 0}]},
    {"customer": "a", "ship_to": SHIP, "items": [{"sku": "s", "qty": 2}]},
    {"customer": "a", "ship_to": 3},
    {"customer": "a", "ship_to": SHIP, "bill_to": None},
]


def test_recursive_definitions_stay_definitions() -> None:
    schema = for_prompt({"type": "object", "properties": {"root": Node.model_json_schema()}})
    assert schema == for_prompt(schema)
    tree = Node.model_json_schema()
    shown = for_prompt(tree)
    assert shown["$ref"] == "#/$defs/Node" and "Node" in shown["$defs"]
    bad = {"name": "a", "children": [{"name": 1}]}
    assert not jsonschema.Draft202012Validator(shown).is_valid(bad)
    assert jsonschema.Draft202012Validator(shown).is_valid({"name": "a", "children": []})


@pytest.mark.parametrize("answer", ANSWERS)
def test_the_prompt_schema_accepts_exactly_what_the_schema_accepts(answer: object) -> None:
    original = Order.model_json_schema()
    shown = for_prompt(original)
    assert jsonschema.Draft202012Validator(shown).is_valid(answer) == (
        jsonschema.Draft202012Validator(original).is_valid(answer)
    )
