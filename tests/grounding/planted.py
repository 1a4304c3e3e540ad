"""A long document with records planted at known offsets, and a fake model that reads them
back from whatever chunk it is given (and sometimes invents a value), for the grounding and
long-document tests and benchmarks.

Records are two sentences, so that a chunk cut between them holds half a record (the fake then
answers the half it sees, as a model would). Paragraph breaks are rare, so most cuts fall at
sentence ends inside long paragraphs. Every fifth record is written in Japanese.
"""

from __future__ import annotations

import datetime
import random
import re
from dataclasses import dataclass, field
from typing import Any

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "records": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "ref": {"type": "string"},
                    "name": {"type": "string"},
                    "product": {"type": "string"},
                    "quantity": {"type": ["integer", "null"]},
                    "price": {"type": ["number", "null"]},
                    "date": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
                    "channel": {"enum": ["web", "shop"]},
                    "priority": {"type": "boolean"},
                },
            },
        }
    },
}
FIELDS = ("ref", "name", "product", "quantity", "price", "date")

_FIRST = [
    "Ada",
    "Alan",
    "Grace",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "Ken",
    "Margaret",
    "Niklaus",
    "Radia",
    "Tim",
]
_LAST = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Thompson",
    "Hamilton",
    "Wirth",
    "Perlman",
]
_KANJI_LAST = [
    "山田",
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山本",
]
_KANJI_FIRST = [
    "花子",
    "太郎",
    "一郎",
    "美咲",
    "健太",
    "陽子",
    "大輔",
    "直子",
    "翔太",
    "由美",
    "和也",
    "恵子",
]
_PRODUCTS = [
    "Widget",
    "Gadget",
    "Sprocket",
    "Gizmo",
    "Flange",
    "Bracket",
    "Valve",
    "Gasket",
    "Spindle",
    "Lever",
]
_KANJI_PRODUCTS = ["緑茶", "抹茶", "煎茶", "番茶", "玉露", "麦茶", "ほうじ茶", "玄米茶"]
_FILLER = [
    "the",
    "report",
    "notes",
    "that",
    "supply",
    "remained",
    "steady",
    "while",
    "demand",
    "shifted",
    "toward",
    "smaller",
    "orders",
    "and",
    "several",
    "teams",
    "reviewed",
    "the",
    "figures",
    "again",
    "before",
    "the",
    "quarterly",
    "meeting",
    "in",
    "the",
    "spring",
]


@dataclass
class Planted:
    """One record: its values, and where each value is written in the document."""

    values: dict[str, Any]
    spans: dict[str, tuple[int, int]]
    cjk: bool


@dataclass
class Document:
    text: str
    records: list[Planted] = field(default_factory=list)


def _ref(i: int) -> str:
    letters = "BCDFGHJKLMNPQRSTVWXZ"
    code = ""
    for _ in range(4):
        i, r = divmod(i, len(letters))
        code += letters[r]
    return "REC-" + code


