"""The long-document path end to end, without a network: a ~200,000-character document with
hundreds of planted records, cut into chunks, each chunk answered by a fake model that sees
only that chunk (and sometimes invents a value), each answer grounded in its chunk, and the
answers merged."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from extractor.grounding import ChunkValue, Merged, TextIndex, ground, merge, split_text

from .planted import FIELDS, SCHEMA, Document, build, fake_answer, invented_value, invents

CHUNK_SIZE = 4_000


@pytest.fixture(scope="module")
def document() -> Document:
    return build(200_000)


@pytest.fixture(scope="module")
def merged(document: Document) -> Merged:
    parts = []
    for chunk in split_text(document.text, CHUNK_SIZE, overlap=400):
        answer = fake_answer(chunk.text)
        grounding = ground(answer, SCHEMA, chunk.text)
        parts.append(ChunkValue(answer, grounding.spans, chunk.start, chunk.index))
    return merge(parts)


def by_ref(merged: Merged) -> dict[str, tuple[int, dict[str, Any]]]:
    return {r["ref"]: (i, r) for i, r in enumerate(merged.value["records"])}


def test_the_document_exercises_what_it_claims(document: Document) -> None:
    chunks = split_text(document.text, CHUNK_SIZE, overlap=400)
    assert len(document.text) >= 200_000
    assert len(document.records) >= 300
    assert sum(r.cjk for r in document.records) >= 50
    assert sum(1 for r in document.records if invents(r.values["ref"])) >= 20
    assert (
        sum(
            "\n" in r.values["name"] or "-\n" in document.text[slice(*r.spans["name"])]
            for r in document.records
        )
        >= 10
    )
    # Records cut by a chunk boundary (half in one chunk, whole in the next), and records read
    # twice because they lie in an overlap.
    cut = [
        r
        for r in document.records
        if any(c.start < r.spans["ref"][0] < c.end < r.spans["price"][1] for c in chunks)
    ]
    twice = [
        r
        for r in document.records
        if sum(c.start <= r.spans["ref"][0] and r.spans["price"][1] <= c.end for c in chunks) > 1
    ]
    assert len(cut) >= 5 and len(twice) >= 10


def test_every_planted_record_is_found_exactly_once(document: Document, merged: Merged) -> None:
    refs = Counter(r["ref"] for r in merged.value["records"])
    assert refs == Counter(r.values["ref"] for r in document.records)


def test_values_are_complete_after_merging_halves(document: Document, merged: Merged) -> None:
    found = by_ref(merged)
    for record in document.records:
        _, got = found[record.values["ref"]]
        made_up = invents(record.values["ref"])
        for name in FIELDS:
            expected = invented_value(name, "") if name == made_up else record.values[name]
            assert got[name] == expected, (record.values["ref"], name)


def test_every_span_points_at_its_planted_value(document: Document, merged: Merged) -> None:
    found = by_ref(merged)
    for record in document.records:
        position, _ = found[record.values["ref"]]
        made_up = invents(record.values["ref"])
        for name in FIELDS:
            span = merged.spans[f"records[{position}].{name}"]
            if name == made_up:
                assert span is None, (record.values["ref"], name)
            else:
                assert span is not None and (span.start, span.end) == record.spans[name], (
                    record.values["ref"],
                    name,
                    span,
                    document.text[slice(*record.spans[name])],
                )


def test_only_invented_values_are_ungrounded(document: Document, merged: Merged) -> None:
    ungrounded = {path for path, span in merged.spans.items() if span is None}
    expected = set()
    for ref, (position, _) in by_ref(merged).items():
        if invents(ref):
            expected.add(f"records[{position}].{invents(ref)}")
    assert ungrounded == expected
    # Inferred by design: never looked for, never reported.
    assert not any(p.endswith((".channel", ".priority")) for p in merged.spans)


def test_grounding_the_whole_text_at_once_agrees(document: Document, merged: Merged) -> None:
    whole = ground(merged.value, SCHEMA, TextIndex(document.text))
    assert whole.spans == merged.spans
