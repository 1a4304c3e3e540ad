"""Typed snapshots of a live value growing in place, as the incremental parser grows it."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any

import pydantic
import pytest

from extractor.core.partial import Snapshots

VALIDATED: list[str] = []


class Item(pydantic.BaseModel):
    sku: str
    qty: int

    @pydantic.field_validator("qty")
    @classmethod
    def positive(cls, qty: int) -> int:
        VALIDATED.append("item")
        if qty <= 0:
            raise ValueError("qty must be positive")
        return qty


class Customer(pydantic.BaseModel):
    name: str
    email: str = pydantic.Field(alias="e-mail")

    @pydantic.model_validator(mode="after")
    def needs_everything(self) -> Customer:
        VALIDATED.append("customer")
        return self


class Order(pydantic.BaseModel):
    customer: Customer
    items: list[Item]
    note: str | None = "none given"


@pytest.fixture(autouse=True)
def _reset() -> None:
    VALIDATED.clear()


def test_fields_not_yet_written_are_none_and_not_set() -> None:
    snap = Snapshots(Order).snapshot({})
    assert isinstance(snap, Order)
    assert snap.customer is None and snap.items is None and snap.note is None
    assert snap.model_fields_set == set()


def test_growing_model_is_built_without_validators_then_validated_once_complete() -> None:
    snaps = Snapshots(Order)
    raw: dict[str, Any] = {"customer": {"name": "Ada"}}
    first = snaps.snapshot(raw)
    assert first.customer.name == "Ada" and first.customer.email is None
    assert VALIDATED == []  # the incomplete customer never met its validator
    raw["customer"]["e-mail"] = "ada@example.org"
    raw["items"] = []
    second = snaps.snapshot(raw)
    assert second.customer == Customer(name="Ada", **{"e-mail": "ada@example.org"})
    assert VALIDATED == ["customer", "customer"]  # the comparison's own instance, then ours
    assert first.customer.email is None  # earlier snapshots are not changed afterwards


def test_each_complete_item_is_validated_once_however_many_snapshots() -> None:
    snaps = Snapshots(Order)
    raw: dict[str, Any] = {"customer": {"name": "A", "e-mail": "a@b"}, "items": []}
    items = raw["items"]
    for i in range(50):
        items.append({})
        snaps.snapshot(raw)
        items[-1]["sku"] = f"S{i}"
        snaps.snapshot(raw)
        items[-1]["qty"] = i + 1
        snap = snaps.snapshot(raw)
    assert VALIDATED.count("item") == 49  # the last item is still open
    assert [item.qty for item in snap.items] == list(range(1, 51))
    assert all(type(item) is Item for item in snap.items)


def test_a_complete_item_that_fails_validation_is_shown_unvalidated() -> None:
    raw: dict[str, Any] = {"items": [{"sku": "A", "qty": 0}, {"sku": "B"}]}
    snap = Snapshots(Order).snapshot(raw)
    assert snap.items[0].qty == 0
    assert snap.items[1].sku == "B" and snap.items[1].qty is None


def test_snapshots_do_not_share_growing_containers() -> None:
    snaps = Snapshots(None)
    raw: dict[str, Any] = {"a": [1]}
    first = snaps.snapshot(raw)
    raw["a"].append(2)
    raw["b"] = {"c": True}
    second = snaps.snapshot(raw)
    assert first == {"a": [1]}
    assert second == {"a": [1, 2], "b": {"c": True}}


def test_list_target_and_dict_of_models() -> None:
    snaps = Snapshots(dict[str, list[Item]])
    raw: dict[str, Any] = {"x": [{"sku": "A", "qty": 1}, {"sku": "B"}]}
    snap = snaps.snapshot(raw)
    assert snap["x"][0] == Item(sku="A", qty=1)
    assert snap["x"][1].model_fields_set == {"sku"}


class Colour(Enum):
    RED = "red"


class Leaves(pydantic.BaseModel):
    when: dt.date
    colour: Colour
    count: Annotated[int, pydantic.Field(gt=0)]
    tags: set[str]
    either: int | str


def test_leaves_are_converted_by_their_type_once_complete() -> None:
    raw: dict[str, Any] = {
        "when": "2025-11-24",
        "colour": "red",
        "count": 3,
        "tags": ["a", "a"],
        "either": "x",
    }
    snaps = Snapshots(Leaves)
    snap = snaps.snapshot(raw)
    assert snap.when == dt.date(2025, 11, 24)
    assert snap.colour is Colour.RED
    assert snap.count == 3
    assert snap.tags == {"a"}
    assert snap.either == "x"  # the last field, shown as it is so far


def test_growing_string_is_shown_as_is() -> None:
    snaps = Snapshots(Leaves)
    assert snaps.snapshot({"when": "2025-"}).when == "2025-"


class Tree(pydantic.BaseModel):
    name: str
    children: list[Tree] = []


def test_recursive_model() -> None:
    raw: dict[str, Any] = {"name": "root", "children": [{"name": "a", "children": []}, {}]}
    snap = Snapshots(Tree).snapshot(raw)
    assert snap.children[0] == Tree(name="a")
    assert snap.children[1].name is None


def test_wrong_shape_is_shown_as_json() -> None:
    raw: dict[str, Any] = {"items": {"not": "a list"}, "note": None}
    snap = Snapshots(Order).snapshot(raw)
    assert snap.items == {"not": "a list"}


class Scaled(pydantic.BaseModel):
    qty: int

    @pydantic.field_validator("qty")
    @classmethod
    def scale(cls, qty: int, info: pydantic.ValidationInfo) -> int:
        return qty * (info.context or {}).get("factor", 1)


def test_validation_context_reaches_the_validators_of_complete_parts() -> None:
    raw: dict[str, Any] = {"a": [{"qty": 2}, {}]}
    assert (
        Snapshots(dict[str, list[Scaled]], context={"factor": 10}).snapshot(raw)["a"][0].qty == 20
    )
    assert Snapshots(dict[str, list[Scaled]]).snapshot(raw)["a"][0].qty == 2
