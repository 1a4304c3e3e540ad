"""The schema as the model is shown it: smaller, and meaning the same answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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
    assert status == {"enum": ["open", "paid", None]}
    assert schema["$defs"]["Address"]["properties"]["zip"] == {
        "type": ["string", "null"],
        "maxLength": 10,
    }
    assert "default" not in schema["properties"]["items"]
    assert "title" not in json.dumps(schema)


def test_a_type_beside_an_enum_goes_only_when_the_enum_implies_it() -> None:
    def shown(node: dict[str, object]) -> object:
        return for_prompt({"type": "object", "properties": {"x": node}})["properties"]["x"]

    assert shown({"enum": [1, 2], "type": "integer"}) == {"enum": [1, 2]}
    assert shown({"enum": [1, "a"], "type": "integer"}) == {"enum": [1, "a"], "type": "integer"}
    assert shown({"enum": [True], "type": "integer"}) == {"enum": [True], "type": "integer"}
    assert shown({"enum": [1.5, 2], "type": "number"}) == {"enum": [1.5, 2]}


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


SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-5, 5) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


def _mutations(value: object) -> st.SearchStrategy[object]:
    """The value with one part replaced, dropped or set to null: near misses and near hits."""
    paths: list[tuple[object, ...]] = []

    def walk(node: object, path: tuple[object, ...]) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, (*path, key))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, (*path, index))

    walk(value, ())

    def mutate(path: tuple[object, ...], how: str, new: object) -> object:
        copy = json.loads(json.dumps(value))
        if not path:
            return new
        parent = copy
        for part in path[:-1]:
            parent = parent[part]
        if how == "drop" and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = None if how == "null" else new
        return copy

    return st.builds(
        mutate, st.sampled_from(paths), st.sampled_from(["drop", "null", "set"]), JSON_VALUES
    )


@pytest.mark.parametrize("name", sorted(p.stem for p in SCHEMAS.glob("*.json")))
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_ready_made_schemas_accept_the_same_answers(name: str, data: st.DataObject) -> None:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    expected = json.loads((SCHEMAS / "samples" / f"{name}.expected.json").read_text())
    answer = data.draw(_mutations(expected))
    checker = jsonschema.FormatChecker()
    original = jsonschema.Draft202012Validator(schema, format_checker=checker)
    shown = jsonschema.Draft202012Validator(for_prompt(schema), format_checker=checker)
    assert shown.is_valid(answer) == original.is_valid(answer)
