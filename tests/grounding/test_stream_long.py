"""``stream_items`` over a long text: chunk by chunk, every item once, a re-asked chunk voiding
only its own items, a failed chunk never dropped silently."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from extractor import ChunkFailed, Done, ItemInvalid, ItemReady, RefusalError, Restart
from extractor.testing import FakeModel, Reply
from extractor.testing.exchange import SeenRequest

from .planted import SCHEMA, build, fake_answer

ITEM = SCHEMA["properties"]["records"]["items"]


def answer(seen: SeenRequest) -> dict[str, Any]:
    return {"result": fake_answer(seen.text, invent=False)["records"]}


def replay(events: list[Any]) -> list[Any]:
    """What a consumer following the events holds at the end."""
    shown: list[Any] = []
    for event in events:
        if isinstance(event, Restart):
            del shown[event.since :]
        elif isinstance(event, ItemReady):
            if event.index < len(shown):  # completed by a later chunk
                shown[event.index] = event.value
                continue
            assert event.index == len(shown), "items arrive in their final order"
            shown.append(event.value)
    return shown


def test_items_arrive_chunk_by_chunk_each_once() -> None:
    doc = build(40_000)
    fake = FakeModel(handler=answer)
    with fake.extractor().stream_items(ITEM, doc.text, chunk_size=4_000, ground=True) as stream:
        events = list(stream)
    assert isinstance(events[-1], Done)
    done = events[-1]
    assert replay(events) == done.value
    assert Counter(r["ref"] for r in done.value) == Counter(r.values["ref"] for r in doc.records)
    assert done.extraction.chunks == len(fake.requests) > 5
    assert done.extraction.spans is not None
    for i, record in enumerate(doc.records):
        span = done.extraction.spans[f"[{i}].ref"]
        assert span is not None and (span.start, span.end) == record.spans["ref"]
    # Overlaps made the model read some records twice; none was shown twice.
    read = sum((a.raw or "").count('"ref"') for a in done.extraction.attempts)
    assert read > len(done.value)
    assert stream.usage.total_tokens == done.extraction.usage.total_tokens > 0


def test_a_rejected_chunk_voids_only_its_own_items() -> None:
    doc = build(20_000)
    victim = doc.records[20].values["ref"]

    def once_wrong(seen: SeenRequest) -> dict[str, Any]:
        records = answer(seen)
        if victim in seen.text and seen.user == seen.contents("user")[0]:
            records["result"] = [{**r, "quantity": "many"} if r["ref"] == victim else r
                                 for r in records["result"]]  # fmt: skip
        return records

    fake = FakeModel(handler=once_wrong)
    with fake.extractor().stream_items(ITEM, doc.text, chunk_size=4_000) as stream:
        events = list(stream)
    restarts = [e for e in events if isinstance(e, Restart)]
    assert restarts and all(r.since > 0 for r in restarts)
    assert any(isinstance(e, ItemInvalid) for e in events)
    done = events[-1]
    assert isinstance(done, Done) and replay(events) == done.value
    assert [r["ref"] for r in done.value] == [r.values["ref"] for r in doc.records]


def test_a_failed_chunk_ends_the_stream_with_what_the_others_found() -> None:
    doc = build(20_000)
    victim = doc.records[20].values["ref"]

    def refusing(seen: SeenRequest) -> Any:
        return Reply.refuse() if victim in seen.text else answer(seen)

    fake = FakeModel(handler=refusing)
    ex = fake.extractor()
    events: list[Any] = []
    stream = ex.stream_items(ITEM, doc.text, chunk_size=4_000)
    with pytest.raises(ChunkFailed) as caught, stream:
        events.extend(stream)
    assert all(isinstance(f.error, RefusalError) for f in caught.value.failures)
    assert caught.value.partial is not None
    shown = [r["ref"] for r in replay(events)]
    assert [r["ref"] for r in caught.value.partial.value] == shown
    assert victim not in shown and len(shown) > 30

    with ex.stream_items(ITEM, doc.text, chunk_size=4_000, partial_ok=True) as stream:
        result = stream.until_done()
    assert [r["ref"] for r in result.value] == shown and result.failed_chunks


async def test_async_streams_items_the_same_way() -> None:
    doc = build(20_000)
    fake = FakeModel(handler=answer)
    async with (
        fake.async_extractor() as ex,
        ex.stream_items(ITEM, doc.text, chunk_size=4_000) as stream,
    ):
        events = [event async for event in stream]
    done = events[-1]
    assert isinstance(done, Done) and replay(events) == done.value
    assert [r["ref"] for r in done.value] == [r.values["ref"] for r in doc.records]


def test_items_of_a_chunk_that_fails_midway_are_voided() -> None:
    doc = build(20_000)
    victim = doc.records[20].values["ref"]

    def cut_off(seen: SeenRequest) -> Any:
        if victim not in seen.text:
            return answer(seen)
        whole = json.dumps(answer(seen))
        return Reply.truncated(whole[: len(whole) * 2 // 3])  # items stream, then the cut

    fake = FakeModel(handler=cut_off)
    with fake.extractor().stream_items(ITEM, doc.text, chunk_size=4_000, partial_ok=True) as s:
        events = list(s)
    voiding = [e for e in events if isinstance(e, Restart)]
    assert len(voiding) == 1 and "failed" in str(voiding[0].errors[0])
    done = events[-1]
    assert isinstance(done, Done) and replay(events) == done.value
    assert [f.error.__class__.__name__ for f in done.extraction.failed_chunks] == [
        "TruncatedError"
    ] * len(done.extraction.failed_chunks)
    assert victim not in {r["ref"] for r in done.value}
