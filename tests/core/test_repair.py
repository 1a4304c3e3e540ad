"""Local repair of near-miss values: what is mended, and everything left to a re-ask."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from extractor.core.repair import repair
from extractor.core.target import Target
from extractor.core.validate import Invalid

NUMBER = {"type": "object", "properties": {"x": {"type": "number"}}}
INTEGER = {"type": "object", "properties": {"x": {"type": "integer"}}}


def mend(value: Any, schema: dict[str, Any]) -> Any:
    """The repaired ``x``, or None when repair leaves it alone."""
    fixed = repair({"x": value}, [("x",)], schema)
    return None if fixed is None else fixed[0]["x"]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("6,512.24", 6512.24),
        ("1,234,567", 1234567),
        ("6.512,24", 6512.24),
        ("1 234,5", 1234.5),
        ("1\u00a0234,5", 1234.5),  # no-break space
        ("1\u2009234\u202f567", 1234567),  # thin and narrow no-break spaces
        ("1 234", 1234),
        ("1.234.567", 1234567),
        ("-6,512.24", -6512.24),
        ("+1,234,567", 1234567),
        ("\u22126,512.24", -6512.24),  # the minus sign
        ("12,50", 12.5),
        ("0,5", 0.5),
        (" 6,512.24 ", 6512.24),
    ],
)
def test_a_number_with_unambiguous_grouping_is_mended(text: str, number: float) -> None:
    assert mend(text, NUMBER) == number


@pytest.mark.parametrize(
    "text",
    [
        "1,234",  # 1234 in English, 1.234 in German
        "1.234",
        "-1,234",
        "5 kg",  # units and currencies: the field's unit is not known
        "€12",
        "12 €",
        "6,512.24 EUR",
        "USD 6,512.24",
        "5%",
        "1,234.5.6",
        "1,,234",
        "12,34,567",  # not grouped in threes
        "1 234.567,8",
        "",
        "twelve",
        "1e3,5",
    ],
)
def test_a_doubtful_number_is_left_to_the_re_ask(text: str) -> None:
    assert mend(text, NUMBER) is None


def test_an_integer_is_mended_only_when_whole() -> None:
    assert mend("1,234,567", INTEGER) == 1234567
    assert mend("6,512.00", INTEGER) == 6512
    assert mend("6,512.24", INTEGER) is None
    assert isinstance(mend("1,234,567", INTEGER), int)


def test_an_enum_value_in_the_wrong_case_is_mended() -> None:
    schema = {"type": "object", "properties": {"x": {"enum": ["CNY", "USD", "EUR"]}}}
    assert mend("cny", schema) == "CNY"
    assert mend("cny ", schema) == "CNY"
    assert mend("yuan", schema) is None
    assert mend("CN Y", schema) is None
    const = {"type": "object", "properties": {"x": {"const": "Invoice"}}}
    assert mend(" invoice", const) == "Invoice"


def test_an_enum_whose_values_differ_only_in_case_is_not_guessed() -> None:
    schema = {"type": "object", "properties": {"x": {"enum": ["a", "A", "b"]}}}
    assert mend("a ", schema) == "a"  # surrounding spaces only: nothing to guess
    assert mend("B", schema) is None  # "a" and "A" differ: case means something here


def test_a_spelling_whose_own_case_may_mean_something_is_not_mended() -> None:
    # "mW" was mended into the only allowed "MW": a billion times more, with the number
    # beside it left as the milliwatts it was.
    units = {"type": "object", "properties": {"x": {"enum": ["MW", "GW"]}}}
    assert mend("mW", units) is None
    assert mend("Mw", units) is None
    assert mend("mw", units) == "MW"  # all lower case: the model dropped the case
    # Allowed values whose case tells them apart: the case of any spelling means something.
    mixed = {"type": "object", "properties": {"x": {"enum": ["W", "kW", "MW", "GW"]}}}
    assert mend("mw", mixed) is None
    assert mend("kw", mixed) is None
    prefixes = {"type": "object", "properties": {"x": {"enum": ["k", "M", "G"]}}}
    assert mend("m", prefixes) is None  # milli, not mega
    assert mend(" M ", prefixes) == "M"
    sizes = {"type": "object", "properties": {"x": {"enum": ["S", "M", "L", "XL"]}}}
    assert mend("m", sizes) == "M"
    codes = {"type": "object", "properties": {"x": {"enum": ["USD", "EUR", "other"]}}}
    assert mend("usd", codes) == "USD"  # a word beside the codes says nothing of their case
    assert mend("Other", codes) == "other"
    milli = {"type": "object", "properties": {"x": {"enum": ["mW", "W"]}}}
    assert mend("MW", milli) is None
    gases = {"type": "object", "properties": {"x": {"enum": ["CO", "CO2", "NOx"]}}}
    assert mend("Co", gases) is None  # cobalt, not carbon monoxide
    assert mend("NOX", gases) is None
    assert mend("co2", gases) is None  # "NOx" uses case
    states = {"type": "object", "properties": {"x": {"enum": ["pending", "paid"]}}}
    assert mend("Pending", states) == "pending"  # the schema makes no case
    assert mend("PAID ", states) == "paid"


def test_case_folding_does_not_make_one_word_another() -> None:
    # casefold() makes "ß" and "ss" one: "Masse" (mass) became "Maße" (dimensions), a
    # different word that validated.
    schema = {"type": "object", "properties": {"x": {"enum": ["Maße", "Länge"]}}}
    assert mend("Masse", schema) is None
    assert mend("MASSE", schema) is None
    assert mend("maße", schema) == "Maße"
    assert mend("länge", schema) == "Länge"


def test_a_number_longer_than_any_quantity_is_left_to_the_re_ask() -> None:
    # float(Decimal) of a 601-digit number is inf, which a float field accepts; an integer of
    # 4,501 digits made json.dumps raise ValueError out of extract().
    huge = "1" + ",000" * 200
    assert mend(huge + ".5", NUMBER) is None
    assert mend(huge + ".00", NUMBER) is None
    assert mend(huge, INTEGER) is None
    assert mend("1" + ",000" * 1500, INTEGER) is None
    longest = "1" + ",000" * 33  # 100 digits
    assert mend(longest, INTEGER) == int(longest.replace(",", ""))


def test_a_field_that_also_takes_strings_is_left_alone() -> None:
    schema = {
        "type": "object",
        "properties": {
            "x": {"anyOf": [{"type": "number"}, {"type": "string", "pattern": "^n/a$"}]}
        },
    }
    assert mend("6,512.24", schema) is None


def test_nullable_refs_and_items_are_followed() -> None:
    schema = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}},
        },
        "$defs": {
            "Item": {
                "type": "object",
                "properties": {
                    "price": {"anyOf": [{"type": "number"}, {"type": "null"}]},
                    "unit": {"enum": ["kg", "g"]},
                },
            }
        },
    }
    data = {"items": [{"price": 1, "unit": "kg"}, {"price": "1,234.50", "unit": "KG"}]}
    fixed, notes = repair(data, [("items", 1, "price"), ("items", 1, "unit")], schema) or (None, [])
    assert fixed == {"items": [{"price": 1, "unit": "kg"}, {"price": 1234.5, "unit": "kg"}]}
    assert notes == ['items[1].price: "1,234.50" -> 1234.5', 'items[1].unit: "KG" -> "kg"']
    assert data["items"][1]["price"] == "1,234.50"  # the caller's data is not changed


def test_only_the_given_locations_are_mended() -> None:
    schema = {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}}}
    fixed = repair({"x": "1,234,567", "y": "7,654,321"}, [("x",)], schema)
    assert fixed is not None and fixed[0] == {"x": 1234567, "y": "7,654,321"}


def test_a_location_the_answer_does_not_lead_along_is_ignored() -> None:
    assert repair({"x": {"a": 1}}, [("x", "b", 3), ("y",), ()], NUMBER) is None
    # pydantic names a union member after the value's path: the value is still found.
    union = {
        "type": "object",
        "properties": {"x": {"anyOf": [{"type": "integer"}, {"type": "number"}]}},
    }
    fixed = repair({"x": "1,234,567"}, [("x", "int"), ("x", "float")], union)
    assert fixed is not None and fixed[0] == {"x": 1234567}


def test_pydantic_errors_point_repair_at_lax_parse_failures_only() -> None:
    class Strict(BaseModel, strict=True):
        x: int

    class Lax(BaseModel):
        x: int
        currency: Literal["CNY", "USD"]

    with pytest.raises(Invalid) as strict:
        Target.of(Strict).validate({"x": "3"})
    assert strict.value.mendable == []  # refused on its type: strictness is the caller's
    with pytest.raises(Invalid) as lax:
        Target.of(Lax).validate({"x": "1,234", "currency": "usd"})
    assert lax.value.mendable == [("x",), ("currency",)]


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False))
def test_numbers_written_with_grouping_and_decimals_read_back_exactly(value: Decimal) -> None:
    english = f"{value:,.2f}"
    german = english.replace(",", " ").replace(".", ",").replace(" ", ".")
    spaced = english.replace(",", "\u202f")
    for text in (english, german, spaced):
        assert mend(text, NUMBER) == float(value), text
