"""Valid answers damaged the way models damage them, where only one reading is right: the
parser gives that reading or a ParseError, never another value; a cut-off answer gives a
value the whole one grows into."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.errors import ParseError
from extractor.parse import loads

from .corpus import same

WORDS = ["alpha", "beta", "New York", "it's", 'say "hi"', "a, b", "x: y", "[1]", "{a}", "ok"]
WORDS += ["C:\\dir", "line\nbreak", "50%", "", " ", "café", "a]b", "}{"]
SIMPLE = r"(alpha|beta|ok|New York)"
KEY = r"([a-z]+\d)"
BETWEEN = r'(?<=["\d\]}el]), (?=["\[{\dtfn-])'  # a separator between two values


def value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth < 3 and roll < 0.2:
        return {
            f"{rng.choice(['id', 'name', 'tags', 'city'])}{i}": value(rng, depth + 1)
            for i in range(rng.randint(0, 4))
        }
    if depth < 3 and roll < 0.35:
        return [value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if roll < 0.6:
        return rng.choice(WORDS)
    if roll < 0.75:
        return rng.choice([0, 1, -5, 12.5, 1000, 3e-05])
    return rng.choice([True, False, None])


def pick(rng: random.Random, pattern: str, text: str) -> re.Match[str] | None:
    found = list(re.finditer(pattern, text))
    return rng.choice(found) if found else None


def rewrite(name: str, pattern: str, template: str) -> Callable[[random.Random, str], str | None]:
    """A corruption that rewrites one match of ``pattern`` (picked at random) as ``template``."""

    def corrupt(rng: random.Random, text: str) -> str | None:
        m = pick(rng, pattern, text)
        return None if m is None else text[: m.start()] + m.expand(template) + text[m.end() :]

    corrupt.__name__ = name
    return corrupt


drop_comma = rewrite("drop_comma", BETWEEN, " ")
drop_comma_at_line_end = rewrite("drop_comma_at_line_end", BETWEEN, "\n")
unquote_value = rewrite("unquote_value", rf': "{SIMPLE}"', r": \1")
lose_closing_quote = rewrite("lose_closing_quote", rf': "{SIMPLE}", "', r': "\1, "')
lose_opening_quote = rewrite("lose_opening_quote", rf': "{SIMPLE}"', r': \1"')
drop_colon = rewrite("drop_colon", rf'"{KEY}": ', r'"\1" ')


def smart_keys(rng: random.Random, text: str) -> str | None:
    return re.sub(rf'"{KEY}":', "\u201c\\1\u201d:", text)


def single_quote_keys(rng: random.Random, text: str) -> str | None:
    return re.sub(rf'"{KEY}":', r"'\1':", text)


def unescape_quotes(rng: random.Random, text: str) -> str | None:
    return text.replace('\\"', '"') if '\\"' in text else None


def python_literals(rng: random.Random, text: str) -> str | None:
    names = {"true": "True", "false": "False", "null": "None"}
    return re.sub(r"\b(true|false|null)\b", lambda m: names[m.group()], text)


def fence(rng: random.Random, text: str) -> str | None:
    lang = rng.choice(["json", "", "python", "javascript"])
    return f"Here you go:\n```{lang}\n{text}\n```\nAnything else?"


CORRUPTIONS: list[Callable[[random.Random, str], str | None]] = [
    drop_comma,
    drop_comma_at_line_end,
    unquote_value,
    lose_closing_quote,
    lose_opening_quote,
    drop_colon,
    smart_keys,
    single_quote_keys,
    unescape_quotes,
    python_literals,
    fence,
]


def grows_into(part: Any, whole: Any) -> bool:
    """``part`` is what a cut-off ``whole`` may show: equal, with the last member partial."""
    if isinstance(part, dict) and isinstance(whole, dict):
        keys = list(part)
        if keys != list(whole)[: len(keys)]:
            return False
        return all(same(part[k], whole[k]) for k in keys[:-1]) and (
            not keys or grows_into(part[keys[-1]], whole[keys[-1]])
        )
    if isinstance(part, list) and isinstance(whole, list) and len(part) <= len(whole):
        return all(same(a, b) for a, b in zip(part[:-1], whole, strict=False)) and (
            not part or grows_into(part[-1], whole[len(part) - 1])
        )
    if isinstance(part, str) and isinstance(whole, str):
        return whole.startswith(part)
    if type(part) in (int, float) and type(whole) in (int, float):
        return part == whole or repr(whole).startswith(repr(part).rstrip("0").rstrip("."))
    return same(part, whole)


@settings(max_examples=400, deadline=None)
@given(st.randoms(use_true_random=False), st.sampled_from(CORRUPTIONS), st.booleans())
def test_a_typical_corruption_gives_the_answer_or_an_error(
    rng: random.Random, corrupt: Callable[[random.Random, str], str | None], pretty: bool
) -> None:
    answer = {f"k{i}": value(rng, 1) for i in range(rng.randint(1, 5))}
    text = json.dumps(answer, ensure_ascii=False, indent=2 if pretty else None)
    damaged = corrupt(rng, text)
    if damaged is None:
        return
    try:
        result = loads(damaged)
    except ParseError:
        return
    assert same(result, answer), damaged


@settings(max_examples=300, deadline=None)
@given(st.randoms(use_true_random=False), st.data())
def test_a_cut_off_answer_gives_a_value_the_whole_grows_into(
    rng: random.Random, data: st.DataObject
) -> None:
    answer = {f"k{i}": value(rng, 1) for i in range(rng.randint(1, 5))}
    text = json.dumps(answer, ensure_ascii=False)
    cut = text[: data.draw(st.integers(1, len(text)))]
    try:
        result = loads(cut)
    except ParseError:
        return
    assert grows_into(result, answer), cut
