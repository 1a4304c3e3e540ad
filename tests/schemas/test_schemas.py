"""The ready-made schemas in schemas/: valid JSON Schemas, documented, and their samples conform."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
SAMPLES = SCHEMAS / "samples"
SCHEMA_FILES = sorted(SCHEMAS.glob("*.json"))
NAMES = [path.stem for path in SCHEMA_FILES]

EXPECTED_NAMES = {
    "person", "company", "address", "invoice", "receipt", "event",
    "job_posting", "product", "ticket", "people",
}  # fmt: skip


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def samples(name: str) -> list[tuple[str, Any]]:
    """(text, expected output) for every ``samples/<name>*.txt`` with its ``.expected.json``."""
    pairs = []
    for text_path in sorted(SAMPLES.glob(f"{name}*.txt")):
        if text_path.stem != name and not text_path.stem.startswith(name + "."):
            continue  # "person" must not pick up "people.txt"
        expected_path = text_path.with_suffix(".expected.json")
        pairs.append((text_path.read_text(encoding="utf-8"), load(expected_path)))
    return pairs


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def subschemas(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object nested in ``node`` (properties, items, anyOf, $defs...)."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key in ("properties", "$defs"):
                for name, sub in value.items():
                    yield from subschemas(sub, f"{path}/{key}/{name}")
            elif key in ("items", "not", "if", "then", "else"):
                yield from subschemas(value, f"{path}/{key}")
            elif key in ("anyOf", "oneOf", "allOf", "prefixItems"):
                for i, sub in enumerate(value):
                    yield from subschemas(sub, f"{path}/{key}/{i}")


def test_every_promised_schema_is_there() -> None:
    assert set(NAMES) == EXPECTED_NAMES


@pytest.mark.parametrize("name", NAMES)
def test_schema_passes_the_meta_schema(name: str) -> None:
    schema = load(SCHEMAS / f"{name}.json")
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "$id" not in schema  # loaded from wherever the user keeps it
    assert schema["type"] == "object"  # JSON mode answers with an object


@pytest.mark.parametrize("name", NAMES)
def test_every_field_is_described(name: str) -> None:
    """The descriptions are what the model reads; a bare field is a guess."""
    schema = load(SCHEMAS / f"{name}.json")
    assert schema.get("description")
    for path, sub in subschemas(schema):
        if path.split("/")[-2:-1] == ["properties"]:
            assert sub.get("description"), f"{name}.json{path} has no description"


@pytest.mark.parametrize("name", NAMES)
def test_objects_are_closed_and_fully_required(name: str) -> None:
    """Every object lists all its properties as required (facts the text may not state are
    nullable instead), which keeps output shapes stable and is what strict structured
    outputs demand."""
    schema = load(SCHEMAS / f"{name}.json")
    objects = [(p, s) for p, s in subschemas(schema) if "properties" in s]
    assert objects
    for path, sub in objects:
        assert sub.get("additionalProperties") is False, f"{name}.json{path}"
        assert set(sub["required"]) == set(sub["properties"]), f"{name}.json{path}"


@pytest.mark.parametrize("name", NAMES)
def test_formats_used_are_really_checked(name: str) -> None:
    """A format with no checker installed is silently accepted; only use checked ones."""
    checked = set(Draft202012Validator.FORMAT_CHECKER.checkers)
    for path, sub in subschemas(load(SCHEMAS / f"{name}.json")):
        if "format" in sub:
            assert sub["format"] in checked, f"{name}.json{path}: {sub['format']}"


def test_embedded_addresses_match_address_json() -> None:
    """Schemas are self-contained (no cross-file $ref), so the address copies must not drift."""
    address = load(SCHEMAS / "address.json")
    parts = {k: v for k, v in address["properties"].items() if k != "recipient"}
    embedded = [n for n in NAMES if "address" in load(SCHEMAS / f"{n}.json").get("$defs", {})]
    assert len(embedded) >= 3
    for name in embedded:
        assert load(SCHEMAS / f"{name}.json")["$defs"]["address"]["properties"] == parts, name


@pytest.mark.parametrize("name", NAMES)
def test_samples_conform_to_their_schema(name: str) -> None:
    schema = load(SCHEMAS / f"{name}.json")
    pairs = samples(name)
    assert pairs, f"schemas/samples/{name}.txt and {name}.expected.json are missing"
    for text, expected in pairs:
        assert text.strip()
        errors = [e.message for e in validator(schema).iter_errors(expected)]
        assert not errors, errors


@pytest.mark.parametrize("name", NAMES)
def test_schema_rejects_a_broken_answer(name: str) -> None:
    """The schemas have teeth: an unknown key, or a missing required key, is rejected."""
    schema = load(SCHEMAS / f"{name}.json")
    expected = samples(name)[0][1]
    extra = copy.deepcopy(expected)
    extra["unexpected_field"] = 1
    assert not validator(schema).is_valid(extra)
    missing = copy.deepcopy(expected)
    del missing[schema["required"][0]]
    assert not validator(schema).is_valid(missing)


@pytest.mark.parametrize(
    ("name", "pointer", "bad"),
    [
        ("invoice", ("issue_date",), "12/03/2024"),
        ("invoice", ("currency",), "£"),
        ("invoice", ("total",), "6,672.00"),
        ("receipt", ("time",), "8.47am"),
        ("event", ("attendees", 0, "email"), "leo at fabrikam"),
        ("job_posting", ("workplace",), "partly remote"),
        ("ticket", ("urgency",), "urgent!!"),
        ("product", ("price", "currency"), "usd"),
        ("address", ("country_code",), "Germany"),
        ("person", ("phones", 0, "number"), "call me"),
        ("company", ("founded_year",), "2016"),
    ],
)
def test_constraints_catch_typical_model_mistakes(
    name: str, pointer: tuple[str | int, ...], bad: Any
) -> None:
    schema = load(SCHEMAS / f"{name}.json")
    answer = copy.deepcopy(samples(name)[0][1])
    node = answer
    for step in pointer[:-1]:
        node = node[step]
    node[pointer[-1]] = bad
    assert not validator(schema).is_valid(answer)
