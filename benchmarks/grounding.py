"""Grounding 1,000 values over a 1 MB text, against a naive scan measured in the same run.

    PYTHONPATH=. python benchmarks/grounding.py

The text is the planted document of the tests (English and Japanese records in filler prose),
about 1,000,000 characters; the values are those of ~167 records spread over it (1,000 string,
number and date leaves). Ours: index the text once (``TextIndex``), then ground all values.
Baseline: what grounding without an index looks like, one case-insensitive regex scan of the
whole text per value (tokens joined by ``\\W+``, every occurrence collected). Both report how
many values they placed at the planted offsets. Times are CPU seconds, best of 3.

Then the long-document path on the tests' 200,000-character planted document: chunked, each
chunk answered by the fake model that sees only that chunk, grounded, merged; printed: recall
(planted records found), duplicates, invented values reported ungrounded, and values found at
their planted offsets.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from typing import Any

from extractor.grounding import ChunkValue, TextIndex, ground, iter_leaves, merge, split_text
from tests.grounding.planted import FIELDS, SCHEMA, build, fake_answer, invents


def best_of(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.process_time()
        result = fn()
        times.append(time.process_time() - start)
    return min(times), result


def naive(text: str, values: list[Any]) -> list[tuple[int, int] | None]:
    """One regex scan of the text per value; the first occurrence is taken."""
    found: list[tuple[int, int] | None] = []
    for value in values:
        words = re.findall(r"\w+", str(value))
        pattern = re.compile(r"\W+".join(map(re.escape, words)), re.IGNORECASE)
        spans = [m.span() for m in pattern.finditer(text)]
        found.append(spans[0] if spans else None)
    return found


def main() -> None:
    doc = build(1_000_000, seed=5)
    rng = random.Random(1)
    records = sorted(rng.sample(range(len(doc.records)), 1000 // len(FIELDS) + 1))
    planted = [doc.records[i] for i in records]
    value = {"records": [{k: r.values[k] for k in FIELDS} for r in planted]}
    leaves = iter_leaves(value, SCHEMA)[:1000]
    expected = [planted[leaf.parts[1]].spans[leaf.parts[2]] for leaf in leaves]
    print(f"text: {len(doc.text):,} characters; values: {len(leaves)}")

    build_time, index = best_of(lambda: TextIndex(doc.text))
    ground_time, grounding = best_of(lambda: ground(value, SCHEMA, TextIndex(doc.text)))
    lookup_time, _ = best_of(lambda: ground(value, SCHEMA, index))
    ours = [grounding.spans[leaf.path] for leaf in leaves]
    ours_hits = sum(
        s is not None and (s.start, s.end) == e for s, e in zip(ours, expected, strict=True)
    )

    naive_time, theirs = best_of(lambda: naive(doc.text, [leaf.value for leaf in leaves]))
    naive_hits = sum(s == e for s, e in zip(theirs, expected, strict=True))

    print(
        f"extractor.grounding  index+ground {ground_time:7.3f} s   (of which token index "
        f"{build_time:.3f} s; lookups against indexes already built {lookup_time:.3f} s)"
        f"   at the planted offset: {ours_hits}/{len(leaves)}"
    )
    print(
        f"naive regex per value             {naive_time:7.3f} s"
        f"                                at the planted offset: {naive_hits}/{len(leaves)}"
    )
    print(f"speed-up: {naive_time / ground_time:.1f}x")
    planted_document()


def planted_document(size: int = 200_000, chunk_size: int = 4_000, overlap: int = 400) -> None:
    doc = build(size)
    start = time.process_time()
    chunks = split_text(doc.text, chunk_size, overlap=overlap)
    parts = []
    for chunk in chunks:
        answer = fake_answer(chunk.text)
        parts.append(ChunkValue(answer, ground(answer, SCHEMA, chunk.text).spans, chunk.start))
    merged = merge(parts)
    elapsed = time.process_time() - start
    read = sum(len(p.value["records"]) for p in parts)
    refs = [r["ref"] for r in merged.value["records"]]
    planted = {r.values["ref"]: r for r in doc.records}
    found = set(refs) & planted.keys()
    invented = {(ref, invents(ref)) for ref in found if invents(ref)}
    ungrounded = {
        (refs[int(path[8 : path.index("]")])], path[path.index("]") + 2 :])
        for path, span in merged.spans.items()
        if span is None
    }
    at_offset = total = 0
    for position, ref in enumerate(refs):
        for name in FIELDS:
            span = merged.spans.get(f"records[{position}].{name}")
            if span is not None and ref in planted:
                total += 1
                at_offset += (span.start, span.end) == planted[ref].spans[name]
    print(
        f"planted document: {len(doc.text):,} characters, {len(chunks)} chunks of "
        f"<= {chunk_size:,} (overlap {overlap}), {len(planted)} records planted, "
        f"{read} read by the chunks (the overlap reads some twice)"
    )
    print(
        f"  recall {len(found)}/{len(planted)}, duplicates {len(refs) - len(set(refs))}, "
        f"invented values reported ungrounded {len(invented & ungrounded)}/{len(invented)}, "
        f"other values reported ungrounded {len(ungrounded - invented)}, "
        f"grounded values at their planted offset {at_offset}/{total}, "
        f"chunk+ground+merge {elapsed:.2f} s"
    )


if __name__ == "__main__":
    main()
