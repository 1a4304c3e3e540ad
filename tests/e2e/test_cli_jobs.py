"""End to end: what makes reruns safe and failures cheap. The real CLI in a subprocess against
the loopback server: changed settings, the job lock, duplicates in OUT, ``--retry-errors``
accounting, an outage, a full disk."""

from __future__ import annotations

import json
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.test_cli import (
    PERSON_SCHEMA,
    ChatRequest,
    FakeServer,
    Reply,
    batch_args,
    cli,
    cli_env,
    file_totals,
    person_text,
    read_lines,
    scripted,
    start_cli,
    write_jsonl,
    write_people,
)


def test_a_rerun_with_another_schema_stops_before_sending_anything(
    server: FakeServer, workdir: Path
) -> None:
    write_people(workdir, 5)
    assert cli(workdir, *batch_args(server)).returncode == 0
    manifest = json.loads((workdir / "out.job.json").read_text())
    assert manifest["settings"]["model"] == "gpt-5.1"
    assert manifest["settings"]["schema"] == PERSON_SCHEMA
    asked = len(server.requests)

    changed = {**PERSON_SCHEMA, "properties": {**PERSON_SCHEMA["properties"], "email": {}}}
    (workdir / "person.json").write_text(json.dumps(changed))
    done = cli(workdir, *batch_args(server, "--model", "gpt-5.1-2025-11-13"))
    assert done.returncode == 2, done.stderr
    assert "other settings" in done.stderr and "fields added: email" in done.stderr
    assert 'model: was "gpt-5.1", now "gpt-5.1-2025-11-13"' in done.stderr
    assert "--allow-changes" in done.stderr and "another --output" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(server.requests) == asked  # nothing sent

    done = cli(workdir, *batch_args(server, "--instructions", "Use full names."))
    assert done.returncode == 2 and "instructions: now" in done.stderr

    # Deliberately continuing keeps what is done, records the new settings and the old ones.
    write_people(workdir, 7)
    done = cli(workdir, *batch_args(server, "--allow-changes"))
    assert done.returncode == 0, done.stderr
    assert "continuing with changed settings" in done.stderr
    assert len(read_lines(workdir / "out.jsonl")) == 7 and len(server.requests) == asked + 2
    manifest = json.loads((workdir / "out.job.json").read_text())
    assert manifest["settings"]["schema"] == changed
    assert manifest["history"][0]["settings"]["schema"] == PERSON_SCHEMA
    assert cli(workdir, *batch_args(server)).returncode == 0  # same settings again: fine


def test_a_second_process_on_the_same_job_is_refused_at_once(workdir: Path) -> None:
    write_people(workdir, 200)
    with FakeServer(scripted, latency=0.05) as server:
        args = batch_args(server, "--concurrency", "2")
        first = start_cli(workdir, args)
        deadline = time.monotonic() + 30
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        asked = len(server.requests)
        second = cli(workdir, *args)
        assert second.returncode == 6, second.stderr
        assert f"another extractor process (pid {first.pid}) is running this job" in second.stderr
        assert "summary" not in second.stderr  # refused before doing anything
        # kill -9 cannot leave the lock behind: the kernel drops it with the process.
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        assert len(server.requests) >= asked
        done = cli(workdir, *args)
        assert done.returncode == 0, done.stderr
    ids = sorted(line["id"] for line in read_lines(workdir / "out.jsonl"))
    assert ids == list(range(200))  # each once


def test_duplicates_in_out_are_compacted_keeping_what_they_cost(
    server: FakeServer, workdir: Path
) -> None:
    write_people(workdir, 4)
    assert cli(workdir, *batch_args(server)).returncode == 0
    out = workdir / "out.jsonl"
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(lines) + lines[0] + lines[1])  # as two unlocked processes left it
    before = file_totals(out)
    done = cli(workdir, *batch_args(server))
    assert done.returncode == 0, done.stderr
    assert "held 2 duplicate line(s)" in done.stderr
    after = read_lines(out)
    assert sorted(line["id"] for line in after) == [0, 1, 2, 3]
    assert file_totals(out) == before  # both copies were paid for: the spend stays on record
    first = json.loads(lines[0])
    kept = next(line for line in after if line["id"] == first["id"])
    assert kept["attempts"] == 2 * first["attempts"]


