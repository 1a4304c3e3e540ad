"""extractor.testing.FakeModel: scripted replies in the real wire format, requests recorded."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import respx

from extractor.core.cost import Usage
from extractor.testing import (
    FakeModel,
    FakeModelExhausted,
    Reply,
    SeenRequest,
    estimate_tokens,
    wire,
)
from extractor.wire.decode import read_completion, read_usage
from tests.helpers import SYSTEM, chat_body

URL = "https://api.example.test/v1/chat/completions"
KEY = "sk-live-THIS-MUST-NOT-SHOW"


def post(
    fake: FakeModel, payload: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    with httpx.Client(transport=fake.transport()) as client:
        return client.post(
            URL,
            json=payload or chat_body(),
            headers={"Authorization": f"Bearer {KEY}", **(headers or {})},
        )


def test_answers_in_order_as_chat_completions() -> None:
    fake = FakeModel().answer({"name": "Ada"}).answer('```json\n{"name": "Grace"}\n```')
    first, second = post(fake), post(fake)
    assert first.status_code == second.status_code == 200
    payload = first.json()
    assert payload["object"] == "chat.completion"
    assert payload["model"] == "gpt-5.1"
    completion = read_completion(payload, first.headers["x-request-id"])
    assert json.loads(completion.content or "") == {"name": "Ada"}
    assert completion.finish_reason == "stop"
    assert completion.request_id == "req_fake_0001"
    assert read_completion(second.json()).content == '```json\n{"name": "Grace"}\n```'
    assert second.headers["x-request-id"] == "req_fake_0002"
    assert fake.pending == 0


def test_usage_is_estimated_from_characters() -> None:
    fake = FakeModel().answer({"name": "Ada"})
    usage = read_completion(post(fake).json()).usage
    prompt = estimate_tokens(SYSTEM) + estimate_tokens("Ada Lovelace, 36")
    prompt += estimate_tokens(json.dumps({"type": "json_object"})) + 2 * 4  # 4 per message
    assert usage == Usage(
        prompt_tokens=prompt, completion_tokens=estimate_tokens('{"name": "Ada"}')
    )
    assert estimate_tokens("x" * 400) == 100


def test_usage_can_be_scripted() -> None:
    usage = Usage(prompt_tokens=1000, completion_tokens=50, cached_tokens=800, reasoning_tokens=20)
    fake = FakeModel().answer({"a": 1}, usage=usage)
    assert read_completion(post(fake).json()).usage == usage


def test_records_requests_without_credentials() -> None:
    fake = FakeModel().answer({}).answer({})
    post(fake, headers={"x-api-key": KEY, "x-trace": "t1"})
    post(fake, chat_body("second text"))
    first, second = fake.requests
    assert isinstance(first, SeenRequest)
    assert first.method == "POST" and first.path == "/v1/chat/completions"
    assert "authorization" not in first.headers and "x-api-key" not in first.headers
    assert first.headers["x-trace"] == "t1"
    assert KEY not in repr(fake.requests)
    assert first.system == SYSTEM
    assert first.user == "Ada Lovelace, 36"
    assert second.user == "second text" and fake.last is second
    assert first.body == chat_body()


def test_refusal_truncation_and_content_filter() -> None:
    fake = FakeModel().refuse("I can't help with that.").truncate('{"name": "Ad')
    fake.then(Reply.content_filter())
    refused = read_completion(post(fake).json())
    assert refused.refusal == "I can't help with that." and refused.content is None
    truncated = read_completion(post(fake).json())
    assert (truncated.content, truncated.finish_reason) == ('{"name": "Ad', "length")
    assert read_completion(post(fake).json()).finish_reason == "content_filter"


def test_http_errors_have_openai_bodies_and_headers() -> None:
    fake = FakeModel().rate_limit(retry_after=2.5).error(401, "Incorrect API key provided.")
    fake.error(503, headers={"retry-after-ms": "150"}).rate_limit(None, code="insufficient_quota")
    limited = post(fake)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2.5"
    assert limited.headers["x-request-id"] == "req_fake_0001"
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    auth = post(fake)
    assert auth.status_code == 401
    assert auth.json() == {
        "error": {
            "message": "Incorrect API key provided.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }
    unavailable = post(fake)
    assert unavailable.status_code == 503 and unavailable.headers["retry-after-ms"] == "150"
    assert unavailable.json()["error"]["type"] == "server_error"
    quota = post(fake)
    assert quota.json()["error"]["code"] == "insufficient_quota"
    assert "retry-after" not in quota.headers


def test_connection_failures_raise_httpx_errors() -> None:
    fake = FakeModel().disconnect().timeout()
    with pytest.raises(httpx.ConnectError):
        post(fake)
    with pytest.raises(httpx.ReadTimeout):
        post(fake)
    assert len(fake.requests) == 2


def test_unscripted_request_fails_the_test_clearly() -> None:
    fake = FakeModel().answer({})
    post(fake)
    with pytest.raises(FakeModelExhausted, match=r"request #2 .*'Ada Lovelace, 36'"):
        post(fake)


def test_handler_answers_once_the_queue_is_empty() -> None:
    fake = FakeModel([{"first": True}], handler=lambda req: {"echo": req.user.upper()})
    assert json.loads(post(fake).json()["choices"][0]["message"]["content"]) == {"first": True}
    reply = post(fake, chat_body("bob")).json()["choices"][0]["message"]["content"]
    assert json.loads(reply) == {"echo": "BOB"}
    fake.handler = lambda req: Reply.http_error(500)
    assert post(fake).status_code == 500


def test_assert_all_used() -> None:
    fake = FakeModel().answer({}).answer({"never": "asked"})
    post(fake)
    with pytest.raises(AssertionError, match=r"1 scripted replies were never requested"):
        fake.assert_all_used()
    post(fake)
    fake.assert_all_used()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"messages": [{"role": "user", "content": "json"}]}, "model parameter"),
        ({"model": "gpt-5.1", "messages": []}, "'messages'"),
        (
            {**chat_body(), "messages": [{"role": "user", "content": "Extract the name."}]},
            "must contain the word 'json'",
        ),
        (chat_body(max_tokens=100), "Use 'max_completion_tokens' instead"),
        (chat_body(temperature=0.2), "'temperature' does not support 0.2"),
        (chat_body(top_p=0.5, reasoning_effort="low"), "'top_p' does not support"),
    ],
)
def test_requests_the_real_api_rejects_get_its_400(payload: dict[str, Any], message: str) -> None:
    fake = FakeModel().answer({"kept": "for the next valid request"})
    response = post(fake, payload)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert fake.pending == 1  # the scripted reply was not spent on a rejected request


def test_request_rules_follow_the_model_and_can_be_disabled() -> None:
    allowed = [
        chat_body(temperature=0.2, reasoning_effort="none"),
        chat_body(max_completion_tokens=100),
        {**chat_body(max_tokens=100, temperature=0), "model": "gpt-4o-mini"},
    ]
    fake = FakeModel([{}] * 3)
    assert [post(fake, payload).status_code for payload in allowed] == [200, 200, 200]
    lenient = FakeModel([{}], check_requests=False)
    assert post(lenient, chat_body(max_tokens=5)).status_code == 200


def test_wrong_path_is_404() -> None:
    fake = FakeModel().answer({})
    with httpx.Client(transport=fake.transport()) as client:
        response = client.post("https://api.example.test/v1/completions", json=chat_body())
    assert response.status_code == 404
    assert fake.pending == 1


def test_tools_mode_answers_with_the_forced_function_call() -> None:
    tools = [{"type": "function", "function": {"name": "record_person", "parameters": {}}}]
    choice = {"type": "function", "function": {"name": "record_person"}}
    fake = FakeModel().answer({"name": "Ada"})
    payload = post(fake, chat_body(tools=tools, tool_choice=choice, response_format=None)).json()
    message = payload["choices"][0]["message"]
    assert message["content"] is None
    assert message["tool_calls"][0]["function"] == {
        "name": "record_person",
        "arguments": '{"name": "Ada"}',
    }
    completion = read_completion(payload)
    assert completion.content == '{"name": "Ada"}' and completion.tool_call_id
    assert completion.finish_reason == "stop"


# -- streams ----------------------------------------------------------------------------


def stream_body(text: str = "Ada", include_usage: bool = True) -> dict[str, Any]:
    options = {"stream_options": {"include_usage": True}} if include_usage else {}
    return chat_body(text, stream=True, **options)


def test_stream_requests_get_chunked_server_sent_events() -> None:
    answer = {"name": "Ada Lovelace", "born": 1815}
    fake = FakeModel().answer(answer, chunk_chars=5)
    response = post(fake, stream_body())
    assert response.headers["content-type"].startswith("text/event-stream")
    events = wire.read_chunks(response.content)
    assert all(e["object"] == "chat.completion.chunk" for e in events)
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    deltas = [e["choices"][0]["delta"]["content"] for e in events[1:-2]]
    assert all(len(d) <= 5 for d in deltas) and len(deltas) > 3
    assert json.loads(wire.streamed_content(response.content)) == answer
    assert events[-2]["choices"][0]["finish_reason"] == "stop"
    assert all(e["usage"] is None for e in events[:-1])
    usage_chunk = events[-1]
    assert usage_chunk["choices"] == []
    assert read_usage(usage_chunk["usage"]).completion_tokens == estimate_tokens(json.dumps(answer))


def test_stream_without_include_usage_has_no_usage_chunk() -> None:
    fake = FakeModel().answer({"a": 1})
    events = wire.read_chunks(post(fake, stream_body(include_usage=False)).content)
    assert events[-1]["choices"][0]["finish_reason"] == "stop"
    assert all("usage" not in e for e in events)


def raw_reads(fake: FakeModel, payload: dict[str, Any]) -> list[bytes]:
    """The body of a streamed response, read by read, as a streaming client sees it."""
    with (
        httpx.Client(transport=fake.transport()) as client,
        client.stream("POST", URL, json=payload) as response,
    ):
        return list(response.iter_raw())


def test_stream_arrives_in_separate_reads() -> None:
    fake = FakeModel().answer("ünïcødé " * 20, chunk_chars=3)
    reads = raw_reads(fake, stream_body())
    assert len(reads) == len(wire.read_events(b"".join(reads)))  # one read per event

    split = FakeModel().answer("ünïcødé " * 20, chunk_chars=3, read_size=7)
    small = raw_reads(split, stream_body())
    assert all(len(read) <= 7 for read in small)
    assert b"".join(small).decode().count("chat.completion.chunk") == len(
        wire.read_chunks(b"".join(reads))
    )
    with pytest.raises(UnicodeDecodeError):  # some reads cut a character in two
        for read in small:
            read.decode("utf-8")
    assert wire.streamed_content(b"".join(small)) == "ünïcødé " * 20


async def test_async_clients_get_the_same_stream() -> None:
    fake = FakeModel().answer({"name": "Ada"}).answer({"name": "Ada"})
    sync_raw = post(fake, stream_body()).content
    async with (
        httpx.AsyncClient(transport=fake.async_transport()) as client,
        client.stream("POST", URL, json=stream_body()) as response,
    ):
        async_raw = b"".join([part async for part in response.aiter_raw()])
    assert async_raw.replace(b"0002", b"0001") == sync_raw


def test_stream_refusal_and_truncation() -> None:
    fake = FakeModel().refuse("No.").truncate('{"items": [1, 2', chunk_chars=4)
    refusal = wire.read_chunks(post(fake, stream_body()).content)
    assert "".join(e["choices"][0]["delta"].get("refusal") or "" for e in refusal[1:-1]) == "No."
    truncated = post(fake, stream_body()).content
    assert wire.streamed_content(truncated) == '{"items": [1, 2'
    assert wire.read_chunks(truncated)[-2]["choices"][0]["finish_reason"] == "length"


def test_stream_error_event_and_cut_stream() -> None:
    fake = FakeModel().then(Reply.stream_error('{"name": "A', "upstream overloaded"))
    fake.then(Reply.stream_cut('{"name": "Ad'))
    errored = post(fake, stream_body())
    assert errored.status_code == 200
    events = wire.read_events(errored.content)
    assert json.loads(events[-1]) == {
        "error": {
            "message": "upstream overloaded",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
    assert "[DONE]" not in events
    assert (
        "".join(json.loads(e)["choices"][0]["delta"].get("content", "") for e in events[:-1])
        == '{"name": "A'
    )
    cut = wire.read_events(post(fake, stream_body()).content)
    assert "[DONE]" not in cut
    assert all(json.loads(e)["choices"][0]["finish_reason"] is None for e in cut)


def test_streamed_tool_call_arguments() -> None:
    tools = [{"type": "function", "function": {"name": "emit", "parameters": {}}}]
    payload = stream_body()
    payload.update(tools=tools, tool_choice={"type": "function", "function": {"name": "emit"}})
    fake = FakeModel().answer({"a": [1, 2, 3]}, chunk_chars=4)
    events = wire.read_chunks(post(fake, payload).content)
    deltas = [e["choices"][0]["delta"] for e in events if e["choices"]]
    calls = [call for delta in deltas for call in delta.get("tool_calls", [])]
    assert calls[0]["function"]["name"] == "emit" and calls[0]["id"]
    assert all(call["index"] == 0 for call in calls)
    assert "".join(c["function"]["arguments"] for c in calls) == '{"a": [1, 2, 3]}'


def test_closing_a_stream_early_stops_delivery() -> None:
    fake = FakeModel().answer("x" * 400, chunk_chars=4)
    with (
        httpx.Client(transport=fake.transport()) as client,
        client.stream("POST", URL, json=stream_body()) as response,
    ):
        first = next(response.iter_raw())
        assert not fake.streams[0].closed
    assert first
    (stream,) = fake.streams
    assert stream.closed
    assert stream.delivered == 1 < len(stream.chunks)


# -- plugging in ------------------------------------------------------------------------


def test_works_as_a_respx_side_effect() -> None:
    fake = FakeModel().answer({"via": "respx"})
    with respx.mock(assert_all_called=True) as router:
        router.post(URL).mock(side_effect=fake.handle)
        response = httpx.post(URL, json=chat_body(), headers={"Authorization": f"Bearer {KEY}"})
    assert json.loads(response.json()["choices"][0]["message"]["content"]) == {"via": "respx"}
    assert fake.last.user == "Ada Lovelace, 36"


async def test_concurrent_async_requests_each_get_their_own_answer() -> None:
    fake = FakeModel(handler=lambda req: {"echo": req.user})
    async with httpx.AsyncClient(transport=fake.async_transport()) as client:
        responses = await asyncio.gather(
            *(client.post(URL, json=chat_body(f"text {i}")) for i in range(50))
        )
    answers = [json.loads(r.json()["choices"][0]["message"]["content"]) for r in responses]
    assert answers == [{"echo": f"text {i}"} for i in range(50)]
    assert sorted(r.headers["x-request-id"] for r in responses) == [
        f"req_fake_{n:04d}" for n in range(1, 51)
    ]


def test_sleep_records_instead_of_waiting() -> None:
    fake = FakeModel()
    fake.sleep(1.5)
    asyncio.run(fake.async_sleep(2.0))
    assert fake.sleeps == [1.5, 2.0]
