from __future__ import annotations

from extractor.grounding import ChunkValue, Span, merge


def test_overlap_duplicates_merge_and_halves_complete_each_other() -> None:
    first = ChunkValue(
        {"people": [{"name": "Ada", "age": None}, {"name": "Bob", "age": 40}]},
        {"people[0].name": Span(0, 3), "people[1].name": Span(50, 53), "people[1].age": None},
        offset=0,
        chunk=0,
    )
    # Chunk 1 starts at 40: Bob (whole-text 50) is at 10 here, with his age grounded this time.
    second = ChunkValue(
        {"people": [{"name": "Bob", "age": 40}, {"name": "Cy", "age": 7}]},
        {
            "people[0].name": Span(10, 13),
            "people[0].age": Span(20, 22),
            "people[1].name": Span(30, 32),
            "people[1].age": Span(35, 36),
        },
        offset=40,
        chunk=1,
    )
    merged = merge([first, second])
    assert merged.value == {
        "people": [
            {"name": "Ada", "age": None},
            {"name": "Bob", "age": 40},
            {"name": "Cy", "age": 7},
        ]
    }
    assert merged.spans == {
        "people[0].name": Span(0, 3),
        "people[1].name": Span(50, 53),
        "people[1].age": Span(60, 62),  # the first *grounded* value, shifted
        "people[2].name": Span(70, 72),
        "people[2].age": Span(75, 76),
    }
    assert merged.conflicts == []


def test_same_words_but_different_places_are_different_items() -> None:
    a = ChunkValue([{"name": "Ada"}], {"[0].name": Span(0, 3)}, 0, 0)
    b = ChunkValue([{"name": "Ada"}], {"[0].name": Span(500, 503)}, 0, 1)
    assert merge([a, b]).value == [{"name": "Ada"}, {"name": "Ada"}]


def test_ungrounded_items_merge_when_equal_once_normalised() -> None:
    a = ChunkValue({"tags": [{"t": "Urgent  Case", "n": 1.0}]}, {}, 0, 0)
    b = ChunkValue({"tags": [{"t": "urgent case", "n": 1}, {"t": "other", "n": 1}]}, {}, 100, 1)
    assert merge([a, b]).value == {
        "tags": [{"t": "Urgent  Case", "n": 1.0}, {"t": "other", "n": 1}]
    }


def test_items_of_one_chunk_are_never_merged() -> None:
    a = ChunkValue({"x": [1, 1]}, {}, 0, 0)
    b = ChunkValue({"x": [1, 1, 1]}, {}, 10, 1)
    assert merge([a, b]).value == {"x": [1, 1, 1]}


def test_scalar_conflicts_are_reported_and_the_first_grounded_wins() -> None:
    a = ChunkValue({"total": 10, "title": "Q1"}, {"total": None, "title": Span(0, 2)}, 0, 0)
    b = ChunkValue({"total": 12, "title": "Q2"}, {"total": Span(5, 7), "title": Span(0, 2)}, 90, 1)
    merged = merge([a, b])
    assert merged.value == {"total": 12, "title": "Q1"}
    assert merged.spans == {"total": Span(95, 97), "title": Span(0, 2)}
    assert [(c.path, c.kept, c.other, c.kept_chunk, c.other_chunk) for c in merged.conflicts] == [
        ("total", 12, 10, 1, 0),
        ("title", "Q1", "Q2", 0, 1),
    ]
    assert str(merged.conflicts[0]) == "total: kept 12 (chunk 1), set aside 10 (chunk 0)"


def test_nested_lists_inside_merged_items_merge_too() -> None:
    a = ChunkValue(
        {"orders": [{"id": "A", "lines": [{"sku": "x"}]}]},
        {"orders[0].id": Span(0, 1), "orders[0].lines[0].sku": Span(5, 6)},
        0,
        0,
    )
    b = ChunkValue(
        {"orders": [{"id": "A", "lines": [{"sku": "x"}, {"sku": "y"}]}]},
        {
            "orders[0].id": Span(0, 1),
            "orders[0].lines[0].sku": Span(5, 6),
            "orders[0].lines[1].sku": Span(9, 10),
        },
        0,
        1,
    )
    merged = merge([a, b])
    assert merged.value == {"orders": [{"id": "A", "lines": [{"sku": "x"}, {"sku": "y"}]}]}
    assert merged.spans["orders[0].lines[1].sku"] == Span(9, 10)


def test_shape_mismatch_keeps_the_first_and_reports_it() -> None:
    merged = merge([ChunkValue({"a": [1]}, {}, 0, 0), ChunkValue({"a": "x"}, {}, 0, 1)])
    assert merged.value == {"a": [1]}
    assert [(c.path, c.kept, c.other) for c in merged.conflicts] == [("a", [1], "x")]


def test_nothing_to_merge() -> None:
    assert merge([]).value is None
