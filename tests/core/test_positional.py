"""Compact answers: objects as arrays of their values, converted back to keyed data."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from extractor.core.notation import render
from extractor.core.positional import Positional
from extractor.core.schema import for_prompt
from extractor.core.target import Target
from extractor.core.validate import Invalid
from tests.corpus import targets


class Line(BaseModel):
    sku: str
    qty: int = 1


class Address(BaseModel):
    city: str
    zip: str | None = None


class Card(BaseModel):
    kind: str
    last4: str


class Cash(BaseModel):
    kind: str
    change: float


class Order(BaseModel):
    customer: str
    ship_to: Address
    lines: list[Line]
    totals: dict[str, float] = {}
    payment: Card | Cash | None = None
    note: str = "none"


ORDER = {
    "customer": "Ada",
    "ship_to": {"city": "Paris", "zip": None},
    "lines": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}],
    "totals": {"net": 3.0, "tax": 0.5},
    "payment": {"kind": "card", "last4": "1234"},
    "note": "gift",
}
COMPACT = [
    "Ada",
    ["Paris", None],
    [["a", 2], ["b", 1]],
    {"net": 3.0, "tax": 0.5},
    {"kind": "card", "last4": "1234"},
    "gift",
]


def test_nested_objects_lists_of_objects_maps_and_unions() -> None:
    positional = Target.of(Order).positional
    assert positional.answer(ORDER) == {"values": COMPACT}
    assert positional.to_keyed({"values": COMPACT}) == ORDER


def test_the_notation_shows_the_same_form() -> None:
    lines = Target.of(Order).compact_prompt_schema.splitlines()
    assert lines[:3] == ["[", "customer: string,", "ship_to: ["]
    assert "lines: [" in lines and "][]," in lines  # a table: an array of arrays
    assert "totals: {[key: string]: number} | null," in lines  # a map keeps its keys
    # Every value of a tuple is written: an optional one may be null, and its default applies.
    assert 'note: string | null // default "none"' in lines and "zip: string | null" in lines
    assert not [line for line in lines if "?:" in line]
    assert "payment: { // keys kept" in lines  # an option of a real union keeps its keys


def test_a_patch_is_keyed_at_the_top_with_compact_values() -> None:
    positional = Target.of(Order).positional
    patch = {"ship_to": {"city": "Rome", "zip": None}, "lines": [{"sku": "c", "qty": 4}]}
    written = positional.patch(patch)
    assert written == {"ship_to": ["Rome", None], "lines": [["c", 4]]}
    assert positional.to_keyed(written) == patch


def test_absent_optional_values_are_null_and_their_defaults_apply() -> None:
    positional = Target.of(Order).positional
    keyed = positional.to_keyed(
        {"values": ["Ada", ["Paris", None], [["a", None]], None, None, None]}
    )
    # zip allows null: kept; qty, totals, note do not: dropped so their defaults apply.
    assert keyed == {
        "customer": "Ada",
        "ship_to": {"city": "Paris", "zip": None},
        "lines": [{"sku": "a"}],
        "payment": None,
    }
    order = Target.of(Order).validate(keyed)
    assert order.note == "none" and order.lines[0].qty == 1 and order.totals == {}


def test_a_wrong_number_of_values_names_the_fields_expected() -> None:
    positional = Target.of(Order).positional
    with pytest.raises(Invalid) as caught:
        positional.to_keyed({"values": ["Ada", ["Paris"], [["a", 2, 3]], None, None, None]})
    problems = {detail.path: detail.message for detail in caught.value.details}
    assert problems["ship_to"].startswith(
        "expected an array of 2 values, in this order: city, zip;"
    )
    assert "got 1" in problems["ship_to"]
    assert problems["lines[0]"].startswith(
        "expected an array of 2 values, in this order: sku, qty;"
    )


def test_keyed_answers_are_accepted_wholly_or_in_part() -> None:
    positional = Target.of(Order).positional
    assert positional.to_keyed(ORDER) == ORDER
    assert positional.to_keyed({"values": ORDER}) == ORDER
    part_keyed = [*COMPACT[:2], [{"sku": "a", "qty": 2}, ["b", 1]], *COMPACT[3:]]
    assert positional.to_keyed({"values": part_keyed}) == ORDER
    assert positional.to_keyed(COMPACT) == ORDER  # a bare root array


def test_a_partial_answer_is_the_fields_written_so_far() -> None:
    live = Target.of(Order).positional.live()
    assert live.keyed({}) == {}
    answer: dict[str, Any] = {"values": ["Ada", ["Par"]]}
    first = live.keyed(answer)
    assert first == {"customer": "Ada", "ship_to": {"city": "Par"}}
    # The parser's live value grows in place; so does its mirror, keeping its containers.
    ship_to = first["ship_to"]
    answer["values"][1][0] = "Paris"
    answer["values"][1].append(None)
    answer["values"].append([["a", None]])
    second = live.keyed(answer)
    assert second is first and second["ship_to"] is ship_to
    assert second == {
        "customer": "Ada",
        "ship_to": {"city": "Paris", "zip": None},
        "lines": [{"sku": "a"}],
    }


def test_a_json_schema_target_with_shared_and_recursive_types() -> None:
    schema = {
        "type": "object",
        "properties": {
            "root": {"$ref": "#/$defs/node"},
            "other": {"$ref": "#/$defs/node"},
        },
        "required": ["root"],
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                },
                "required": ["name", "kids"],
            }
        },
    }
    positional = Target.of(schema).positional
    data = {"root": {"name": "a", "kids": [{"name": "b", "kids": []}]}}
    assert positional.answer(data) == {"values": [["a", [["b", []]]], None]}
    assert positional.to_keyed(positional.answer(data)) == data


def _resolve(schema: Any, root: dict[str, Any]) -> Any:
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        path = schema["$ref"].removeprefix("#").strip("/").split("/")
        schema = root
        for part in filter(None, path):
            schema = schema[part.replace("~1", "/").replace("~0", "~")]
    return schema


def _nullable(schema: Any, root: dict[str, Any]) -> bool:
    schema = _resolve(schema, root)
    if not isinstance(schema, dict):
        return True
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if "enum" in schema:
        return None in schema["enum"]
    if "const" in schema:
        return schema["const"] is None
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return any(_nullable(option, root) for option in options)
    return kind is None and "allOf" not in schema


def values(schema: Any, root: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Keyed data shaped by a prompt schema (not necessarily valid: the conversion only
    follows the shape). Optional properties that allow null are always present, as a
    validated value's dump has them; the others may be absent."""
    schema = _resolve(schema, root)
    if not isinstance(schema, dict) or depth > 6:  # deep enough (and recursion ends)
        return st.none()
    if "const" in schema:
        return st.just(schema["const"])
    if isinstance(schema.get("enum"), list):
        return st.sampled_from(schema["enum"])
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return st.one_of([values(option, root, depth + 1) for option in options])
    if isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
        return values(schema["allOf"][0], root, depth + 1)
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return st.one_of([_of_kind(kind, schema, root, depth) for kind in kinds])


