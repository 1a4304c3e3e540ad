"""Streaming extraction end to end over httpx.MockTransport: events, wire-format cases,
re-asks, accounting, early close, and independence from how the bytes are split."""

from __future__ import annotations

import gzip
import itertools
import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import httpx
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor import AsyncExtractor, Extractor
from extractor.errors import (
    AuthenticationError,
    ConfigurationError,
    RefusalError,
    StreamError,
    TruncatedError,
    ValidationFailed,
)
from extractor.streaming import Done, ItemInvalid, ItemReady, Restart, Snapshot
from extractor.testing import wire


class Item(pydantic.BaseModel):
    sku: str
    qty: int
    price: float


class Order(pydantic.BaseModel):
    customer: str
    items: list[Item]
    note: str | None = None


ORDER = {
    "customer": 'Zoë "Z" Æsir 😀',
    "items": [
        {"sku": "A-1\\x", "qty": 1, "price": 2.5},
        {"sku": "B-€", "qty": 12, "price": 100.25},
        {"sku": "C-{[,]}", "qty": 3, "price": 0.5},
    ],
    "note": "line\nbreak \u00e9",
}
ANSWER = json.dumps(ORDER, ensure_ascii=False)
EXPECTED = Order.model_validate(ORDER)


class Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body delivered in given reads, which records how far it was read and
    whether it was closed."""

    def __init__(self, reads: Sequence[bytes]) -> None:
        self.reads = list(reads)
        self.sent = 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for data in self.reads:
            self.sent += 1
            yield data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for data in self.reads:
            self.sent += 1
            yield data

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


class Server:
    """Answers each request with the next response; keeps the bodies it was sent."""

    def __init__(self, *responses: bytes | Sequence[bytes] | httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[dict[str, Any]] = []
        self.bodies: list[Body] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(json.loads(request.content))
        response = self.responses.pop(0)
        if isinstance(response, httpx.Response):
            return response
        body = Body([response] if isinstance(response, bytes) else response)
        self.bodies.append(body)
        return httpx.Response(
            200,
            headers={"content-type": "text/event-stream", "x-request-id": "req_1"},
            stream=body,
        )


def extractor(server: Server, **kwargs: Any) -> Extractor:
    client = httpx.Client(transport=httpx.MockTransport(server))
    return Extractor(api_key="sk-test", http_client=client, sleep=lambda s: None, **kwargs)


def async_extractor(server: Server, **kwargs: Any) -> AsyncExtractor:
    client = httpx.AsyncClient(transport=httpx.MockTransport(server))

    async def no_sleep(seconds: float) -> None:
        return None

    return AsyncExtractor(api_key="sk-test", http_client=client, sleep=no_sleep, **kwargs)


def plain(value: Any) -> Any:
    """A snapshot as plain data, keeping only what was written (fields_set)."""
    if isinstance(value, pydantic.BaseModel):
        return {name: plain(getattr(value, name)) for name in value.model_fields_set}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from leaves(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from leaves(child, (*path, index))
    else:
        yield path, value


def assert_monotone(snapshots: Sequence[Any]) -> None:
    """What a snapshot showed is in every later one, unchanged."""
    previous: dict[tuple[Any, ...], Any] = {}
    for snapshot in snapshots:
        current = dict(leaves(plain(snapshot)))
        for path, value in previous.items():
            assert path in current, f"{path} disappeared"
            assert current[path] == value, f"{path} changed from {value!r} to {current[path]!r}"
        previous = current


# -- the happy path -----------------------------------------------------------------------


def test_snapshots_then_final_value_with_accounting() -> None:
    server = Server(wire.sse(wire.chunks(ANSWER, size=8)))
    with extractor(server).stream(Order, "the text") as stream:
        events = list(stream)
    assert isinstance(events[-1], Done)
    assert events[-1].value == EXPECTED
    snapshots = [e.value for e in events if isinstance(e, Snapshot)]
    assert len(snapshots) > 10
    assert all(isinstance(s, Order) for s in snapshots)
    assert snapshots[0].customer is None  # the object opened, nothing complete yet
    assert_monotone(snapshots)
    result = stream.result
    assert result.value == EXPECTED
    assert result.usage.prompt_tokens == 120 and result.usage.completion_tokens == 30
    assert result.cost is not None and result.cost.amount > 0
    assert [a.request_id for a in result.attempts] == ["req_1"]
    assert stream.usage == result.usage
    body = server.requests[0]
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["response_format"] == {"type": "json_object"}


def test_numbers_appear_only_once_complete() -> None:
    server = Server(wire.sse(wire.chunks(ANSWER, size=1)))
    with extractor(server).stream(Order, "t") as stream:
        qtys = {
            tuple(item.qty for item in e.value.items or () if item.qty is not None)
            for e in stream
            if isinstance(e, Snapshot)
        }
    assert (1, 12, 3) in qtys
    assert not any(1 in q[1:2] for q in qtys)  # "12" was never shown as 1


def test_partial_strings_grow_when_asked() -> None:
    server = Server(wire.sse(wire.chunks(ANSWER, size=3)))
    with extractor(server).stream(Order, "t", partial_strings=True) as stream:
        customers = [e.value.customer for e in stream if isinstance(e, Snapshot)]
    shown = [c for c in customers if c]
    assert shown[0] != ORDER["customer"] and ORDER["customer"].startswith(shown[0])
    assert shown[-1] == ORDER["customer"]


def test_without_partial_strings_only_closed_strings_are_shown() -> None:
    server = Server(wire.sse(wire.chunks(ANSWER, size=3)))
    with extractor(server).stream(Order, "t") as stream:
        customers = {e.value.customer for e in stream if isinstance(e, Snapshot)}
    assert customers == {None, ORDER["customer"]}


def test_json_schema_target_streams_plain_dicts() -> None:
    schema = {
        "type": "object",
        "properties": {"customer": {"type": "string"}, "items": {"type": "array"}},
        "required": ["customer"],
    }
    server = Server(wire.sse(wire.chunks(ANSWER, size=8)))
    with extractor(server).stream(schema, "t") as stream:
        events = list(stream)
    snapshots = [e.value for e in events if isinstance(e, Snapshot)]
    assert_monotone(snapshots)
    assert snapshots[-1] == ORDER
    assert events[-1].value == ORDER


def test_list_target_snapshots_are_unwrapped() -> None:
    answer = json.dumps({"result": ORDER["items"]})
    server = Server(wire.sse(wire.chunks(answer, size=8)))
    with extractor(server).stream(list[Item], "t") as stream:
        events = list(stream)
    snapshots = [e.value for e in events if isinstance(e, Snapshot)]
    assert all(isinstance(s, list) for s in snapshots)
    assert_monotone(snapshots)
    assert events[-1].value == [Item.model_validate(i) for i in ORDER["items"]]


# -- how the bytes are split does not matter -----------------------------------------------


def compact_stream(text: str, size: int) -> bytes:
    """The smallest chunks a gateway sends, so that every offset can be tried quickly."""
    chunks = [
        {"choices": [{"index": 0, "delta": {"content": text[i : i + size]}}]}
        for i in range(0, len(text), size)
    ]
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return wire.sse(chunks)


def split_runs(body: bytes, run: Callable[[Extractor], list[Any]]) -> Iterator[list[Any]]:
    """Run once per cut point, the body delivered as two reads split there."""
    cuts = iter(range(len(body) + 1))
    cut = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal cut
        cut = next(cuts)
        reads = Body([body[:cut], body[cut:]])
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=reads)

    ex = Extractor(api_key="k", http_client=httpx.Client(transport=httpx.MockTransport(handler)))
    for _ in range(len(body) + 1):
        yield run(ex)


def test_every_byte_offset_gives_the_same_value() -> None:
    body = compact_stream(ANSWER, 9)
    runs = 0
    for events in split_runs(body, lambda ex: list(ex.stream(Order, "t"))):
        assert events[-1].value == EXPECTED
        assert_monotone([e.value for e in events if isinstance(e, Snapshot)])
        runs += 1
    assert runs == len(body) + 1


def test_every_byte_offset_gives_the_same_items() -> None:
    answer = json.dumps({"result": ORDER["items"]}, ensure_ascii=False)
    body = compact_stream(answer, 11)
    expected = [Item.model_validate(i) for i in ORDER["items"]]
    for events in split_runs(body, lambda ex: list(ex.stream_items(Item, "t"))):
        ready = [(e.index, e.value) for e in events if isinstance(e, ItemReady)]
        assert ready == list(enumerate(expected))
        assert events[-1].value == expected


# -- list items ----------------------------------------------------------------------------


def test_items_arrive_one_by_one_before_the_end() -> None:
    answer = json.dumps({"result": ORDER["items"]})
    events_per_read: list[list[Any]] = []
    body_reads = wire.sse_events(wire.chunks(answer, size=4))  # one read per event
    server = Server(body_reads)
    with extractor(server).stream_items(Item, "t") as stream:
        for event in stream:
            events_per_read.append([event, server.bodies[0].sent])
    ready = [(e.index, sent) for e, sent in events_per_read if isinstance(e, ItemReady)]
    assert [i for i, _ in ready] == [0, 1, 2]
    # each as soon as it closed: the finish, usage and [DONE] reads were still to come
    assert ready[0][1] < ready[1][1] < ready[2][1] <= len(body_reads) - 3


def test_invalid_item_is_reported_then_reasked() -> None:
    bad = [dict(ORDER["items"][0]), {"sku": "X", "qty": "many", "price": 1}]
    good = ORDER["items"][:2]
    server = Server(
        wire.sse(wire.chunks(json.dumps({"result": bad}))),
        wire.sse(wire.chunks(json.dumps({"result": good}))),
    )
    with extractor(server).stream_items(Item, "t") as stream:
        events = list(stream)
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["ItemReady", "ItemInvalid", "Restart", "ItemReady", "ItemReady", "Done"]
    invalid = events[1]
    assert isinstance(invalid, ItemInvalid)
    assert invalid.index == 1 and invalid.raw["qty"] == "many"
    assert invalid.errors[0].path == "qty"
    restart = events[2]
    assert isinstance(restart, Restart) and restart.attempt == 2
    assert any("qty" in e.path for e in restart.errors)
    assert [e.attempt for e in events if isinstance(e, ItemReady)] == [1, 2, 2]
    assert len(stream.result.attempts) == 2
    assert stream.result.usage.prompt_tokens == 240
    # the re-ask carries the rejected answer and the feedback
    assert server.requests[1]["messages"][-2]["role"] == "assistant"
    assert "qty" in server.requests[1]["messages"][-1]["content"]


def test_list_item_target_is_accepted_by_stream_items() -> None:
    server = Server(wire.sse(wire.chunks(json.dumps({"result": ORDER["items"]}))))
    with extractor(server).stream_items(list[Item], "t") as stream:
        ready = [e.value for e in stream if isinstance(e, ItemReady)]
    assert ready == EXPECTED.items


# -- re-asks -------------------------------------------------------------------------------


def test_reask_during_a_stream_restarts_and_continues() -> None:
    wrong = dict(ORDER, items=[{"sku": "A", "qty": "lots", "price": 1}])
    server = Server(wire.sse(wire.chunks(json.dumps(wrong))), wire.sse(wire.chunks(ANSWER)))
    with extractor(server).stream(Order, "t") as stream:
        events = list(stream)
    restarts = [i for i, e in enumerate(events) if isinstance(e, Restart)]
    assert len(restarts) == 1
    before, after = events[: restarts[0]], events[restarts[0] + 1 :]
    assert all(isinstance(e, Snapshot) and e.attempt == 1 for e in before)
    assert all(e.attempt == 2 for e in after if isinstance(e, Snapshot))
    assert events[restarts[0]].attempt == 2
    assert events[-1].value == EXPECTED
    assert [a.ok for a in stream.result.attempts] == [False, True]


def test_a_patch_reply_streams_as_the_merged_answer() -> None:
    wrong = dict(ORDER, customer=["not", "a", "name"])
    patch = json.dumps({"customer": ORDER["customer"]}, ensure_ascii=False)
    server = Server(wire.sse(wire.chunks(json.dumps(wrong))), wire.sse(wire.chunks(patch, size=3)))
    with extractor(server).stream(Order, "t") as stream:
        events = list(stream)
    assert "only these fields" in server.requests[1]["messages"][-1]["content"]
    restart = next(i for i, e in enumerate(events) if isinstance(e, Restart))
    after = [e.value for e in events[restart + 1 :] if isinstance(e, Snapshot)]
    # Every preview of the patch holds the rest of the answer, and the field once written.
    assert all(s.items == EXPECTED.items and s.note == EXPECTED.note for s in after)
    assert after[0].customer is None and after[-1].customer == ORDER["customer"]
    assert_monotone(after)
    assert events[-1].value == EXPECTED


def test_reasks_spent_raise_validation_failed_with_accounting() -> None:
    wrong = wire.sse(wire.chunks(json.dumps({"customer": "x", "items": "none"})))
    server = Server(wrong, wrong)
    stream = extractor(server, max_retries=1).stream(Order, "t")
    with stream, pytest.raises(ValidationFailed) as info:
        for _ in stream:
            pass
    assert len(info.value.attempts) == 2
    assert info.value.usage is not None and info.value.usage.prompt_tokens == 240
    assert len(stream.attempts) == 2
    with pytest.raises(ValidationFailed):
        _ = stream.result  # the result of a failed call is its error


# -- wire-format cases through the whole stack ---------------------------------------------


def test_error_event_under_200_is_a_stream_error_and_the_response_is_closed() -> None:
    error = wire.error_body(500, "Internal error")
    body = wire.sse([*wire.chunks('{"customer": "A"', finish_reason=None, usage=None), error])
    server = Server(body)
    with extractor(server).stream(Order, "t") as stream, pytest.raises(StreamError) as info:
        list(stream)
    assert "Internal error" in str(info.value)
    assert info.value.code == "server_error"
    assert info.value.request_id == "req_1"
    assert info.value.attempts == ()
    assert server.bodies[0].closed


def test_refusal_raises_refusal_error() -> None:
    events = [
        wire.chunk({"role": "assistant", "content": None, "refusal": ""}),
        wire.chunk({"refusal": "I can't help with that."}),
        wire.chunk({}, "stop"),
        wire.usage_chunk(),
    ]
    with pytest.raises(RefusalError) as info:
        list(extractor(Server(wire.sse(events))).stream(Order, "t"))
    assert info.value.refusal == "I can't help with that."
    assert info.value.usage is not None and info.value.usage.total_tokens == 150


def test_length_raises_truncated_error_with_the_partial_text() -> None:
    cut = ANSWER[:40]
    with pytest.raises(TruncatedError) as info:
        list(
            extractor(Server(wire.sse(wire.chunks(cut, finish_reason="length")))).stream(Order, "t")
        )
    assert info.value.partial == cut


def test_stream_cut_off_without_done_or_finish_reason() -> None:
    body = wire.sse(wire.chunks(ANSWER, finish_reason=None, usage=None), done=False)
    with pytest.raises(StreamError, match="ended before the answer was complete"):
        list(extractor(Server(body)).stream(Order, "t"))


def test_connection_dropped_mid_stream_is_a_stream_error() -> None:
    class Dropping(Body):
        def __iter__(self) -> Iterator[bytes]:
            yield wire.sse(wire.chunks(ANSWER))[:200]
            raise httpx.ReadError("connection reset")

    dropping = Dropping([])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=dropping)

    ex = Extractor(api_key="k", http_client=httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(StreamError, match="connection broke"):
        list(ex.stream(Order, "t"))
    assert dropping.closed


def test_tools_mode_streams_the_tool_call_arguments() -> None:
    events = wire.chunks(ANSWER, tool="Order", size=6, finish_reason="tool_calls")
    server = Server(wire.sse(events))
    with extractor(server).stream(Order, "t", mode="tools") as stream:
        out = list(stream)
    assert "tools" in server.requests[0]
    assert sum(isinstance(e, Snapshot) for e in out) > 5
    assert out[-1].value == EXPECTED
    assert stream.result.attempts[0].raw == ANSWER


def test_http_error_status_is_typed_and_transient_ones_are_retried() -> None:
    unauthorized = httpx.Response(401, json=wire.error_body(401, "bad key", code="x"))
    with pytest.raises(AuthenticationError):
        list(extractor(Server(unauthorized)).stream(Order, "t"))
    busy = httpx.Response(503, json=wire.error_body(503, "busy"))
    server = Server(busy, wire.sse(wire.chunks(ANSWER)))
    with extractor(server).stream(Order, "t") as stream:
        assert stream.until_done().value == EXPECTED
    assert len(server.requests) == 2


def test_server_that_ignores_stream_true_still_works() -> None:
    server = Server(httpx.Response(200, json=wire.completion(ANSWER)))
    with extractor(server).stream(Order, "t") as stream:
        events = list(stream)
    assert isinstance(events[-2], Snapshot) and events[-1].value == EXPECTED


# -- stopping early ------------------------------------------------------------------------


def test_stopping_early_closes_the_response() -> None:
    reads = wire.sse_events(wire.chunks(ANSWER, size=4), done=False)
    server = Server(reads)
    with extractor(server).stream(Order, "t") as stream:
        for event in stream:
            if isinstance(event, Snapshot) and event.value.customer:
                break
    body = server.bodies[0]
    assert body.closed
    assert body.sent < len(reads)
    with pytest.raises(RuntimeError, match="has not finished"):
        _ = stream.result
    assert stream.attempts == ()


def test_result_before_the_end_says_what_to_do() -> None:
    stream = extractor(Server(wire.sse(wire.chunks(ANSWER)))).stream(Order, "t")
    with pytest.raises(RuntimeError, match="until_done"):
        _ = stream.result
    stream.close()


# -- async ---------------------------------------------------------------------------------


async def test_async_stream_snapshots_and_final() -> None:
    server = Server(wire.sse(wire.chunks(ANSWER, size=8)))
    async with async_extractor(server).stream(Order, "t") as stream:
        events = [event async for event in stream]
    assert_monotone([e.value for e in events if isinstance(e, Snapshot)])
    assert events[-1].value == EXPECTED
    assert stream.result.usage.total_tokens == 150


async def test_async_items_with_reask() -> None:
    bad = [{"sku": "X", "qty": "many", "price": 1}]
    server = Server(
        wire.sse(wire.chunks(json.dumps({"result": bad}))),
        wire.sse(wire.chunks(json.dumps({"result": ORDER["items"]}))),
    )
    async with async_extractor(server).stream_items(Item, "t") as stream:
        kinds = [type(e).__name__ async for e in stream]
    assert kinds == ["ItemInvalid", "Restart", "ItemReady", "ItemReady", "ItemReady", "Done"]


async def test_async_stopping_early_closes_the_response() -> None:
    reads = wire.sse_events(wire.chunks(ANSWER, size=4), done=False)
    server = Server(reads)
    async with async_extractor(server).stream(Order, "t") as stream:
        async for event in stream:
            if isinstance(event, Snapshot) and event.value.customer:
                break
    assert server.bodies[0].closed
    assert server.bodies[0].sent < len(reads)


async def test_async_stream_error_carries_accounting() -> None:
    wrong = wire.sse(wire.chunks(json.dumps({"customer": "x", "items": "none"})))
    error = wire.sse([wire.error_body(500, "overloaded", code="overloaded")])
    server = Server(wrong, error)
    async with async_extractor(server).stream(Order, "t") as stream:
        with pytest.raises(StreamError) as info:
            async for _ in stream:
                pass
    assert len(info.value.attempts) == 1
    assert info.value.usage is not None and info.value.usage.total_tokens == 150


# -- validators, JSON Schema items, json_schema mode ---------------------------------------


SEEN: list[Any] = []


class Watched(pydantic.BaseModel):
    """Records what its validator is given."""

    customer: str
    items: list[Item]

    @pydantic.model_validator(mode="before")
    @classmethod
    def record(cls, data: Any) -> Any:
        SEEN.append(json.loads(json.dumps(data)))
        return data


def test_user_validators_never_see_incomplete_data() -> None:
    SEEN.clear()
    whole = {"customer": "A", "items": ORDER["items"]}
    with extractor(Server(wire.sse(wire.chunks(json.dumps(whole), size=2)))).stream(
        Watched, "t"
    ) as stream:
        events = list(stream)
    assert sum(isinstance(e, Snapshot) for e in events) > 10
    assert events[-1].value.items == EXPECTED.items
    assert SEEN and all(seen == whole for seen in SEEN)


def test_json_schema_items() -> None:
    schema = {
        "type": "object",
        "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}},
        "required": ["sku", "qty"],
    }
    bad = [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 0}]
    good = [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]
    server = Server(
        wire.sse(wire.chunks(json.dumps({"result": bad}))),
        wire.sse(wire.chunks(json.dumps({"result": good}))),
    )
    with extractor(server).stream_items(schema, "t") as stream:
        events = list(stream)
    assert [type(e).__name__ for e in events] == [
        "ItemReady", "ItemInvalid", "Restart", "ItemReady", "ItemReady", "Done",
    ]  # fmt: skip
    assert events[1].errors[0].path == "qty"
    assert events[-1].value == good


class WithDefault(pydantic.BaseModel):
    sku: str
    qty: int = 1


def test_json_schema_mode_items_drop_forced_nulls() -> None:
    answer = json.dumps({"result": [{"sku": "A", "qty": None}, {"sku": "B", "qty": 5}]})
    server = Server(wire.sse(wire.chunks(answer)))
    with extractor(server).stream_items(WithDefault, "t", mode="json_schema") as stream:
        ready = [e.value for e in stream if isinstance(e, ItemReady)]
    assert ready == [WithDefault(sku="A"), WithDefault(sku="B", qty=5)]
    assert server.requests[0]["response_format"]["type"] == "json_schema"


def test_event_stream_sent_as_json_content_type_is_still_read() -> None:
    response = httpx.Response(
        200, headers={"content-type": "application/json"}, content=wire.sse(wire.chunks(ANSWER))
    )
    with extractor(Server(response)).stream(Order, "t") as stream:
        events = list(stream)
    assert events[-1].value == EXPECTED
    assert stream.result.usage.total_tokens == 150


# -- more shapes of answers ----------------------------------------------------------------


def test_growing_strings_are_prefixes_even_with_escapes_split_across_chunks() -> None:
    server = Server(compact_stream(ANSWER, 1))
    with extractor(server).stream(Order, "t", partial_strings=True) as stream:
        events = list(stream)
    shown = [e.value.customer for e in events if isinstance(e, Snapshot) and e.value.customer]
    assert len(set(shown)) > 5
    assert all(ORDER["customer"].startswith(s) for s in shown)
    notes = [e.value.note for e in events if isinstance(e, Snapshot) and e.value.note]
    assert all(ORDER["note"].startswith(n) for n in notes) and notes[-1] == ORDER["note"]
    assert events[-1].value == EXPECTED


def test_fenced_answer_with_prose_streams_and_is_repaired() -> None:
    text = "Here you go:\n```json\n" + ANSWER + "\n```\n"
    with extractor(Server(wire.sse(wire.chunks(text, size=6)))).stream(Order, "t") as stream:
        events = list(stream)
    snapshots = [e.value for e in events if isinstance(e, Snapshot)]
    assert snapshots and all(isinstance(s, Order) for s in snapshots)
    assert events[-1].value == EXPECTED
    assert stream.result.attempts[0].repaired


def test_truncation_retry_restarts_the_stream() -> None:
    server = Server(
        wire.sse(wire.chunks(ANSWER[:50], finish_reason="length")), wire.sse(wire.chunks(ANSWER))
    )
    ex = extractor(server)
    with ex.stream(Order, "t", max_tokens=100, retry_truncated=True) as stream:
        events = list(stream)
    restart = next(e for e in events if isinstance(e, Restart))
    assert restart.attempt == 2 and "token limit" in restart.errors[0].message
    assert events[-1].value == EXPECTED
    limits = [r.get("max_completion_tokens", r.get("max_tokens")) for r in server.requests]
    assert limits == [100, 200]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=20))
def test_any_number_of_reads_gives_the_same_items(cuts: list[int]) -> None:
    answer = json.dumps({"result": ORDER["items"]}, ensure_ascii=False)
    body = compact_stream(answer, 3)
    points = sorted({0, len(body), *(c % (len(body) + 1) for c in cuts)})
    reads = [body[a:b] for a, b in itertools.pairwise(points)]
    with extractor(Server(reads)).stream_items(Item, "t") as stream:
        events = list(stream)
    assert [e.value for e in events if isinstance(e, ItemReady)] == EXPECTED.items


def test_configuration_errors_are_raised_by_the_call_not_the_first_iteration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EXTRACTOR_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    ex = Extractor(http_client=httpx.Client(transport=httpx.MockTransport(Server())))
    with pytest.raises(ConfigurationError, match="no API key"):
        ex.stream(Order, "t")
    with pytest.raises(ConfigurationError, match="nothing to extract"):
        extractor(Server()).stream(Order)


def test_compressed_event_stream_is_decoded() -> None:
    body = gzip.compress(wire.sse(wire.chunks(ANSWER)))
    response = httpx.Response(
        200,
        headers={"content-type": "text/event-stream", "content-encoding": "gzip"},
        stream=Body([body[:100], body[100:]]),
    )
    with extractor(Server(response)).stream(Order, "t") as stream:
        assert stream.until_done().value == EXPECTED