def _filler(rng: random.Random, sentences: int) -> str:
    out = []
    for _ in range(sentences):
        words = rng.sample(_FILLER, rng.randint(8, 16))
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def build(size: int, seed: int = 11) -> Document:
    """A document of about ``size`` characters, one record per ~500 characters."""
    rng = random.Random(seed)
    parts: list[str] = []
    doc = Document("")
    length = 0
    i = 0

    def put(piece: str, fields: dict[str, str] | None = None) -> dict[str, tuple[int, int]]:
        nonlocal length
        spans = {}
        at = 0
        for name, written in (fields or {}).items():  # in the order the piece writes them
            at = piece.index(written, at)
            spans[name] = (length + at, length + at + len(written))
            at += len(written)
        parts.append(piece)
        length += len(piece)
        return spans

    while length < size:
        put(_filler(rng, rng.randint(2, 5)) + (" " if rng.random() < 0.9 else "\n\n"))
        cjk = i % 5 == 4
        quantity = rng.randint(1, 12)
        price = round(rng.uniform(1, 4999), 2)
        day = datetime.date(2020, 1, 1) + datetime.timedelta(days=rng.randint(0, 1800))
        ref = _ref(i)
        if cjk:
            name = rng.choice(_KANJI_LAST) + rng.choice(_KANJI_FIRST) + f"{i}号"
            product = rng.choice(_KANJI_PRODUCTS)
            written = {
                "ref": ref,
                "name": name,
                "product": product,
                "quantity": str(quantity),
                "date": f"{day.year}年{day.month}月{day.day}日",
                "price": f"{price:,.2f}",
            }
            piece = (
                f"記録{ref}\uff1a{name}さんが「{product}」を{quantity}個注文しました。"
                f"{written['date']}に{written['price']}円で発送されました。\n"
            )
        else:
            name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}-{_ref(i * 7 + 3)[4:].title()}"
            product = rng.choice(_PRODUCTS) + " " + rng.choice(["Mark", "Pro", "Lite", "Max"])
            european = rng.random() < 0.3
            amount = f"{price:,.2f}"
            if european:
                amount = amount.replace(",", " ").replace(".", ",").replace(" ", ".")
            written = {
                "ref": ref,
                # Some names are hyphenated across a line break, as typeset text is.
                "name": name.replace("-", "-\n") if rng.random() < 0.15 else name,
                "quantity": str(quantity),
                "product": product,
                "date": rng.choice(
                    [
                        f"{day:%B} {day.day}, {day.year}",
                        f"{day.day} {day:%B} {day.year}",
                        day.isoformat(),
                    ]
                ),
                "price": amount,
            }
            piece = (
                f"Record {ref}: {written['name']} ordered {quantity} units of {product}. "
                f"It shipped on {written['date']} for {'EUR ' if european else '$'}{amount}. "
            )
        values = {
            "ref": ref,
            "name": name,
            "product": product,
            "quantity": quantity,
            "price": price,
            "date": day.isoformat(),
        }
        doc.records.append(Planted(values, put(piece, written), cjk))
        i += 1
    doc.text = "".join(parts)
    return doc


_EN = re.compile(
    r"Record (?P<ref>REC-[A-Z]{4}): (?P<name>[^.]+?) ordered (?P<quantity>\d+) units of "
    r"(?P<product>[^.]+)\.(?: It shipped on (?P<date>[^$E]+?) for (?:EUR |\$)"
    r"(?P<price>[\d,.]+\d)\.)?"
)
_JA = re.compile(
    r"記録(?P<ref>REC-[A-Z]{4})\uff1a(?P<name>.+?)さんが「(?P<product>.+?)」を(?P<quantity>\d+)個"
    r"注文しました。(?:(?P<date>\d+年\d+月\d+日)に(?P<price>[\d,]+\.\d+)円で発送されました。)?"
)


def invents(ref: str) -> str | None:
    """Which field the fake makes up for this record, if any (about one record in nine)."""
    n = sum(map(ord, ref))
    return ("product", "price", "name")[n % 3] if n % 9 == 0 else None


def invented_value(field_name: str, ref: str) -> Any:
    return {"product": "Phantom Deluxe", "price": 98765.43, "name": "Zebulon Quux"}[field_name]


def fake_answer(chunk: str, *, invent: bool = True) -> dict[str, Any]:
    """What a model given only ``chunk`` answers: every record it can see, with values as a
    model writes them (ISO dates, plain numbers), the second sentence's fields null when the
    chunk ends before it, and (``invent``) one invented value for records ``invents`` picks."""
    found = []
    for m in sorted([*_EN.finditer(chunk), *_JA.finditer(chunk)], key=lambda m: m.start()):
        date = m.group("date")
        record = {
            "ref": m.group("ref"),
            "name": m.group("name").replace("-\n", "-"),
            "product": m.group("product"),
            "quantity": int(m.group("quantity")),
            "price": _price(m.group("price")) if m.group("price") else None,
            "date": _date(date) if date else None,
            "channel": "web",
            "priority": False,
        }
        made_up = invents(record["ref"]) if invent else None
        if made_up and record[made_up] is not None:
            record[made_up] = invented_value(made_up, record["ref"])
        found.append(record)
    return {"records": found}


def _price(written: str) -> float:
    if re.search(r",\d\d$", written):
        written = written.replace(".", "").replace(",", ".")
    return float(written.replace(",", ""))


def _date(written: str) -> str:
    m = re.fullmatch(r"(\d+)年(\d+)月(\d+)日", written)
    if m:
        return datetime.date(*map(int, m.groups())).isoformat()
    for form in ("%B %d, %Y", "%d %B %Y", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(written, form).date().isoformat()
        except ValueError:
            continue
    raise AssertionError(f"the document wrote a date the fake cannot read: {written!r}")
