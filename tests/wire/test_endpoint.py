"""Transport failures: typed errors for each status, and retries that honour the server."""

from __future__ import annotations

import email.utils

import httpx
import pytest
import respx
from pydantic import BaseModel

from extractor import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AsyncExtractor,
    AuthenticationError,
    BadRequestError,
    Extractor,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from tests.helpers import BASE_URL, GATEWAY_PRICE, KEY, URL, error, reply

NOW = 1_700_000_000.0


class Person(BaseModel):
    name: str


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def ex(sleeps):
    return Extractor(
        api_key=KEY,
        base_url=BASE_URL,
        sleep=sleeps.append,
        clock=lambda: NOW,
        max_transport_retries=3,
        price=GATEWAY_PRICE,
    )


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (422, BadRequestError),
    ],
)
def test_client_errors_are_typed_and_not_retried(ex, sleeps, status, cls):
    with respx.mock:
        route = respx.post(URL).mock(
            return_value=error(status, "the server says no", code="bad_thing")
        )
        with pytest.raises(cls) as info:
            ex.extract(Person, "x")
    assert route.call_count == 1 and sleeps == []
    err = info.value
    assert (err.status_code, err.code, err.request_id) == (status, "bad_thing", "req_err")
    assert "the server says no" in str(err) and "req_err" in str(err)
    assert isinstance(err, APIError)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503])
def test_transient_statuses_are_retried_then_succeed(ex, sleeps, status):
    with respx.mock:
        route = respx.post(URL).mock(
            side_effect=[error(status), error(status), reply({"name": "A"})]
        )
        result = ex.extract_result(Person, "x")
    assert route.call_count == 3 and len(sleeps) == 2
    assert len(result.attempts) == 1  # transport retries are not re-asks
    assert all(0 <= s <= 8 for s in sleeps)


def test_retries_have_their_own_limit(ex, sleeps):
    with respx.mock:
        route = respx.post(URL).mock(return_value=error(503, "overloaded"))
        with pytest.raises(ServerError, match="overloaded"):
            ex.extract(Person, "x", max_retries=10)
    assert route.call_count == 4 and len(sleeps) == 3


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": email.utils.formatdate(NOW + 12, usegmt=True)}, 12.0),
        ({"retry-after": "3600"}, 60.0),  # capped
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),  # the precise one wins
    ],
)
def test_retry_after_in_each_form(ex, sleeps, headers, expected):
    with respx.mock:
        respx.post(URL).mock(side_effect=[error(429, **headers), reply({"name": "A"})])
        ex.extract(Person, "x")
    assert sleeps == [pytest.approx(expected, abs=0.01)]


def test_unreadable_retry_after_falls_back_to_backoff(ex, sleeps):
    with respx.mock:
        respx.post(URL).mock(
            side_effect=[error(429, **{"retry-after": "soon"}), reply({"name": "A"})]
        )
        ex.extract(Person, "x")
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 8


def test_insufficient_quota_is_not_retried(ex, sleeps):
    with respx.mock:
        route = respx.post(URL).mock(
            return_value=error(429, "You exceeded your quota", code="insufficient_quota")
        )
        with pytest.raises(RateLimitError, match="out of quota"):
            ex.extract(Person, "x")
    assert route.call_count == 1 and sleeps == []


def test_x_should_retry_overrides(ex, sleeps):
    with respx.mock:
        route = respx.post(URL).mock(
            side_effect=[error(400, **{"x-should-retry": "true"}), reply({"name": "A"})]
        )
        ex.extract(Person, "x")
        assert route.call_count == 2
    with respx.mock:
        route = respx.post(URL).mock(return_value=error(500, **{"x-should-retry": "false"}))
        with pytest.raises(ServerError):
            ex.extract(Person, "x")
        assert route.call_count == 1


def test_connection_errors_and_timeouts_are_retried_then_typed(ex, sleeps):
    with respx.mock:
        route = respx.post(URL).mock(
            side_effect=[httpx.ConnectError("refused"), reply({"name": "A"})]
        )
        assert ex.extract(Person, "x").name == "A"
        assert route.call_count == 2
        respx.post(URL).mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(APITimeoutError, match="timed out"):
            ex.extract(Person, "x")
        respx.post(URL).mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(APIConnectionError, match="could not reach"):
            ex.extract(Person, "x")


def test_a_non_completion_200_is_a_clear_error(ex):
    with respx.mock:
        respx.post(URL).mock(return_value=httpx.Response(200, text="<html>login</html>"))
        with pytest.raises(APIError, match="not a chat completion"):
            ex.extract(Person, "x")


def test_error_body_that_is_not_json(ex):
    with respx.mock:
        respx.post(URL).mock(return_value=httpx.Response(404, text="Not Found"))
        with pytest.raises(NotFoundError, match="Check base_url"):
            ex.extract(Person, "x")


async def test_async_retries_use_the_injected_sleep():
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    ex = AsyncExtractor(api_key=KEY, base_url=BASE_URL, sleep=sleep)
    with respx.mock:
        respx.post(URL).mock(side_effect=[error(429, **{"retry-after": "2"}), reply({"name": "A"})])
        assert (await ex.extract(Person, "x")).name == "A"
    assert sleeps == [2.0]


def test_errors_after_spending_carry_the_spend(ex):
    with respx.mock:
        respx.post(URL).mock(side_effect=[reply({"nope": 1}), error(401, "bad key")])
        with pytest.raises(AuthenticationError) as info:
            ex.extract(Person, "x")
    assert info.value.usage.prompt_tokens == 100
    assert info.value.cost is not None and len(info.value.attempts) == 1


def test_text_with_a_lone_surrogate_is_refused_before_sending():
    """Bytes read with surrogateescape (stdin, a file opened leniently) reach the text as lone
    surrogates, which json.dumps keeps and UTF-8 cannot encode: a ConfigurationError, not a
    UnicodeEncodeError from inside the call."""
    from extractor import ConfigurationError
    from extractor.testing import FakeModel

    fake = FakeModel()
    with pytest.raises(ConfigurationError, match="surrogate"):
        fake.extractor().extract(Person, b"name: Ad\xff".decode("utf-8", "surrogateescape"))
    assert fake.requests == []


@pytest.mark.parametrize("base_url", ["api.example.com/v1", "ftp://api.example.com/v1"])
def test_a_base_url_without_http_is_a_configuration_error_not_a_network_one(base_url):
    """It used to be an APIConnectionError ("Check the network"), retried first."""
    from extractor import ConfigurationError

    seen: list[float] = []
    ex = Extractor(api_key=KEY, base_url=base_url, sleep=seen.append)
    with pytest.raises(ConfigurationError, match="must start with http:// or https://"):
        ex.extract(Person, "Ada")
    assert seen == []  # nothing retried


def test_a_relative_base_url_goes_to_the_clients_own_base_url():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return reply({"name": "Ada"})

    client = httpx.Client(base_url=BASE_URL, transport=httpx.MockTransport(handler))
    Extractor(api_key=KEY, base_url="gateway", http_client=client).extract(Person, "Ada")
    assert str(seen[0].url) == BASE_URL + "/gateway/chat/completions"
