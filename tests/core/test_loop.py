"""The sans-I/O loop, driven by hand with Completion objects: no HTTP at all."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel

from extractor import BudgetExceeded, Extractor, Price, Usage, ValidationFailed
from extractor.core.completion import Completion
from extractor.core.loop import ExtractionLoop


class Person(BaseModel):
    name: str
    age: int


def answer(content: str, prompt: int = 1000, completion: int = 100) -> Completion:
    return Completion(content=content, finish_reason="stop", usage=Usage(prompt, completion))


def loop_for(**options: object) -> ExtractionLoop[Person]:
    ex = Extractor(api_key="k")
    return ExtractionLoop(ex.planner.plan(Person, "Ada, 36", options))


def test_a_good_answer_finishes_the_loop():
    loop = loop_for()
    body = loop.next_request()
    assert body["messages"][-1]["content"] == "<text>\nAda, 36\n</text>"
    assert loop.receive(answer('{"name": "Ada", "age": 36}')) is True
    result = loop.result()
    assert result.value == Person(name="Ada", age=36)
    assert result.usage == Usage(1000, 100)


def test_a_bad_answer_asks_again_with_the_feedback():
    loop = loop_for()
    loop.next_request()
    assert loop.receive(answer('{"name": "Ada"}')) is False
    follow_up = loop.next_request()["messages"]
    assert follow_up[-2] == {"role": "assistant", "content": '{"name": "Ada"}'}
    assert follow_up[-1]["content"].splitlines()[1] == "- age: Field required"


def test_empty_answer_is_reasked():
    loop = loop_for()
    assert loop.receive(answer("")) is False
    assert "the answer was empty" in loop.next_request()["messages"][-1]["content"]


def test_exhaustion_raises_with_the_last_errors():
    loop = loop_for(max_retries=0)
    with pytest.raises(ValidationFailed) as info:
        loop.receive(answer('{"name": 1, "age": 2}'))
    assert [e.path for e in info.value.errors] == ["name"]


def test_token_budget_is_checked_before_each_attempt():
    loop = loop_for(max_total_tokens=1200)
    loop.next_request()
    loop.receive(answer("{}", prompt=1000, completion=100))
    with pytest.raises(BudgetExceeded, match="max_total_tokens=1200") as info:
        loop.next_request()
    assert info.value.usage == Usage(1000, 100)


def test_cost_budget_counts_spend_and_the_next_requests_input():
    # 1000 prompt + 100 completion = 0.0018 + 0.0015 = 0.0033 CNY spent.
    loop = loop_for(max_cost="0.0035")
    loop.next_request()
    loop.receive(answer("{}"))
    with pytest.raises(BudgetExceeded, match="cost budget") as info:
        loop.next_request()  # the re-ask's input alone would pass the budget
    assert info.value.cost is not None and info.value.cost.amount == Decimal("0.0033")
    roomy = loop_for(max_cost=1)
    roomy.receive(answer("{}"))
    roomy.next_request()


def test_a_budget_too_small_for_the_first_request_sends_nothing():
    with pytest.raises(BudgetExceeded):
        loop_for(max_cost="0.000001").next_request()


def test_cost_uses_the_extractor_price():
    ex = Extractor("custom", api_key="k", prices={"custom": Price("1", "2", currency="USD")})
    loop = ExtractionLoop(ex.planner.plan(Person, "x", {}))
    loop.receive(answer('{"name": "A", "age": 1}', prompt=1_000_000, completion=1_000_000))
    cost = loop.result().cost
    assert cost is not None and (cost.amount, cost.currency) == (Decimal(3), "USD")
