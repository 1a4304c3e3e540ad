"""Long texts through the real drivers: chunked, extracted concurrently, grounded, merged; a
failing chunk never dropped silently. The fake model answers only from the chunk it is sent
(``SeenRequest.text``) and invents a value now and then."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from pydantic import BaseModel

from extractor import (
    BudgetExceeded,
    ChunkFailed,
    ConfigurationError,
    Extraction,
    ModelRules,
    RefusalError,
    ValidationFailed,
)
from extractor.grounding import split_text
from extractor.testing import FakeModel, Reply
from extractor.testing.exchange import SeenRequest

from .planted import FIELDS, SCHEMA, Document, build, fake_answer, invented_value, invents


@pytest.fixture(scope="module")
def document() -> Document:
    return build(200_000)


def reader(seen: SeenRequest) -> dict[str, Any]:
    """Invents on a first reading; a re-ask (feedback in the last user message) answers
    honestly."""
    return fake_answer(seen.text, invent=seen.user == seen.contents("user")[0])


def check_records(document: Document, result: Extraction[Any], *, invented: bool) -> None:
    records = result.value["records"]
    assert Counter(r["ref"] for r in records) == Counter(r.values["ref"] for r in document.records)
    assert result.spans is not None
    for position, got in enumerate(records):
        planted = next(r for r in document.records if r.values["ref"] == got["ref"])
        made_up = invents(got["ref"]) if invented else None
        for name in FIELDS:
            span = result.spans[f"records[{position}].{name}"]
            if name == made_up:
                assert got[name] == invented_value(name, got["ref"]) and span is None
            else:
                assert got[name] == planted.values[name]
                assert span is not None and (span.start, span.end) == planted.spans[name]


def test_chunks_are_extracted_grounded_and_merged(document: Document) -> None:
    fake = FakeModel(handler=reader)
    result = fake.extractor().extract_result(
        SCHEMA, document.text, chunk_size=4_000, chunk_overlap=400, ground=True
    )
    assert result.chunks == len(fake.requests) > 40
    assert all(len(seen.text) <= 4_000 for seen in fake.requests)
    check_records(document, result, invented=True)
    assert result.usage.total_tokens == sum(a.usage.total_tokens for a in result.attempts)
    assert result.conflicts == () and result.failed_chunks == ()


def test_require_grounding_fixes_every_invented_value(document: Document) -> None:
    fake = FakeModel(handler=reader)
    result = fake.extractor().extract_result(
        SCHEMA, document.text, chunk_size=4_000, require_grounding=True
    )
    check_records(document, result, invented=False)
    reasks = [seen for seen in fake.requests if "does not appear in the text" in seen.user]
    assert reasks and len(fake.requests) == result.chunks + len(reasks)


async def test_async_chunks_the_same_way(document: Document) -> None:
    fake = FakeModel(handler=reader)
    async with fake.async_extractor() as ex:
        result = await ex.extract_result(SCHEMA, document.text, chunk_size=4_000, ground=True)
    check_records(document, result, invented=True)


def refusing(chunk_with: str) -> Any:
    def handler(seen: SeenRequest) -> Any:
        return Reply.refuse() if chunk_with in seen.text else fake_answer(seen.text)

    return handler


def test_a_failed_chunk_fails_the_call_with_what_the_others_found(document: Document) -> None:
    victim = document.records[100]
    fake = FakeModel(handler=refusing(victim.values["ref"]))
    ex = fake.extractor()
    with pytest.raises(ChunkFailed, match=r"of \d+ chunks failed") as caught:
        ex.extract_result(SCHEMA, document.text, chunk_size=4_000, ground=True)
    error = caught.value
    assert error.failures and all(isinstance(f.error, RefusalError) for f in error.failures)
    assert all(victim.values["ref"] in document.text[f.start : f.end] for f in error.failures)
    assert error.partial is not None
    found = {r["ref"] for r in error.partial.value["records"]}
    assert victim.values["ref"] not in found and len(found) > 400
    assert error.usage is not None and error.usage.total_tokens > 0
    assert len(error.attempts) == len(fake.requests)

    result = ex.extract_result(SCHEMA, document.text, chunk_size=4_000, partial_ok=True)
    assert [f.index for f in result.failed_chunks] == [f.index for f in error.failures]
    assert {r["ref"] for r in result.value["records"]} == found


def test_the_budget_counts_every_chunk() -> None:
    doc = build(40_000)
    fake = FakeModel(handler=reader)
    ex = fake.extractor()
    with pytest.raises(ChunkFailed) as caught:
        ex.extract_result(
            SCHEMA, doc.text, chunk_size=4_000, chunk_concurrency=1, max_total_tokens=6_000
        )
    error = caught.value
    assert error.failures and all(isinstance(f.error, BudgetExceeded) for f in error.failures)
    chunks = len(split_text(doc.text, 4_000))
    assert len(fake.requests) + len(error.failures) == chunks  # a stopped chunk sends nothing
    # Checked before each request against the whole call's spending: past the budget by at
    # most the answer of the request that crossed it, as for a plain call.
    assert error.usage is not None
    largest = max(a.usage.total_tokens for a in error.attempts)
    assert error.usage.total_tokens <= 6_000 + largest


def test_a_second_pass_finds_what_the_first_missed() -> None:
    doc = build(20_000)

    def forgetful(seen: SeenRequest) -> dict[str, Any]:
        answer = fake_answer(seen.text, invent=False)
        if "A first reading of this text already found" not in seen.system:
            answer["records"] = answer["records"][::2]  # the first reading misses half
        return answer

    fake = FakeModel(handler=forgetful)
    result = fake.extractor().extract_result(
        SCHEMA, doc.text, chunk_size=4_000, passes=2, ground=True
    )
    assert Counter(r["ref"] for r in result.value["records"]) == Counter(
        r.values["ref"] for r in doc.records
    )
    assert len(fake.requests) == 2 * result.chunks
    second = [s for s in fake.requests if "already found" in s.system]
    assert len(second) == result.chunks and '"ref":"REC-' in second[0].system


def test_a_text_too_long_for_the_model_is_chunked_without_asking() -> None:
    doc = build(30_000)
    fake = FakeModel(handler=reader)
    ex = fake.extractor(rules=ModelRules(input_tokens=3_000))
    result = ex.extract_result(SCHEMA, doc.text)
    assert result.chunks == len(fake.requests) > 4
    assert all(len(seen.text) < 6_000 for seen in fake.requests)
    assert Counter(r["ref"] for r in result.value["records"]) == Counter(
        r.values["ref"] for r in doc.records
    )
    assert result.spans is None  # chunked, but spans only when asked for


def test_a_short_text_is_one_plain_call() -> None:
    fake = FakeModel(handler=reader)
    result = fake.extractor().extract_result(SCHEMA, "Nothing here.", chunk_size=4_000)
    assert result.chunks == 1 and len(fake.requests) == 1


def test_pydantic_targets_come_back_typed() -> None:
    class Record(BaseModel):
        ref: str
        name: str

    class Records(BaseModel):
        records: list[Record]

    doc = build(12_000)
    fake = FakeModel(handler=reader)
    result = fake.extractor().extract_result(Records, doc.text, chunk_size=3_000, ground=True)
    assert [r.ref for r in result.value.records] == [r.values["ref"] for r in doc.records]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"passes": 4}, "passes must be 1 to 3"),
        ({"chunk_size": 1}, "chunk size must be at least 2"),
        ({"chunk_size": 0}, "chunk size must be at least 2"),  # was read as "no chunk_size"
        ({"chunk_size": "100"}, "chunk_size must be a number"),  # was a TypeError
        ({"chunk_size": 100, "chunk_overlap": 60}, "overlap must be between"),
        ({"chunk_size": 100, "chunk_concurrency": 0}, "chunk_concurrency must be at least 1"),
    ],
)
def test_bad_document_options_are_refused_before_sending(
    options: dict[str, Any], message: str
) -> None:
    fake = FakeModel()
    with pytest.raises(ConfigurationError, match=message):
        fake.extractor().extract(SCHEMA, "x" * 500, **options)
    assert fake.requests == []


def test_document_options_need_text_and_streams_refuse_them() -> None:
    fake = FakeModel()
    ex = fake.extractor()
    with pytest.raises(ConfigurationError, match="pass it as text="):
        ex.extract(SCHEMA, messages=[{"role": "user", "content": "hi"}], passes=2)
    with pytest.raises(ConfigurationError, match=r"stream\(\) reads the text in one request"):
        ex.stream(SCHEMA, "text", chunk_size=100)
    with pytest.raises(ConfigurationError, match="passes only work with extract"):
        ex.stream_items(SCHEMA, "text", passes=2)
    assert fake.requests == []


def test_a_merge_that_breaks_the_schema_is_a_validation_error() -> None:
    doc = build(12_000)
    records = {**SCHEMA["properties"]["records"], "maxItems": 8}
    schema = {**SCHEMA, "properties": {"records": records}}
    fake = FakeModel(handler=lambda seen: {"records": fake_answer(seen.text)["records"][:8]})
    with pytest.raises(ValidationFailed, match="do not conform once merged") as caught:
        fake.extractor().extract(schema, doc.text, chunk_size=3_000)
    assert [e.path for e in caught.value.errors] == ["records"]
    assert caught.value.raw is not None and caught.value.usage is not None


def test_two_passes_over_a_short_text() -> None:
    doc = build(2_000)
    fake = FakeModel(handler=lambda seen: fake_answer(seen.text, invent=False))
    result = fake.extractor().extract_result(SCHEMA, doc.text, passes=2, ground=True)
    assert result.chunks == 1 and len(fake.requests) == 2
    assert [r["ref"] for r in result.value["records"]] == [r.values["ref"] for r in doc.records]
    assert result.ungrounded == []


def broken(seen: SeenRequest) -> Any:
    raise RuntimeError("bug in the handler")


def test_an_unexpected_error_in_a_chunk_stops_the_others() -> None:
    doc = build(40_000)
    fake = FakeModel(handler=broken)
    with pytest.raises(RuntimeError, match="bug in the handler"):
        fake.extractor().extract(SCHEMA, doc.text, chunk_size=4_000, chunk_concurrency=1)
    assert len(fake.requests) == 1 < len(split_text(doc.text, 4_000))
