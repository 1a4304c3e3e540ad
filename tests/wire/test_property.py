"""Whatever the server sends, nothing but an `ExtractionError` leaves ``extract``, ``stream``
or ``extract_many``: random status codes, random JSON bodies (completion-shaped with random
fields, or anything), random chunk sequences and raw SSE lines, through the real drivers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from extractor import AsyncExtractor, ExtractionError, Extractor, JobAborted
from extractor.core.target import Target
from extractor.jobs.inputs import Record
from extractor.jobs.records import RecordProcessor
from tests.helpers import BASE_URL, KEY


class Person(BaseModel):
    name: str
    age: int | None = None


SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string", "pattern": "^(a+)+$"}, "tags": {"type": "array"}},
    "required": ["name"],
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["", "stop", "length", "content_filter", "tool_calls", KEY, "[DONE]"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
answers = st.one_of(
    json_values,
    st.sampled_from(
        [
            '{"name": "Ada", "age": 36}',
            '{"name": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"}',
            '```json\n{"name": "Ada",}\n```',
            "[" * 3000 + "]" * 3000,
            '{"name": ' + "[" * 500,
            [{"type": "thinking", "thinking": [{"type": "text", "text": "hm"}]}],
            [{"type": "text", "text": '{"name": "Ada"}'}],
            [{"type": "text", "text": 5}],
        ]
    ),
)
usages = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "prompt_tokens": json_values,
            "completion_tokens": json_values,
            "total_tokens": json_values,
            "completion_tokens_details": json_values,
            "prompt_tokens_details": json_values,
        },
    ),
)
messages = st.fixed_dictionaries(
    {},
    optional={
        "content": answers,
        "refusal": json_values,
        "tool_calls": st.one_of(
            json_values,
            st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "id": json_values,
                        "index": json_values,
                        "function": st.one_of(
                            json_values,
                            st.fixed_dictionaries({}, optional={"arguments": answers}),
                        ),
                    },
                ),
                max_size=2,
            ),
        ),
        "reasoning_content": json_values,
    },
)
choices = st.fixed_dictionaries(
    {},
    optional={
        "index": st.one_of(st.just(0), json_values),
        "message": st.one_of(messages, json_values),
        "delta": st.one_of(messages, json_values),
        "finish_reason": st.one_of(st.sampled_from(["stop", "length", None]), json_values),
    },
)
payloads = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"choices": st.one_of(st.lists(st.one_of(choices, json_values), max_size=2), json_values)},
        optional={
            "id": json_values,
            "usage": usages,
            "x_groq": st.one_of(json_values, st.fixed_dictionaries({"usage": usages})),
            "error": json_values,
            "object": st.sampled_from(["error", "chat.completion"]),
            "message": json_values,
            "detail": json_values,
        },
    ),
)
bodies = st.one_of(
    payloads.map(lambda p: json.dumps(p).encode()),
    st.binary(max_size=200),
    st.sampled_from([b"", b"null", b"[" * 100_000, b"\xff\xfe", f"Bearer {KEY}".encode()]),
)
statuses = st.one_of(
    st.sampled_from([200, 200, 200, 201, 204, 400, 401, 404, 408, 422, 429, 500, 503]),
    st.integers(min_value=200, max_value=599),
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "content-type": st.sampled_from(
            ["application/json", "text/event-stream", "text/plain", "application/json; x"]
        ),
        "retry-after": st.sampled_from(["1", "-5", "nan", "inf", "1e400", "Wed, 21 Oct 2015"]),
        "retry-after-ms": st.sampled_from(["10", "x", "-1"]),
        "x-should-retry": st.sampled_from(["true", "false", "maybe"]),
        "apim-request-id": st.text(
            alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=10
        ),
        "content-length": st.sampled_from(["0", "999999999999", "x"]),
    },
)
events = st.one_of(
    payloads.map(lambda p: f"data: {json.dumps(p)}\n\n"),
    st.sampled_from(
        [
            "data: [DONE]\n\n",
            "event: error\ndata: boom\n\n",
            'data: {"choices": [{"index": 0, "delta": {"content": "{\\"name\\": \\"A\\"}"}}]}\n\n',
            'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\n',
            ": keep-alive\n\n",
            "data: {\n\n",
            "retry: x\n",
            "\r\n",
        ]
    ),
    st.text(max_size=40),
)
streams = st.lists(events, max_size=8).map(lambda parts: "".join(parts).encode("utf-8", "replace"))

replies = st.tuples(statuses, st.one_of(bodies, streams), headers)
scripts = st.lists(replies, min_size=1, max_size=4)
targets = st.sampled_from([Person, SCHEMA, list[Person]])
modes = st.sampled_from(["json", "json_schema", "tools"])


class Script:
    """Answers each request with the next scripted reply; the last one repeats."""

    def __init__(self, replies: list[tuple[int, bytes, dict[str, str]]]) -> None:
        self.replies = replies
        self.count = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        status, body, head = self.replies[min(self.count, len(self.replies) - 1)]
        self.count += 1
        head = {k: v for k, v in head.items() if k != "content-length"}
        return httpx.Response(status, content=body, headers=head)


OPTIONS: dict[str, Any] = {"max_retries": 1, "max_transport_retries": 1}


async def _no_sleep(seconds: float) -> None:
    return None


def sync_extractor(script: Script) -> Extractor:
    client = httpx.Client(transport=httpx.MockTransport(script))
    return Extractor(
        api_key=KEY, base_url=BASE_URL, http_client=client, sleep=lambda s: None, **OPTIONS
    )


def async_extractor(script: Script) -> AsyncExtractor:
    client = httpx.AsyncClient(transport=httpx.MockTransport(script))
    return AsyncExtractor(
        api_key=KEY, base_url=BASE_URL, http_client=client, sleep=_no_sleep, **OPTIONS
    )


def only_extraction_errors(call: Any) -> None:
    try:
        call()
    except ExtractionError as exc:
        assert KEY not in str(exc)


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(script=scripts, target=targets, mode=modes)
def test_extract_raises_only_extraction_errors(script: list[Any], target: Any, mode: str) -> None:
    ex = sync_extractor(Script(script))
    only_extraction_errors(lambda: ex.extract(target, "t", mode=mode))


@SETTINGS
@given(script=scripts, target=targets, mode=modes)
def test_async_extract_raises_only_extraction_errors(
    script: list[Any], target: Any, mode: str
) -> None:
    ex = async_extractor(Script(script))
    only_extraction_errors(lambda: asyncio.run(ex.extract(target, "t", mode=mode)))


@SETTINGS
@given(script=scripts, mode=modes, items=st.booleans())
def test_stream_raises_only_extraction_errors(script: list[Any], mode: str, items: bool) -> None:
    ex = sync_extractor(Script(script))

    def run() -> None:
        stream = ex.stream_items(Person, "t") if items else ex.stream(Person, "t", mode=mode)
        with stream:
            for _ in stream:
                pass

    only_extraction_errors(run)


@SETTINGS
@given(script=scripts, mode=modes)
def test_async_stream_raises_only_extraction_errors(script: list[Any], mode: str) -> None:
    ex = async_extractor(Script(script))

    async def run() -> None:
        async with ex.stream(Person, "t", mode=mode) as stream:
            async for _ in stream:
                pass

    only_extraction_errors(lambda: asyncio.run(run()))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=scripts)
def test_extract_many_gives_every_record_a_result_or_an_extraction_error(
    script: list[Any],
) -> None:
    ex = sync_extractor(Script(script))
    results = list(ex.extract_many(Person, ["a", "b", "c"], concurrency=2))
    assert len(results) == 3
    for result in results:
        assert result.error is None or isinstance(result.error, ExtractionError)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=scripts, target=targets)
def test_a_batch_record_gives_a_line_or_aborts_the_job_typed(
    script: list[Any], target: Any
) -> None:
    """A batch record becomes its output line or error line, or stops the job with
    `JobAborted` (bad key, no quota: every record would fail alike); nothing else."""
    processor = RecordProcessor(async_extractor(Script(script)), Target.of(target), {})

    async def run() -> None:
        for line, text in enumerate(("a", "b"), 1):
            try:
                outcome = await processor.process(Record(line=line, id=text, text=text))
            except JobAborted as aborted:
                assert KEY not in str(aborted)
                return
            json.dumps(outcome.line, default=str)  # the line can be written
            assert KEY not in json.dumps(outcome.line, default=str)

    asyncio.run(run())
