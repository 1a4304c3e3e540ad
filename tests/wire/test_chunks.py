"""Folding streamed chunks into a Completion: each habit of the wire format."""

from __future__ import annotations

import json

import pytest

from extractor.core.completion import Completion
from extractor.core.cost import Usage
from extractor.errors import StreamError
from extractor.testing import wire
from extractor.wire.chunks import ChunkAssembler, Delta
from extractor.wire.sse import SSEDecoder


def run(body: bytes, *, request_id: str | None = None) -> tuple[str, ChunkAssembler]:
    """Decode and assemble; return the answer text as the deltas built it."""
    decoder = SSEDecoder()
    assembler = ChunkAssembler(request_id)
    shown = ""
    for event in [*decoder.feed(body), *decoder.close()]:
        delta = assembler.event(event)
        shown = delta.text if delta.reset else shown + delta.text
    return shown, assembler


def test_content_stream_assembles_like_a_plain_completion() -> None:
    text = '{"name": "Ada", "langs": ["en", "fr"]}'
    shown, assembler = run(wire.sse(wire.chunks(text, size=5)), request_id="req_1")
    assert shown == text
    assert assembler.completion() == Completion(
        content=text,
        finish_reason="stop",
        usage=Usage(prompt_tokens=120, completion_tokens=30),
        refusal=None,
        request_id="req_1",
    )


def test_request_id_falls_back_to_the_chunk_id() -> None:
    _, assembler = run(wire.sse(wire.chunks("{}")))
    assert assembler.completion().request_id == "chatcmpl-abc"


def test_usage_null_on_ordinary_chunks_does_not_erase_usage() -> None:
    events = [*wire.chunks("{}"), wire.chunk({})]
    _, assembler = run(wire.sse(events))
    assert assembler.completion().usage.total_tokens == 150


def test_chunks_after_the_usage_chunk_are_accepted() -> None:
    events = [*wire.chunks('{"a": 1}'), wire.usage_chunk(), wire.chunk({"content": ""})]
    shown, assembler = run(wire.sse(events))
    assert shown == '{"a": 1}'
    assert assembler.completion().content == '{"a": 1}'


def test_events_after_done_are_ignored() -> None:
    body = wire.sse(wire.chunks('{"a": 1}')) + wire.sse(
        [wire.chunk({"content": "junk"})], done=False
    )
    shown, assembler = run(body)
    assert assembler.completion().content == shown == '{"a": 1}'


def test_comments_and_keepalives_are_ignored() -> None:
    body = b": OPENROUTER PROCESSING\n\n" + wire.sse(wire.chunks('{"a": 1}')).replace(
        b"\n\n", b"\n: ping\n\n", 2
    )
    assert run(body)[1].completion().content == '{"a": 1}'


def test_multi_line_data_is_one_chunk() -> None:
    pretty = json.dumps(wire.chunk({"content": "{}"}, "stop"), indent=2)
    body = ("data: " + pretty.replace("\n", "\ndata: ") + "\n\ndata: [DONE]\n\n").encode()
    assert run(body)[1].completion().content == "{}"


def test_error_event_under_http_200_is_a_stream_error_with_code() -> None:
    error = wire.error_body(500, "The server had an error", code="server_error")
    body = wire.sse([*wire.chunks('{"a"', finish_reason=None, usage=None), error])
    with pytest.raises(StreamError) as info:
        run(body, request_id="req_9")
    assert "The server had an error" in str(info.value)
    assert info.value.code == "server_error"
    assert info.value.request_id == "req_9"


def test_error_event_type_with_bare_payload() -> None:
    body = b'event: error\ndata: {"message": "overloaded", "code": 529}\n\n'
    with pytest.raises(StreamError, match="overloaded") as info:
        run(body)
    assert info.value.code == "529"


