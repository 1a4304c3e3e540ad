"""The incremental parser: same value however the text is split, snapshots that only ever grow."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.errors import ParseError
from extractor.parse import IncrementalParser, Parsed, parse

from .test_parse import REPAIRS, json_containers


def feed_all(chunks: list[str], **options: Any) -> Parsed:
    parser = IncrementalParser(**options)
    for chunk in chunks:
        parser.feed(chunk)
    return parser.finish()


def one_shot(text: str) -> Parsed:
    return feed_all([text])


def split(text: str, cuts: list[int]) -> list[str]:
    cuts = sorted(cuts)
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]


SAMPLES = [
    '{"name": "Ada", "tags": ["a", "b"], "n": 12.5e-1, "ok": true, "none": null}',
    r'{"s": "q\"uote \\ back\/slash \u00e9 \ud83d\ude00 \b\f\n\r\t", "k\u00e9y": [-0, 1e2]}',
    '```json\n{"a": [1, 2,], \'b\': True, c: None, // note\n "d": /* x */ "e",}\n```\nThanks!',
    'Some prose [note] then {"x": [{"y": 1}, {"y": 2}]}',
    '```python\nprint([1])\n```\n```json\n{"picked": 1}\n```',
    '{"a": [1, {"b": "cut off',
    '[1 2 3, "x" "y"]',
    """{"q": "He said "hi" twice", 'r': 'it's' , "s": "5" inches"}""",
]


@pytest.mark.parametrize("text", SAMPLES + [case[0] for case in REPAIRS])
def test_splitting_at_every_offset_gives_the_same_value(text: str) -> None:
    expected = one_shot(text)
    for i in range(len(text) + 1):
        assert feed_all([text[:i], text[i:]]) == expected, i


@pytest.mark.parametrize("text", SAMPLES[:3])
def test_splitting_at_every_pair_of_offsets_gives_the_same_value(text: str) -> None:
    expected = one_shot(text)
    for i in range(len(text) + 1):
        for j in range(i, len(text) + 1):
            assert feed_all([text[:i], text[i:j], text[j:]]) == expected, (i, j)


@pytest.mark.parametrize("text", SAMPLES)
def test_one_character_at_a_time_gives_the_same_value(text: str) -> None:
    assert feed_all(list(text)) == one_shot(text)


@settings(max_examples=60)
@given(json_containers, st.data())
def test_any_chunking_of_valid_json_gives_json_loads_value(value: Any, data: st.DataObject) -> None:
    text = json.dumps(value, ensure_ascii=data.draw(st.booleans()))
    chunks = split(text, data.draw(st.lists(st.integers(0, len(text)), max_size=12)))
    assert feed_all(chunks) == Parsed(json.loads(text), False, ())


def test_escapes_split_across_chunks() -> None:
    assert feed_all(['{"a": "caf\\', 'u00e9"}']).value == {"a": "café"}
    assert feed_all(['{"a": "caf\\u00', 'e9"}']).value == {"a": "café"}
    assert feed_all(['{"a": "\\"', '"}']).value == {"a": '"'}
    assert feed_all(['{"a": "\\', '"}"}']).value == {"a": '"}'}
    pair = r'{"a": "\ud83d\ude00"}'
    for i in range(len(pair) + 1):
        assert feed_all([pair[:i], pair[i:]]).value == {"a": "\U0001f600"}, i
    lone = r'{"a": "\ud83dx"}'
    for i in range(len(lone) + 1):
        assert feed_all([lone[:i], lone[i:]]).value == json.loads(lone), i


def test_braces_and_quotes_inside_strings_never_confuse_it() -> None:
    text = '{"a": "}]{[,:\'//", "b": "/* not a comment */"}'
    for i in range(len(text) + 1):
        assert feed_all([text[:i], text[i:]]).value == json.loads(text)


# -- snapshots --------------------------------------------------------------------------------


def grows_into(old: Any, new: Any, *, partial_strings: bool = False) -> bool:
    """Whether snapshot ``new`` keeps everything ``old`` showed (strings may have grown)."""
    if isinstance(old, dict):
        return isinstance(new, dict) and all(
            key in new and grows_into(value, new[key], partial_strings=partial_strings)
            for key, value in old.items()
        )
    if isinstance(old, list):
        return (
            isinstance(new, list)
            and len(old) <= len(new)
            and all(
                grows_into(a, b, partial_strings=partial_strings)
                for a, b in zip(old, new, strict=False)
            )
        )
    if partial_strings and isinstance(old, str):
        return isinstance(new, str) and new.startswith(old)
    return bool(old == new and type(old) is type(new))


