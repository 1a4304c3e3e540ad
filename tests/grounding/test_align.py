from __future__ import annotations

from typing import Any

import pytest

from extractor.grounding import Span, TextIndex, ground, ungrounded_details

STRING = {"type": "string"}
DATE = {"type": "string", "format": "date"}
NUMBER = {"type": "number"}
# Full-width forms, written out so that the file stays readable.
FULLWIDTH_ACME = "\uff21\uff23\uff2d\uff25 \uff23\uff4f\uff52\uff50\uff0e"
FULLWIDTH_AMOUNT = "\uff11\uff0c\uff12\uff13\uff14\uff0e\uff15\uff10"


def where(text: str, value: Any, schema: dict[str, Any]) -> Span | None:
    return ground({"v": value}, {"type": "object", "properties": {"v": schema}}, text).spans["v"]


def found(text: str, value: Any, schema: dict[str, Any] = STRING) -> tuple[str, bool]:
    span = where(text, value, schema)
    assert span is not None, (text, value)
    return text[span.start : span.end], span.exact


@pytest.mark.parametrize(
    ("text", "value", "written", "exact"),
    [
        ("Signed by Ada Lovelace.", "Ada Lovelace", "Ada Lovelace", True),
        ("Signed by ADA  LOVELACE.", "Ada Lovelace", "ADA  LOVELACE", False),
        ("Signed by Ada\n   Lovelace today", "Ada Lovelace", "Ada\n   Lovelace", False),
        ("the extrac-\ntion step", "extraction", "extrac-\ntion", False),
        ("a well-\n  known fact", "well-known", "well-\n  known", False),
        ("a well-known fact", "well-known", "well-known", True),
        ("soft extrac\u00adtion", "extraction", "extrac\u00adtion", False),
        (FULLWIDTH_ACME, "ACME Corp.", FULLWIDTH_ACME, False),
        ("Königstraße 5", "KÖNIGSTRASSE", "Königstraße", False),
        ("cafe\u0301 noir", "caf\u00e9 noir", "cafe\u0301 noir", False),
        ("東京都港区芝公園4丁目", "港区", "港区", True),
        ("ｶﾞｲﾄﾞ", "ガイド", "ｶﾞｲﾄﾞ", False),
        ("ผมชอบกินข้าวผัดมาก", "ข้าวผัด", "ข้าวผัด", True),
        ("서울특별시에서 만나요", "서울특별시", "서울특별시", True),
        ("Total: $12.50 due", "$12.50", "$12.50", True),
        ("ACME Ltd. signed", "ACME Ltd.", "ACME Ltd.", True),
        ("pay 10 €", "€", "€", True),
    ],
)
def test_strings(text: str, value: str, written: str, exact: bool) -> None:
    assert found(text, value) == (written, exact)


@pytest.mark.parametrize(
    ("text", "value", "written"),
    [
        ("Total 1,234.50 USD", 1234.5, "1,234.50"),
        ("Gesamt 1.234,50 EUR", 1234.5, "1.234,50"),
        ("Total 1 234,50 €", 1234.5, "1 234,50"),
        ("Total 1\u202f234,50 €", 1234.5, "1\u202f234,50"),
        ("合計" + FULLWIDTH_AMOUNT + "円", 1234.5, FULLWIDTH_AMOUNT),
        ("it was 12 500 people", 12500, "12 500"),
        ("it was 12 500 people", 500, "500"),
        ("balance -42.10 now", -42.1, "-42.10"),
        ("FY2024 results", 2024, "2024"),
        ("qty ٣٤ pcs", 34, "٣٤"),
    ],
)
def test_numbers(text: str, value: float, written: str) -> None:
    assert found(text, value, NUMBER)[0] == written


def test_number_exactness_and_non_matches() -> None:
    assert found("costs 12.5 now", 12.5, NUMBER) == ("12.5", True)
    assert where("version 1.2.3", 1.2, NUMBER) is None
    assert where("item 123", 12, NUMBER) is None
    assert where("room 5-12", -12, NUMBER) is None
    assert where("costs 1.05", 1.5, NUMBER) is None


@pytest.mark.parametrize(
    "written",
    [
        "2024-03-05",
        "2024/3/5",
        "March 5, 2024",
        "Mar. 5th 2024",
        "5 March 2024",
        "5th of March, 2024",
        "05/03/2024",
        "03/05/2024",
        "5.3.24",
        "2024年3月5日",
        "2024년 3월 5일",
        "5. März 2024",
        "5 de marzo de 2024",
        "5 mars 2024",
    ],
)
def test_dates(written: str) -> None:
    assert found(f"Due on {written}, thanks.", "2024-03-05", DATE)[0] == written


def test_a_date_not_written_as_a_date_is_looked_for_as_text() -> None:
    assert found("code 2024-13-45 here", "2024-13-45", DATE) == ("2024-13-45", True)
    assert where("on 6 March 2024", "2024-03-05", DATE) is None


