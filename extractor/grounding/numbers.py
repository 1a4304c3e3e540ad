"""Every number written in a text, read once, indexed by its value.

A number value is looked up by what it is worth, not how it is spelt: ``1234.5`` is found as
``1234.5``, ``1,234.50``, ``1.234,50``, ``1 234,50`` or in full-width digits. A written number
whose reading is ambiguous (``1,234`` is 1234 in English and 1.234 in German) is indexed under
both readings. A minus sign counts when it is not a hyphen between words or digits. A
number followed by a scale word is also indexed at its full value, the span covering the word:
``$420 million`` is 420000000, ``1.2bn`` 1200000000, ``3万`` 30000.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from decimal import Decimal, InvalidOperation

__all__ = ["NumberIndex", "number_key"]

# Grouping separators: comma, point, apostrophes, no-break and thin spaces, a plain space, and
# their full-width forms.
_GROUP = ",.'\u2019\u00a0\u202f\u2009 \uff0c\uff0e"
_DECIMAL = ".,\uff0c\uff0e"
# Not a piece of a longer dotted run such as a version number (1.2.3) or an IP address.
_NUMBER = re.compile(
    rf"(?<!\d)(?<!\d[{_DECIMAL}])"
    rf"(?:\d{{1,3}}(?:[{_GROUP}]\d{{3}})+(?:[{_DECIMAL}]\d+)?|\d+(?:[{_DECIMAL}]\d+)?)"
    rf"(?![{_DECIMAL}]?\d)"
)
_SEPARATOR = re.compile(rf"[{_GROUP}]")
_SCALES = {
    "thousand": 10**3, "k": 10**3, "million": 10**6, "mn": 10**6, "m": 10**6, "mio": 10**6,
    "billion": 10**9, "bn": 10**9, "b": 10**9, "trillion": 10**12, "tn": 10**12,
    "千": 10**3, "万": 10**4, "萬": 10**4, "億": 10**8, "亿": 10**8, "兆": 10**12,
}  # fmt: skip
_SCALE = re.compile(
    r"[ \u00a0]?(thousand|million|billion|trillion|mio|mn|bn|tn|k|m|b)(?![^\W\d_])"
    r"|\s*([千万萬億亿兆])",
    re.IGNORECASE,
)
_WIDE = str.maketrans({"\uff0c": ",", "\uff0e": "."})


def number_key(value: int | float) -> Decimal:
    """The index key of a number value: equal numbers have equal keys (``12.50 == 12.5``)."""
    return Decimal(str(value))


def _digits(part: str) -> str:
    return part if part.isascii() else "".join(str(unicodedata.digit(c)) for c in part)


def readings(written: str) -> set[Decimal]:
    """What a written number can mean: grouping separators every three digits, then at most
    one decimal separator (``.`` or ``,``) that differs from the grouping one."""
    written = written.translate(_WIDE)
    parts = [_digits(p) for p in _SEPARATOR.split(written)]
    seps = _SEPARATOR.findall(written)
    if not seps:
        return {Decimal(parts[0])}
    found: set[Decimal] = set()
    grouped = len(parts[0]) <= 3 and all(len(p) == 3 for p in parts[1:-1])
    if grouped and len(set(seps)) == 1 and len(parts[-1]) == 3:
        found.add(Decimal("".join(parts)))
    last = seps[-1]
    decimal = last in ".," and all(s != last for s in seps[:-1]) and len(set(seps[:-1])) <= 1
    if decimal and (len(seps) == 1 or (grouped and len(parts[-2]) == 3)):
        found.add(Decimal("".join(parts[:-1]) + "." + parts[-1]))
    return found


# A letter joined by a hyphen or underscore: INV-0005, COVID-19, ISO-8601.
_AFTER_LABEL = re.compile(r"[^\W\d_][-_]$")
# Digits joined to digits: the pieces of a date, a time or a code (2024-03-07, 07/03, 09:30).
_JOINED = "-/.:"


def _is_code_piece(text: str, start: int, end: int) -> bool:
    """Whether the digits at ``start:end`` are a piece of an identifier, a date or a time
    rather than a number of their own: ``5`` is not written in ``INV-0005``, nor ``7`` in
    ``2024-03-07`` or ``INV0005``. An invented small number would otherwise nearly always be
    "found" in a text full of codes and dates. Numbers beside a bare letter and without a
    leading zero (``FY2024``, ``Q3``) still count."""
    if _AFTER_LABEL.search(text, max(0, start - 2), start):
        return True
    written = text[start:end]
    if len(written) < 2 or written[0] != "0" or not written[1].isdigit():
        return False
    if start and text[start - 1].isalpha():  # INV0005
        return True
    before = text[start - 2 : start] if start >= 2 else ""
    after = text[end : end + 2]
    return (len(before) == 2 and before[1] in _JOINED and before[0].isdigit()) or (
        len(after) == 2 and after[0] in _JOINED and after[1].isdigit()
    )


class NumberIndex:
    """Maps each number value to the spans (start, end) where the text writes it."""

    def __init__(self, text: str) -> None:
        self._spans: defaultdict[Decimal, list[tuple[int, int]]] = defaultdict(list)
        for m in _NUMBER.finditer(text):
            start, end = m.span()
            if _is_code_piece(text, start, end):
                continue
            negative = (
                start > 0
                and text[start - 1] in "-\u2212"
                and (start < 2 or not text[start - 2].isalnum())
            )
            self._add(m.group(), start - negative, end, negative)
            scale = _SCALE.match(text, end)
            if scale:
                factor = _SCALES[(scale.group(1) or scale.group(2)).lower()]
                self._add(m.group(), start - negative, scale.end(), negative, factor)
            if " " in m.group():
                # "in 12 500 cases" may also be 12 and 500: index each piece as well.
                offset = start
                for piece in m.group().split(" "):
                    if _NUMBER.fullmatch(piece):
                        self._add(piece, offset, offset + len(piece), False)
                    offset += len(piece) + 1

    def _add(self, written: str, start: int, end: int, negative: bool, factor: int = 1) -> None:
        try:
            values = readings(written)
        except (InvalidOperation, ValueError):
            return
        for value in values:
            value *= factor
            self._spans[-value if negative else value].append((start, end))

    def find(self, value: int | float) -> list[tuple[int, int]]:
        return self._spans.get(number_key(value), [])
