"""Cheaper re-asks, from the faults of the simulated workload (benchmarks/cost.py): a value
mended locally instead of re-asked, and patch re-asks that ask for only the failing fields."""

from __future__ import annotations

import json
import logging
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, model_validator

from extractor import Extractor, Usage, ValidationFailed
from extractor.core.completion import Completion
from extractor.core.loop import ExtractionLoop
from extractor.core.prompt import PATCH_REQUEST
from tests.helpers import Invoice

GOOD = {
    "number": "INV-0007",
    "issued": "2024-03-05",
    "seller": "Initech GmbH",
    "total": 6512.24,
    "currency": "EUR",
    "paid": True,
}
TEXT = "rec-7 Invoice INV-0007 from Initech GmbH, dated 2024-03-05: 6512.24 EUR, paid in full."


class Checked(BaseModel):
    """A problem no single field holds: the model validator reports it at the root."""

    low: int
    high: int

    @model_validator(mode="after")
    def ordered(self) -> Checked:
        if self.low > self.high:
            raise ValueError("low must not exceed high")
        return self


def answer(content: Any, tool: bool = False) -> Completion:
    text = content if isinstance(content, str) else json.dumps(content)
    return Completion(
        content=text,
        finish_reason="stop",
        usage=Usage(100, 20),
        tool_call_id="call_1" if tool else None,
    )


def loop_for(target: Any = Invoice, text: str = TEXT, **options: Any) -> ExtractionLoop[Any]:
    return ExtractionLoop(Extractor(api_key="k").planner.plan(target, text, options))


def asked(body: dict[str, Any]) -> list[str] | None:
    """The fields a patch re-ask asks for, found as a simulated model would: the JSON array
    ending the last line of the last message; None for a full re-ask."""
    last = body["messages"][-1]["content"].splitlines()[-1]
    if not last.startswith(PATCH_REQUEST):
        return None
    return list(json.loads(last[len(PATCH_REQUEST) :]))


class Contact(BaseModel):
    """Optional values beside one required field: what a patch must not lose."""

    age: int
    name: str | None = None
    email: str | None = None
    city: str | None = None


CONTACT = {"age": 36, "name": "Ada", "email": "ada@x.org", "city": "London"}


def contact_asked_for_age() -> ExtractionLoop[Any]:
    """A loop whose first answer had the age wrong, now asking for the age alone."""
    loop = loop_for(Contact, "Ada, 36, ada@x.org, London")
    assert loop.receive(answer({**CONTACT, "age": "thirty"})) is False
    assert asked(loop.next_request()) == ["age"]
    return loop


def test_a_lowercase_enum_is_mended_with_no_second_request() -> None:
    loop = loop_for()
    loop.next_request()
    assert loop.receive(answer({**GOOD, "currency": "cny"})) is True
    assert loop.value.currency == "CNY"
    (attempt,) = loop.attempts
    assert attempt.ok and attempt.repaired
    assert attempt.repairs == ('currency: "cny" -> "CNY"',)


def test_a_number_with_its_currency_is_re_asked_as_a_patch_of_that_field_only() -> None:
    loop = loop_for()
    loop.next_request()
    assert loop.receive(answer({**GOOD, "total": "6,512.24 EUR"})) is False
    body = loop.next_request()
    assert asked(body) == ["total"]
    assert body["messages"][-1]["content"] == (
        "Your answer did not conform:\n"
        "- total: Input should be a valid number, unable to parse string as a number "
        '(got "6,512.24 EUR")\n'
        'Reply with a JSON object of only these fields: ["total"]'
    )
    # The model sees its own answer, as it wrote it.
    assert body["messages"][-2] == {
        "role": "assistant",
        "content": json.dumps({**GOOD, "total": "6,512.24 EUR"}),
    }
    assert loop.receive(answer({"total": 6512.24})) is True
    assert loop.value == Invoice.model_validate(GOOD)
    first, second = loop.attempts
    assert first.patch == () and second.patch == ("total",)
    assert second.raw == '{"total": 6512.24}'  # the raw reply stays the raw reply


