"""The wire fixture agrees with the library's own decoders: what it builds is read back as
what it was built from, streamed or not."""

from __future__ import annotations

from typing import Any

import pytest

from extractor.core.completion import Completion
from extractor.core.cost import Usage
from extractor.core.tokens import MESSAGE_OVERHEAD, estimate_tokens
from extractor.testing import wire
from extractor.wire.chunks import ChunkAssembler
from extractor.wire.decode import read_completion
from extractor.wire.sse import SSEDecoder
from tests.helpers import chat_body

ANSWER = '{"name": "Zoë", "tags": ["a", "b"]}'
USAGE = Usage(prompt_tokens=50, completion_tokens=9, cached_tokens=10, reasoning_tokens=3)


def assembled(raw: bytes) -> Completion:
    decoder, assembler = SSEDecoder(), ChunkAssembler()
    for event in [*decoder.feed(raw), *decoder.close()]:
        assembler.event(event)
    return assembler.completion()


@pytest.mark.parametrize(
    "answer",
    [
        {"content": ANSWER},
        {"content": ANSWER, "tool": "Person"},
        {"refusal": "I can't help with that."},
        {"content": ANSWER[:9], "finish_reason": "length"},
    ],
)
def test_streamed_and_plain_answers_decode_alike(answer: dict[str, Any]) -> None:
    plain = read_completion(wire.completion(**answer, usage=USAGE))
    streamed = assembled(wire.sse(wire.chunks(**answer, size=3, usage=USAGE)))
    assert streamed == plain
    assert plain.usage == USAGE
    assert plain.content == answer.get("content") and plain.refusal == answer.get("refusal")
    assert (plain.tool_call_id is not None) == ("tool" in answer)


def test_chunks_follow_the_api_order() -> None:
    events = wire.read_chunks(wire.sse(wire.chunks("abcdefgh", size=3)))
    deltas = [e["choices"][0]["delta"] for e in events[:-1]]
    assert deltas[0] == {"role": "assistant", "content": "", "refusal": None}
    assert [d.get("content") for d in deltas[1:-1]] == ["abc", "def", "gh"]
    assert events[-2]["choices"][0]["finish_reason"] == "stop"
    assert events[-1]["choices"] == [] and events[-1]["usage"]["total_tokens"] == 150
    assert all(e["usage"] is None for e in events[:-1])


def test_stream_without_usage_or_end() -> None:
    quiet = wire.read_chunks(wire.sse(wire.chunks("ab", include_usage=False)))
    assert all("usage" not in e for e in quiet) and quiet[-1]["choices"]
    cut = wire.sse(wire.chunks("ab", finish_reason=None, usage=None), done=False)
    assert [e for e in wire.read_events(cut) if e == "[DONE]"] == []
    with pytest.raises(AssertionError, match=r"does not end with \[DONE\]"):
        wire.read_chunks(cut)


def test_one_read_per_event() -> None:
    reads = wire.sse_events([wire.chunk({"content": "é"}), "plain"])
    assert reads == [reads[0], b"data: plain\n\n", b"data: [DONE]\n\n"]
    assert reads[0].startswith(b"data: {") and "é".encode() in reads[0]


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [
        (400, "invalid_request_error", None),
        (401, "invalid_request_error", "invalid_api_key"),
        (429, "requests", "rate_limit_exceeded"),
        (503, "server_error", None),
    ],
)
def test_error_bodies_default_per_status(status: int, kind: str, code: str | None) -> None:
    assert wire.error_body(status, "no") == {
        "error": {"message": "no", "type": kind, "param": None, "code": code}
    }
    assert wire.error_body(status, "no", code="x")["error"]["code"] == "x"


def test_answer_estimates_usage_with_the_library_heuristic() -> None:
    request = chat_body("東京 is big")
    usage = wire.Answer("答え").usage_for(request)
    expected = sum(estimate_tokens(m["content"]) + MESSAGE_OVERHEAD for m in request["messages"])
    expected += estimate_tokens('{"type": "json_object"}')
    assert usage == Usage(prompt_tokens=expected, completion_tokens=2)


def test_answer_follows_the_request() -> None:
    tool = {"type": "function", "function": {"name": "emit", "parameters": {}}}
    optional = chat_body(model="o3", tools=[tool], response_format=None)
    payload = wire.Answer("{}").completion(optional, id="chatcmpl-9", created=1)
    assert payload["model"] == "o3"
    assert payload["choices"][0]["finish_reason"] == "tool_calls"  # not forced
    assert payload["choices"][0]["message"]["tool_calls"][0]["id"] == "call_9"
    forced = {**optional, "tool_choice": {"type": "function", "function": {"name": "emit"}}}
    choice = wire.Answer("{}").completion(forced, id="c", created=1)["choices"][0]
    assert choice["finish_reason"] == "stop"
    streamed = wire.Answer("abcdef").chunks(
        {**chat_body(), "stream_options": {"include_usage": True}},
        id="c",
        created=1,
        size=2,
        cut_after=3,
    )
    assert "".join(e["choices"][0]["delta"].get("content") or "" for e in streamed) == "abc"
    assert all(e["choices"][0]["finish_reason"] is None for e in streamed)
