"""Streaming over real sockets: the loopback server answers ``stream: true`` with chunked
server-sent events, and the library's streaming calls read them end to end."""

from __future__ import annotations

import json

import httpx
import pydantic
import pytest

from extractor import AsyncExtractor, Extractor
from extractor.errors import RefusalError
from extractor.streaming import Snapshot
from extractor.testing import wire
from tests.fakeserver import ChatRequest, FakeServer, Reply, person_answer
from tests.helpers import chat_body

TEXT = "rec-1 name: Ada Lovelace, age: 36"


class Person(pydantic.BaseModel):
    name: str
    age: int


def test_stream_true_is_answered_with_chunked_events() -> None:
    with FakeServer() as server, httpx.Client() as client:
        url = server.base_url + "/chat/completions"
        body = chat_body(TEXT, stream=True, stream_options={"include_usage": True})
        with client.stream("POST", url, json=body) as response:
            raw = b"".join(response.iter_bytes())
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.headers
    events = wire.read_chunks(raw)
    assert len(events) > 5 and all(e["object"] == "chat.completion.chunk" for e in events)
    assert json.loads(wire.streamed_content(raw)) == person_answer(TEXT)
    assert events[-1]["choices"] == []
    billed = (events[-1]["usage"]["prompt_tokens"], events[-1]["usage"]["completion_tokens"])
    assert billed == server.billed()


def test_extractor_stream_reads_it_and_reports_what_was_billed() -> None:
    with FakeServer() as server:
        ex = Extractor(api_key="sk-loopback", base_url=server.base_url)
        with ex.stream(Person, TEXT) as stream:
            events = list(stream)
    assert server.requests[0].body["stream"] is True
    assert sum(isinstance(e, Snapshot) for e in events) > 1
    assert events[-1].value == Person(name="Ada Lovelace", age=36)
    usage = stream.result.usage
    assert (usage.prompt_tokens, usage.completion_tokens) == server.billed()


async def test_async_stream_in_tools_mode() -> None:
    with FakeServer() as server:
        ex = AsyncExtractor(api_key="sk-loopback", base_url=server.base_url)
        async with ex.stream(Person, TEXT, mode="tools") as stream:
            events = [event async for event in stream]
    assert "tools" in server.requests[0].body
    assert events[-1].value == Person(name="Ada Lovelace", age=36)
    assert stream.result.attempts[0].raw == json.dumps(person_answer(TEXT))


def test_streamed_refusal_and_errors_before_the_stream() -> None:
    def handler(request: ChatRequest) -> Reply:
        if "REFUSE" in request.text:
            return Reply.refuse("I can't help with that.")
        return (
            Reply.rate_limited(0.01) if request.nth == 0 else Reply.answer({"name": "A", "age": 1})
        )

    with FakeServer(handler) as server:
        ex = Extractor(api_key="sk-loopback", base_url=server.base_url, sleep=lambda s: None)
        with pytest.raises(RefusalError, match="can't help"), ex.stream(Person, "REFUSE") as s:
            list(s)
        with ex.stream(Person, "rec-2 text") as stream:
            assert stream.until_done().value == Person(name="A", age=1)
    assert server.statuses == {200: 2, 429: 1}