def test_a_missing_field_is_patched() -> None:
    loop = loop_for()
    without = {k: v for k, v in GOOD.items() if k != "issued"}
    assert loop.receive(answer(without)) is False
    assert asked(loop.next_request()) == ["issued"]
    assert loop.receive(answer({"issued": "2024-03-05"})) is True
    assert loop.value == Invoice.model_validate(GOOD)


def test_mended_values_stay_mended_while_the_rest_is_patched() -> None:
    loop = loop_for()
    assert loop.receive(answer({**GOOD, "currency": "eur", "total": "6,512.24 EUR"})) is False
    first = loop.attempts[0]
    assert [e.path for e in first.errors] == ["total"]  # the currency was mended
    assert first.repairs == ('currency: "eur" -> "EUR"',)
    assert asked(loop.next_request()) == ["total"]
    assert loop.receive(answer({"total": 6512.24})) is True
    assert loop.value.currency == "EUR"


def test_a_patch_reply_that_is_a_whole_answer_is_taken_whole() -> None:
    loop = loop_for()
    loop.receive(answer({**GOOD, "total": "6,512.24 EUR", "seller": "Wrong Seller"}))
    assert asked(loop.next_request()) == ["total"]
    assert loop.receive(answer({**GOOD, "seller": "Initech GmbH"})) is True
    assert loop.value == Invoice.model_validate(GOOD)


def test_a_patch_reply_with_more_than_was_asked_replaces_those_fields_too() -> None:
    loop = loop_for()
    loop.receive(answer({**GOOD, "total": "6,512.24 EUR", "paid": False}))
    loop.next_request()
    assert loop.receive(answer({"total": 6512.24, "paid": True})) is True
    assert loop.value.paid is True


def test_a_patch_reply_wrong_again_is_re_asked_again_and_counts_against_the_budget() -> None:
    loop = loop_for(max_retries=2)
    loop.receive(answer({**GOOD, "total": "6,512.24 EUR"}))
    loop.next_request()
    assert loop.receive(answer({"total": "6512.24 EUR"})) is False
    body = loop.next_request()
    assert asked(body) == ["total"]
    # The conversation stays bounded: the last patch reply and its feedback only.
    assert len(body["messages"]) == 4
    assert body["messages"][-2]["content"] == '{"total": "6512.24 EUR"}'
    with pytest.raises(ValidationFailed) as info:
        loop.receive(answer({"total": "EUR 6512.24"}))
    error = info.value
    assert len(error.attempts) == 3
    assert [e.path for e in error.errors] == ["total"]
    # What a user debugging the record sees: the whole answer the problems are about, and
    # the reply that made it.
    assert error.raw is not None
    merged, note = error.raw.split("\n")
    assert json.loads(merged) == {**GOOD, "total": "EUR 6512.24"}
    assert "asked for total" in note and '{"total": "EUR 6512.24"}' in note


def test_a_patch_reply_that_is_not_json_is_asked_for_the_same_fields_again() -> None:
    loop = loop_for()
    loop.receive(answer({**GOOD, "total": "6,512.24 EUR"}))
    loop.next_request()
    assert loop.receive(answer("the total is 6512.24")) is False
    assert asked(loop.next_request()) == ["total"]
    assert loop.receive(answer({"total": 6512.24})) is True
    assert loop.value == Invoice.model_validate(GOOD)


