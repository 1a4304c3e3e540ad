"""Real providers' responses, from the bytes they send: content parts, billing, request ids,
provider usage fields, error bodies, URL queries, bodies already in memory.

Each case runs through the real drivers (sync, async, stream) over ``httpx.MockTransport``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from extractor import (
    APIError,
    AsyncExtractor,
    BadRequestError,
    BudgetExceeded,
    ConfigurationError,
    Extractor,
    NotFoundError,
    Price,
    RateLimitError,
    ServerError,
)
from extractor.testing.wire import sse
from extractor.wire.decode import read_usage
from extractor.wire.endpoint import Endpoint
from tests.helpers import KEY

PRICE = Price("1.80", "15.00", currency="CNY")  # Price's currency is USD unless given


class Person(BaseModel):
    name: str


Handler = Callable[[httpx.Request], httpx.Response]


def sync(handler: Handler, base_url: str = "https://api.test/v1", **kwargs: Any) -> Extractor:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return Extractor(
        api_key=KEY, base_url=base_url, http_client=client, sleep=lambda s: None, **kwargs
    )


def asynchronous(handler: Handler, **kwargs: Any) -> AsyncExtractor:
    async def no_sleep(seconds: float) -> None:
        return None

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return AsyncExtractor(
        api_key=KEY, base_url="https://api.test/v1", http_client=client, sleep=no_sleep, **kwargs
    )


def answer(*bodies: bytes, headers: dict[str, str] | None = None, status: int = 200) -> Handler:
    """Answers each request with the next body (the last one repeats)."""
    queue = list(bodies)

    def handler(request: httpx.Request) -> httpx.Response:
        body = queue.pop(0) if len(queue) > 1 else queue[0]
        kind = "text/event-stream" if body.startswith(b"data:") else "application/json"
        return httpx.Response(
            status, content=body, headers={"content-type": kind, **(headers or {})}
        )

    return handler


# -- content as typed parts (Mistral's reasoning models) ------------------------------------

MISTRAL_THINKING = (
    b'{"id":"cmpl-e5cc70bb28c444948073e77776eb30ef","object":"chat.completion",'
    b'"model":"magistral-medium-2507","usage":{"prompt_tokens":98,"total_tokens":334,'
    b'"completion_tokens":236},"created":1752483893,"choices":[{"index":0,'
    b'"finish_reason":"stop","message":{"role":"assistant","tool_calls":null,"content":['
    b'{"type":"thinking","thinking":[{"type":"text","text":"The text names Ada Lovelace; '
    b'the schema wants {\\"name\\": ...}."}]},'
    b'{"type":"text","text":"{\\"name\\": \\"Ada Lovelace\\"}"}]}}]}'
)

MISTRAL_THINKING_STREAM = (
    b'data: {"id":"c3e4","object":"chat.completion.chunk","created":1752483900,'
    b'"model":"magistral-medium-2507","choices":[{"index":0,"delta":{"role":"assistant",'
    b'"content":""},"finish_reason":null}]}\n\n'
    b'data: {"id":"c3e4","object":"chat.completion.chunk","created":1752483900,'
    b'"model":"magistral-medium-2507","choices":[{"index":0,"delta":{"content":[{"type":'
    b'"thinking","thinking":[{"type":"text","text":"The text names "}]}]},'
    b'"finish_reason":null}]}\n\n'
    b'data: {"id":"c3e4","object":"chat.completion.chunk","created":1752483900,'
    b'"model":"magistral-medium-2507","choices":[{"index":0,"delta":{"content":[{"type":'
    b'"thinking","thinking":[{"type":"text","text":"Ada Lovelace."}]}]},'
    b'"finish_reason":null}]}\n\n'
    b'data: {"id":"c3e4","object":"chat.completion.chunk","created":1752483900,'
    b'"model":"magistral-medium-2507","choices":[{"index":0,"delta":{"content":[{"type":'
    b'"text","text":"{\\"name\\": \\"Ada"}]},"finish_reason":null}]}\n\n'
    b'data: {"id":"c3e4","object":"chat.completion.chunk","created":1752483900,'
    b'"model":"magistral-medium-2507","choices":[{"index":0,"delta":{"content":'
    b'" Lovelace\\"}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":98,'
    b'"total_tokens":334,"completion_tokens":236}}\n\n'
    b"data: [DONE]\n\n"
)


def test_content_parts_give_the_text_as_answer_and_keep_the_thinking_apart() -> None:
    result = sync(answer(MISTRAL_THINKING)).extract_result(Person, "t")
    assert result.value == Person(name="Ada Lovelace")
    (attempt,) = result.attempts
    assert attempt.raw == '{"name": "Ada Lovelace"}'
    assert attempt.reasoning == 'The text names Ada Lovelace; the schema wants {"name": ...}.'


async def test_content_parts_async() -> None:
    result = await asynchronous(answer(MISTRAL_THINKING)).extract_result(Person, "t")
    assert result.value == Person(name="Ada Lovelace")
    assert result.attempts[0].reasoning is not None


def test_content_parts_in_stream_deltas() -> None:
    with sync(answer(MISTRAL_THINKING_STREAM)).stream(Person, "t") as stream:
        events = list(stream)
    assert events[-1].value == Person(name="Ada Lovelace")
    (attempt,) = stream.attempts
    assert attempt.raw == '{"name": "Ada Lovelace"}'
    assert attempt.reasoning == "The text names Ada Lovelace."


async def test_content_parts_in_async_stream_deltas() -> None:
    async with asynchronous(answer(MISTRAL_THINKING_STREAM)).stream(Person, "t") as stream:
        result = await stream.until_done()
    assert result.value == Person(name="Ada Lovelace")


def test_a_stream_sent_as_one_json_completion_with_parts() -> None:
    """A server that ignores ``stream: true`` and sends the whole completion."""
    with sync(answer(MISTRAL_THINKING)).stream(Person, "t") as stream:
        assert stream.until_done().value == Person(name="Ada Lovelace")


# -- reasoning billed outside completion_tokens ---------------------------------------------

XAI_USAGE = (
    b'{"prompt_tokens":307,"completion_tokens":26,"total_tokens":588,"prompt_tokens_details":'
    b'{"text_tokens":307,"audio_tokens":0,"image_tokens":0,"cached_tokens":0},'
    b'"completion_tokens_details":{"reasoning_tokens":255,"audio_tokens":0,'
    b'"accepted_prediction_tokens":0,"rejected_prediction_tokens":0},"num_sources_used":0}'
)
GEMINI_USAGE = b'{"completion_tokens":12,"prompt_tokens":35,"total_tokens":109}'


def xai(content: str) -> bytes:
    return (
        b'{"id":"f1a2","object":"chat.completion","created":1752000000,"model":"grok-4",'
        b'"choices":[{"index":0,"message":{"role":"assistant","content":'
        + json.dumps(content).encode()
        + b',"refusal":null},"finish_reason":"stop"}],"usage":'
        + XAI_USAGE
        + b',"system_fingerprint":"fp_3a40c8f5b1"}'
    )


def gemini(content: str) -> bytes:
    return (
        b'{"choices":[{"finish_reason":"stop","index":0,"message":{"content":'
        + json.dumps(content).encode()
        + b',"role":"assistant"}}],"created":1752000000,"id":"Xx1QaKD","model":'
        b'"gemini-2.5-flash","object":"chat.completion","usage":' + GEMINI_USAGE + b"}"
    )


@pytest.mark.parametrize(
    ("usage", "completion", "reasoning"), [(XAI_USAGE, 281, 255), (GEMINI_USAGE, 74, 62)]
)
def test_total_beyond_prompt_plus_completion_is_billed_output(
    usage: bytes, completion: int, reasoning: int
) -> None:
    read = read_usage(json.loads(usage))
    assert read.completion_tokens == completion
    assert read.reasoning_tokens == reasoning
    assert read.total_tokens == json.loads(usage)["total_tokens"]


def test_usage_and_cost_match_the_bill() -> None:
    result = sync(answer(xai('{"name": "Ada"}')), price=PRICE).extract_result(Person, "t")
    assert result.usage.total_tokens == 588
    assert result.usage.completion_tokens == 281
    assert result.cost is not None
    assert result.cost.amount == (307 * Decimal("1.80") + 281 * Decimal("15.00")) / 1_000_000


def test_gemini_hidden_thinking_is_billed() -> None:
    result = sync(answer(gemini('{"name": "Ada"}')), price=PRICE).extract_result(Person, "t")
    assert result.usage.total_tokens == 109
    assert result.usage.completion_tokens == 74


def test_max_total_tokens_counts_billed_reasoning() -> None:
    """After one rejected answer, 588 tokens were billed; the 333 of prompt + completion
    would leave room for the re-ask under a 700-token budget."""
    ex = sync(answer(xai('{"nom": "Ada"}')))
    with pytest.raises(BudgetExceeded, match="588 tokens spent") as info:
        ex.extract(Person, "t", max_total_tokens=700)
    assert info.value.usage is not None and info.value.usage.total_tokens == 588


def test_max_cost_counts_billed_reasoning() -> None:
    ex = sync(answer(xai('{"nom": "Ada"}')), price=PRICE)
    # 307 in + 281 out = 0.0047676; 307 in + 26 out would be 0.0009426.
    with pytest.raises(BudgetExceeded, match=r"0\.0047676 CNY spent"):
        ex.extract(Person, "t", max_cost=0.003)


def test_stream_usage_counts_billed_reasoning() -> None:
    body = (
        b'data: {"id":"f1a2","object":"chat.completion.chunk","model":"grok-4","choices":'
        b'[{"index":0,"delta":{"role":"assistant","content":"{\\"name\\": \\"Ada\\"}"},'
        b'"finish_reason":null}]}\n\n'
        b'data: {"id":"f1a2","object":"chat.completion.chunk","model":"grok-4","choices":'
        b'[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":' + XAI_USAGE + b"}\n\n"
        b"data: [DONE]\n\n"
    )
    with sync(answer(body)).stream(Person, "t") as stream:
        stream.until_done()
    assert stream.usage.total_tokens == 588


# -- request ids ----------------------------------------------------------------------------

AZURE_HEADERS = {
    "apim-request-id": "6c1a9e5e-2f0b-4c0e-9d36-0f3f8a1c2b7d",
    "x-ms-region": "Sweden Central",
    "x-ratelimit-remaining-tokens": "149520",
}
AZURE_STREAM = (
    b'data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":'
    b'[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},'
    b'"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,'
    b'"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]}\n\n'
    b'data: {"choices":[{"content_filter_results":{},"delta":{"content":"{\\"name\\": \\"Ada\\"}",'
    b'"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":1752000000,'
    b'"id":"chatcmpl-Bz1","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk",'
    b'"system_fingerprint":"fp_ee1d74bde0"}\n\n'
    b'data: {"choices":[{"content_filter_results":{},"delta":{},"finish_reason":"stop",'
    b'"index":0,"logprobs":null}],"created":1752000000,"id":"chatcmpl-Bz1","model":'
    b'"gpt-4o-2024-11-20","object":"chat.completion.chunk","system_fingerprint":'
    b'"fp_ee1d74bde0"}\n\n'
    b"data: [DONE]\n\n"
)


def test_azure_request_id_header() -> None:
    handler = answer(xai('{"name": "Ada"}'), headers=AZURE_HEADERS)
    result = sync(handler).extract_result(Person, "t")
    assert result.attempts[0].request_id == AZURE_HEADERS["apim-request-id"]


def test_azure_request_id_on_errors() -> None:
    body = b'{"error":{"code":"DeploymentNotFound","message":"The API deployment does not exist."}}'
    with pytest.raises(NotFoundError) as info:
        sync(answer(body, headers=AZURE_HEADERS, status=404)).extract(Person, "t")
    assert info.value.request_id == AZURE_HEADERS["apim-request-id"]
    assert info.value.code == "DeploymentNotFound"


def test_azure_stream_request_id_is_the_header() -> None:
    with sync(answer(AZURE_STREAM, headers=AZURE_HEADERS)).stream(Person, "t") as stream:
        stream.until_done()
    assert stream.attempts[0].request_id == AZURE_HEADERS["apim-request-id"]


def test_an_empty_chunk_id_is_not_a_request_id() -> None:
    with sync(answer(AZURE_STREAM)).stream(Person, "t") as stream:
        stream.until_done()
    assert stream.attempts[0].request_id == "chatcmpl-Bz1"


# -- usage in provider fields ---------------------------------------------------------------

GROQ_STREAM = (
    b'data: {"id":"chatcmpl-5d1","object":"chat.completion.chunk","created":1752000000,'
    b'"model":"llama-3.3-70b-versatile","system_fingerprint":"fp_3f3b593e33","choices":[{'
    b'"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,'
    b'"finish_reason":null}],"x_groq":{"id":"req_01k0abc"}}\n\n'
    b'data: {"id":"chatcmpl-5d1","object":"chat.completion.chunk","created":1752000000,'
    b'"model":"llama-3.3-70b-versatile","system_fingerprint":"fp_3f3b593e33","choices":[{'
    b'"index":0,"delta":{"content":"{\\"name\\": \\"Ada\\"}"},"logprobs":null,'
    b'"finish_reason":null}]}\n\n'
    b'data: {"id":"chatcmpl-5d1","object":"chat.completion.chunk","created":1752000000,'
    b'"model":"llama-3.3-70b-versatile","system_fingerprint":"fp_3f3b593e33","choices":[{'
    b'"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"x_groq":{"id":'
    b'"req_01k0abc","usage":{"queue_time":0.0186,"prompt_tokens":50,"prompt_time":0.0026,'
    b'"completion_tokens":10,"completion_time":0.008,"total_tokens":60,"total_time":0.0106}}}'
    b"\n\n"
    b"data: [DONE]\n\n"
)


def test_groq_usage_in_x_groq() -> None:
    with sync(answer(GROQ_STREAM)).stream(Person, "t") as stream:
        stream.until_done()
    assert stream.usage.prompt_tokens == 50
    assert stream.usage.completion_tokens == 10


# -- error bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "cls", "message", "code"),
    [
        (  # Mistral
            400,
            b'{"object":"error","message":"Invalid model: mistral-larg-latest",'
            b'"type":"invalid_model","param":null,"code":"1500"}',
            BadRequestError,
            "Invalid model: mistral-larg-latest",
            "1500",
        ),
        (  # vLLM
            400,
            b'{"object":"error","message":"This model\'s maximum context length is 8192 '
            b'tokens. However, you requested 9000 tokens.","type":"BadRequestError",'
            b'"param":null,"code":400}',
            BadRequestError,
            "maximum context length is 8192",
            "400",
        ),
        (  # a gateway's bare string
            429,
            b'{"error":"Rate limit exceeded: free-models-per-day"}',
            RateLimitError,
            "Rate limit exceeded: free-models-per-day",
            None,
        ),
        (  # FastAPI-based servers
            404,
            b'{"detail":"Not Found"}',
            NotFoundError,
            "Not Found",
            None,
        ),
        (  # FastAPI validation errors
            422,
            b'{"detail":[{"type":"missing","loc":["body","messages"],"msg":"Field required",'
            b'"input":{"model":"m"}}]}',
            BadRequestError,
            "body.messages: Field required",
            None,
        ),
        (  # OpenRouter: the upstream provider's words in metadata.raw
            502,
            b'{"error":{"message":"Provider returned error","code":502,"metadata":{"raw":'
            b'"{\\"type\\":\\"error\\",\\"error\\":{\\"type\\":\\"overloaded_error\\",'
            b'\\"message\\":\\"Overloaded\\"}}","provider_name":"Anthropic"}},'
            b'"user_id":"user_2abc"}',
            ServerError,
            "Anthropic said:",
            "502",
        ),
        (  # Gemini: a list of one error
            400,
            b'[{"error":{"code":400,"message":"Request contains an invalid argument.",'
            b'"status":"INVALID_ARGUMENT"}}]',
            BadRequestError,
            "Request contains an invalid argument.",
            "400",
        ),
    ],
)
def test_error_bodies_of_every_shape(
    status: int, body: bytes, cls: type[APIError], message: str, code: str | None
) -> None:
    ex = sync(answer(body, status=status), max_transport_retries=0)
    with pytest.raises(cls) as info:
        ex.extract(Person, "t")
    assert message in str(info.value)
    assert info.value.code == code


def test_openrouter_raw_cause_is_in_the_message() -> None:
    body = (
        b'{"error":{"message":"Provider returned error","code":502,"metadata":{"raw":'
        b'"{\\"error\\":{\\"message\\":\\"Overloaded\\"}}","provider_name":"Anthropic"}}}'
    )
    with pytest.raises(ServerError, match="Overloaded"):
        sync(answer(body, status=502), max_transport_retries=0).extract(Person, "t")


def test_error_event_in_a_stream_of_flat_shape() -> None:
    body = (
        b'data: {"object":"error","message":"Model overloaded","type":"server","code":"3505"}\n\n'
    )
    with pytest.raises(APIError, match="Model overloaded") as info:
        sync(answer(body)).stream(Person, "t").until_done()
    assert info.value.code == "3505"


# -- a base URL with a query ----------------------------------------------------------------


def test_azure_base_url_keeps_its_query_after_the_path() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, content=xai('{"name": "Ada"}'))

    base = "https://res.openai.azure.com/openai/deployments/gpt-4o?api-version=2024-10-21"
    sync(handler, base_url=base).extract(Person, "t")
    assert str(seen[0]) == (
        "https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions"
        "?api-version=2024-10-21"
    )
    assert "api-version=2024-10-21" in repr(sync(handler, base_url=base))


# -- a body already in memory ---------------------------------------------------------------

SSE = sse(
    [
        {"choices": [{"index": 0, "delta": {"content": '{"name": '}}]},
        {"choices": [{"index": 0, "delta": {"content": '"Ada"}'}, "finish_reason": "stop"}]},
    ]
)


@pytest.mark.parametrize("headers", [{}, {"content-type": "text/event-stream"}])
def test_streaming_a_body_in_memory(headers: dict[str, str]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=SSE, headers=headers)

    with sync(handler).stream(Person, "t") as stream:
        assert stream.until_done().value == Person(name="Ada")


@pytest.mark.parametrize("headers", [{}, {"content-type": "text/event-stream"}])
async def test_async_streaming_a_body_in_memory(headers: dict[str, str]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=SSE, headers=headers)

    async with asynchronous(handler).stream(Person, "t") as stream:
        assert (await stream.until_done()).value == Person(name="Ada")


def test_other_endpoints_of_the_api_keep_the_query_too() -> None:
    """The Batch API's /files and /batches are built the same way."""
    endpoint = Endpoint(
        base_url="https://res.openai.azure.com/openai?api-version=2024-10-21", api_key=KEY
    )
    assert endpoint.url_for("/files") == (
        "https://res.openai.azure.com/openai/files?api-version=2024-10-21"
    )
    assert Endpoint(base_url="https://api.test/v1/", api_key=KEY).url_for("/batches") == (
        "https://api.test/v1/batches"
    )


def test_a_base_url_that_is_not_a_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="is not a URL"):
        Extractor(api_key=KEY, base_url="http://[::1")
