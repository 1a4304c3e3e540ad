from __future__ import annotations

from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, TypeAdapter

from extractor.errors import ConfigurationError
from extractor.grounding import GROUNDED_KEY, inferred, iter_leaves


class Line(BaseModel):
    sku: str
    price: float
    kind: Literal["goods", "service"]
    taxed: bool


class Invoice(BaseModel):
    number: str
    lines: list[Line]
    buyer: Line | None = None
    sentiment: str = inferred(description="how the customer sounds")
    notes: Annotated[list[str], inferred()] = []


def paths(value: object, schema: dict[str, object]) -> list[tuple[str, object, str]]:
    return [(leaf.path, leaf.value, leaf.kind) for leaf in iter_leaves(value, schema)]


def test_pydantic_model_leaves_skip_booleans_literals_and_inferred_fields() -> None:
    schema = Invoice.model_json_schema()
    value = {
        "number": "INV-1",
        "lines": [
            {"sku": "A", "price": 2.5, "kind": "goods", "taxed": True},
            {"sku": "B", "price": 3, "kind": "service", "taxed": False},
        ],
        "buyer": {"sku": "C", "price": 1, "kind": "goods", "taxed": True},
        "sentiment": "calm",
        "notes": ["x"],
    }
    assert paths(value, schema) == [
        ("number", "INV-1", "string"),
        ("lines[0].sku", "A", "string"),
        ("lines[0].price", 2.5, "number"),
        ("lines[1].sku", "B", "string"),
        ("lines[1].price", 3, "number"),
        ("buyer.sku", "C", "string"),
        ("buyer.price", 1, "number"),
    ]


def test_inferred_keeps_other_extras_and_marks_the_schema() -> None:
    class M(BaseModel):
        tag: str = inferred(json_schema_extra={"examples": ["a"]}, default="")

    prop = M.model_json_schema()["properties"]["tag"]
    assert prop[GROUNDED_KEY] is False and prop["examples"] == ["a"]


def test_a_marked_nested_model_is_skipped_whole() -> None:
    class Outer(BaseModel):
        kept: str
        guess: Line | None = inferred(default=None)

    value = {"kept": "k", "guess": {"sku": "Z", "price": 1, "kind": "goods", "taxed": True}}
    assert paths(value, Outer.model_json_schema()) == [("kept", "k", "string")]


def test_root_list_dates_empty_strings_nulls_and_non_finite_numbers() -> None:
    schema = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "day": {"type": "string", "format": "date"},
                "n": {"type": "number"},
                "s": {"type": "string"},
            },
        },
    }
    value = [{"day": "2024-03-05", "n": float("nan"), "s": "  "}, {"n": None, "s": "x"}]
    assert paths(value, schema) == [("[0].day", "2024-03-05", "date"), ("[1].s", "x", "string")]


def test_json_schema_marker_and_const_and_str_or_literal_union() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string", GROUNDED_KEY: False},
            "b": {"const": "fixed"},
            "c": {"anyOf": [{"type": "string"}, {"enum": ["x"]}]},
            "d": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    value = {"a": "1", "b": "fixed", "c": "free", "d": {"k": "v"}}
    assert paths(value, schema) == [("c", "free", "string"), ("d.k", "v", "string")]


def test_type_adapter_schemas_with_defs_work() -> None:
    schema = TypeAdapter(list[Line]).json_schema()
    value = [{"sku": "Q", "price": 9, "kind": "goods", "taxed": True}]
    assert paths(value, schema) == [("[0].sku", "Q", "string"), ("[0].price", 9, "number")]


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"$ref": "other.json#/x"}, "only references inside the schema"),
        ({"$ref": "#/$defs/missing"}, "points at nothing"),
        ({"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/a"}}}, "circular"),
    ],
)
def test_bad_references_say_what_to_do(schema: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        iter_leaves({"x": 1}, schema)


def test_inferred_refuses_a_callable_extra() -> None:
    with pytest.raises(ConfigurationError, match="only as a dict"):
        inferred(json_schema_extra=lambda s: None)


def test_a_part_of_a_schema_resolves_refs_in_its_root() -> None:
    root = TypeAdapter(dict[str, list[Line]]).json_schema()
    wrapped = {"type": "object", "properties": {"result": root}, "$defs": root.pop("$defs")}
    value = [{"sku": "Q", "price": 9, "kind": "goods", "taxed": True}]
    leaves = iter_leaves({"k": value}, wrapped["properties"]["result"], root=wrapped)
    assert [leaf.path for leaf in leaves] == ["k[0].sku", "k[0].price"]