@pytest.mark.parametrize("reply", ["36", "[36]", "null", '"36"', "", "age: 36"])
def test_a_patch_reply_that_is_not_an_object_keeps_the_answer_it_was_to_go_into(
    reply: str,
) -> None:
    # A full re-ask after it showed the model only its bare reply: asked to "Reply with the
    # corrected JSON only", it wrote {"age": 36}, then the name it was asked for, and the
    # email and city of its first answer were lost without a word.
    loop = contact_asked_for_age()
    assert loop.receive(answer(reply)) is False
    assert asked(loop.next_request()) == ["age"]
    assert loop.receive(answer({"age": 36})) is True
    assert loop.value == Contact(**CONTACT)


def test_root_level_problems_get_a_full_re_ask() -> None:
    class Closed(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str
        age: int

    extra = loop_for(Closed, "Ada, 36")
    assert extra.receive(answer({"name": "Ada", "age": 36, "nick": "A"})) is False
    assert asked(extra.next_request()) is None  # a patch cannot delete a key
    whole = loop_for(Checked, "3 to 5")
    assert whole.receive(answer({"low": 5, "high": 3})) is False
    assert asked(whole.next_request()) is None
    not_object = loop_for()
    assert not_object.receive(answer("[1, 2]")) is False
    assert asked(not_object.next_request()) is None
    wrapped = loop_for(list[int], "1, 2")
    assert wrapped.receive(answer({"result": [1, "x"]})) is False
    assert asked(wrapped.next_request()) is None  # everything is under one key


def test_a_full_re_ask_after_a_patch_shows_the_merged_answer() -> None:
    loop = loop_for(Checked, "3 to 5")
    loop.receive(answer({"low": 5}))
    assert asked(loop.next_request()) == ["high"]
    assert loop.receive(answer({"high": 3})) is False
    body = loop.next_request()
    assert asked(body) is None
    assert json.loads(body["messages"][-2]["content"]) == {"low": 5, "high": 3}


@pytest.mark.parametrize("mode", ["tools", "json_schema"])
def test_modes_whose_reply_must_fit_the_whole_schema_keep_full_re_asks(mode: str) -> None:
    tool = mode == "tools"
    loop = loop_for(mode=mode)
    # Repair works in every mode.
    assert loop.receive(answer({**GOOD, "currency": "cny"}, tool)) is True
    loop = loop_for(mode=mode)
    assert loop.receive(answer({**GOOD, "total": "6,512.24 EUR"}, tool)) is False
    body = loop.next_request()
    assert "Reply with the corrected JSON only." in json.dumps(body["messages"][-1])
    assert PATCH_REQUEST not in json.dumps(body["messages"])


def test_json_schema_targets_are_mended_and_patched() -> None:
    schema = {
        "type": "object",
        "properties": {
            "number": {"type": "string"},
            "issued": {"type": "string", "format": "date"},
            "total": {"type": "number", "exclusiveMinimum": 0},
            "currency": {"enum": ["CNY", "USD", "EUR"]},
        },
        "required": ["number", "issued", "total", "currency"],
        "additionalProperties": False,
    }
    loop = loop_for(schema)
    first = {"number": "INV-0007", "total": "6,512.24", "currency": "eur "}
    assert loop.receive(answer(first)) is False  # mended, but "issued" is missing
    (attempt,) = loop.attempts
    assert sorted(attempt.repairs) == ['currency: "eur " -> "EUR"', 'total: "6,512.24" -> 6512.24']
    assert asked(loop.next_request()) == ["issued"]
    assert loop.receive(answer({"issued": "2024-03-05"})) is True
    assert loop.value == {
        "number": "INV-0007",
        "total": 6512.24,
        "currency": "EUR",
        "issued": "2024-03-05",
    }


def test_a_problem_deep_in_a_list_patches_the_whole_list() -> None:
    class Item(BaseModel):
        sku: str
        price: float

    class Order(BaseModel):
        customer: str
        items: list[Item]

    loop = loop_for(Order, "Ada: A 1.5, B 2")
    items = [{"sku": "A", "price": 1.5}, {"sku": "B", "price": "two"}]
    assert loop.receive(answer({"customer": "Ada", "items": items})) is False
    body = loop.next_request()
    assert asked(body) == ["items"]
    assert "- items[1].price: Input should be a valid number" in body["messages"][-1]["content"]
    fixed = [{"sku": "A", "price": 1.5}, {"sku": "B", "price": 2}]
    assert loop.receive(answer({"items": fixed})) is True
    assert loop.value == Order(customer="Ada", items=[Item(**i) for i in fixed])
    # A grouped number there is mended in place, with no re-ask.
    mended = loop_for(Order, "Ada: A 1,234.50")
    priced = [{"sku": "A", "price": "1,234.50"}]
    assert mended.receive(answer({"customer": "Ada", "items": priced})) is True
    assert mended.value.items[0].price == 1234.5


def test_strict_never_repairs() -> None:
    loop = loop_for(strict=True)
    assert loop.receive(answer({**GOOD, "currency": "cny"})) is False
    assert not loop.attempts[0].repaired
    body = loop.next_request()
    assert asked(body) == ["currency"]  # a patch is no repair: strict calls get them
    assert loop.receive(answer({"currency": "CNY"})) is True  # the date judged as JSON


def test_grounding_sees_the_merged_answer_and_ungrounded_values_are_patched() -> None:
    loop = loop_for(require_grounding=True)
    assert loop.receive(answer({**GOOD, "seller": "Umbrella Foods"})) is False
    assert asked(loop.next_request()) == ["seller"]
    assert loop.receive(answer({"seller": "Initech GmbH"})) is True
    result = loop.result()
    assert result.value == Invoice.model_validate(GOOD)
    assert result.spans is not None and result.ungrounded == []
    span = result.spans["seller"]
    assert span is not None and TEXT[span.start : span.end] == "Initech GmbH"
    assert loop.data["total"] == 6512.24  # kept from the first answer


def test_grounding_finds_mended_values() -> None:
    loop = loop_for(ground=True)
    assert loop.receive(answer({**GOOD, "total": "6,512.24"})) is True
    span = loop.result().spans["total"]  # type: ignore[index]
    assert span is not None and TEXT[span.start : span.end] == "6512.24"


def test_the_debug_log_says_what_was_mended_and_patched(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="extractor")
    loop = loop_for()
    loop.receive(answer({**GOOD, "currency": "cny", "total": "6,512.24 EUR"}))
    loop.next_request()
    loop.receive(answer({"total": 6512.24}))
    first, second = (r.getMessage() for r in caplog.records if "attempt" in r.getMessage())
    assert 'repairs=currency: "cny" -> "CNY"' in first
    assert "patch=total" in second


def test_a_patch_reply_with_one_more_field_keeps_the_fields_it_leaves_out() -> None:
    # Taken as a whole answer (every required field, more than asked), this reply dropped
    # name and email: they became None with nothing to say so.
    loop = contact_asked_for_age()
    assert loop.receive(answer({"age": 36, "city": "London"})) is True
    assert loop.value == Contact(**CONTACT)


def test_an_enum_value_that_is_another_word_once_case_folded_is_re_asked() -> None:
    class Measure(BaseModel):
        kind: Literal["Maße", "Länge"]

    loop = loop_for(Measure, "Masse: 3 kg")
    assert loop.receive(answer({"kind": "Masse"})) is False
    assert loop.attempts[0].repairs == ()
    assert asked(loop.next_request()) == ["kind"]


def test_a_number_the_lenient_parser_would_cut_short_is_re_asked() -> None:
    # '1.234,5' unquoted parsed as 1.234 (the ",5" dropped as a value without a key), which
    # validated as the total.
    loop = loop_for()
    content = json.dumps(GOOD).replace("6512.24", "6.512,24")
    assert loop.receive(answer(content)) is False
    (attempt,) = loop.attempts
    assert "cannot tell" in attempt.errors[0].message
    assert asked(loop.next_request()) is None  # not JSON: a full re-ask