def test_refusal_deltas_are_joined_and_content_stays_none() -> None:
    events = [
        wire.chunk({"role": "assistant", "content": None, "refusal": ""}),
        wire.chunk({"refusal": "I can't help "}),
        wire.chunk({"refusal": "with that."}),
        wire.chunk({}, "stop"),
    ]
    shown, assembler = run(wire.sse(events))
    completion = assembler.completion()
    assert shown == ""
    assert completion.refusal == "I can't help with that."
    assert completion.content is None


def test_length_finish_reason_is_passed_on() -> None:
    _, assembler = run(wire.sse(wire.chunks('{"a": [1, 2', finish_reason="length")))
    assert assembler.completion().finish_reason == "length"


def test_tool_call_arguments_are_joined_by_index() -> None:
    def call(index: int, arguments: str, **extra: object) -> dict[str, object]:
        return {"index": index, "function": {"arguments": arguments}, **extra}

    events = [
        wire.chunk({"role": "assistant", "content": None}),
        wire.chunk({"tool_calls": [call(0, "", id="call_A", type="function")]}),
        wire.chunk({"tool_calls": [call(0, '{"na')]}),
        wire.chunk({"tool_calls": [call(1, '{"x"', id="call_B")]}),
        wire.chunk({"tool_calls": [call(0, 'me": "Ada"}')]}),
        wire.chunk({"tool_calls": [call(1, ": 1}")]}),
        wire.chunk({}, "tool_calls"),
        wire.usage_chunk(),
    ]
    shown, assembler = run(wire.sse(events))
    completion = assembler.completion()
    assert shown == completion.content == '{"name": "Ada"}'
    assert completion.tool_call_id == "call_A"
    assert completion.finish_reason == "tool_calls"


def test_tool_call_after_content_resets_the_answer() -> None:
    events = [
        wire.chunk({"role": "assistant", "content": "Sure: "}),
        wire.chunk({"tool_calls": [{"index": 0, "id": "c", "function": {"arguments": "{}"}}]}),
        wire.chunk({}, "tool_calls"),
    ]
    decoder, assembler = SSEDecoder(), ChunkAssembler()
    deltas = [assembler.event(e) for e in decoder.feed(wire.sse(events))]
    assert deltas == [Delta("Sure: "), Delta("{}", reset=True), Delta(""), Delta("")]
    assert assembler.completion().content == "{}"


@pytest.mark.parametrize("done", [True, False])
def test_stream_needs_done_or_finish_reason(done: bool) -> None:
    body = wire.sse(wire.chunks('{"a": 1}', finish_reason=None, usage=None), done=done)
    _, assembler = run(body)
    if done:
        assert assembler.completion().content == '{"a": 1}'
    else:
        with pytest.raises(StreamError, match="ended before the answer was complete"):
            assembler.completion()


def test_finish_reason_without_done_is_complete() -> None:
    body = wire.sse(wire.chunks('{"a": 1}'), done=False)
    assert run(body)[1].completion().content == '{"a": 1}'


def test_cut_json_event_is_a_stream_error() -> None:
    body = wire.sse(wire.chunks('{"a": 1}'))[:-30]
    with pytest.raises(StreamError, match="not JSON"):
        run(body)


def test_other_choices_are_ignored() -> None:
    other = wire.chunk({"content": "nope"})
    other["choices"][0]["index"] = 1
    events = [*wire.chunks("{}", finish_reason=None, usage=None), other, wire.chunk({}, "stop")]
    assert run(wire.sse(events))[1].completion().content == "{}"


def test_lone_surrogate_escape_in_a_chunk_is_read_as_json_loads_reads_it() -> None:
    body = b'data: {"choices": [{"index": 0, "delta": {"content": "\\ud83d"}}]}\n\n'
    shown, _ = run(body + b"data: [DONE]\n\n")
    assert shown == "\ud83d"


def test_error_event_with_plain_text() -> None:
    with pytest.raises(StreamError, match="in the middle of the stream: upstream timed out"):
        run(b"event: error\ndata: upstream timed out\n\n")
