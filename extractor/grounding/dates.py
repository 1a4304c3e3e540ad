"""Every date written in a text, read once, indexed by the day it names.

A ``format: date`` value (``2024-03-05``) is found however the text writes the day:
``2024-03-05``, ``2024/3/5``, ``March 5, 2024``, ``5th of March 2024``, ``Mar. 5 2024``,
``05/03/2024`` and ``03/05/2024`` (numeric day-month order is ambiguous, so both readings are
indexed), ``05.03.24``, ``2024年3月5日``, ``2024년 3월 5일``, and month names in English,
French, German and Spanish.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Iterator

__all__ = ["DateIndex", "parse_iso_date"]

_MONTHS: dict[str, int] = {}
for _names in (
    "january february march april may june july august september october november december",
    "jan feb mar apr may jun jul aug sep oct nov dec",
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "janv févr mars avr mai juin juil août sept oct nov déc",
    "januar februar märz april mai juni juli august september oktober november dezember",
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
):
    for _number, _name in enumerate(_names.split(), start=1):
        _MONTHS.setdefault(_name, _number)
_MONTHS.update({"sept": 9, "fevrier": 2, "aout": 8, "decembre": 12, "jänner": 1, "maerz": 3})
_MONTHS.update({"setiembre": 9})

_MONTH = "(?P<month>" + "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True)) + ")"
_DAY = r"(?P<day>\d{1,2})"
_YEAR = r"(?P<year>\d{4})"
_PATTERNS = [
    # 2024-03-05, 2024/3/5, 2024.03.05
    re.compile(r"(?<!\d)(?P<year>\d{4})([-/.])(?P<month>\d{1,2})\2(?P<day>\d{1,2})(?!\d)"),
    # 2024年3月5日, 2024년 3월 5일
    re.compile(
        r"(?P<year>\d{4})\s*[年년]\s*(?P<month>\d{1,2})\s*[月월]\s*(?P<day>\d{1,2})\s*[日일]"
    ),
    # 5 March 2024, 5th of March, 2024, 5. März 2024, 5 de marzo de 2024, 1er avril 2024
    re.compile(
        rf"(?<!\w){_DAY}(?:st|nd|rd|th|er|\.)?\s+(?:of\s+|de\s+)?{_MONTH}\.?,?\s+(?:de\s+)?{_YEAR}(?!\d)",
        re.IGNORECASE,
    ),
    # March 5, 2024, Mar. 5th 2024
    re.compile(rf"(?<!\w){_MONTH}\.?\s+{_DAY}(?:st|nd|rd|th)?,?\s+{_YEAR}(?!\d)", re.IGNORECASE),
]
# 05/03/2024, 5.3.24, 05-03-2024: day and month order unknown, both readings indexed.
_NUMERIC = re.compile(r"(?<![\d/.-])(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})(?![\d/.-]?\d)")


def parse_iso_date(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        return None


def _date(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _found(text: str) -> Iterator[tuple[datetime.date, int, int]]:
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            month = m.group("month")
            number = int(month) if month.isdigit() else _MONTHS.get(month.casefold())
            day = number and _date(int(m.group("year")), number, int(m.group("day")))
            if day:
                yield day, m.start(), m.end()
    for m in _NUMERIC.finditer(text):
        first, second, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
        if len(m.group(4)) == 2:
            year += 2000 if year < 70 else 1900
        for day in {_date(year, second, first), _date(year, first, second)}:
            if day:
                yield day, m.start(), m.end()


class DateIndex:
    """Maps each day to the spans (start, end) where the text writes it."""

    def __init__(self, text: str) -> None:
        self._spans: defaultdict[datetime.date, list[tuple[int, int]]] = defaultdict(list)
        for day, start, end in _found(text):
            self._spans[day].append((start, end))

    def find(self, day: datetime.date) -> list[tuple[int, int]]:
        return sorted(self._spans.get(day, []))
