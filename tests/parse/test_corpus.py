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
    '("a", "b", "c")',
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