def snapshots(text: str, size: int, **options: Any) -> tuple[list[Any], Parsed]:
    parser = IncrementalParser(**options)
    shots: list[Any] = []
    for start in range(0, len(text), size):
        changed = parser.feed(text[start : start + size])
        shot = copy.deepcopy(parser.value)
        assert changed or not shots or shot == shots[-1]
        if shot is not None or shots:  # None until the root starts
            shots.append(shot)
    return shots, parser.finish()


@pytest.mark.parametrize("partial_strings", [False, True])
@pytest.mark.parametrize("size", [1, 3, 7])
def test_snapshots_are_monotone(size: int, partial_strings: bool) -> None:
    text = json.dumps(
        {"people": [{"name": "Ada Lovelace", "age": 36, "ok": True}] * 3, "total": 1234.5}
    )
    shots, final = snapshots(text, size, partial_strings=partial_strings)
    for old, new in zip(shots, [*shots[1:], final.value], strict=True):
        assert grows_into(old, new, partial_strings=partial_strings), (old, new)
    assert final.value == json.loads(text)


def test_numbers_and_literals_appear_only_once_complete() -> None:
    parser = IncrementalParser()
    assert parser.value is None
    assert parser.feed('{"a": 12')
    assert parser.value == {}
    assert not parser.feed("3")
    assert parser.value == {}
    assert parser.feed(", ")
    assert parser.value == {"a": 123}
    parser.feed('"b": tru')
    assert parser.value == {"a": 123}
    parser.feed("e}")
    assert parser.value == {"a": 123, "b": True}
    assert parser.finish().value == {"a": 123, "b": True}


def test_strings_appear_when_closed_unless_partial_strings() -> None:
    parser = IncrementalParser()
    parser.feed('{"a": "hel')
    assert parser.value == {}
    parser.feed('lo" ')
    assert parser.value == {}  # a quote followed by a letter would be inside the string
    parser.feed("}")
    assert parser.value == {"a": "hello"}

    growing = IncrementalParser(partial_strings=True)
    assert growing.feed('["hel')
    assert growing.value == ["hel"]
    assert growing.feed("lo")
    assert growing.value == ["hello"]
    assert not growing.feed("")
    growing.feed('" said" twice", "x')
    assert growing.value == ["hello"]  # the quote is judged on what follows: not here yet
    assert growing.finish().value == ['hello" said" twice', "x"]


def test_keys_appear_with_their_container() -> None:
    parser = IncrementalParser()
    parser.feed('{"person": ')
    assert parser.value == {}
    assert parser.feed("{")
    assert parser.value == {"person": {}}
    assert not parser.feed('"na')  # a key in progress is not shown


def test_whitespace_does_not_change_the_value() -> None:
    parser = IncrementalParser()
    parser.feed('{"a": 1, ')
    assert not parser.feed("   \n  ")


# -- items ------------------------------------------------------------------------------------


PEOPLE: dict[str, Any] = {
    "meta": {"people": ["not these"]},
    "people": [{"name": f"p{i}", "tags": [i, [i]], "s": "a]}"} for i in range(40)] + [7, "x"],
    "after": [1],
}


@pytest.mark.parametrize("size", [1, 5, 64, 10_000])
def test_pop_items_gives_each_completed_element_once_in_order(size: int) -> None:
    text = json.dumps(PEOPLE)
    parser = IncrementalParser(item_path=("people",))
    seen: list[Any] = []
    for start in range(0, len(text), size):
        parser.feed(text[start : start + size])
        for item in parser.pop_items():
            assert item == PEOPLE["people"][len(seen)]  # complete and final when handed out
            seen.append(copy.deepcopy(item))
    parser.finish()
    seen.extend(parser.pop_items())
    assert seen == PEOPLE["people"]
    assert parser.pop_items() == []


def items_of(text: str, size: int, **options: Any) -> list[Any]:
    """Every item popped while ``text`` is fed in chunks of ``size``, then at finish."""
    parser = IncrementalParser(**options)
    seen: list[Any] = []
    for start in range(0, len(text), size):
        parser.feed(text[start : start + size])
        seen.extend(parser.pop_items())
    parser.finish()
    return seen + parser.pop_items()


@pytest.mark.parametrize("size", [1, 7, 10_000])
def test_pop_items_for_a_root_array_and_a_nested_path(size: int) -> None:
    rows = [{"sku": f"A{i}", "qty": i} for i in range(30)]
    for item_path, text in [
        ((), "```json\n" + json.dumps(rows) + "\n```"),
        (("data", 1, "rows"), json.dumps({"data": [{"rows": [0]}, {"rows": rows}]})),
    ]:
        assert items_of(text, size, item_path=item_path) == rows


@pytest.mark.parametrize("partial_strings", [False, True])
def test_string_items_shown_growing_are_still_handed_out(partial_strings: bool) -> None:
    text = '{"names": ["Ada Lovelace", "Grace Hopper", "Alan Turing"]}'
    for size in (1, 3, 8):
        items = items_of(text, size, item_path=("names",), partial_strings=partial_strings)
        assert items == ["Ada Lovelace", "Grace Hopper", "Alan Turing"], size


