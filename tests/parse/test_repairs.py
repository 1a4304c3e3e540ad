"""Each kind of repair is named in ``Parsed.repairs``, and the parser's bounds hold: hostile
answers fail fast with a ParseError that says why."""

from __future__ import annotations

import pytest

from extractor.errors import ParseError
from extractor.parse import IncrementalParser, loads, parse


@pytest.mark.parametrize(
    ("text", "repair"),
    [
        ('{"city": New York}', "unquoted string"),
        ("[1, 2, ...]", "ellipsis"),
        ('{"n": 2,000}', "number format"),
        ('{"n": .5}', "number format"),
        ('{"a" 1}', "missing colon"),
        ('{"a": , "b": 1}', "missing value"),
        ('{"a": 1, NOTE "b": 2}', "stray text dropped"),
        ('{"a":\u00a01}', "non-ASCII whitespace"),
        ("{\u201ca\u201d: 1}", "smart quotes"),
        ('{"a": (1, 2)}', "python tuple"),
        ('{"n": NumberLong(2)}', "function call"),
        ('{"re": /a+/}', "regular expression"),
        ('{"a": undefined}', "non-JSON literal"),
        ('{"a": "x, "b": 1}', "missing closing quote"),
        ('{"a": "x}', "missing closing quote"),
        ('["a", b"]', "missing opening quote"),
        ('{"a": [1]], "b": 2}', "extra closing bracket"),
        ('{"a": 1}, "b": 2}', "extra closing bracket"),
        ('{"a": [1, 2}, "b": 3}', "mismatched bracket"),
        ('{"b": "x" true}', "value without a key dropped"),
        ('{"q": "say "hi" now"}', "unescaped quote"),
    ],
)
def test_each_repair_is_named(text: str, repair: str) -> None:
    assert repair in parse(text).repairs


def test_a_string_reconsidered_at_the_end_drops_its_guess_from_the_repairs() -> None:
    result = parse('["a" b]')
    assert result.value == ["a", "b"]
    assert "unescaped quote" not in result.repairs


def test_a_string_reconsidered_at_the_end_agrees_in_any_chunking() -> None:
    text = '{"x": ["a" b], "y": 1'
    expected = parse(text)
    assert expected.value == {"x": ["a", "b"], "y": 1}
    for i in range(len(text) + 1):
        parser = IncrementalParser()
        parser.feed(text[:i])
        parser.feed(text[i:])
        assert parser.finish() == expected, i


def test_a_cut_off_string_with_a_quote_inside_stays_whole() -> None:
    assert loads('{"q": "He said "hi" and le') == {"q": 'He said "hi" and le'}


def test_a_string_that_swallows_the_closing_brackets_is_refused() -> None:
    with pytest.raises(ParseError) as info:
        loads('{"a": "x" y}')
    assert info.value.position == 8
    assert "unescaped quote" in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" + "a, " * 30_000 + "]", "more than 20000 repairs needed"),
        ('{"s": "' + 'a" x ' * 300 + '"}', "more than 256 unescaped quotes in one string"),
    ],
)
def test_hopelessly_broken_answers_fail_fast_with_a_parse_error(text: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        loads(text)
    assert message in str(info.value)


def test_a_lone_bracket_at_the_end_is_an_empty_root_but_not_while_streaming() -> None:
    assert loads("{") == {}
    assert loads("Here it is: [") == []
    parser = IncrementalParser()
    parser.feed("[")
    assert parser.value is None  # what follows may yet show it is prose
    parser.feed('"a"')
    assert parser.value == []


def test_items_of_a_list_reopened_after_a_stray_closer_are_still_handed_out() -> None:
    parser = IncrementalParser(item_path=("result",))
    parser.feed('{"result": [{"a": 1}]], {"a": 2}]}')
    result = parser.finish()
    assert result.value == {"result": [{"a": 1}, {"a": 2}]}
    assert parser.pop_items() == [{"a": 1}, {"a": 2}]
