"""The planner keeps the plan of a call without options of its own per target and reuses it
with each new text; calls with options are planned in full; nothing a caller gets back can
change a kept plan."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from extractor import ConfigurationError, Extractor
from extractor.core.options import DefaultOptions
from extractor.core.plan import Planner


class Person(BaseModel):
    name: str


def test_a_call_without_options_reuses_the_kept_plan_with_its_own_text() -> None:
    planner = Planner(model="gpt-5.1")
    first = planner.plan(Person, "Ada", {})
    second = planner.plan(Person, "Grace", {})
    assert first.template.messages[0] is second.template.messages[0]
    assert first.template.params is second.template.params
    assert "Ada" in first.template.messages[-1]["content"]
    assert "Grace" in second.template.messages[-1]["content"]
    assert len(first.template.messages) == len(second.template.messages) == 2


def test_a_kept_plan_equals_a_plan_made_in_full() -> None:
    defaults = DefaultOptions(instructions="Be brief.", max_tokens=50, temperature=0.1)
    planner = Planner(model="gpt-5.1", defaults=defaults)
    kept = planner.plan(Person, "Ada", {})
    full = planner.plan(Person, "Ada", {"max_retries": planner.max_retries})
    assert kept.template.body() == full.template.body()
    assert (kept.model, kept.max_retries, kept.price, kept.budget) == (
        full.model,
        full.max_retries,
        full.price,
        full.budget,
    )


def test_per_call_options_are_not_kept() -> None:
    planner = Planner(model="gpt-5.1")
    planner.plan(Person, "Ada", {})
    other = planner.plan(Person, "Ada", {"model": "gpt-4o", "instructions": "Only names."})
    assert other.template.params["model"] == "gpt-4o"
    assert "Only names." in other.template.messages[0]["content"]
    again = planner.plan(Person, "Ada", {})
    assert again.template.params["model"] == "gpt-5.1"
    assert "Only names." not in again.template.messages[0]["content"]


def test_default_messages_alone_are_something_to_extract_from() -> None:
    messages = [{"role": "user", "content": "Ada, 36"}]
    planner = Planner(model="gpt-5.1", defaults=DefaultOptions(messages=messages))
    assert planner.plan(Person, None, {}).template.messages[-1]["content"] == "Ada, 36"
    with pytest.raises(ConfigurationError, match="nothing to extract from"):
        Planner(model="gpt-5.1").plan(Person, None, {})


def test_changing_a_returned_body_changes_no_later_call() -> None:
    ex = Extractor(api_key="k")
    body = ex.request_body(Person, "Ada")
    body["messages"][0]["content"] = "tampered"
    body["response_format"]["type"] = "text"
    again = ex.request_body(Person, "Ada")
    assert again["messages"][0]["content"] != "tampered"
    assert again["response_format"] == {"type": "json_object"}


def test_a_configuration_error_is_raised_at_every_call_not_kept() -> None:
    planner = Planner(model="no-price-model", defaults=DefaultOptions(max_cost=1))
    for _ in range(2):
        with pytest.raises(ConfigurationError, match="max_cost needs a price"):
            planner.plan(Person, "Ada", {})


@pytest.mark.parametrize(
    ("text", "message"),
    [(123, "not int"), (b"Ada", "decode it first"), (["Ada"], "not list")],
)
def test_a_text_that_is_not_a_str_is_a_configuration_error(text: object, message: str) -> None:
    """An int used to raise AttributeError from token counting, bytes a TypeError from the
    request's encoding: neither is an error of the library's."""
    from extractor.testing import FakeModel

    fake = FakeModel()
    for call in (fake.extractor().extract, fake.extractor().request_body):
        with pytest.raises(ConfigurationError, match=message):
            call(Person, text)  # type: ignore[arg-type]
    assert fake.requests == []


@pytest.mark.parametrize(("text", "message"), [("", "is empty:"), (" \n\t", "only whitespace")])
def test_an_empty_text_is_refused_before_anything_is_paid(text: str, message: str) -> None:
    """An empty text has nothing to extract: the model would answer with nulls or inventions,
    at full price for the prompt."""
    from extractor.testing import FakeModel

    fake = FakeModel()
    for call in (fake.extractor().extract, fake.extractor().stream):
        with pytest.raises(ConfigurationError, match=message):
            call(Person, text)
    assert fake.requests == []


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("max_cost", "abc"),  # used to leak decimal.InvalidOperation
        ("max_cost", -1),  # used to be a BudgetExceeded before the first request
        ("max_cost", float("nan")),
        ("max_retries", -1),  # used to run as if 0
        ("max_retries", "three"),
        ("max_retries", 1.5),
    ],
)
def test_a_budget_or_retry_limit_that_is_no_number_is_a_configuration_error(
    option: str, value: object
) -> None:
    from extractor import Price
    from extractor.testing import FakeModel

    fake = FakeModel()
    ex = fake.extractor(price=Price("1", "1"))
    with pytest.raises(ConfigurationError, match=f"{option} must be"):
        ex.extract(Person, "Ada", **{option: value})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=f"{option} must be"):
        fake.extractor(price=Price("1", "1"), **{option: value}).extract(Person, "Ada")
    assert fake.requests == []
