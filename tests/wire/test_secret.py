"""The key never leaves in any text built from a response or a transport error, on every path
it leaked before: a 200 that is not a completion, an error event in a stream, httpx's own
errors, a cut before redaction, and the key's base64."""

from __future__ import annotations

import base64
import logging
import traceback
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from extractor import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    ConfigurationError,
    ExtractionError,
    Extractor,
    StreamError,
    ValidationFailed,
)
from extractor.testing.wire import completion
from extractor.wire.secret import Secret, excerpt
from tests.helpers import BASE_URL, KEY

B64 = base64.b64encode(KEY.encode()).decode()


class Person(BaseModel):
    name: str


def extractor(handler: Any, key: str = KEY, **kwargs: Any) -> Extractor:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return Extractor(
        api_key=key, base_url=BASE_URL, http_client=client, sleep=lambda s: None, **kwargs
    )


def leaked(exc: BaseException) -> bool:
    text = "".join(traceback.format_exception(exc)) + repr(vars(exc))
    return any(form in text for form in (KEY, KEY[:12], B64[:12]))


def raised(ex: Extractor, stream: bool = False) -> ExtractionError:
    with pytest.raises(ExtractionError) as info:
        if stream:
            ex.stream(Person, "t").until_done()
        else:
            ex.extract(Person, "t")
    return info.value


def test_a_200_that_is_not_a_completion_and_echoes_the_key() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        echo = {"ok": True, "headers": {"authorization": request.headers["authorization"]}}
        return httpx.Response(200, json=echo)

    error = raised(extractor(handler))
    assert isinstance(error, APIError) and "not a chat completion" in str(error)
    assert not leaked(error)


@pytest.mark.parametrize(
    "body",
    [
        b'data: {"error": {"message": "Incorrect API key provided: ' + KEY.encode() + b'"}}\n\n',
        b'data: {"object": "error", "message": "bad key ' + KEY.encode() + b'"}\n\n',
        b"event: error\ndata: bad key " + KEY.encode() + b"\n\n",
    ],
)
def test_an_error_event_in_a_stream_that_echoes_the_key(body: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    error = raised(extractor(handler), stream=True)
    assert isinstance(error, StreamError) and "<secret>" in str(error)
    assert not leaked(error)


@pytest.mark.parametrize("suffix", ["\r\n", "\n", "\r", " ", "\t"])
def test_a_key_with_trailing_whitespace_is_stripped_before_any_request(suffix: str) -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["authorization"])
        return httpx.Response(200, json=completion('{"name": "Ada"}'))

    assert extractor(handler, key=KEY + suffix).extract(Person, "t") == Person(name="Ada")
    assert sent == [f"Bearer {KEY}"]


def test_a_key_read_from_a_crlf_file_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTRACTOR_API_KEY", KEY + "\r\n")
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["authorization"])
        return httpx.Response(200, json=completion('{"name": "Ada"}'))

    client = httpx.Client(transport=httpx.MockTransport(handler))
    Extractor(base_url=BASE_URL, http_client=client).extract(Person, "t")
    assert sent == [f"Bearer {KEY}"]


@pytest.mark.parametrize("inner", ["\r", "\n", " ", "\x00", "é"])
def test_a_key_with_inner_whitespace_is_refused_before_any_request(inner: str) -> None:
    key = KEY[:10] + inner + KEY[10:]
    sent: list[httpx.Request] = []
    ex = extractor(lambda request: sent.append(request) or httpx.Response(500), key=key)
    with pytest.raises(ConfigurationError, match="API key contains") as info:
        ex.extract(Person, "t")
    assert sent == []
    assert key not in str(info.value) and KEY[:10] not in str(info.value)


def test_httpx_errors_naming_the_key_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.LocalProtocolError(f"Illegal header value b'Bearer {KEY}'")

    error = raised(extractor(handler, max_transport_retries=2))
    assert isinstance(error, APIConnectionError)
    assert not leaked(error)
    assert "retrying" in caplog.text and KEY not in caplog.text


def test_a_broken_stream_naming_the_key_is_redacted() -> None:
    class Broken(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield b'data: {"choices": [{"index": 0, "delta": {"content": "{"}}]}\n\n'
            raise httpx.ReadError(f"connection reset, last header Bearer {KEY}")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Broken(), headers={"content-type": "text/event-stream"})

    error = raised(extractor(handler), stream=True)
    assert isinstance(error, StreamError) and "<secret>" in str(error)
    assert "connection reset" in str(error)
    assert not leaked(error)


def test_a_non_json_error_body_is_redacted_before_it_is_cut() -> None:
    """The key straddles the 500-character cut: a cut first would keep its prefix."""
    body = "x" * 490 + KEY

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, text=body)

    error = raised(extractor(handler))
    assert isinstance(error, AuthenticationError)
    assert KEY[:8] not in str(error)


def test_the_keys_base64_is_redacted() -> None:
    for prefix in ("", "u", "us", "user:", "Bearer "):
        encoded = base64.b64encode(f"{prefix}{KEY}".encode()).decode()

        def handler(request: httpx.Request, encoded: str = encoded) -> httpx.Response:
            body = {"error": {"message": f"bad credentials Basic {encoded}", "code": "auth"}}
            return httpx.Response(401, json=body)

        message = str(raised(extractor(handler)))
        # Beyond the prefix's own characters, at most the key's last base64 character stays.
        assert "<secret>" in message
        assert encoded[len(prefix) * 4 // 3 + 2 : -4] not in message


def test_the_urlsafe_base64_is_redacted() -> None:
    secret = Secret("sk-???>>>???>>>???>>>key")
    encoded = base64.urlsafe_b64encode(secret.value.encode()).decode()
    assert "-" in encoded or "_" in encoded
    assert secret.redact(encoded).startswith("<secret>")


def test_an_answer_echoing_the_key_is_redacted_in_raw() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=completion(f'{{"nom": "{KEY}"}}'))

    error = raised(extractor(handler, max_retries=0))
    assert isinstance(error, ValidationFailed)
    assert error.raw is not None and KEY not in error.raw
    assert all(KEY not in (attempt.raw or "") for attempt in error.attempts)


def test_excerpt_redacts_then_cuts() -> None:
    secret = Secret(KEY)
    assert excerpt("a" * 5 + KEY, 10, secret) == "aaaaa<secr..."
    assert excerpt("short", 10, None) == "short"


def test_short_keys_are_not_redacted() -> None:
    """A test key such as "k" is no secret; redacting it would mangle every answer."""
    assert Secret("k").redact("sku") == "sku"
