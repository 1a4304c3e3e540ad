"""The on-disk key index behind resume and duplicate detection."""

from __future__ import annotations

from extractor.jobs.keyindex import KeyIndex


def test_add_many_reports_repeats_with_their_first_line() -> None:
    index = KeyIndex()
    assert index.add_many([("a", 1), ("b", 2)]) == {}
    # "a" was added before; "c" repeats within the same batch.
    assert index.add_many([("a", 3), ("c", 4), ("c", 5)]) == {3: 1, 5: 4}
    assert len(index) == 3 and "c" in index and "d" not in index
    index.close()


def test_present_and_update_across_query_batches() -> None:
    index = KeyIndex()
    index.update(f"k{i}" for i in range(1200))
    assert len(index) == 1200
    keys = [f"k{i}" for i in range(0, 2400, 2)]  # more keys than one query binds
    assert index.present(keys) == {f"k{i}" for i in range(0, 1200, 2)}
    index.close()
