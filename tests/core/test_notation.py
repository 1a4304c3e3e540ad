"""The prompt schema as type notation: shorter than the JSON Schema, and nothing the model
needs is lost on the way."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from extractor.core.notation import render
from extractor.core.schema import for_prompt
from extractor.core.schema import render as render_json
from extractor.core.target import Target
from tests.corpus import targets

_BOUNDS = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
_SHOWN_AS_JSON = (
    "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties",
    "multipleOf", "default", "examples",
)  # fmt: skip
# Keywords with syntax of their own, or walked into by `_expected`.
_STRUCTURE = {
    "type", "properties", "required", "additionalProperties", "patternProperties",
    "propertyNames", "items", "prefixItems", "enum", "const", "anyOf", "oneOf", "allOf",
    "$ref", "$defs", "definitions", "description", "format", "pattern", "uniqueItems",
    *_BOUNDS, *_SHOWN_AS_JSON,
}  # fmt: skip


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("\x85", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _one_line(text: str) -> str:
    return text if len(f"{text}.".splitlines()) == 1 else _json(text)


def _expected(schema: Any) -> Iterator[str]:
    """What the rendering of a prompt schema must contain, part by part: every property name,
    enum and const value, pattern, format, bound, length, default, example, description, and
    any other keyword as compact JSON. Definitions are walked where they are referenced."""
    defs = {
        f"#/{key}/{name}": body
        for key in ("$defs", "definitions")
        for name, body in (schema.get(key) or {}).items()
    }
    seen: set[str] = set()

    def walk(node: Any) -> Iterator[str]:
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str) and ref in defs and ref not in seen:
            seen.add(ref)
            yield from walk(defs[ref])
        for name, sub in (node.get("properties") or {}).items():
            yield name if name.isidentifier() else _json(name)
            yield from walk(sub)
        for pattern, sub in (node.get("patternProperties") or {}).items():
            yield _one_line(pattern)
            yield from walk(sub)
        for key in ("items", "additionalProperties", "propertyNames"):
            yield from walk(node.get(key))
        for key in ("prefixItems", "anyOf", "oneOf", "allOf"):
            for sub in node.get(key) or ():
                yield from walk(sub)
        yield from (_json(value) for value in node.get("enum") or ())
        if "const" in node:
            yield _json(node["const"])
        if isinstance(node.get("description"), str):
            yield " ".join(node["description"].split())
        for key in ("format", "pattern"):
            if isinstance(node.get(key), str):
                yield f"{key} {_one_line(node[key])}"
        for key, sign in _BOUNDS.items():
            if isinstance(node.get(key), (int, float)) and not isinstance(node[key], bool):
                yield sign + _json(node[key])
        for key in _SHOWN_AS_JSON:
            if key in node:
                yield f"{key} {_json(node[key])}"
        for key, value in node.items():
            if key not in _STRUCTURE:
                yield f"{key} {_json(value)}"

    yield from walk(schema)


def assert_complete(schema: Any, *, positional: bool = False) -> str:
    shown = for_prompt(schema)
    text = render(shown, positional=positional)
    missing = [part for part in _expected(shown) if part not in text]
    assert not missing, f"not in the notation: {missing}\n{text}"
    return text


@pytest.mark.parametrize(("name", "target"), targets(), ids=[name for name, _ in targets()])
def test_every_corpus_schema_keeps_all_the_model_needs_in_fewer_characters(
    name: str, target: Target[Any]
) -> None:
    text = assert_complete(target.schema)
    assert text == target.prompt_schema
    assert len(text) < len(render_json(target.prompt_schema_data))
    assert assert_complete(target.schema, positional=True) == target.compact_prompt_schema


class Address(BaseModel):
    street: str
    city: str


class Customer(BaseModel):
    name: str = Field(description="Full name")
    age: int | None = Field(None, ge=0, le=150)
    home: Address
    work: Address | None = None
    tags: list[str] = Field(default_factory=list, max_length=3)


def test_a_model_reads_as_typescript() -> None:
    assert Target.of(Customer).prompt_schema == "\n".join(
        [
            "{",
            "name: string // Full name",
            "age?: integer | null // >=0; <=150",
            "home: Address",
            "work?: Address | null",
            "tags?: string[] // maxItems 3",
            "}",
            "type Address = {",
            "street: string",
            "city: string",
            "}",
        ]
    )


def notation_of(node: dict[str, Any]) -> str:
    return render(for_prompt({"type": "object", "properties": {"x": node}, "required": ["x"]}))


@pytest.mark.parametrize(
    ("node", "line"),
    [
        ({"enum": ["a", 1, None]}, 'x: "a" | 1 | null'),
        ({"const": "fixed"}, 'x: "fixed"'),
        ({"type": "array", "items": {"type": ["string", "null"]}}, "x: (string | null)[]"),
        ({"type": "array", "items": {"enum": ["a", "b"]}}, 'x: ("a" | "b")[]'),
        (
            {"type": "array", "prefixItems": [{"type": "number"}, {"type": "string"}]},
            "x: [number, string]",
        ),
        (
            {"type": "array", "prefixItems": [{"type": "number"}], "items": {"type": "string"}},
            "x: [number, ...string[]]",
        ),
        (
            {"type": "object", "additionalProperties": {"type": "integer"}},
            "x: {[key: string]: integer}",
        ),
        ({"anyOf": [{"type": "integer"}, {"type": "string"}]}, "x: integer | string"),
        ({"allOf": [{"type": "string"}, {"minLength": 2}]}, "x: string // minLength 2"),
        ({"type": "integer", "multipleOf": 5}, "x: integer // multipleOf 5"),
        (
            {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "x: string[] // uniqueItems",
        ),
        ({"type": "string", "exclusiveMaximum": 3}, "x: string // <3"),
        ({"type": "string", "examples": ["a", "b"]}, 'x: string // examples ["a","b"]'),
        ({"not": {"type": "null"}}, 'x: any // not {"type":"null"}'),
        ({"type": "array", "contains": {"const": 1}}, 'x: any[] // contains {"const":1}'),
        ({"type": "string", "pattern": "a\nb"}, 'x: string // pattern "a\\nb"'),
    ],
)
def test_keywords_have_their_syntax_or_a_comment(node: dict[str, Any], line: str) -> None:
    assert line in notation_of(node).splitlines()


def test_constraints_of_parts_are_labelled_with_the_part() -> None:
    node = {
        "type": "array",
        "description": "Codes",
        "minItems": 1,
        "items": {"type": "string", "pattern": "^[A-Z]+$"},
    }
    assert (
        notation_of(node).splitlines()[1]
        == "x: string[] // Codes; minItems 1; items: pattern ^[A-Z]+$"
    )
    union = {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "format": "date"}]}
    assert (
        notation_of(union).splitlines()[1]
        == "x: integer | string // integer: >=0; string: format date"
    )


def test_maps_with_key_rules_and_pattern_properties() -> None:
    node = {
        "type": "object",
        "propertyNames": {"pattern": "^[a-z]+$"},
        "patternProperties": {"^x-": {"type": "string"}},
        "additionalProperties": {"type": "number"},
    }
    lines = notation_of(node).splitlines()
    assert "[key: string]: string // keys match ^x-; keys: pattern ^[a-z]+$" in lines
    assert "[key: string]: number // keys: pattern ^[a-z]+$" in lines


def test_object_options_of_a_union_and_nullable_objects() -> None:
    node = {
        "anyOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"type": "object", "properties": {"b": {"type": "integer"}}},
            {"type": "null"},
        ]
    }
    assert notation_of(node).splitlines()[1:6] == [
        "x: {",
        "a: string",
        "} | {",
        "b?: integer",
        "} | null",
    ]


def test_conditional_and_dependency_keywords_are_shown_as_json() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        "dependentRequired": {"a": ["b"]},
        "if": {"properties": {"a": {"const": "x"}}},
        "then": {"required": ["b"]},
    }
    text = assert_complete(schema)
    assert text.splitlines()[0] == (
        '{ // dependentRequired {"a":["b"]}; if {"properties":{"a":{"const":"x"}}}; '
        'then {"required":["b"]}'
    )


class Node(BaseModel):
    name: str
    children: list[Node] = []


def test_recursion_renders_each_type_once_and_terminates() -> None:
    assert (
        Target.of(Node).prompt_schema
        == "{\nresult: Node\n}\ntype Node = {\nname: string\nchildren?: Node[]\n}"
    )
    mutual = {
        "$ref": "#/$defs/A",
        "$defs": {
            "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}},
            "B": {"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}},
        },
    }
    assert render(for_prompt(mutual)) == "A\ntype A = {\nb?: B\n}\ntype B = {\na?: A\n}"
    to_root = {"type": "object", "properties": {"next": {"$ref": "#"}, "v": {"type": "integer"}}}
    assert render(for_prompt(to_root)).splitlines()[0:2] == ["{", "next?: Root"]
    assert "type Root = {" in render(for_prompt(to_root))


def test_a_definition_named_like_a_type_of_the_notation_is_renamed() -> None:
    # "type number = string" made the float "total" read as the invoice number's string.
    shared = {"$ref": "#/$defs/number"}
    schema = {
        "type": "object",
        "properties": {"id": shared, "ref": shared, "total": {"type": "number"}},
        "$defs": {"number": {"type": "string", "pattern": "^INV-[0-9]+$"}},
    }
    assert render(for_prompt(schema)).splitlines() == [
        "{",
        "id?: number2",
        "ref?: number2",
        "total?: number",
        "}",
        "type number2 = string // pattern ^INV-[0-9]+$",
    ]


def test_an_unknown_reference_is_shown_not_dropped() -> None:
    assert notation_of({"$ref": "https://example.com/x.json"}).splitlines()[1] == (
        'x: any // $ref "https://example.com/x.json"'
    )


HOSTILE = 'Line one\nline two\r\n\u2028 has // and */ and "quotes" and \\ and `ticks`\t.'


def test_descriptions_names_and_values_cannot_break_the_layout() -> None:
    schema = {
        "type": "object",
        "description": HOSTILE,
        "properties": {
            "we ird\nname": {"type": "string", "description": HOSTILE},
            "e": {"enum": ["a\nb", 'q"uote'], "description": "*/ // end"},
        },
    }
    lines = assert_complete(schema).splitlines()
    collapsed = " ".join(HOSTILE.split())
    assert lines == [
        "{ // " + collapsed,
        '"we ird\\nname"?: string // ' + collapsed,
        'e?: "a\\nb" | "q\\"uote" // */ // end',
        "}",
    ]


NAMES = st.text(min_size=1, max_size=6)
TEXT = st.text(max_size=12)
LITERALS = st.none() | st.booleans() | st.integers(-9, 9) | TEXT
SCALARS = st.fixed_dictionaries(
    {"type": st.sampled_from(["string", "integer", "number", "boolean", "null"])},
    optional={
        "description": TEXT,
        "pattern": TEXT,
        "format": st.sampled_from(["date", "email", "uri"]),
        "minimum": st.integers(-5, 5),
        "exclusiveMaximum": st.floats(-5, 5, allow_nan=False),
        "maxLength": st.integers(0, 9),
        "default": LITERALS,
        "examples": st.lists(LITERALS, max_size=2),
        "not": st.just({"type": "null"}),
    },
) | st.builds(lambda values: {"enum": values}, st.lists(LITERALS, min_size=1, max_size=3))


def _schemas(inner: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    objects = st.builds(
        lambda props, required, description: {
            "type": "object",
            "properties": props,
            "required": [name for name in props if required],
            **({"description": description} if description else {}),
        },
        st.dictionaries(NAMES, inner, max_size=3),
        st.booleans(),
        TEXT,
    )
    arrays = st.builds(
        lambda items, most: {"type": "array", "items": items, "maxItems": most},
        inner,
        st.integers(0, 3),
    )
    maps = st.builds(lambda values: {"type": "object", "additionalProperties": values}, inner)
    unions = st.builds(lambda options: {"anyOf": options}, st.lists(inner, min_size=1, max_size=3))
    return objects | arrays | maps | unions


SCHEMAS = st.recursive(SCALARS, _schemas, max_leaves=8).map(
    lambda node: (
        node if node.get("type") == "object" else {"type": "object", "properties": {"v": node}}
    )
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SCHEMAS)
def test_generated_schemas_keep_everything_and_each_comment_stays_on_its_line(
    schema: dict[str, Any],
) -> None:
    assert_complete(schema, positional=True)
    text = assert_complete(schema)
    for line in text.splitlines():
        code = re.sub(r'"(?:[^"\\]|\\.)*"', "''", line).split(" // ", 1)[0]
        # Texts from the schema are JSON strings in the code, or in the comment: never loose.
        assert '"' not in code and "//" not in code, line


def test_parts_that_only_constrain_are_notes() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        "anyOf": [{"required": ["a"]}, {"required": ["b"]}],
    }
    assert render(for_prompt(schema)).splitlines()[0] == (
        '{ // one of (required ["a"]) | (required ["b"])'
    )
