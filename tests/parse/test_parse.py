"""The lenient parser: valid JSON untouched, typical breakage repaired, only ParseError raised."""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.errors import ParseError
from extractor.parse import MAX_DEPTH, IncrementalParser, Parsed, loads, parse

# -- valid JSON -------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=40,
)
json_containers = st.lists(json_values, max_size=6) | st.dictionaries(
    st.text(max_size=8), json_values, max_size=6
)
layouts = st.sampled_from(
    [
        {},
        {"separators": (",", ":")},
        {"indent": 2},
        {"indent": "\t", "separators": (", ", ": ")},
        {"ensure_ascii": False},
        {"ensure_ascii": False, "indent": 0},
    ]
)


@given(json_values, layouts)
def test_valid_json_comes_back_as_json_loads_gives_it(value: Any, layout: dict[str, Any]) -> None:
    text = json.dumps(value, **layout)
    result = parse(text)
    assert result == Parsed(json.loads(text), False, ())


@settings(max_examples=60)
@given(json_containers, layouts)
def test_the_repair_path_reads_valid_json_exactly_like_json_loads(
    value: Any, layout: dict[str, Any]
) -> None:
    # parse() hands valid JSON to json.loads; this drives the lenient parser itself over it
    text = json.dumps(value, **layout)
    parser = IncrementalParser()
    parser.feed(text)
    assert parser.finish() == Parsed(json.loads(text), False, ())


@settings(max_examples=60)
@given(json_containers, layouts)
def test_valid_json_in_a_fence_with_prose_is_extracted_unchanged(
    value: Any, layout: dict[str, Any]
) -> None:
    text = json.dumps(value, **layout)
    result = parse(f"Here is the JSON you asked for:\n```json\n{text}\n```\nAnything else?")
    assert result.value == json.loads(text)
    assert result.repairs == ("surrounding prose", "markdown fence")


def test_nan_and_infinity_are_accepted_as_json_loads_accepts_them() -> None:
    assert math.isnan(loads("NaN"))
    assert loads('{"a": Infinity, "b": -Infinity}') == {"a": math.inf, "b": -math.inf}
    value = loads('{"a": [NaN, Infinity, -Infinity],}')
    assert math.isnan(value["a"][0]) and value["a"][1:] == [math.inf, -math.inf]


def test_numbers_keep_their_json_types() -> None:
    assert parse("[1, -0, 1.0, -0.0, 1e3, 2E-2, 123456789012345678901234567890,]").value == [
        1,
        0,
        1.0,
        -0.0,
        1000.0,
        0.02,
        123456789012345678901234567890,
    ]
    assert type(loads("[-0,]")[0]) is int


def test_only_ascii_digits_make_numbers_as_in_json() -> None:
    # ARABIC-INDIC DIGIT THREE: int() would take it, JSON does not: it stays text
    assert loads("[1\u0663,]") == ["1\u0663"]


def test_scalar_roots_are_returned_when_they_are_valid_json() -> None:
    assert loads('"text"') == "text"
    assert loads(" 42 ") == 42
    assert loads("null") is None


# -- repairs ----------------------------------------------------------------------------------

