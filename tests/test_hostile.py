"""Hostile answers: deep nesting, backtracking patterns, huge answers, requests no model takes.
Each ends in a typed error (or a value), never a crash or a hang, through the real drivers."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from extractor import (
    APIError,
    AsyncExtractor,
    BadRequestError,
    ConfigurationError,
    Extractor,
    ModelRules,
    ValidationFailed,
)
from extractor.core import patterns
from extractor.core.loop import ECHO_LIMIT, MAX_REPORTED
from extractor.core.target import Target
from extractor.jobs.inputs import Record
from extractor.jobs.records import RecordProcessor
from extractor.testing import FakeModel
from extractor.testing.wire import completion, sse
from extractor.wire.endpoint import DEFAULT_MAX_RESPONSE_BYTES
from tests.helpers import BASE_URL, KEY


class Open(BaseModel):
    x: Any


class Node(BaseModel):
    child: Node | None = None


RECURSIVE = {
    "$defs": {"node": {"type": "object", "properties": {"c": {"$ref": "#/$defs/node"}}}},
    "$ref": "#/$defs/node",
    "type": "object",
}


def nested(depth: int, key: str | None = None) -> str:
    if key is None:
        return "[" * depth + "]" * depth
    return f'{{"{key}":' * depth + "{}" + "}" * depth


class Recorder:
    """Answers every request with ``content`` and keeps the request bodies."""

    def __init__(self, content: str) -> None:
        self.content = content
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        return httpx.Response(200, json=completion(self.content))


def sync(handler: Any, **kwargs: Any) -> Extractor:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return Extractor(api_key=KEY, base_url=BASE_URL, http_client=client, **kwargs)


def asynchronous(handler: Any, **kwargs: Any) -> AsyncExtractor:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return AsyncExtractor(api_key=KEY, base_url=BASE_URL, http_client=client, **kwargs)


def streamed(content: str) -> Any:
    body = sse(
        [
            {"choices": [{"index": 0, "delta": {"content": content}}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        ]
    )
    return lambda request: httpx.Response(
        200, content=body, headers={"content-type": "text/event-stream"}
    )


# -- deep nesting ---------------------------------------------------------------------------

TOO_DEEP = r"nested more than 200 levels deep|nesting deeper than"


@pytest.mark.parametrize("depth", [201, 900, 5_000, 100_000])
def test_deep_answer_in_an_open_field(depth: int) -> None:
    answer = f'{{"x": {nested(depth)}}}'
    with pytest.raises(ValidationFailed, match=TOO_DEEP):
        sync(Recorder(answer), max_retries=0).extract(Open, "t")


def test_deep_answer_against_a_recursive_model() -> None:
    answer = nested(5_000, "child")
    with pytest.raises(ValidationFailed):
        sync(Recorder(answer), max_retries=0).extract(Node, "t")


def test_deep_answer_against_a_recursive_schema_ref() -> None:
    with pytest.raises(ValidationFailed, match=TOO_DEEP):
        sync(Recorder(nested(5_000, "c")), max_retries=0).extract(RECURSIVE, "t")


def test_nesting_within_the_limit_is_validated_and_dumps() -> None:
    value = sync(Recorder(nested(100, "c"))).extract(RECURSIVE, "t")
    assert json.dumps(value).count("{") == 101


async def test_deep_answer_async() -> None:
    answer = f'{{"x": {nested(5_000)}}}'
    with pytest.raises(ValidationFailed, match=TOO_DEEP):
        await asynchronous(Recorder(answer), max_retries=0).extract(Open, "t")


def test_deep_answer_streamed() -> None:
    stream = sync(streamed(f'{{"x": {nested(5_000)}}}'), max_retries=0).stream(Open, "t")
    with pytest.raises(ValidationFailed, match=TOO_DEEP):
        stream.until_done()


def test_deep_answer_streamed_as_items() -> None:
    answer = f'{{"result": [{nested(5_000)}, 1]}}'
    stream = sync(streamed(answer), max_retries=0).stream_items(int, "t")
    with pytest.raises(ValidationFailed):
        stream.until_done()


def test_extract_many_files_the_deep_record_and_goes_on() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        deep = "deep" in json.loads(request.content)["messages"][-1]["content"]
        answer = f'{{"x": {nested(5_000)}}}' if deep else '{"x": 1}'
        return httpx.Response(200, json=completion(answer))

    results = list(
        sync(handler, max_retries=0).extract_many(Open, ["a", "deep", "b"], concurrency=2)
    )
    assert sorted(type(r.error).__name__ for r in results if r.error) == ["ValidationFailed"]
    assert sum(r.error is None for r in results) == 2


# -- patterns that backtrack ----------------------------------------------------------------

EVIL = "a" * 40 + "!"


def test_a_backtracking_pattern_does_not_hang() -> None:
    schema = {"type": "object", "properties": {"s": {"type": "string", "pattern": "^(a+)+$"}}}
    with pytest.raises(ValidationFailed, match="does not match"):
        sync(Recorder(json.dumps({"s": EVIL})), max_retries=0).extract(schema, "t")
    assert sync(Recorder('{"s": "aaa"}')).extract(schema, "t") == {"s": "aaa"}


def test_a_backtracking_pattern_in_a_pydantic_model_does_not_hang() -> None:
    from pydantic import Field

    class Evil(BaseModel):
        s: str = Field(pattern=r"^(a+)+$")

    with pytest.raises(ValidationFailed):
        sync(Recorder(json.dumps({"s": EVIL})), max_retries=0).extract(Evil, "t")


def test_backtracking_pattern_properties_do_not_hang() -> None:
    schema = {
        "type": "object",
        "patternProperties": {"^(a+)+$": {"type": "integer"}},
        "additionalProperties": False,
    }
    with pytest.raises(ValidationFailed, match=r"do(es)? not match any of the regexes"):
        sync(Recorder(json.dumps({EVIL: 1})), max_retries=0).extract(schema, "t")
    assert sync(Recorder('{"aaa": 1}')).extract(schema, "t") == {"aaa": 1}
    with pytest.raises(ValidationFailed, match="is not of type 'integer'"):
        sync(Recorder('{"aaa": "x"}'), max_retries=0).extract(schema, "t")


def test_look_around_patterns_are_matched_against_a_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(patterns, "VALIDATION_SECONDS", 0.05)
    schema = {
        "type": "object",
        "properties": {"s": {"type": "array", "items": {"pattern": "^(?=a)(a|aa)+$"}}},
    }
    answer = json.dumps({"s": ["aaa", EVIL, EVIL, EVIL]})
    with pytest.raises(ValidationFailed, match="could not be checked") as info:
        sync(Recorder(answer), max_retries=0).extract(schema, "t")
    assert len(info.value.errors) == 3
    assert sync(Recorder('{"s": ["aaa"]}')).extract(schema, "t") == {"s": ["aaa"]}


def test_look_around_without_the_regex_package_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "regex", None)
    patterns._searcher.cache_clear()
    schema = {"type": "object", "properties": {"s": {"pattern": "^(?!x)a+$"}}}
    try:
        with pytest.raises(ConfigurationError, match=r"extractor\[patterns\]"):
            sync(Recorder('{"s": "aaa"}')).extract(schema, "t")
    finally:
        patterns._searcher.cache_clear()


# -- answers too large ----------------------------------------------------------------------

MEGABYTE = b"a" * 2**20


class Huge(httpx.SyncByteStream, httpx.AsyncByteStream):
    """200 MB of one JSON completion whose content never ends, read lazily."""

    def __init__(self, sse: bool = False) -> None:
        self.sse = sse
        self.read = 0

    def _parts(self) -> Iterator[bytes]:
        if not self.sse:
            yield b'{"choices": [{"index": 0, "message": {"content": "'
        for _ in range(200):
            self.read += 1
            if self.sse:
                yield b'data: {"choices": [{"index": 0, "delta": {"content": "' + MEGABYTE
                yield b'"}}]}\n\n'
            else:
                yield MEGABYTE

    def __iter__(self) -> Iterator[bytes]:
        yield from self._parts()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self._parts():
            yield part


def huge(body: Huge, length: bool = False) -> Any:
    headers = {"content-type": "text/event-stream" if body.sse else "application/json"}
    if length:
        headers["content-length"] = str(200 * 2**20)
    return lambda request: httpx.Response(200, stream=body, headers=headers)


def test_a_200_mb_answer_is_not_read_past_the_bound() -> None:
    body = Huge()
    with pytest.raises(APIError, match="sent more than 8,388,608 bytes"):
        sync(huge(body)).extract(Open, "t")
    assert body.read <= DEFAULT_MAX_RESPONSE_BYTES // 2**20 + 1


def test_a_declared_200_mb_answer_is_refused_before_reading() -> None:
    body = Huge()
    with pytest.raises(APIError, match="sent more than"):
        sync(huge(body, length=True)).extract(Open, "t")
    assert body.read == 0


async def test_a_200_mb_answer_async() -> None:
    body = Huge()
    with pytest.raises(APIError, match="sent more than"):
        await asynchronous(huge(body)).extract(Open, "t")
    assert body.read <= DEFAULT_MAX_RESPONSE_BYTES // 2**20 + 1


def test_a_200_mb_stream_is_not_read_past_the_bound() -> None:
    body = Huge(sse=True)
    with pytest.raises(APIError, match="sent more than"):
        sync(huge(body)).stream(Open, "t").until_done()
    assert body.read <= DEFAULT_MAX_RESPONSE_BYTES // 2**20 + 1


async def test_a_200_mb_stream_async() -> None:
    body = Huge(sse=True)
    with pytest.raises(APIError, match="sent more than"):
        await asynchronous(huge(body)).stream(Open, "t").until_done()


def test_max_response_bytes_can_be_raised() -> None:
    answer = json.dumps({"x": "a" * 5000})
    with pytest.raises(APIError, match="sent more than 1,000 bytes"):
        sync(Recorder(answer), max_response_bytes=1000).extract(Open, "t")
    assert sync(Recorder(answer), max_response_bytes=10_000).extract(Open, "t").x == "a" * 5000


def test_a_long_rejected_answer_is_echoed_cut() -> None:
    recorder = Recorder(json.dumps({"y": "b" * 500_000}))
    with pytest.raises(ValidationFailed):
        sync(recorder, max_retries=1).extract(BaseModelWithX, "t")
    echoed = recorder.bodies[1]["messages"][-2]["content"]
    assert len(echoed) < ECHO_LIMIT + 100
    assert echoed.endswith("[... cut: the answer had 500,009 characters]")


class BaseModelWithX(BaseModel):
    x: int


def test_a_problem_quoting_a_huge_value_is_cut() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    recorder = Recorder(json.dumps({"n": "z" * 1_000_000}))
    with pytest.raises(ValidationFailed) as info:
        sync(recorder, max_retries=1).extract(schema, "t")
    assert len(recorder.bodies[1]["messages"][-1]["content"]) < 2_000
    assert len(str(info.value)) < 2_000


def test_the_feedback_lists_a_bounded_number_of_problems() -> None:
    recorder = Recorder(json.dumps({"result": ["x"] * 10_000}))
    with pytest.raises(ValidationFailed) as info:
        sync(recorder, max_retries=1).extract(list[int], "t")
    feedback = recorder.bodies[1]["messages"][-1]["content"]
    assert feedback.count("\n- ") == MAX_REPORTED + 1
    assert "9,950 more problems" in feedback
    assert str(info.value).count("\n  - ") == MAX_REPORTED + 1


async def test_the_errors_file_holds_a_bounded_raw() -> None:
    recorder = Recorder(json.dumps({"y": "b" * 500_000}))
    ex = asynchronous(recorder, max_retries=0)
    processor = RecordProcessor(ex, Target.of(BaseModelWithX), {})
    outcome = await processor.process(Record(line=1, id="r1", text="t"))
    assert not outcome.ok
    assert len(outcome.line["raw"]) < ECHO_LIMIT + 100


async def test_a_huge_answer_is_judged_off_the_event_loop() -> None:
    """While a long answer is parsed and validated, other tasks keep running."""
    import asyncio
    import threading

    threads: list[str] = []

    from pydantic import field_validator

    class Long(BaseModel):
        x: str

        @field_validator("x")
        @classmethod
        def where(cls, value: str) -> str:
            threads.append(threading.current_thread().name)
            return value

    ex = asynchronous(Recorder(json.dumps({"x": "c" * 100_000})))
    await asyncio.gather(ex.extract(Long, "t"), asyncio.sleep(0))
    assert threads and threads[0] != threading.main_thread().name


# -- requests no model takes ----------------------------------------------------------------


def test_a_5_mb_record_streamed_is_refused_before_sending() -> None:
    """A stream sends its text in one request (extract() would cut it into chunks)."""
    recorder = Recorder('{"x": 1}')
    with pytest.raises(BadRequestError, match="input tokens") as info:
        sync(recorder).stream(Open, "word " * 1_000_000).until_done()
    assert info.value.code == "context_length_exceeded"
    assert "Cut the text" in str(info.value)
    assert recorder.bodies == []


def test_5_mb_of_messages_are_refused_before_sending() -> None:
    recorder = Recorder('{"x": 1}')
    messages = [{"role": "user", "content": "word " * 1_000_000}]
    with pytest.raises(BadRequestError, match="input tokens"):
        sync(recorder).extract(Open, messages=messages)
    assert recorder.bodies == []


ENUM = {
    "type": "object",
    "properties": {"code": {"type": "string", "enum": [f"CODE-{i:06d}" for i in range(100_000)]}},
}


def test_a_schema_with_an_enum_of_100_000_values_is_refused_before_sending() -> None:
    recorder = Recorder('{"code": "CODE-000001"}')
    with pytest.raises(BadRequestError, match=r"more than gpt-5\.1 takes \(272,000"):
        sync(recorder).extract(ENUM, "a short text")
    assert recorder.bodies == []


def test_the_window_is_per_model_and_can_be_overridden() -> None:
    recorder = Recorder('{"x": 1}')
    messages = [{"role": "user", "content": "word " * 300_000}]  # about 375k tokens
    with pytest.raises(BadRequestError):
        sync(recorder).extract(Open, messages=messages)
    sync(recorder, model="gpt-4.1").extract(Open, messages=messages)  # takes 1M
    sync(recorder, rules=ModelRules(input_tokens=2_000_000)).extract(Open, messages=messages)
    with pytest.raises(BadRequestError, match=r"\(10,000 input tokens\)"):
        sync(recorder, rules=ModelRules(input_tokens=10_000)).extract(Open, messages=messages)
    assert len(recorder.bodies) == 2


async def test_a_batch_record_that_cannot_be_sent_is_an_error_line_not_an_abort() -> None:
    recorder = Recorder('{"code": "CODE-000001"}')
    processor = RecordProcessor(asynchronous(recorder), Target.of(ENUM), {})
    first = await processor.process(Record(line=1, id="a", text="t"))
    second = await processor.process(Record(line=2, id="b", text="u"))
    assert first.line["error"]["type"] == second.line["error"]["type"] == "BadRequestError"
    assert recorder.bodies == []


def nested_schema(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"a": schema}}
    return schema


def chained_schema(length: int) -> dict[str, Any]:
    """A flat schema whose ``$defs`` each use the next once: deep once inlined."""
    defs: dict[str, Any] = {
        f"D{i}": {"type": "object", "properties": {"x": {"$ref": f"#/$defs/D{i + 1}"}}}
        for i in range(length)
    }
    defs[f"D{length}"] = {"type": "string"}
    return {"type": "object", "properties": {"a": {"$ref": "#/$defs/D0"}}, "$defs": defs}


@pytest.mark.parametrize("mode", ["json", "compact", "tools", "json_schema"])
@pytest.mark.parametrize(
    "schema",
    [nested_schema(100), nested_schema(600), chained_schema(300)],
    ids=["nested-100", "nested-600", "chained-300"],
)
def test_a_schema_too_deep_to_walk_is_a_configuration_error(
    schema: dict[str, Any], mode: str
) -> None:
    # RecursionError leaked from jsonschema's check_schema, json.dumps or the prompt's
    # compaction, before anything was sent.
    fake = FakeModel()  # never asked: nothing is sent
    with pytest.raises(ConfigurationError, match="nests too deep") as info:
        fake.extractor(api_key=KEY).extract(schema, "text", mode=mode)
    assert KEY not in str(info.value) and not fake.requests


def test_a_schema_deep_within_the_limit_still_works() -> None:
    body = Extractor(api_key=KEY).request_body(nested_schema(60), "text", mode="compact")
    assert body["messages"][0]["content"].count("\na: ") == 60


def test_a_grouped_number_of_thousands_of_digits_is_re_asked_not_a_value_error() -> None:
    # Mended, it made json.dumps raise ValueError (Python prints at most 4,300 digits).
    class Count(BaseModel):
        n: int

    huge = json.dumps({"n": "1" + ",000" * 1500})
    fake = FakeModel().answer(huge).answer({"n": 1000})
    result = fake.extractor().extract_result(Count, "a thousand")
    assert result.value == Count(n=1000) and len(result.attempts) == 2