def test_items_cut_off_at_the_end_are_completed_by_finish() -> None:
    parser = IncrementalParser(item_path=("people",))
    parser.feed('{"people": [{"a": 1}, {"a": 2, "b": "x')
    assert parser.pop_items() == [{"a": 1}]
    result = parser.finish()
    assert parser.pop_items() == [{"a": 2, "b": "x"}]
    assert result.repairs == ("unterminated string", "missing closing bracket")


# -- prose, errors, end of input ---------------------------------------------------------------


def test_prose_and_fences_around_the_root_are_skipped_while_streaming() -> None:
    text = 'Sure!\n```json\n{"a": [1, 2]}\n```\nAnything else? {"b": 1}'
    parser = IncrementalParser()
    for char in text:
        parser.feed(char)
    assert parser.finish() == Parsed({"a": [1, 2]}, True, ("surrounding prose", "markdown fence"))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('[note] {name} [trueish] {"a": 1}', {"a": 1}),
        ("[true, 1]", [True, 1]),
        ("{a: 1}", {"a": 1}),
        ("[" + " " * 300 + "1]", [1]),
        ('{ // why\n "a": 1}', {"a": 1}),
    ],
)
def test_a_bracket_starts_the_root_only_if_json_follows(text: str, value: Any) -> None:
    for i in range(len(text) + 1):
        assert feed_all([text[:i], text[i:]]).value == value, i


def test_a_syntax_error_inside_the_root_is_raised_from_feed_and_stays() -> None:
    parser = IncrementalParser()
    parser.feed('{"a": 1, ')
    with pytest.raises(ParseError) as info:
        parser.feed('"b": @}')
    assert info.value.position == 14
    with pytest.raises(ParseError):
        parser.feed("}")
    with pytest.raises(ParseError):
        parser.finish()


def test_finish_without_a_root_is_a_parse_error() -> None:
    parser = IncrementalParser()
    parser.feed("I could not find any data in that text.")
    with pytest.raises(ParseError):
        parser.finish()


def test_finish_is_idempotent_and_closes_feeding() -> None:
    parser = IncrementalParser()
    parser.feed("[1, 2")
    assert parser.finish() is parser.finish()
    with pytest.raises(ParseError):
        parser.feed("]")


def test_parse_is_the_incremental_parser_fed_once() -> None:
    for text, _, _ in REPAIRS:
        assert parse(text) == one_shot(text)


NOISE = st.sampled_from(list("{}[]:,\"'\\/*`\n -.0123456789eEtrufalsnNTFu#$_abc\u00e9"))


def outcome(chunks: list[str]) -> Parsed | str:
    try:
        return feed_all(chunks)
    except ParseError as exc:
        return f"ParseError at {exc.position}"


@settings(max_examples=300)
@given(st.lists(NOISE, max_size=40).map("".join), st.data())
def test_any_chunking_of_broken_text_gives_the_same_outcome(text: str, data: st.DataObject) -> None:
    chunks = split(text, data.draw(st.lists(st.integers(0, len(text)), max_size=6)))
    assert repr(outcome(chunks)) == repr(outcome([text]))


def test_large_broken_documents_give_the_same_value_in_any_chunk_size() -> None:
    # one feed hands whole valid containers to json's C scanner; small chunks never can
    records = [
        {"id": i, "name": f'N\u00e9 "{i}"', "tags": ["a", "b"], "ok": i % 2 == 0, "x": None}
        for i in range(400)
    ]
    text = json.dumps({"records": records}, indent=1)
    broken = "```json\n" + text.replace("}", ",}", 50).replace('"a"', "'a'", 30)[:-3] + "\n```"
    expected = one_shot(broken)
    assert expected.value["records"][:10] == records[:10]
    assert set(expected.repairs) >= {"trailing comma", "single quotes", "missing closing bracket"}
    for size in (1, 7, 64, 997, 5000):
        chunks = [broken[i : i + size] for i in range(0, len(broken), size)]
        assert feed_all(chunks) == expected, size


def test_a_long_run_of_whitespace_after_a_quote_closes_the_string_in_any_chunking() -> None:
    text = '{"a": "x"' + " " * 70 + ', "b": "y"' + " " * 10 + "}"
    expected = one_shot(text)
    assert expected.value == {"a": "x", "b": "y"}
    for i in range(len(text) + 1):
        assert feed_all([text[:i], text[i:]]) == expected, i
    letter = '["x"' + " " * 70 + 'y"]'  # too far to be a quote inside the string
    expected = one_shot(letter)
    assert expected.value == ["x", "y"]
    for i in range(len(letter) + 1):
        assert feed_all([letter[:i], letter[i:]]) == expected, i