def test_retry_errors_reports_and_budgets_this_runs_spend(workdir: Path) -> None:
    def stubborn(request: ChatRequest) -> Reply:
        if "FAULT-INVALID-UNTIL-RETRIED" in request.text and request.nth < 3:
            return Reply.text("not JSON at all")
        return scripted(request)

    rows = [
        {"id": i, "text": person_text(str(i), i, "FAULT-INVALID-UNTIL-RETRIED")} for i in range(4)
    ]
    write_jsonl(workdir / "in.jsonl", rows)
    with FakeServer(stubborn) as server:
        first = cli(workdir, *batch_args(server, "--max-retries", "2"))
        assert first.returncode == 0 and len(read_lines(workdir / "out.errors.jsonl")) == 4
        server.reset()
        again = cli(workdir, *batch_args(server, "--retry-errors", "--max-retries", "2"))
        assert again.returncode == 0, again.stderr
        this_run = server.billed()
    assert len(server.requests) == 4  # one attempt each now succeeds
    assert "attempts:    4\n" in again.stderr
    assert f"tokens:      {sum(this_run)} " in again.stderr  # this run's, not the lines' totals
    ok = read_lines(workdir / "out.jsonl")
    assert len(ok) == 4 and all(line["attempts"] == 4 for line in ok)  # the line keeps all
    assert read_lines(workdir / "out.errors.jsonl") == []

    # The budget counts this run's spend too: earlier failures don't use it up.
    write_jsonl(
        workdir / "in.jsonl", [*rows, {"id": 9, "text": person_text("9", 9, "FAULT-REFUSE")}]
    )
    with FakeServer(scripted) as server:
        assert cli(workdir, *batch_args(server)).returncode == 0
        spent_before = file_totals(workdir / "out.errors.jsonl")[2]
        budget = f"{spent_before / 2:f}"  # less than the record's earlier failures cost
        done = cli(workdir, *batch_args(server, "--retry-errors", "--budget", budget))
        assert done.returncode == 0, done.stderr  # one record, started within the budget
        assert len(server.requests) == 2  # first run, then the retry: both refused


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_outage_stops_the_job_without_filing_records_as_failed(workdir: Path) -> None:
    write_people(workdir, 300)
    dead = f"http://127.0.0.1:{_free_port()}/v1"  # nothing listens: connection refused
    args = ["batch", "in.jsonl", "--schema", "person.json", "-o", "out.jsonl", "--no-progress"]
    fast = ["--transport-retries", "1", "--concurrency", "4"]
    done = cli(workdir, *args, "--base-url", dead, *fast)
    assert done.returncode == 4, done.stderr
    assert "APIConnectionError" in done.stderr and "rerun the same command later" in done.stderr
    assert "Traceback" not in done.stderr
    assert read_lines(workdir / "out.errors.jsonl") == []  # nothing filed as failed
    assert read_lines(workdir / "out.jsonl") == []

    with FakeServer(lambda request: Reply.server_error(503)) as down:
        done = cli(workdir, *args, "--base-url", down.base_url, *fast)
        assert done.returncode == 4, done.stderr
        assert "ServerError" in done.stderr
        assert len(down.requests) < 40  # a few records' retries, not 300 records'
    assert read_lines(workdir / "out.errors.jsonl") == []

    # Back up: the rerun does every record.
    with FakeServer(scripted) as up:
        done = cli(workdir, *args, "--base-url", up.base_url)
        assert done.returncode == 0, done.stderr
    assert sorted(line["id"] for line in read_lines(workdir / "out.jsonl")) == list(range(300))


def test_isolated_server_errors_are_filed_and_the_job_goes_on(workdir: Path) -> None:
    def flaky(request: ChatRequest) -> Reply:
        if request.key in ("3", "11"):  # these two records always get a 500
            return Reply.server_error(500)
        return scripted(request)

    write_people(workdir, 20)
    with FakeServer(flaky) as server:
        done = cli(workdir, *batch_args(server, "--transport-retries", "1", "--concurrency", "2"))
    assert done.returncode == 0, done.stderr
    assert sorted(line["id"] for line in read_lines(workdir / "out.errors.jsonl")) == [3, 11]
    assert len(read_lines(workdir / "out.jsonl")) == 18


def _limit_file_size(limit: int) -> None:
    # The kernel refuses writes past this size (EFBIG), as a full disk does (ENOSPC).
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_write_error_stops_the_job_with_a_summary_and_no_torn_line(workdir: Path) -> None:
    write_people(workdir, 100)
    with FakeServer(scripted, latency=0.01) as server:
        process = subprocess.run(
            [sys.executable, "-m", "extractor", *batch_args(server, "--concurrency", "2")],
            cwd=workdir,
            env=cli_env(),
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=lambda: _limit_file_size(2000),
        )
        assert process.returncode == 5, process.stderr
        assert "cannot write 'out.jsonl'" in process.stderr and "summary" in process.stderr
        assert "Traceback" not in process.stderr
        written = read_lines(workdir / "out.jsonl")  # whole lines only: the torn one was cut
        assert 0 < len(written) < 100
        # It stopped starting records at the first failed write.
        assert len(server.requests) <= len(written) + 1 + 2
        # The files account for everything but the answers that could not be written.
        assert file_totals(workdir / "out.jsonl")[:2] <= server.billed()
        done = cli(workdir, *batch_args(server))
        assert done.returncode == 0, done.stderr
    assert sorted(line["id"] for line in read_lines(workdir / "out.jsonl")) == list(range(100))
    assert all(Decimal(str(line["cost"])) > 0 for line in read_lines(workdir / "out.jsonl"))


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A real filesystem with a few KB free (a 512 KB tmpfs, filled), where one can be made."""
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mountpoint)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small filesystem here (needs root)")
    try:
        (mountpoint / "filler").write_bytes(b"\0" * (512 * 1024 - 16 * 1024))
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True)


def test_a_job_on_a_full_disk_does_not_start(
    server: FakeServer, workdir: Path, full_disk: Path
) -> None:
    write_people(workdir, 50)
    args = batch_args(server)
    args[5] = str(full_disk / "out.jsonl")
    done = cli(workdir, *args)
    assert done.returncode == 5, done.stderr
    assert "bytes free on the disk holding" in done.stderr and "Traceback" not in done.stderr
    assert server.requests == []  # nothing paid for answers that could not be written
    assert not (full_disk / "out.jsonl").exists()
