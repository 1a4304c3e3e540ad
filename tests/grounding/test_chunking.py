from __future__ import annotations

import itertools
import random

import pytest

from extractor.errors import ConfigurationError
from extractor.grounding import Chunk, split_text


def check_cover(text: str, chunks: list[Chunk], size: int) -> None:
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
    for chunk, following in itertools.pairwise(chunks):
        assert following.start <= chunk.end  # no gap: nothing is lost between chunks
        assert following.start > chunk.start  # progress
    for i, chunk in enumerate(chunks):
        assert chunk.index == i and chunk.text == text[chunk.start : chunk.end]
        assert len(chunk.text) <= size


def test_short_text_is_one_chunk() -> None:
    assert split_text("hello", 100) == [Chunk(0, 0, 5, "hello")]
    assert split_text("", 100) == [Chunk(0, 0, 0, "")]


def test_cuts_prefer_paragraphs_then_sentences_then_words() -> None:
    text = "First paragraph here. Still first.\n\nSecond one is here and goes on. More words"
    chunks = split_text(text, 50, overlap=0)
    assert chunks[0].text == "First paragraph here. Still first.\n\n"
    text = "One sentence here. Two sentence here. Three words"
    assert split_text(text, 30, overlap=0)[0].text == "One sentence here. "
    text = "aaaa bbbb cccc dddd eeee ffff gggg"
    assert split_text(text, 12, overlap=0)[0].text == "aaaa bbbb "


def test_overlap_starts_at_a_sentence_or_word() -> None:
    text = "Alpha beta gamma. Delta epsilon zeta. Eta theta iota kappa lambda mu nu xi omicron."
    chunks = split_text(text, 44, overlap=20)
    check_cover(text, chunks, 44)
    assert chunks[1].text.startswith("Delta")  # the sentence start inside the overlap
    assert chunks[1].start < chunks[0].end


def test_cjk_and_unbroken_runs() -> None:
    text = "東京は日本の首都です。大阪は大きい都市です。" * 20
    chunks = split_text(text, 50, overlap=5)
    check_cover(text, chunks, 50)
    assert all(c.text.endswith("。") for c in chunks)
    run = "x" * 95
    chunks = split_text(run, 20, overlap=4)
    check_cover(run, chunks, 20)
    assert chunks[1].start == 16  # no break to find: overlap by bare characters


def test_random_texts_are_covered() -> None:
    rng = random.Random(3)
    pieces = ["word", "longerword", ". ", "\n\n", " ", "。", "字", "\n"]
    for _ in range(200):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 400)))
        size = rng.randint(10, 300)
        check_cover(text, split_text(text, size, overlap=rng.randint(0, size // 2 - 1)), size)


@pytest.mark.parametrize(("size", "overlap"), [(1, 0), (0, None), (100, 50), (100, -1)])
def test_bad_sizes_are_refused(size: int, overlap: int | None) -> None:
    with pytest.raises(ConfigurationError, match=r"chunk size|overlap"):
        split_text("text", size, overlap=overlap)
