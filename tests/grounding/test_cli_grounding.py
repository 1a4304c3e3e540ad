"""``--ground``, ``--require-grounding``, ``--chunk-size`` and ``--html`` through the real
command line, in a subprocess, against the loopback fake server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from extractor.core.target import Target
from extractor.jobs.records import RecordProcessor
from extractor.testing import FakeModel
from tests.e2e.test_cli import cli
from tests.fakeserver import ChatRequest, FakeServer, Reply

from .planted import SCHEMA, build, fake_answer, invents


def reader(request: ChatRequest) -> Reply:
    """Answers from the chunk it is sent (the text between the source tags); invents on a
    first reading only."""
    chunk = request.text.split("\n", 1)[1].rsplit("\n", 1)[0]
    return Reply.answer(fake_answer(chunk, invent=not request.is_reask))


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer(reader) as fake:
        yield fake


def test_extract_grounds_chunks_and_writes_the_page(server: FakeServer, tmp_path: Path) -> None:
    doc = build(20_000)
    (tmp_path / "records.json").write_text(json.dumps(SCHEMA))
    (tmp_path / "doc.txt").write_text(doc.text, encoding="utf-8")
    args = ["extract", "--schema", "records.json", "doc.txt", "--base-url", server.base_url]
    done = cli(tmp_path, *args, "--ground", "--chunk-size", "3000", "--html", "page.html")
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    records = output["data"]["records"]
    assert [r["ref"] for r in records] == [r.values["ref"] for r in doc.records]
    spans = output["spans"]
    for position, record in enumerate(doc.records):
        span = spans[f"records[{position}].ref"]
        assert (span["start"], span["end"]) == record.spans["ref"]
    missing = {path for path, span in spans.items() if span is None}
    assert missing == {
        f"records[{i}].{invents(r['ref'])}" for i, r in enumerate(records) if invents(r["ref"])
    }
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Not found in the text" in page
    assert '<span class="label">records[0].ref</span>' in page

    done = cli(tmp_path, *args, "--require-grounding", "--chunk-size", "3000")
    assert done.returncode == 0, done.stderr
    assert all(span is not None for span in json.loads(done.stdout)["spans"].values())


def test_batch_lines_carry_spans_also_from_the_cache(server: FakeServer, tmp_path: Path) -> None:
    (tmp_path / "records.json").write_text(json.dumps(SCHEMA))
    text = build(600, seed=2).text
    (tmp_path / "in.jsonl").write_text(
        json.dumps({"id": 1, "text": text}) + "\n" + json.dumps({"id": 2, "text": text}) + "\n"
    )
    args = ["batch", "in.jsonl", "--schema", "records.json", "-o", "out.jsonl"]
    args += ["--base-url", server.base_url, "--ground", "--cache", "c.db", "--concurrency", "1"]
    done = cli(tmp_path, *args, "--no-progress")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [line.get("cached", False) for line in lines] == [False, True]
    assert lines[0]["spans"] == lines[1]["spans"] and lines[0]["spans"]
    first = lines[0]["spans"]["records[0].ref"]
    assert text[first["start"] : first["end"]] == lines[0]["data"]["records"][0]["ref"]


def test_the_cache_tells_apart_answers_read_another_way() -> None:
    ex = FakeModel().async_extractor()
    target = Target.of(SCHEMA)

    def key(**options: object) -> str:
        return RecordProcessor(ex, target, options).cache_key("some text")  # type: ignore[arg-type]

    plain = key()
    assert key(ground=True) == plain  # spans are looked up again on a hit
    assert len({plain, key(require_grounding=True), key(chunk_size=5000), key(passes=2)}) == 4


def test_an_html_page_with_no_directory_is_refused_before_paying(
    server: FakeServer, tmp_path: Path
) -> None:
    """It used to be found only after the request: the value was paid for and not printed."""
    (tmp_path / "records.json").write_text(json.dumps(SCHEMA))
    args = ["extract", "--schema", "records.json", "--text", "x", "--base-url", server.base_url]
    done = cli(tmp_path, *args, "--ground", "--html", "nodir/page.html")
    assert done.returncode == 2 and "no directory 'nodir'" in done.stderr, done.stderr
    assert server.requests == []
