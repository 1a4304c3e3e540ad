"""Properties that must hold on any text: a value copied from the text is found, and a span
always points at text that reads as the value."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.grounding import TextIndex, ground, split_text
from extractor.grounding.tokens import tokenize

PIECES = st.sampled_from(
    ["Ada", "ada", "LOVELACE", "Straße", " ", "  ", "\n", "-\n", ", ", ". ", "12", "3.5",
     "東京", "都", "。", "ｶﾞ", "\uff21\uff22", "e\u0301", "-", "x"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, min_size=1, max_size=40), st.data())
def test_a_copied_value_is_found_and_its_span_reads_as_it(
    pieces: list[str], data: st.DataObject
) -> None:
    text = "".join(pieces)
    tokens = tokenize(text)
    if not tokens.words:
        return
    i = data.draw(st.integers(0, len(tokens.words) - 1))
    j = data.draw(st.integers(i, min(i + 4, len(tokens.words) - 1)))
    value = text[tokens.starts[i] : tokens.ends[j]]
    span = ground([value], {"type": "array"}, TextIndex(text)).spans["[0]"]
    assert span is not None
    assert tokenize(text[span.start : span.end]).words == tokenize(value).words
    assert span.exact == (text[span.start : span.end] == value)


@settings(max_examples=200, deadline=None)
@given(st.lists(PIECES, max_size=80), st.integers(4, 60), st.data())
def test_chunks_cover_the_text_within_their_size(
    pieces: list[str], size: int, data: st.DataObject
) -> None:
    text = "".join(pieces)
    overlap = data.draw(st.integers(0, size // 2 - 1))
    chunks = split_text(text, size, overlap=overlap)
    covered = 0
    for chunk in chunks:
        assert chunk.start <= covered and len(chunk.text) <= size
        covered = chunk.end
    assert covered == len(text)
