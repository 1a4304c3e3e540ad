# ruff: noqa: RUF001  (smart quotes and odd spaces are what these cases are about)
"""Every case of the corpus: the expected value, or a ParseError where nothing is safe to take;
and the same outcome however the text is split into chunks."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.errors import ParseError
from extractor.parse import IncrementalParser, Parsed, loads

from .corpus import CASES, REFUSED, Case, same

# Cases the parser does not recover yet: each fails today and must be removed once it passes.
NOT_YET: set[str] = {
    '{\n  "firstName": "John"\n  lastName: Smith',
    '{"rows": [[1, 2], [3, 4}, "total": 2}',
    '{"a":2,]',
    "[}",
    "{]",
    "{",
    "[",
    '{"url":"https://www.example.com/}',
    '{"time":"12:20}',
    '{"key": "value}',
    '["abc]\n',
    '[\n[\n"abc\n]\n]\n',
    '{"key": "value}```',
    '{"city": New York}',
    '{"name": John, "age": 30}',
    "{'key': 'string', 'key2': false, \"key3\": null, \"key4\": unquoted}",
    "{greeting: hello world}",
    '{greeting: hello world\nnext: "line"}',
    "{url:https://www.example.com/}",
    '{url:https://www.example.com/,"id":2}',
    "[a,b]",
    '["This is C(2)", This is F(3)]',
    '{"date":2024-10-18T18:35:22.229Z}',
    '{"rowId": 57eeeeb1-450b-482c-81b9-4be77e95dee2}',
    '{"key": value "key2" : "value2" }',
    "{key:value,key2:value2}",
    '["a" b]',
    '{"status": ok}',
    '{"a": 1, "b": bogus, "c": 2}',
    "[1, 2notanumber]",
    '{"key": 1notanumber }',
    '{"key": 1/3}',
    '{"key": 10-20}',
    '{"key": 1.1.1}',
    '{"trueish": trueble}',
    "[1, 2, 3, ...]",
    "[1, 2, ... , 3]",
    "[true, false, null, ...]",
    "[1,2,3,...,9]",
    "[...,7,8,9]",
    "[...]",
    '{"a":2,"b":3,...}',
    '{"a":2,"b":3,...,"z":26}',
    '{"nested":{"a":2,"b":3, ... }}',
    '{"items": ["a", "b", …]}',
    '{"a": 1, …}',
    '{"array":[1,2,3,/*more*/.../*more*/]}',
    '{"amount": -2,000.00}',
    '{"population": 1,234,567, "year": 2020}',
    '{"key": .25}',
    '{"key": -.5}',
    '{"key": 1. }',
    '{"key": 1e }',
    '{"mask": 0x1F}',
    '{"value": 82_461_110}',
    '{"n": +5}',
    '{"zip": 02134}',
    "[0789]",
    '{"n": 05}',
    '{"version": 1.2.3}',
    '{"a" 1}',
    '{"a" "b"}',
    '{"a" true}',
    '{"a" null, "b" 2}',
    '{"value_1": true, COMMENT "value_2": "data"}',
    '[{"key": "value", COMMENT "notes": "x"}]',
    '{"a": , "b": 1}',
    '{"a":}',
    '{"a":,"b":2}',
    '{"key": , "key2": "value2"}',
    '{"a":\xa0"foo\xa0bar"}',
    '{"a":\u2000"foo"}',
    '{"a":\u200b"foo"}',
    '{"a":\u202f"foo"}',
    '{"a":\u205f"foo"}',
    '{"a":\u3000"foo"}',
    '{"a":\ufeff"foo"}',
    '{\u3000"name":\u3000"李",\u3000"age":\u300030}',
    "[1,\xa02,\xa03]",
    "{“a”: “b”}",
    "{‘a’: ‘b’}",
    '{“slanted_delimiter”: "value"}',
    "{`a´:`b´}",
    "{`a`: `b`}",
    "{“name”: “Ada”, “langs”: [“en”, “fr”]}",
    '```python\n{"a": "b"}\n```',
    '```yaml\n{"a": 1}\n```',
    'Here you go:\n```py\n[{"x": 1}]\n```',
    '{"coords": (1, 2), "ok": true}',
    '{"empty": ()}',
    '{"pairs": ((1, 2), (3, 4))}',
    '{"names": ("a", "b")}',
    '{"a":undefined}',
    "[undefined]",
    '{"n": NumberLong(2)}',
    '{"n": NumberLong("2")}',
    '{"_id": ObjectId("507f1f77bcf86cd799439011")}',
    '{"at": ISODate("2024-01-02T03:04:05Z")}',
    '{"n": NumberInt(7), "d": NumberDecimal("1.5")}',
    "{regex: /standalone-styles.css/}",
    '{"re": /^[a-z]+$/i, "n": 1}',
    '{"key": TRUE, "key2": FALSE, "key3": Null}',
}


def _id(case: Case) -> str:
    return f"{case.group}: {case.text[:40]!r}"


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, marks=pytest.mark.xfail(strict=True)) if c.text in NOT_YET else c
        for c in CASES
    ],
    ids=_id,
)
def test_corpus_case(case: Case) -> None:
    if case.expected is REFUSED:
        with pytest.raises(ParseError) as info:
            loads(case.text)
        assert info.value.position is not None and 0 <= info.value.position <= len(case.text)
    else:
        value = loads(case.text)
        assert same(value, case.expected), value


def outcome(chunks: list[str]) -> Parsed | str:
    parser = IncrementalParser()
    try:
        for chunk in chunks:
            parser.feed(chunk)
        return parser.finish()
    except ParseError as exc:
        return f"ParseError at {exc.position}"


def same_outcome(a: Parsed | str, b: Parsed | str) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return same(a.value, b.value) and a.repairs == b.repairs


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CASES), st.data())
def test_streaming_agrees_with_loads_on_every_corpus_case(case: Case, data: st.DataObject) -> None:
    text = case.text
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=8)))
    chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    assert same_outcome(outcome(chunks), outcome([text]))


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_one_character_at_a_time_agrees_with_the_whole_text(case: Case) -> None:
    assert same_outcome(outcome(list(case.text)), outcome([case.text]))


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_loads_is_the_incremental_parser_fed_the_whole_text(case: Case) -> None:
    """Except that loads() looks past a root found in prose: '[note] {...}' (see parse())."""
    parser = IncrementalParser()
    try:
        parser.feed(case.text)
        streamed: Any = parser.finish().value
    except ParseError:
        streamed = REFUSED
    if parser.root_after_prose:
        return
    try:
        value: Any = loads(case.text)
    except ParseError:
        value = REFUSED
    assert value is streamed is REFUSED or same(value, streamed)