REPAIRS = [
    ('```json\n{"a": 1}\n```', {"a": 1}, ("markdown fence",)),
    ('```\n{"a": 1}\n```', {"a": 1}, ("markdown fence",)),
    ('Sure! Here it is: {"a": 1}. Hope it helps.', {"a": 1}, ("surrounding prose",)),
    ('{"a": [1, 2,],}', {"a": [1, 2]}, ("trailing comma",)),
    ('{"a": 1, // the answer\n"b": 2}', {"a": 1, "b": 2}, ("comment",)),
    ('{"a": /* inline */ 1}', {"a": 1}, ("comment",)),
    ('{"a": 1, # hash comment\n"b": 2}', {"a": 1, "b": 2}, ("comment",)),
    ("{'a': 'it\\'s'}", {"a": "it's"}, ("single quotes",)),
    ("{'a': \"say 'hi'\"}", {"a": "say 'hi'"}, ("single quotes",)),
    ("{a: 1, $b_2: 2, c-d: 3}", {"a": 1, "$b_2": 2, "c-d": 3}, ("unquoted key",)),
    ('{"a": True, "b": False, "c": None}', {"a": True, "b": False, "c": None}, ("python literal",)),
    ('{"a": [1, {"b": 2', {"a": [1, {"b": 2}]}, ("missing closing bracket",)),
    ('{"a": "cut off', {"a": "cut off"}, ("unterminated string", "missing closing bracket")),
    ('["one", "tw', ["one", "tw"], ("unterminated string", "missing closing bracket")),
    ('{"a": 1, "b', {"a": 1}, ("unterminated string", "incomplete member dropped")),
    ('{"a": 1, "b":', {"a": 1}, ("incomplete member dropped", "missing closing bracket")),
    ('{"a": 1, "b": tr', {"a": 1}, ("incomplete member dropped", "missing closing bracket")),
    ('{"a": 1, "b": -', {"a": 1}, ("incomplete member dropped", "missing closing bracket")),
    ('{"a": 12', {"a": 12}, ("missing closing bracket",)),
    ("[1, 2,", [1, 2], ("trailing comma", "missing closing bracket")),
    ('{"a": [1, 2}', {"a": [1, 2]}, ("mismatched bracket",)),
    ('{"a": 1 "b": 2}', {"a": 1, "b": 2}, ("missing comma",)),
    ("[1 2 3]", [1, 2, 3], ("missing comma",)),
    ("[, 1,, 2]", [1, 2], ("extra comma",)),
    ('{\n, "a": 1,, "b": 2}', {"a": 1, "b": 2}, ("extra comma",)),
    (
        '{"q": "He said "hi" twice", "n": 1}',
        {"q": 'He said "hi" twice', "n": 1},
        ("unescaped quote",),
    ),
    ("{'a': 'it's', 'b': 'x'}", {"a": "it's", "b": "x"}, ("single quotes", "unescaped quote")),
    ('{"size": "5" wide"}', {"size": '5" wide'}, ("unescaped quote",)),
    ('{"a": "line\nbreak"}', {"a": "line\nbreak"}, ("control character in string",)),
    ('{"path": "C:\\Users\\me"}', {"path": "C:\\Users\\me"}, ("invalid escape",)),
    (
        '```json\n{"a": [1, {"b": 2\n```',
        {"a": [1, {"b": 2}]},
        ("markdown fence", "missing closing bracket"),
    ),
    ('```json\n{"a": "cut\n```', {"a": "cut"}, ("markdown fence", "unterminated string")),
]


@pytest.mark.parametrize(("text", "value", "repairs"), REPAIRS)
def test_repairs(text: str, value: Any, repairs: tuple[str, ...]) -> None:
    result = parse(text)
    assert result.value == value
    assert result.repaired
    assert set(repairs) <= set(result.repairs)
    assert loads(text) == value


def test_every_repair_together() -> None:
    text = """Sure! Here is the record:

```json
{
  // the customer
  name: 'Ada Lovelace',
  "active": True,
  "manager": None,
  "tags": ['math', "poetry",],
  /* cut off below */
  "notes": "first programmer
```
"""
    result = parse(text)
    assert result.value == {
        "name": "Ada Lovelace",
        "active": True,
        "manager": None,
        "tags": ["math", "poetry"],
        "notes": "first programmer",
    }
    assert result.repairs == (
        "surrounding prose",
        "markdown fence",
        "comment",
        "unquoted key",
        "single quotes",
        "python literal",
        "trailing comma",
        "control character in string",
        "unterminated string",
        "missing closing bracket",
    )


def test_the_first_json_looking_fenced_block_is_taken() -> None:
    text = (
        "Run this:\n```python\nrows = [1, 2]\nprint({'x': rows})\n```\n"
        'The answer:\n```json\n{"rows": 2}\n```\n```json\n{"rows": 3}\n```'
    )
    assert parse(text).value == {"rows": 2}


def test_an_object_is_preferred_to_an_array_met_first_in_prose() -> None:
    assert loads('Options were [1, 2]; the answer is {"choice": 2}.') == {"choice": 2}
    assert loads('[note] {"a": 1}') == {"a": 1}
    assert loads("Use the format {name}: {'name': 'x'}") == {"name": "x"}


def test_a_bracket_in_prose_that_fails_after_a_value_is_looked_past() -> None:
    assert loads('Step [2/3]: here is the JSON {"a": 1}') == {"a": 1}
    assert loads('Step [2/3] and [4 x] then {"a": [1,]}') == {"a": [1]}


def test_the_error_reported_is_the_one_from_the_root_that_got_furthest() -> None:
    with pytest.raises(ParseError) as info:
        loads('Step [2/3]: {"a": 1, bogus}')
    assert info.value.position == 26
    assert "expected ':'" in str(info.value)


def test_an_array_is_returned_when_there_is_no_object_after_it() -> None:
    assert loads("The values: [1, 2, 3].") == [1, 2, 3]
    assert loads('The people: [{"a": 1}, {"a": 2}] - done') == [{"a": 1}, {"a": 2}]


