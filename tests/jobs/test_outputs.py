"""Output files: torn-line repair, read-back for resume, atomic compaction."""

from __future__ import annotations

import json
from pathlib import Path

from extractor.jobs.outputs import JsonlWriter, compact_errors, repair_tail, scan


def test_repair_cuts_only_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    assert repair_tail(path) == 0  # missing file: nothing to do
    path.write_bytes(b'{"id":1}\n{"id":2}\n{"id":3,"da')
    assert repair_tail(path) == len(b'{"id":3,"da')
    assert path.read_bytes() == b'{"id":1}\n{"id":2}\n'
    assert repair_tail(path) == 0
    path.write_bytes(b'{"id":1,' + b"x" * 200_000)  # a single torn line, longer than a chunk
    repair_tail(path)
    assert path.read_bytes() == b""


def test_writer_writes_whole_lines_and_scan_reads_them_back(tmp_path: Path) -> None:
    out, errors = tmp_path / "out.jsonl", tmp_path / "out.errors.jsonl"
    writer = JsonlWriter(out, fsync_interval=0.0)
    writer.write(
        {"id": "a", "data": {"x": "é"}, "attempts": 1, "usage": {"prompt_tokens": 5}, "cost": 0.25}
    )
    writer.close()
    bad = JsonlWriter(errors)
    bad.write({"id": "b", "error": {}, "attempts": 2, "usage": {"prompt_tokens": 7}, "cost": 0.5})
    bad.write({"id": None, "line": 9, "error": {}, "attempts": 0, "usage": {}, "cost": 0})
    bad.close()
    assert out.read_text(encoding="utf-8").endswith("\n")
    prior = scan(out, errors)
    assert '"a"' in prior.ok and len(prior.ok) == 1 and '"b"' not in prior.ok
    assert set(prior.failed) == {'"b"', "line:9"}
    assert prior.spent.usage.prompt_tokens == 12 and str(prior.spent.cost) == "0.75"
    assert prior.spent.attempts == 3


def test_compaction_keeps_the_last_failure_and_drops_moved_records(tmp_path: Path) -> None:
    errors = tmp_path / "e.jsonl"
    lines = [{"id": 1, "n": 1}, {"id": 2, "n": 1}, {"id": 1, "n": 2}, {"id": 3, "n": 1}]
    errors.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert compact_errors(errors, ok={"3"}) == 2
    kept = [json.loads(line) for line in errors.read_text().splitlines()]
    assert kept == [{"id": 2, "n": 1}, {"id": 1, "n": 2}]
    assert compact_errors(errors, ok=set()) == 0
