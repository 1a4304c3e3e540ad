"""The testing kit driving the real `Extractor` / `AsyncExtractor`: what a user's own tests
look like, and proof that every scripted behaviour reaches the library as the real API's would."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel, Field

from extractor import (
    AsyncExtractor,
    AuthenticationError,
    Extractor,
    Price,
    RateLimitError,
    RefusalError,
    TruncatedError,
)
from extractor.testing import FAKE_API_KEY, FakeModel, Recorder, Replayer, ReplayMismatch, Reply


class Person(BaseModel):
    name: str = Field(description="Full name as written")
    age: int = Field(ge=0, description="Age in years")


def test_extractor_helper_gives_a_ready_extractor() -> None:
    fake = FakeModel().answer({"name": "Ada", "age": 36})
    ex = fake.extractor()
    assert isinstance(ex, Extractor) and ex.model == "gpt-5.1"
    assert ex.extract(Person, "Ada, 36") == Person(name="Ada", age=36)
    seen = fake.last
    assert "Age in years" in seen.system and "Ada, 36" in seen.user
    assert seen.json["response_format"] == {"type": "json_object"}
    assert FAKE_API_KEY not in repr(fake.requests)


def test_reask_is_visible_to_the_test() -> None:
    fake = (
        FakeModel().answer({"name": "Ada", "age": "thirty-six"}).answer({"name": "Ada", "age": 36})
    )
    result = fake.extractor().extract_result(Person, "Ada, 36")
    assert result.value.age == 36 and len(result.attempts) == 2
    first, reask = fake.requests
    assert len(reask.messages) == len(first.messages) + 2
    assert "age" in reask.user and "thirty-six" in reask.user


def test_typed_answers_for_wrapped_targets() -> None:
    people = [Person(name="Ada", age=36), Person(name="Grace", age=85)]
    fake = FakeModel().answer(people, target=list[Person]).answer(people[0])
    ex = fake.extractor()
    assert ex.extract(list[Person], "Ada 36, Grace 85") == people
    assert ex.extract(Person, "Ada 36") == people[0]


def test_estimated_usage_makes_cost_checks_meaningful() -> None:
    fake = FakeModel().answer({"name": "Ada", "age": "x"}).answer({"name": "Ada", "age": 36})
    result = fake.extractor(price=Price("1.80", "15.00")).extract_result(Person, "Ada, 36")
    per_attempt = [a.usage for a in result.attempts]
    assert all(u.prompt_tokens > 50 and u.completion_tokens > 3 for u in per_attempt)
    assert result.usage == per_attempt[0] + per_attempt[1]
    expected = (
        result.usage.prompt_tokens * Decimal("1.80")
        + result.usage.completion_tokens * Decimal("15.00")
    ) / 1_000_000
    assert result.cost is not None and result.cost.amount == expected


def test_refusal_and_truncation_become_typed_errors() -> None:
    fake = FakeModel().refuse("I can't help with that.").truncate('{"name": "Ad')
    ex = fake.extractor()
    with pytest.raises(RefusalError):
        ex.extract(Person, "Ada, 36")
    with pytest.raises(TruncatedError) as info:
        ex.extract(Person, "Ada, 36")
    assert info.value.partial == '{"name": "Ad'


def test_rate_limits_are_retried_after_the_servers_delay_without_waiting() -> None:
    fake = FakeModel().rate_limit(retry_after=7).disconnect().answer({"name": "Ada", "age": 36})
    assert fake.extractor().extract(Person, "Ada, 36").age == 36
    assert fake.sleeps[0] == 7.0 and len(fake.sleeps) == 2
    assert len(fake.requests) == 3


def test_http_errors_reach_the_caller_typed() -> None:
    fake = (
        FakeModel()
        .error(401, "Incorrect API key provided.")
        .rate_limit(None, code="insufficient_quota")
    )
    ex = fake.extractor()
    with pytest.raises(AuthenticationError, match="Incorrect API key provided") as auth:
        ex.extract(Person, "Ada")
    assert auth.value.request_id == "req_fake_0001"
    with pytest.raises(RateLimitError) as quota:
        ex.extract(Person, "Ada")
    assert quota.value.code == "insufficient_quota" and fake.sleeps == []


def test_the_library_honours_the_real_apis_parameter_rules() -> None:
    """The fake rejects what the real API rejects; the library's requests pass."""
    fake = FakeModel([{"name": "Ada", "age": 36}] * 2)
    ex = fake.extractor()
    ex.extract(Person, "Ada", max_tokens=200, temperature=0)
    assert fake.last.json["max_completion_tokens"] == 200
    ex.extract(Person, "Ada", mode="tools")
    assert fake.last.json["tool_choice"]["function"]["name"] == "Person"


async def test_async_extractor_with_many_concurrent_calls() -> None:
    fake = FakeModel(handler=lambda req: {"name": req.text.split()[1], "age": 30})
    async with fake.async_extractor() as aex:
        assert isinstance(aex, AsyncExtractor)
        names = [f"P{i}" for i in range(40)]
        people = await asyncio.gather(*(aex.extract(Person, f"Name: {n}") for n in names))
    assert [p.name for p in people] == names


def test_record_then_replay_through_the_extractor(tmp_path: Path) -> None:
    path = tmp_path / "person.jsonl"
    real = FakeModel().answer({"name": "Ada", "age": 36})  # stands in for the real API
    recording = Extractor(
        api_key="sk-live-abcdef123456",
        http_client=httpx.Client(transport=Recorder(path, real.transport())),
    )
    assert recording.extract(Person, "Ada, 36").age == 36
    assert "sk-live-abcdef123456" not in path.read_text(encoding="utf-8")

    offline = Extractor(api_key="dummy", http_client=httpx.Client(transport=Replayer(path)))
    assert offline.extract(Person, "Ada, 36") == Person(name="Ada", age=36)
    with pytest.raises(ReplayMismatch, match=r'"content": "<text>\\nAda, 37'):
        offline.extract(Person, "Ada, 37")


@pytest.mark.parametrize("text", ["Ada, 36", "multi\nline </text> with a closing tag"])
def test_seen_text_is_the_source_text(text: str) -> None:
    fake = FakeModel().answer({"name": "Ada", "age": 36}).answer({"name": "Ada", "age": 36})
    fake.extractor().extract(Person, text)
    assert fake.last.text == text
    history = [{"role": "user", "content": "earlier question"}]
    fake.extractor().extract(Person, text, messages=history)
    assert fake.last.text == text


def test_stream_reply_reaches_a_streaming_request() -> None:
    """Streams are served for ``stream: true`` whatever the client; the streaming driver's own
    tests live with it."""
    fake = FakeModel().then(Reply.answer({"name": "Ada", "age": 36}, chunk_chars=2))
    with httpx.Client(transport=fake.transport()) as client:
        response = client.post(
            "https://api.openai.com/v1/chat/completions",
            json={
                "model": "gpt-5.1",
                "stream": True,
                "messages": [{"role": "user", "content": "x"}],
            },
        )
    assert response.text.count("data: ") > 10 and response.text.endswith("data: [DONE]\n\n")