def test_unicode_escapes_and_surrogate_pairs_decode_like_json_loads() -> None:
    text = r'{"a": "caf\u00e9 \ud83d\ude00 \ud800 \udc00x", }'
    assert loads(text) == json.loads(text.replace(", }", "}"))


def test_text_after_the_root_is_ignored() -> None:
    assert loads('{"a": 1} and then {"b": 2}') == {"a": 1}


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("", 0),
        ("no json here", 12),
        ('{"a": @}', 6),
        ('{"items",: [1, 2]}', 8),
        ('{"items": [1, 2] "x"}', 20),
    ],
)
def test_unrecoverable_text_raises_parse_error_with_position(text: str, position: int) -> None:
    with pytest.raises(ParseError) as info:
        loads(text)
    assert info.value.position == position


def test_a_non_string_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        loads(b'{"a": 1}')  # type: ignore[arg-type]


def test_huge_integers_are_a_parse_error_not_a_value_error() -> None:
    with pytest.raises(ParseError):
        loads("[" + "1" * 5000 + ",]")


def test_deep_nesting_never_raises_recursion_error() -> None:
    with pytest.raises(ParseError) as info:
        loads("[" * 100_000)
    assert "nesting" in str(info.value)
    with pytest.raises(ParseError):
        loads('{"a":' * 100_000)


def test_nesting_up_to_max_depth_is_parsed_without_recursion() -> None:
    for text in ("[" * MAX_DEPTH + "]" * MAX_DEPTH, "[" * MAX_DEPTH + "]" * MAX_DEPTH + ","):
        value = loads(text)
        for _ in range(MAX_DEPTH - 1):
            assert isinstance(value, list) and len(value) == 1
            value = value[0]
        assert value == []
    unclosed = loads("[" * MAX_DEPTH)
    assert isinstance(unclosed, list)


@pytest.mark.parametrize(
    "text",
    [
        "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),  # valid JSON: json.loads would take it
        '{"a": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}",
        "Here: " + "[" * (MAX_DEPTH + 1) + "1" + "]" * (MAX_DEPTH + 1),  # via the C scanner
        "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + ",",
    ],
)
def test_nesting_past_max_depth_is_a_parse_error_with_its_position(text: str) -> None:
    with pytest.raises(ParseError) as info:
        loads(text)
    assert f"nesting deeper than {MAX_DEPTH} levels" in str(info.value)
    position = info.value.position
    assert position is not None and text[position] == "["
    assert text.count("[", 0, position) + text.count("{", 0, position) == MAX_DEPTH


@settings(max_examples=400)
@given(st.text())
def test_arbitrary_text_gives_a_value_or_a_parse_error(text: str) -> None:
    try:
        parse(text)
    except ParseError as exc:
        assert exc.position is not None and 0 <= exc.position <= len(text)


ALPHABET = st.sampled_from(list("{}[]:,\"'\\/*`\n -.0123456789eEtrufalsnNTF#$_abc\u00e9"))


@settings(max_examples=400)
@given(st.lists(ALPHABET, max_size=60).map("".join))
def test_json_like_noise_gives_a_value_or_a_parse_error(text: str) -> None:
    try:
        parse(text)
    except ParseError as exc:
        assert exc.position is not None and 0 <= exc.position <= len(text)


@settings(max_examples=100)
@given(json_containers, st.data())
def test_damaged_json_gives_a_value_or_a_parse_error(value: Any, data: st.DataObject) -> None:
    text = json.dumps(value)
    cut = data.draw(st.integers(0, len(text)))
    insert = data.draw(st.sampled_from(["", ",", "}", "]", "'", '"', "//", "\\", "```"]))
    damaged = text[:cut] + insert + text[cut + data.draw(st.integers(0, 3)) :]
    with contextlib.suppress(ParseError):
        parse(damaged)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('Use {curly} braces:\n```json\n{"a": 1}\n```', {"a": 1}),
        ('```yaml\nkey: [1, 2]\n```\n```json\n{"a": 1}\n```', {"a": 1}),
        ('```\nnot json at all\n```\n```json\n{"a": 1}\n```', {"a": 1}),
        ('Call `f([x])` then read:\n```json\n{"a": [1]}\n```', {"a": [1]}),
        ('```json {"a": 1}```', {"a": 1}),
        ('\ufeff{"a": 1}', {"a": 1}),
        (
            '{"code": "```python\\nprint({1: [2]})\\n```"}',
            {"code": "```python\nprint({1: [2]})\n```"},
        ),
    ],
)
def test_fences_and_prose(text: str, value: Any) -> None:
    assert loads(text) == value
