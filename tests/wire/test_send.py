"""The senders: the first attempt goes out without tenacity, and a call handed to tenacity after
a retryable failure counts that failure as its first attempt (same budget, waits and logs as
if tenacity had made it). The request is built as httpx's ``build_request`` would build it."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
import respx
from pydantic import BaseModel

from extractor import APIConnectionError, AsyncExtractor, Extractor, ServerError
from extractor.wire.endpoint import Endpoint
from tests.helpers import BASE_URL, KEY, URL, error, reply


class Person(BaseModel):
    name: str


def test_sync_retry_budget_counts_the_first_attempt(caplog: pytest.LogCaptureFixture) -> None:
    sleeps: list[float] = []
    ex = Extractor(api_key=KEY, base_url=BASE_URL, sleep=sleeps.append, max_transport_retries=2)
    caplog.set_level(logging.INFO, logger="extractor")
    with respx.mock:
        route = respx.post(URL).mock(return_value=error(503, "overloaded"))
        with pytest.raises(ServerError, match="overloaded"):
            ex.extract(Person, "x")
    assert route.call_count == 3 and len(sleeps) == 2
    logged = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert [m.split("after attempt ")[1][0] for m in logged] == ["1", "2"]


async def test_async_retry_budget_counts_the_first_attempt() -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    ex = AsyncExtractor(api_key=KEY, base_url=BASE_URL, sleep=sleep, max_transport_retries=3)
    with respx.mock:
        route = respx.post(URL).mock(return_value=error(500))
        with pytest.raises(ServerError):
            await ex.extract(Person, "x")
    assert route.call_count == 4 and len(sleeps) == 3


@pytest.mark.parametrize("make_async", [False, True])
async def test_no_transport_retries_means_one_request(make_async: bool) -> None:
    with respx.mock:
        route = respx.post(URL).mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(APIConnectionError):
            if make_async:
                ex = AsyncExtractor(api_key=KEY, base_url=BASE_URL, max_transport_retries=0)
                await ex.extract(Person, "x")
            else:
                Extractor(api_key=KEY, base_url=BASE_URL, max_transport_retries=0).extract(
                    Person, "x"
                )
    assert route.call_count == 1


async def test_async_concurrent_calls_retry_independently() -> None:
    """Each retried call gets its own tenacity state: one call's failures do not use up
    another's budget."""

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(0)

    ex = AsyncExtractor(api_key=KEY, base_url=BASE_URL, sleep=sleep, max_transport_retries=1)
    with respx.mock:
        respx.post(URL).mock(
            side_effect=[error(503), error(503), reply({"name": "A"}), reply({"name": "B"})]
        )
        names = await asyncio.gather(ex.extract(Person, "a"), ex.extract(Person, "b"))
    assert sorted(p.name for p in names) == ["A", "B"]


def test_a_stream_that_fails_to_open_is_retried() -> None:
    sleeps: list[float] = []
    ex = Extractor(api_key=KEY, base_url=BASE_URL, sleep=sleeps.append)
    with respx.mock:
        route = respx.post(URL).mock(side_effect=[error(429), reply({"name": "A"})])
        with ex.stream(Person, "x") as stream:
            assert stream.until_done().value.name == "A"
    assert route.call_count == 2 and len(sleeps) == 1


async def test_an_async_stream_that_fails_to_open_is_retried() -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    ex = AsyncExtractor(api_key=KEY, base_url=BASE_URL, sleep=sleep)
    with respx.mock:
        route = respx.post(URL).mock(side_effect=[error(503), reply({"name": "A"})])
        async with ex.stream(Person, "x") as stream:
            assert (await stream.until_done()).value.name == "A"
    assert route.call_count == 2 and len(sleeps) == 1


@pytest.mark.parametrize(
    "client",
    [
        httpx.Client(),
        httpx.Client(headers={"User-Agent": "mine", "X-Team": "a"}, timeout=7),
        httpx.AsyncClient(headers={"authorization": "overridden by ours"}),
    ],
)
def test_requests_are_built_as_httpx_builds_them(client: httpx.Client) -> None:
    endpoint = Endpoint(base_url=BASE_URL, api_key=KEY, headers={"X-Extra": "1"})
    body = {"model": "m", "messages": [{"role": "user", "content": "héllo"}]}
    ours = endpoint.request(client, body)
    theirs = client.build_request(
        "POST", endpoint.url, content=ours.content, headers=endpoint.headers()
    )
    assert (ours.method, ours.url, ours.headers.raw) == (
        theirs.method,
        theirs.url,
        theirs.headers.raw,
    )
    assert ours.extensions == theirs.extensions and ours.content == theirs.content


def test_client_cookies_and_params_still_apply() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return reply({"name": "A"})

    client = httpx.Client(
        transport=httpx.MockTransport(handler), cookies={"session": "s1"}, params={"v": "2"}
    )
    Extractor(api_key=KEY, base_url=BASE_URL, http_client=client).extract(Person, "x")
    assert seen[0].headers["cookie"] == "session=s1"
    assert seen[0].url.params["v"] == "2"


def test_a_relative_base_url_joins_the_clients() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return reply({"name": "A"})

    client = httpx.Client(transport=httpx.MockTransport(handler), base_url="https://gw.test")
    Extractor(api_key=KEY, base_url="/openai/v1", http_client=client).extract(Person, "x")
    assert str(seen[0].url) == "https://gw.test/openai/v1/chat/completions"


def test_headers_set_on_the_client_later_reach_later_requests() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return reply({"name": "A"})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    ex = Extractor(api_key=KEY, base_url=BASE_URL, http_client=client)
    ex.extract(Person, "x")
    client.headers["X-Trace"] = "t-2"
    ex.extract(Person, "x")
    assert "x-trace" not in seen[0].headers
    assert seen[1].headers["x-trace"] == "t-2"
    assert seen[1].headers["authorization"] == f"Bearer {KEY}"