def test_invented_values_are_none() -> None:
    text = "Ada Lovelace paid 12.50 on 2024-03-05."
    assert where(text, "Grace Hopper", STRING) is None
    assert where(text, "Ada Hopper", STRING) is None
    assert where(text, 13, NUMBER) is None
    assert where(text, "2024-03-06", DATE) is None


def test_repeated_values_take_the_occurrence_of_their_own_item() -> None:
    text = (
        "Order A: Widget, 3 units, March 3, 2024.\n"
        "Order B: Gadget, 2 units, March 9, 2024.\n"
        "Order C: Widget, 3 units, May 1, 2024.\n"
    )
    schema = {
        "type": "object",
        "properties": {
            "orders": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"id": STRING, "product": STRING, "n": NUMBER, "on": DATE},
                },
            }
        },
    }
    value = {
        "orders": [
            {"id": "Order A", "product": "Widget", "n": 3, "on": "2024-03-03"},
            {"id": "Order B", "product": "Gadget", "n": 2, "on": "2024-03-09"},
            {"id": "Order C", "product": "Widget", "n": 3, "on": "2024-05-01"},
        ]
    }
    spans = ground(value, schema, text).spans
    lines = [0, text.index("Order B"), text.index("Order C"), len(text)]
    for i in range(3):
        for key in ("id", "product", "n", "on"):
            span = spans[f"orders[{i}].{key}"]
            assert span is not None and lines[i] <= span.start < lines[i + 1], (i, key)
    # The 3 of "March 3" belongs to the date; the quantity is the other 3.
    assert text[spans["orders[0].n"].start - 1 : spans["orders[0].n"].end + 1] == " 3 "  # type: ignore[union-attr]


def test_one_index_serves_many_values() -> None:
    index = TextIndex("alpha beta gamma 42")
    schema = {"type": "array", "items": {}}
    assert list(ground(["beta", 42], schema, index).spans.values()) == [
        Span(6, 10, True),
        Span(17, 19, True),
    ]
    assert [leaf.path for leaf in ground(["delta"], schema, index).ungrounded] == ["[0]"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Invoice INV-0005 for 12 items", 5),
        ("Invoice INV0005 for 12 items", 5),
        ("COVID-19 cases rose", 19),
        ("Order 2024-03-07: 3 apples", 7),
        ("born 07/03/1990", 3),
        ("at 09:30 sharp", 9),
    ],
)
def test_a_number_is_not_found_inside_a_code_a_date_or_a_time(text: str, value: int) -> None:
    """An invented small number used to count as grounded on the digits of an invoice number
    or a date, which nearly every business text has."""
    assert where(text, value, NUMBER) is None


@pytest.mark.parametrize(
    ("text", "value", "written"),
    [
        ("Order 2024-03-07: 3 apples", 2024, "2024"),
        ("at 09:30 sharp", 30, "30"),
        ("Q3 results", 3, "3"),
        ("pages 10-12", 12, "12"),
        ("born 07/03/1990", 1990, "1990"),
    ],
)
def test_numbers_beside_codes_and_dates_that_are_numbers_still_count(
    text: str, value: int, written: str
) -> None:
    assert found(text, value, NUMBER) == (written, True)


def test_ungrounded_values_become_feedback_lines() -> None:
    grounding = ground({"name": "Ada", "city": "Atlantis"}, {"type": "object"}, "Ada wrote")
    details = ungrounded_details(grounding)
    assert [(d.path, d.value) for d in details] == [("city", "Atlantis")]
    assert str(details[0]).startswith("city: this value does not appear in the text")


def test_words_split_by_stronger_punctuation_are_not_the_value() -> None:
    text = "From: Dana Whitfield <dana@whitfield.example>"
    assert found(text, "Dana Whitfield") == ("Dana Whitfield", True)
    assert where("mail dana@whitfield.example", "Dana Whitfield", STRING) is None
    assert found("mail dana@whitfield.example", "dana@whitfield") == ("dana@whitfield", True)
    assert found("the New-York office", "New York") == ("New-York", False)


@pytest.mark.parametrize(
    ("text", "value", "written"),
    [
        ("bought for $420 million in cash", 420_000_000, "420 million"),
        ("revenue of 1.2bn last year", 1_200_000_000, "1.2bn"),
        ("about 2k users", 2000, "2k"),
        ("売上は3万円", 30000, "3万"),
        ("a loss of -3 million", -3_000_000, "-3 million"),
    ],
)
def test_numbers_with_a_scale_word(text: str, value: float, written: str) -> None:
    assert found(text, value, NUMBER)[0] == written


def test_a_scale_word_needs_to_stand_alone() -> None:
    assert where("a 7 km walk", 7000, NUMBER) is None
    assert found("a 7 km walk", 7, NUMBER)[0] == "7"


def test_phone_numbers_written_with_brackets() -> None:
    text = "call +1 (555) 123-4567 today"
    assert found(text, "+1 555 123 4567") == ("+1 (555) 123-4567", False)
