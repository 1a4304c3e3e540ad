from __future__ import annotations

from pydantic import BaseModel

from extractor.grounding import Span, ground, render_html


def test_page_escapes_labels_and_lists_missing_values() -> None:
    text = "<script>alert(1)</script> Ada & Bob paid 12.50"
    value = {"name": "Ada & Bob", "amount": 12.5, "city": "<b>Paris</b>"}
    spans = ground(value, {"type": "object"}, text).spans
    page = render_html(text, value, spans, title="Check <this>")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<title>Check &lt;this&gt;</title>" in page
    assert '<span class="label">name</span>Ada &amp; Bob</mark>' in page
    assert '<span class="label">amount</span>12.50</mark>' in page
    assert "<td>city</td><td>&lt;b&gt;Paris&lt;/b&gt;</td>" in page
    assert "2 values found in the text" in page and "1 not found" in page


def test_overlapping_spans_share_marks() -> None:
    page = render_html(
        "New York City",
        {"a": "New York", "b": "York City"},
        {"a": Span(0, 8), "b": Span(4, 13, exact=False)},
    )
    assert '<mark class="" title="a"><span class="label">a</span>New </mark>' in page
    assert '<mark class="fuzzy" title="a, b"><span class="label">b</span>York</mark>' in page
    assert '<mark class="fuzzy" title="b"> City</mark>' in page


def test_typed_values_are_shown_by_path() -> None:
    class Person(BaseModel):
        name: str
        city: str

    page = render_html("Ada", [Person(name="Ada", city="Atlantis")], {"[0].name": Span(0, 3),
                       "[0].city": None})  # fmt: skip
    assert "<td>[0].city</td><td>Atlantis</td>" in page