def _of_kind(kind: Any, schema: dict[str, Any], root: dict[str, Any], depth: int) -> Any:
    leaf = st.none() | st.booleans() | st.integers(-9, 9) | st.text(max_size=4)
    if kind == "object" or (kind is None and "properties" in schema):
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        shown = {
            name: values(sub, root, depth + 1)
            for name, sub in properties.items()
            if name in required or _nullable(sub, root)
        }
        maybe = {
            name: values(sub, root, depth + 1)
            for name, sub in properties.items()
            if name not in shown and depth < 3
        }
        fixed = st.fixed_dictionaries(shown, optional=maybe)
        extra = schema.get("additionalProperties")
        if not properties and isinstance(extra, dict):
            return st.dictionaries(st.text(max_size=4), values(extra, root, depth + 1), max_size=2)
        return fixed
    if kind == "array" or (kind is None and "items" in schema):
        items = schema.get("items")
        if depth >= 3 or not isinstance(items, dict):
            return st.just([])
        return st.lists(values(items, root, depth + 1), max_size=2)
    return {
        "string": st.text(max_size=6),
        "integer": st.integers(-99, 99),
        "number": st.floats(-99, 99, allow_nan=False),
        "boolean": st.booleans(),
        "null": st.none(),
    }.get(kind, leaf)


CORPUS = [(name, target) for name, target in targets()]


@pytest.mark.parametrize(("name", "target"), CORPUS, ids=[name for name, _ in CORPUS])
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_keyed_to_compact_to_keyed_is_the_identity(
    name: str, target: Target[Any], data: Any
) -> None:
    schema = target.prompt_schema_data
    keyed = data.draw(values(schema, schema))
    compact = target.positional.answer(keyed)
    assert target.positional.to_keyed(compact) == keyed


def test_union_options_with_members_of_one_name_and_other_shapes() -> None:
    def option(*names: str) -> dict[str, Any]:
        inner = {"type": "object", "properties": {n: {"type": "string"} for n in names}}
        return {"type": "object", "properties": {"a": inner}, "required": ["a"]}

    schema = for_prompt(
        {"type": "object", "properties": {"u": {"anyOf": [option("x"), option("y", "z")]}}}
    )
    positional = Positional(schema)
    for data in ({"u": {"a": {"x": "1"}}}, {"u": {"a": {"y": "1", "z": "2"}}}):
        assert positional.to_keyed(positional.answer(data)) == data
    assert positional.answer({"u": {"a": {"y": "1", "z": "2"}}}) == {"values": [{"a": ["1", "2"]}]}


def test_the_conversion_and_the_notation_agree_on_which_objects_are_arrays() -> None:
    union = {
        "type": "object",
        "properties": {
            "pay": {"anyOf": [{"$ref": "#/$defs/card"}, {"type": "string"}]},
            "also": {"$ref": "#/$defs/card"},
        },
        "$defs": {"card": {"type": "object", "properties": {"n": {"type": "string"}}}},
    }
    shown = for_prompt(union)
    assert "type card = { // keys kept" in render(shown, positional=True)
    assert Positional(shown).answer({"pay": {"n": "1"}, "also": {"n": "2"}}) == {
        "values": [{"n": "1"}, {"n": "2"}]
    }


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_round_trip_over_generated_schemas(data: Any) -> None:
    from tests.core.test_notation import SCHEMAS

    schema = for_prompt(data.draw(SCHEMAS))
    keyed = data.draw(values(schema, schema))
    positional = Positional(schema)
    assert positional.to_keyed(positional.answer(keyed)) == keyed
