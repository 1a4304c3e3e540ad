"""extractor.testing.Recorder / Replayer: record once without secrets, replay offline, fail
loudly on a request that was not recorded."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from extractor.testing import FakeModel, Recorder, Replayer, ReplayMismatch, Reply, cassette, wire
from tests.helpers import chat_body

URL = "https://api.example.test/v1/chat/completions"
KEY = "sk-proj-REAL-KEY-0123456789abcdef"


def secret_headers() -> dict[str, str]:
    return {
        "Authorization": f"Bearer {KEY}",
        "api-key": KEY,
        "X-Goog-Api-Key": KEY,
        "Cookie": f"session={KEY}",
        "OpenAI-Project": "proj_public_id",
    }


@pytest.fixture
def upstream() -> FakeModel:
    """Stands in for the real API behind the recorder; it answers with a cookie and
    rate-limit headers, as real gateways do."""
    fake = FakeModel()
    fake.rate_limit(retry_after=1)
    fake.answer({"name": "Ada"}, headers={"set-cookie": f"__cf_bm={KEY}"})
    fake.answer({"name": "Grace"}, headers={"x-ratelimit-remaining-tokens": "149000"})
    return fake


def record(path: Path, upstream: FakeModel) -> list[httpx.Response]:
    recorder = Recorder(path, upstream.transport())
    with httpx.Client(transport=recorder, headers=secret_headers()) as client:
        return [
            client.post(URL, json=chat_body("Ada Lovelace")),  # 429
            client.post(URL, json=chat_body("Ada Lovelace")),  # retried: 200
            client.post(URL + f"?api-key={KEY}", json=chat_body("Grace Hopper")),
        ]


def test_recorded_file_holds_no_secret(tmp_path: Path, upstream: FakeModel) -> None:
    path = tmp_path / "cassette.jsonl"
    record(path, upstream)
    raw = path.read_text(encoding="utf-8")
    assert KEY not in raw
    assert KEY[-12:] not in raw
    entries = [json.loads(line) for line in raw.splitlines()]
    assert len(entries) == 3
    for entry in entries:
        headers = entry["request"]["headers"]
        assert not {"authorization", "api-key", "x-goog-api-key", "cookie"} & set(headers)
        assert headers["openai-project"] == "proj_public_id"
        assert "set-cookie" not in entry["response"]["headers"]
    assert entries[2]["request"]["url"].endswith("?api-key=%5BREDACTED%5D")
    assert entries[2]["response"]["headers"]["x-ratelimit-remaining-tokens"] == "149000"
    assert len(upstream.requests) == 3


@pytest.mark.parametrize(
    "header",
    [
        {"authorization": f"Bearer {KEY}"},
        {"api-key": KEY},  # Azure OpenAI
        {"x-goog-api-key": KEY},
    ],
)
def test_key_anywhere_in_the_exchange_is_scrubbed(tmp_path: Path, header: dict[str, str]) -> None:
    path = tmp_path / "c.jsonl"
    echo = Reply.http_error(401, f"Incorrect API key provided: {KEY}.")
    upstream = FakeModel([{"ok": True}, echo])
    with httpx.Client(transport=Recorder(path, upstream.transport()), headers=header) as client:
        client.post(URL, json=chat_body(f"my key is {KEY}, json"))
        client.post(URL, json=chat_body("json"))
    raw = path.read_text(encoding="utf-8")
    assert KEY not in raw
    assert "my key is [REDACTED]" in raw
    assert "Incorrect API key provided: [REDACTED]." in raw


def test_short_header_values_are_not_scrubbed(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    upstream = FakeModel([{"n": 1}])
    with httpx.Client(transport=Recorder(path, upstream.transport())) as client:
        client.post(URL, json=chat_body("json 1"), headers={"x-session-id": "1"})
    assert '"json 1"' in path.read_text(encoding="utf-8")


def test_recorder_passes_responses_through(tmp_path: Path, upstream: FakeModel) -> None:
    limited, first, second = record(tmp_path / "c.jsonl", upstream)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    assert json.loads(first.json()["choices"][0]["message"]["content"]) == {"name": "Ada"}
    assert second.headers["x-request-id"] == "req_fake_0003"


def test_replay_serves_the_recording_in_order(tmp_path: Path, upstream: FakeModel) -> None:
    path = tmp_path / "c.jsonl"
    recorded = record(path, upstream)
    replayer = Replayer(path)
    with httpx.Client(transport=replayer, headers={"Authorization": "Bearer sk-dummy"}) as client:
        replayed = [
            client.post(URL, json=chat_body("Ada Lovelace")),
            client.post(
                "https://other-host.test/v1/chat/completions", json=chat_body("Ada Lovelace")
            ),
            client.post(URL, json=chat_body("Grace Hopper")),
        ]
    assert [r.status_code for r in replayed] == [429, 200, 200]
    for before, after in zip(recorded, replayed, strict=True):
        assert after.json() == before.json()
        assert after.headers["x-request-id"] == before.headers["x-request-id"]
    assert replayed[0].headers["retry-after"] == "1"
    assert replayer.unused == 0
    assert len(replayer.requests) == 3 and "authorization" not in replayer.requests[0].headers


def test_key_order_and_formatting_do_not_matter(tmp_path: Path, upstream: FakeModel) -> None:
    path = tmp_path / "c.jsonl"
    record(path, upstream)
    reordered = json.dumps(dict(reversed(list(chat_body("Ada Lovelace").items()))), indent=4)
    with httpx.Client(transport=Replayer(path)) as client:
        response = client.post(URL, content=reordered, headers={"content-type": "application/json"})
    assert response.status_code == 429


def test_unrecorded_request_fails_with_a_diff(tmp_path: Path, upstream: FakeModel) -> None:
    path = tmp_path / "c.jsonl"
    record(path, upstream)
    with httpx.Client(transport=Replayer(path)) as client, pytest.raises(ReplayMismatch) as info:
        client.post(URL, json=chat_body("Grace Hopper", temperature=0))
    message = str(info.value)
    assert "matches no recording" in message
    assert "Closest recording, #3" in message  # the Grace Hopper one, not the Ada ones
    assert '+  "temperature": 0' in message
    assert "--- recording #3 in c.jsonl" in message and "+++ this request" in message
    assert isinstance(info.value, AssertionError)


def test_changed_prompt_is_shown_in_the_diff(tmp_path: Path, upstream: FakeModel) -> None:
    path = tmp_path / "c.jsonl"
    record(path, upstream)
    changed = chat_body("Grace Hopper")
    changed["messages"][0]["content"] = "Reply with JSON only."
    with httpx.Client(transport=Replayer(path)) as client, pytest.raises(ReplayMismatch) as info:
        client.post(URL, json=changed)
    assert '-      "content": "Reply with JSON.",' in str(info.value)
    assert '+      "content": "Reply with JSON only.",' in str(info.value)


def test_recordings_are_used_once_unless_repeat(tmp_path: Path, upstream: FakeModel) -> None:
    path = tmp_path / "c.jsonl"
    record(path, upstream)
    with httpx.Client(transport=Replayer(path)) as client:
        client.post(URL, json=chat_body("Grace Hopper"))
        with pytest.raises(ReplayMismatch, match="already replayed"):
            client.post(URL, json=chat_body("Grace Hopper"))
    with httpx.Client(transport=Replayer(path, repeat=True)) as client:
        codes = [client.post(URL, json=chat_body("Grace Hopper")).status_code for _ in range(3)]
    assert codes == [200, 200, 200]


def test_wrong_path_or_method_does_not_match(tmp_path: Path, upstream: FakeModel) -> None:
    path = tmp_path / "c.jsonl"
    record(path, upstream)
    with httpx.Client(transport=Replayer(path)) as client:
        with pytest.raises(ReplayMismatch, match=r"POST /v1/responses"):
            client.post("https://api.example.test/v1/responses", json=chat_body("Grace Hopper"))
        with pytest.raises(ReplayMismatch, match=r"PUT /v1/chat/completions"):
            client.put(URL, json=chat_body("Grace Hopper"))


async def test_async_record_and_replay(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    upstream = FakeModel(handler=lambda req: {"echo": req.user})
    async with httpx.AsyncClient(transport=Recorder(path, upstream.async_transport())) as client:
        recorded = [await client.post(URL, json=chat_body(f"t{i}")) for i in range(3)]
    async with httpx.AsyncClient(transport=Replayer(path)) as client:
        replayed = [await client.post(URL, json=chat_body(f"t{i}")) for i in (2, 0, 1)]
    assert [r.json() for r in replayed] == [recorded[i].json() for i in (2, 0, 1)]


def test_streams_are_recorded_and_replayed_event_by_event(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    upstream = FakeModel().answer({"name": "Ada Lovelace"}, chunk_chars=3)
    stream_body = chat_body("Ada", stream=True, stream_options={"include_usage": True})
    with httpx.Client(transport=Recorder(path, upstream.transport())) as client:
        recorded = client.post(URL, json=stream_body).content
    entry = json.loads(path.read_text(encoding="utf-8"))
    assert entry["response"]["text"].endswith("data: [DONE]\n\n")
    replayer = Replayer(path)
    with (
        httpx.Client(transport=replayer) as client,
        client.stream("POST", URL, json=stream_body) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        reads = list(response.iter_raw())
    assert b"".join(reads) == recorded
    assert len(reads) == len(wire.read_chunks(recorded)) + 1  # one read per event, [DONE] included
    assert wire.streamed_content(recorded) == '{"name": "Ada Lovelace"}'


def test_recorder_appends_each_exchange_as_it_happens(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "c.jsonl"
    upstream = FakeModel([{"n": 1}, {"n": 2}, Reply.http_error(500)])
    recorder = Recorder(path, upstream.transport())
    with httpx.Client(transport=recorder) as client:
        client.post(URL, json=chat_body("one"))
        assert len(path.read_text().splitlines()) == 1  # on disk before the next call
        client.post(URL, json=chat_body("two"))
    assert recorder.count == 2
    again = Recorder(path, upstream.transport(), append=True)
    with httpx.Client(transport=again) as client:
        client.post(URL, json=chat_body("three"))
    assert len(path.read_text().splitlines()) == 3
    Recorder(path, upstream.transport())  # a new recording starts empty
    assert path.read_text() == ""


def test_bad_files_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="record it first"):
        Replayer(tmp_path / "missing.jsonl")
    broken = tmp_path / "broken.jsonl"
    broken.write_text(
        '{"request": {"method": "POST", "url": "u"}, "response": {"status": 200}}\n{oops\n'
    )
    with pytest.raises(ValueError, match=r"broken.jsonl:2: not a recorded exchange"):
        Replayer(broken)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with (
        httpx.Client(transport=Replayer(empty)) as client,
        pytest.raises(ReplayMismatch, match="holds no recordings"),
    ):
        client.post(URL, json=chat_body("x"))


def test_cassette_records_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.jsonl"
    monkeypatch.delenv("EXTRACTOR_RECORD", raising=False)
    with pytest.raises(FileNotFoundError):
        cassette(path)
    monkeypatch.setenv("EXTRACTOR_RECORD", "1")
    assert isinstance(cassette(path, transport=FakeModel().transport()), Recorder)
    assert isinstance(cassette(path, record=False), Replayer)
