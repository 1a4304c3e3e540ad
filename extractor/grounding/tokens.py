"""Cutting text into comparable tokens, with their offsets in the original text.

Values are looked up as token sequences rather than as strings, which is what makes matching
hold up on real text in one pass: a token is a run of letters (with their combining marks),
a run of digits, or a single character of a script written without spaces (CJK, kana, Hangul,
Thai, Lao, Khmer, Myanmar), so a value is found wherever its tokens follow each other, whatever
whitespace, line breaks or punctuation sit between them. Each token is compared in normal form:
NFKC (full-width forms, ligatures, compatibility characters) then case-folded, digits of any
script as ASCII. A word hyphenated across a line break (``extrac-\\ntion``, or split by a soft
hyphen) is one token, ``extraction``.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache
from typing import NamedTuple

__all__ = ["Tokens", "normalize_token", "tokenize"]

# Scripts written without spaces between words: each character is a token of its own, so that
# a value is found inside a longer run of them. Half-width katakana too (NFKC widens them).
_NO_SPACE = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9d\U00020000-\U0003134f"
)
_HYPHENS = "\\-\u2010\u00ad"


class Tokens(NamedTuple):
    """Normalised tokens and, for each, its start and end offsets in the original text."""

    words: list[str]
    starts: list[int]
    ends: list[int]


@lru_cache(maxsize=1)
def _marks() -> str:
    """A character class body for every combining mark (categories Mn, Mc, Me): they belong
    to the letter before them, but ``\\w`` does not match them. Computed once, on first use."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x300, min(sys.maxunicode, 0xE01EF) + 1):
        if unicodedata.category(chr(code))[0] == "M":
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    # Half-width voiced sound marks compose with the kana before them under NFKC.
    ranges.append((0xFF9E, 0xFF9F))
    return "".join(f"{chr(a)}-{chr(b)}" if a != b else chr(a) for a, b in ranges)


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    marks = _marks()
    token = re.compile(
        f"(?:[{_NO_SPACE}][{marks}]*)"  # one character of a script without spaces
        r"|(\d+)"  # a run of digits (group 1)
        f"|((?:[^\\W\\d_{_NO_SPACE}]|[{marks}])+)"  # a run of letters (group 2)
    )
    letter = f"[^\\W\\d_{_NO_SPACE}]"
    # A hyphen then a line break, or a soft hyphen, before a letter (that a letter comes before
    # it is checked on the tokens: a lookbehind here would be tried at every character).
    hyphenation = re.compile(f"(?:[{_HYPHENS}][ \\t]*\\r?\\n[ \\t]*|\u00ad)(?={letter})")
    return token, hyphenation


def normalize_token(token: str) -> str:
    if token.isascii():
        return token.lower()
    folded = unicodedata.normalize("NFKC", token).casefold()
    if folded.isdigit() and not folded.isascii():
        return "".join(str(unicodedata.digit(c)) for c in folded)
    return folded


def tokenize(text: str) -> Tokens:
    """Tokens of ``text`` in order. Linear in the text: one regex pass for the tokens and one
    for hyphenation, each a C scan."""
    token_re, hyphen_re = _patterns()
    joins = (
        {m.end(): m.start() for m in hyphen_re.finditer(text)}
        if "\n" in text or ("\u00ad" in text)
        else {}
    )
    words: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    prev_letters = False
    for m in token_re.finditer(text):
        word = m.group()
        word = word.lower() if word.isascii() else normalize_token(word)
        start, end = m.span()
        letters = m.lastindex == 2
        if joins and letters and prev_letters and joins.get(start) == ends[-1]:
            words[-1] += word
            ends[-1] = end
            continue
        words.append(word)
        starts.append(start)
        ends.append(end)
        prev_letters = letters
    return Tokens(words, starts, ends)
