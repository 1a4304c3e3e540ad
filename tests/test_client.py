"""End to end through the sync and async drivers, with respx standing in for the API."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import httpx
import pytest
import respx
from pydantic import BaseModel, Field, ValidationInfo, field_validator
from typing_extensions import TypedDict

from extractor import (
    AsyncExtractor,
    ConfigurationError,
    Extractor,
    Price,
    RefusalError,
    TruncatedError,
    ValidationFailed,
)
from extractor.core.cost import Usage
from extractor.testing import wire
from tests.helpers import BASE_URL, GATEWAY_PRICE, KEY, URL, USAGE, bodies, reply


class Person(BaseModel):
    name: str = Field(description="Full name as written")
    age: int


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def ex():
    with Extractor(
        api_key=KEY, base_url=BASE_URL, sleep=lambda s: None, price=GATEWAY_PRICE
    ) as extractor:
        yield extractor


def test_extract_returns_validated_model(api, ex):
    api.post(URL).mock(return_value=reply({"name": "Ada Lovelace", "age": 36}))
    assert ex.extract(Person, "Ada Lovelace, 36") == Person(name="Ada Lovelace", age=36)


def test_request_carries_key_schema_and_text(api, ex):
    route = api.post(URL).mock(return_value=reply({"name": "Ada", "age": 36}))
    ex.extract(Person, "Ada, 36")
    request = route.calls[0].request
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = json.loads(request.content)
    assert body["model"] == "gpt-5.1"
    assert body["response_format"] == {"type": "json_object"}
    system, user = body["messages"]
    assert system["role"] == "system" and "JSON" in system["content"]
    assert "Full name as written" in system["content"]
    assert user == {"role": "user", "content": "<text>\nAda, 36\n</text>"}


@pytest.mark.parametrize(
    ("target", "answer", "expected"),
    [
        (list[Person], {"result": [{"name": "A", "age": 1}]}, [Person(name="A", age=1)]),
        (Literal["yes", "no"], {"result": "yes"}, "yes"),
        (int, {"result": 7}, 7),
        (Person | None, {"result": None}, None),
        (dict[str, int], {"a": 1}, {"a": 1}),
    ],
)
def test_non_object_targets_are_wrapped_and_unwrapped(api, ex, target, answer, expected):
    route = api.post(URL).mock(return_value=reply(answer))
    assert ex.extract(target, "text") == expected
    system = bodies(route)[0]["messages"][0]["content"]
    if isinstance(answer, dict) and "result" in answer:
        assert "\nresult: " in system  # the model is told to write the wrapper


def test_dataclass_and_typeddict_targets(api, ex):
    @dataclass
    class Point:
        x: int
        y: int

    class Movie(TypedDict):
        title: str
        year: int

    api.post(URL).mock(
        side_effect=[reply({"x": 1, "y": "2"}), reply({"title": "Heat", "year": 1995})]
    )
    assert ex.extract(Point, "1,2") == Point(1, 2)
    assert ex.extract(Movie, "Heat (1995)") == {"title": "Heat", "year": 1995}


def test_json_schema_target_returns_plain_data_and_checks_formats(api, ex, tmp_path):
    schema = {
        "type": "object",
        "properties": {"email": {"type": "string", "format": "email"}},
        "required": ["email"],
    }
    path = tmp_path / "contact.json"
    path.write_text(json.dumps(schema))
    route = api.post(URL).mock(
        side_effect=[reply({"email": "not an email"}), reply({"email": "ada@example.com"})]
    )
    assert ex.extract(str(path), "mail ada") == {"email": "ada@example.com"}
    assert "is not a 'email'" in bodies(route)[1]["messages"][-1]["content"]
    api.post(URL).mock(return_value=reply({"email": "x@y.org"}))
    assert ex.extract(schema, "x") == {"email": "x@y.org"}


def test_missing_schema_file_is_a_clear_error(ex):
    with pytest.raises(ConfigurationError, match="cannot read the JSON Schema file"):
        ex.extract("no/such/schema.json", "text")


def test_reask_feeds_back_errors_with_paths_and_values(api, ex):
    class Item(BaseModel):
        price: float

    class Order(BaseModel):
        items: list[Item]

    bad = {"items": [{"price": 1}, {"price": 2}, {"price": "abc"}]}
    good = {"items": [{"price": 1}, {"price": 2}, {"price": 3}]}
    route = api.post(URL).mock(side_effect=[reply(bad), reply(good)])
    result = ex.extract_result(Order, "order")
    assert result.value.items[2].price == 3
    second = bodies(route)[1]["messages"]
    assert second[-2] == {"role": "assistant", "content": json.dumps(bad)}
    feedback = second[-1]["content"]
    assert second[-1]["role"] == "user"
    assert "items[2].price: Input should be a valid number" in feedback
    assert '(got "abc")' in feedback
    assert "errors.pydantic.dev" not in feedback
    assert '"properties"' not in feedback  # no second copy of the schema
    assert [a.ok for a in result.attempts] == [False, True]
    assert result.attempts[0].errors[0].path == "items[2].price"


def test_history_is_bounded_a_new_failure_replaces_the_last(api, ex):
    route = api.post(URL).mock(
        side_effect=[reply({"name": "A"}), reply({"age": "old"}), reply({"age": 3})]
    )
    assert ex.extract(Person, "A, 3") == Person(name="A", age=3)
    sent = bodies(route)
    assert [len(b["messages"]) for b in sent] == [2, 4, 4]
    assert sent[2]["messages"][2]["content"] == json.dumps({"age": "old"})
    assert sent[2]["messages"][:2] == sent[0]["messages"]


def test_max_retries_counts_reasks_and_failure_carries_everything(api, ex):
    route = api.post(URL).mock(return_value=reply({"name": "A", "age": "old"}))
    with pytest.raises(ValidationFailed) as info:
        ex.extract(Person, "A", max_retries=2)
    assert route.call_count == 3
    error = info.value
    assert error.raw == json.dumps({"name": "A", "age": "old"})
    assert error.errors[0].path == "age"
    assert len(error.attempts) == 3
    assert error.usage.prompt_tokens == 300 and error.usage.completion_tokens == 60
    assert error.cost.amount == Decimal("0.00144")  # (300*1.80 + 60*15.00) / 1e6
    assert "max_retries=2" in str(error)


def test_unparseable_answer_is_reasked_and_repairs_are_recorded(api, ex):
    route = api.post(URL).mock(
        side_effect=[reply("Sorry, no JSON here"), reply('```json\n{"name": "A", "age": 1}\n```')]
    )
    result = ex.extract_result(Person, "A, 1")
    assert result.value == Person(name="A", age=1)
    assert "not valid JSON" in bodies(route)[1]["messages"][-1]["content"]
    assert result.attempts[1].repaired is True


def test_refusal_is_not_reasked(api, ex):
    route = api.post(URL).mock(
        return_value=httpx.Response(
            200, json=wire.completion(refusal="I can't help with that", usage=USAGE)
        )
    )
    with pytest.raises(RefusalError, match="can't help") as info:
        ex.extract(Person, "x")
    assert route.call_count == 1
    assert info.value.usage.prompt_tokens == 100


def test_content_filter_is_a_refusal(api, ex):
    api.post(URL).mock(return_value=reply("", finish_reason="content_filter"))
    with pytest.raises(RefusalError, match="content filter"):
        ex.extract(Person, "x")


def test_truncation_raises_with_partial_text(api, ex):
    route = api.post(URL).mock(return_value=reply('{"name": "Ad', finish_reason="length"))
    with pytest.raises(TruncatedError) as info:
        ex.extract(Person, "x", max_tokens=5)
    assert info.value.partial == '{"name": "Ad'
    assert route.call_count == 1


def test_truncation_retry_doubles_the_token_limit_once(api, ex):
    route = api.post(URL).mock(
        side_effect=[
            reply('{"name": "Ad', finish_reason="length"),
            reply({"name": "Ada", "age": 1}),
        ]
    )
    result = ex.extract_result(Person, "x", max_tokens=50, retry_truncated=True)
    assert result.value.name == "Ada"
    assert [b["max_completion_tokens"] for b in bodies(route)] == [50, 100]
    assert result.usage.prompt_tokens == 200


def test_usage_and_cost_sum_over_attempts_including_cached_and_reasoning(api, ex):
    api.post(URL).mock(
        side_effect=[
            reply({"name": "A"}, usage=Usage(1000, 100, reasoning_tokens=40)),
            reply({"name": "A", "age": 2}, usage=Usage(1200, 50, cached_tokens=1000)),
        ]
    )
    result = ex.extract_result(Person, "A, 2")
    assert result.usage.prompt_tokens == 2200
    assert result.usage.completion_tokens == 150
    assert result.usage.cached_tokens == 1000
    assert result.usage.reasoning_tokens == 40
    assert result.cost.currency == "CNY"
    assert result.cost.amount == Decimal("0.00621")  # (2200*1.80 + 150*15.00) / 1e6


def test_custom_price_with_cached_discount(api):
    api.post(URL).mock(
        return_value=reply({"name": "A", "age": 2}, usage=Usage(1000, 0, cached_tokens=800))
    )
    ex = Extractor(
        "my-model",
        api_key=KEY,
        base_url=BASE_URL,
        price=Price(2, 8, cached_input=0.5, currency="USD"),
    )
    cost = ex.extract_result(Person, "x").cost
    assert cost.amount == Decimal("0.0008") and cost.currency == "USD"  # (200*2 + 800*0.5)/1e6


def test_unknown_model_has_no_cost_and_max_cost_needs_a_price(api):
    api.post(URL).mock(return_value=reply({"name": "A", "age": 2}))
    ex = Extractor("llama-3", api_key=KEY, base_url=BASE_URL)
    assert ex.extract_result(Person, "x").cost is None
    with pytest.raises(ConfigurationError, match="max_cost needs a price"):
        ex.extract(Person, "x", max_cost=1)


def test_validation_context_reaches_validators(api, ex):
    class Quote(BaseModel):
        text: str

        @field_validator("text")
        @classmethod
        def must_occur_in_source(cls, value: str, info: ValidationInfo) -> str:
            if value not in info.context["source"]:
                raise ValueError("not in the source text")
            return value

    source = "He said: hello there."
    route = api.post(URL).mock(
        side_effect=[reply({"text": "goodbye"}), reply({"text": "hello there"})]
    )
    assert ex.extract(Quote, source, context={"source": source}).text == "hello there"
    assert "not in the source text" in bodies(route)[1]["messages"][-1]["content"]


def test_strict_mode_rejects_coercion(api, ex):
    route = api.post(URL).mock(
        side_effect=[reply({"name": "A", "age": "3"}), reply({"name": "A", "age": 3})]
    )
    assert ex.extract(Person, "x", strict=True).age == 3
    assert route.call_count == 2
    api.post(URL).mock(return_value=reply({"name": "A", "age": "3"}))
    assert ex.extract(Person, "x").age == 3  # lax by default


def test_messages_are_used_and_never_mutated(api, ex):
    route = api.post(URL).mock(return_value=reply({"name": "A", "age": 3}))
    messages = [{"role": "user", "content": "A is 3"}]
    snapshot = json.dumps(messages)
    ex.extract(Person, messages=messages)
    ex.extract(Person, "more", messages=messages)
    assert json.dumps(messages) == snapshot
    first, second = bodies(route)
    assert first["messages"][1:] == messages
    assert second["messages"][1] == messages[0]
    assert second["messages"][2]["content"].startswith("<text>")


def test_nothing_to_extract_from_is_a_clear_error(ex):
    with pytest.raises(ConfigurationError, match="pass text and/or messages"):
        ex.extract(Person)


def test_examples_and_instructions_reach_the_prompt(api, ex):
    route = api.post(URL).mock(return_value=reply({"name": "A", "age": 3}))
    ex.extract(
        Person,
        "x",
        instructions="Ages are in years.",
        examples=[("Bob, 40", Person(name="Bob", age=40))],
    )
    system = bodies(route)[0]["messages"][0]["content"]
    assert "Instructions: Ages are in years." in system
    assert 'Text: Bob, 40\nJSON: {"name":"Bob","age":40}' in system


def test_on_attempt_hook_sees_every_attempt(api):
    seen = []
    ex = Extractor(api_key=KEY, base_url=BASE_URL, on_attempt=seen.append)
    api.post(URL).mock(side_effect=[reply({"name": "A"}), reply({"name": "A", "age": 1})])
    ex.extract(Person, "x")
    assert [(a.number, a.ok, a.request_id) for a in seen] == [
        (1, False, "req_1"),
        (2, True, "req_1"),
    ]


def test_environment_configuration(api, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("EXTRACTOR_API_KEY", "sk-extractor")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://other.test/v1")
    monkeypatch.setenv("EXTRACTOR_BASE_URL", BASE_URL)
    monkeypatch.setenv("EXTRACTOR_MODEL", "gpt-5.1-mini")
    route = api.post(URL).mock(return_value=reply({"name": "A", "age": 1}))
    Extractor().extract(Person, "x")
    request = route.calls[0].request
    assert request.headers["authorization"] == "Bearer sk-extractor"
    assert json.loads(request.content)["model"] == "gpt-5.1-mini"


def test_openai_variables_are_the_fallback(api, monkeypatch):
    for name in ("EXTRACTOR_API_KEY", "EXTRACTOR_BASE_URL", "EXTRACTOR_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://other.test/v1/")
    route = api.post("https://other.test/v1/chat/completions").mock(
        return_value=reply({"name": "A", "age": 1})
    )
    Extractor().extract(Person, "x")
    assert route.calls[0].request.headers["authorization"] == "Bearer sk-openai"


def test_missing_key_is_raised_at_first_call_naming_the_variables(monkeypatch):
    monkeypatch.delenv("EXTRACTOR_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    ex = Extractor(base_url=BASE_URL)  # creating it is fine
    assert ex.request_body(Person, "x")["model"] == "gpt-5.1"
    with pytest.raises(ConfigurationError, match=r"EXTRACTOR_API_KEY.*OPENAI_API_KEY"):
        ex.extract(Person, "x")
    with pytest.raises(ConfigurationError, match=r"EXTRACTOR_API_KEY.*OPENAI_API_KEY"):
        ex.check_key()
    Extractor(api_key=KEY).check_key()


def test_user_http_client_is_used_as_given_and_left_open():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return reply({"name": "A", "age": 1})

    client = httpx.Client(transport=httpx.MockTransport(handler), headers={"X-Proxy": "yes"})
    with Extractor(api_key=KEY, base_url=BASE_URL, http_client=client) as ex:
        ex.extract(Person, "x")
    assert seen[0].headers["x-proxy"] == "yes"
    assert not client.is_closed


async def test_a_client_of_the_wrong_kind_is_refused_when_the_extractor_is_made():
    """The sync extractor given an AsyncClient used to fail at its first call with an
    AttributeError on an un-awaited coroutine (and the async one given a Client, likewise)."""
    async with httpx.AsyncClient() as async_client:
        with pytest.raises(ConfigurationError, match=r"an httpx\.AsyncClient goes with Async"):
            Extractor(api_key=KEY, http_client=async_client)  # type: ignore[arg-type]
    with (
        httpx.Client() as client,
        pytest.raises(ConfigurationError, match=r"an httpx\.Client goes with Extractor"),
    ):
        AsyncExtractor(api_key=KEY, http_client=client)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"must be an httpx\.Client, not str"):
        Extractor(api_key=KEY, http_client="http://proxy:3128")  # type: ignore[arg-type]


async def test_async_extractor_many_concurrent_calls():
    async def handler(request: httpx.Request) -> httpx.Response:
        text = json.loads(request.content)["messages"][1]["content"]
        number = int(text.split("\n")[1])
        await asyncio.sleep(0.001 * (number % 5))
        if number % 3 == 0 and "did not conform" not in request.content.decode():
            return reply({"name": f"p{number}"})  # missing age: forces a re-ask
        return reply({"name": f"p{number}", "age": number})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncExtractor(api_key=KEY, base_url=BASE_URL, http_client=client) as ex:
        results = await asyncio.gather(*(ex.extract_result(Person, str(n)) for n in range(60)))
    assert [r.value for r in results] == [Person(name=f"p{n}", age=n) for n in range(60)]
    assert [len(r.attempts) for r in results] == [2 if n % 3 == 0 else 1 for n in range(60)]


async def test_async_calls_mend_and_patch_like_sync_ones():
    class Payment(BaseModel):
        payer: str
        amount: float
        currency: Literal["CNY", "USD", "EUR"]

    seen: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        last = json.loads(request.content)["messages"][-1]["content"]
        seen.append(last)
        if "only these fields" in last:
            return reply({"amount": 6512.24})
        return reply({"payer": "Ada", "amount": "6,512.24 EUR", "currency": "eur"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncExtractor(api_key=KEY, base_url=BASE_URL, http_client=client) as ex:
        result = await ex.extract_result(Payment, "Ada paid 6,512.24 EUR")
    assert result.value == Payment(payer="Ada", amount=6512.24, currency="EUR")
    assert seen[1].endswith('only these fields: ["amount"]')  # the currency was mended
    assert [a.patch for a in result.attempts] == [(), ("amount",)]


async def test_async_extract_and_errors_match_sync(api):
    api.post(URL).mock(return_value=reply({"name": "A", "age": "x"}))
    ex = AsyncExtractor(api_key=KEY, base_url=BASE_URL)
    with pytest.raises(ValidationFailed) as info:
        await ex.extract(Person, "x", max_retries=1)
    assert len(info.value.attempts) == 2
    api.post(URL).mock(return_value=reply({"name": "A", "age": 1}))
    assert await ex.extract(Person, "x") == Person(name="A", age=1)
    await ex.aclose()


def test_model_config_strictness_is_respected_unless_overridden(api, ex):
    from pydantic import ConfigDict

    class StrictPerson(BaseModel):
        model_config = ConfigDict(strict=True)
        age: int

    route = api.post(URL).mock(side_effect=[reply({"age": "3"}), reply({"age": 3})])
    assert ex.extract(StrictPerson, "x").age == 3
    assert route.call_count == 2  # the model's own strict config rejected "3"
    api.post(URL).mock(return_value=reply({"age": "4"}))
    assert ex.extract(StrictPerson, "x", strict=False).age == 4


@pytest.mark.parametrize("timeout", ["30", -1, 0, float("nan"), True])
def test_a_timeout_that_is_no_duration_is_refused_when_the_extractor_is_made(timeout):
    """A string (read from an environment variable) used to be a TypeError, a negative number
    a ValueError, both from httpx at the first request."""
    for cls in (Extractor, AsyncExtractor):
        with pytest.raises(ConfigurationError, match="timeout= must be a number of seconds"):
            cls(api_key=KEY, timeout=timeout)
    assert Extractor(api_key=KEY, timeout=httpx.Timeout(5.0)).timeout == httpx.Timeout(5.0)
