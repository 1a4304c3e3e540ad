"""The fake model's streams driving the library's streaming extraction (``ex.stream``):
every scripted stream behaviour reaches the caller as the real API's would."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from extractor import RefusalError, StreamError, TruncatedError
from extractor.streaming import Done, Snapshot
from extractor.testing import FakeModel, Reply


class Item(BaseModel):
    sku: str
    qty: int


class Order(BaseModel):
    customer: str
    items: list[Item]


ORDER = Order(customer="Ada", items=[Item(sku=f"SKU-{i}", qty=i) for i in range(1, 6)])


@pytest.mark.parametrize("read_size", [None, 1, 7])
def test_streamed_answer_gives_snapshots_then_the_value(read_size: int | None) -> None:
    fake = FakeModel().then(Reply.answer(ORDER, chunk_chars=3, read_size=read_size))
    with fake.extractor().stream(Order, "order text") as events:
        seen = list(events)
    assert isinstance(seen[-1], Done) and seen[-1].value == ORDER
    snapshots = [e.value for e in seen if isinstance(e, Snapshot)]
    assert len(snapshots) > 3
    counts = [len(s.items or []) for s in snapshots]
    assert counts == sorted(counts) and counts[-1] >= 4  # items appear one by one, never vanish
    assert fake.last.stream and fake.last.json["stream_options"] == {"include_usage": True}
    assert events.result.usage.completion_tokens > 0  # from the usage chunk


def test_stream_items_and_a_reask_restart() -> None:
    bad = {"customer": "Ada", "items": [{"sku": "A", "qty": "many"}]}
    fake = FakeModel().answer(bad, chunk_chars=5).answer(ORDER.items, target=list[Item])
    with fake.extractor().stream_items(Item, "order text") as events:
        seen = list(events)
    kinds = [type(e).__name__ for e in seen]
    assert "Restart" in kinds or "ItemInvalid" in kinds
    assert isinstance(seen[-1], Done) and seen[-1].value == ORDER.items
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply.stream_error('{"customer": "A', "upstream overloaded"), StreamError),
        (Reply.stream_cut('{"customer": "A'), StreamError),
        (Reply.refuse("No."), RefusalError),
        (Reply.truncated('{"customer": "Ada", "items": [{"sku"'), TruncatedError),
    ],
)
def test_stream_failures_become_typed_errors(reply: Reply, error: type[Exception]) -> None:
    fake = FakeModel().then(reply)
    with pytest.raises(error), fake.extractor().stream(Order, "order text") as events:
        list(events)


def test_leaving_a_stream_early_closes_the_response() -> None:
    fake = FakeModel().then(Reply.answer(ORDER, chunk_chars=2))
    with fake.extractor().stream(Order, "order text") as events:
        next(iter(events))
    (served,) = fake.streams
    assert served.closed and served.delivered < len(served.chunks)


async def test_async_stream() -> None:
    fake = FakeModel().then(Reply.answer(ORDER, chunk_chars=4))
    async with fake.async_extractor() as aex, aex.stream(Order, "order text") as events:
        seen = [event async for event in events]
    assert isinstance(seen[-1], Done) and seen[-1].value == ORDER
