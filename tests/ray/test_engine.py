"""End to end on Ray: ``extractor batch --engine ray`` (a subprocess joining this module's
local 2-CPU Ray with ``--address``, or starting its own) and ``extract_dataset``, against the
loopback fake server with its faults. The same guarantees as the local engine's tests
(tests/e2e/test_cli.py, whose model and helpers these reuse): every record exactly once,
outputs equal to the truth, the bill equal to the files, the budget, a driver killed with
SIGKILL; and what only a cluster has: limits held across workers, a worker killed mid-batch."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
import ray

from extractor.ray import extract_dataset
from tests.e2e.test_cli import (
    FAULTS,
    PERSON_SCHEMA,
    assert_no_key,
    batch_args,
    cli,
    file_totals,
    person_text,
    price,
    read_lines,
    scripted,
    start_cli,
    wait_for_lines,
    write_jsonl,
    write_people,
)
from tests.fakeserver import ChatRequest, FakeServer, Reply, person_answer

pytestmark = [pytest.mark.ray]


def on_ray(server: FakeServer, address: str | None, *extra: str) -> list[str]:
    args = batch_args(server, "--engine", "ray", *extra)
    return [*args, "--address", address] if address else args


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "person.json").write_text(json.dumps(PERSON_SCHEMA))
    return tmp_path


def timed(handler: Callable[[ChatRequest], Reply]) -> tuple[list[float], Callable[..., Reply]]:
    """The handler, noting when each request arrived."""
    arrivals: list[float] = []

    def note(request: ChatRequest) -> Reply:
        arrivals.append(time.monotonic())
        return handler(request)

    return arrivals, note


def test_every_fault_exactly_once_equal_to_the_truth_within_the_cluster_rpm(
    ray_cluster: str, workdir: Path
) -> None:
    rows = [
        {"id": name, "text": person_text(name, n, fault)}
        for n, (name, fault) in enumerate(FAULTS.items())
    ]
    rows += [{"id": f"p{n}", "text": person_text(f"p{n}", n)} for n in range(50)]
    write_jsonl(workdir / "in.jsonl", rows)
    rpm = 600  # 10 a second for both workers together
    arrivals, handler = timed(scripted)
    with FakeServer(handler, latency=0.005) as server:
        done = cli(workdir, *on_ray(server, ray_cluster, "--rpm", str(rpm), "--max-retries", "2"))
        assert done.returncode == 0, done.stderr
        billed = server.billed()
        requested = server.keys_requested()

    ok = {line["id"]: line for line in read_lines(workdir / "out.jsonl")}
    failed = {line["id"]: line for line in read_lines(workdir / "out.errors.jsonl")}
    assert sorted([*ok, *failed]) == sorted(row["id"] for row in rows)  # each exactly once
    assert set(failed) == {"invalid-always", "truncated", "refuse"}
    for n, name in enumerate(FAULTS):
        if name in ok:
            assert ok[name]["data"] == {"name": f"Person {n}", "age": 20 + n}
    for n in range(50):
        assert ok[f"p{n}"]["data"] == person_answer(person_text(f"p{n}", n))
    assert ok["invalid-once"]["attempts"] == 2 and ok["types"]["attempts"] == 2
    assert failed["invalid-always"]["error"]["type"] == "ValidationFailed"
    assert failed["invalid-always"]["raw"] == "no JSON here, sorry"
    assert failed["truncated"]["error"]["type"] == "TruncatedError"
    assert failed["refuse"]["error"]["type"] == "RefusalError"
    assert requested["429"] == 2 and requested["5xx"] == 3 and requested["drop"] == 2

    prompt, completion, cost = file_totals(workdir / "out.jsonl", workdir / "out.errors.jsonl")
    assert (prompt, completion) == billed
    assert cost == price(prompt, completion)
    assert f"tokens:      {prompt + completion} " in done.stderr  # the local engine's summary
    assert "ValidationFailed 1" in done.stderr and "RefusalError 1" in done.stderr
    assert_no_key(*workdir.iterdir(), texts=(done.stdout, done.stderr))

    # The server saw the two workers' requests at the cluster's rate: after a burst of one
    # second's worth, the n-th request came no earlier than n / rate (less a second for the
    # first request's own delays). A limiter per worker would let the 60th come at 2 s, not 5.
    start, rate = arrivals[0], rpm / 60
    assert len(arrivals) >= 60
    for n, arrived in enumerate(arrivals):
        assert arrived - start >= (n - rate - 1) / rate - 1.0, (n, arrived - start)


def test_budget_stops_within_the_in_flight_bound_and_a_local_ray_finishes(
    ray_cluster: str, workdir: Path
) -> None:
    count, concurrency, budget = 60, 4, Decimal("0.004")
    write_jsonl(
        workdir / "in.jsonl", [{"id": n, "text": person_text(str(n), n)} for n in range(count)]
    )
    with FakeServer(scripted, latency=0.02) as server:
        args = on_ray(server, ray_cluster, "--concurrency", str(concurrency))
        done = cli(workdir, *args, "--budget", str(budget))
        assert done.returncode == 3, done.stderr
        assert "budget reached" in done.stderr
        first = read_lines(workdir / "out.jsonl")
        assert 0 < len(first) < count
        spent = sum(Decimal(str(line["cost"])) for line in first)
        most = max(Decimal(str(line["cost"])) for line in first)
        # Nothing starts once the cluster spent the budget: over by at most what was in flight.
        assert budget <= spent < budget + concurrency * most
        assert server.billed() == file_totals(workdir / "out.jsonl")[:2]  # none unwritten

        # The rerun, with no --address, starts a Ray of its own and does only the rest.
        done = cli(workdir, *batch_args(server, "--engine", "ray"))
        assert done.returncode == 0, done.stderr
        assert f"skipped:     {len(first)}" in done.stderr
        assert sorted(line["id"] for line in read_lines(workdir / "out.jsonl")) == list(
            range(count)
        )
        assert server.billed() == file_totals(workdir / "out.jsonl")[:2]


def test_driver_killed_with_sigkill_then_rerun_is_exactly_once(
    ray_cluster: str, workdir: Path
) -> None:
    total, concurrency = 200, 8
    rows = [
        {"id": f"r{i}", "text": person_text(f"r{i}", i, "FAULT-TYPES" if i % 7 == 0 else "")}
        for i in range(total)
    ]
    write_jsonl(workdir / "in.jsonl", rows)
    with FakeServer(scripted, latency=0.02) as server:
        args = on_ray(server, ray_cluster, "--concurrency", str(concurrency), "--cache", "c.db")
        process = start_cli(workdir, args)
        # The driver first joins Ray and starts its workers: seconds on a busy machine.
        wait_for_lines(workdir / "out.jsonl", 40, process, timeout=300)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        time.sleep(0.5)  # the workers die with their driver; let the server answer the dead
        first_run = list(server.bills)
        raw = (workdir / "out.jsonl").read_bytes()
        written = {json.loads(line)["id"] for line in raw.split(b"\n")[:-1]}  # whole lines
        assert 40 <= len(written) < total

        done = cli(workdir, *args)
        assert done.returncode == 0, done.stderr
        rerun = {bill.key for bill in server.bills[len(first_run) :]}

    ok = read_lines(workdir / "out.jsonl")
    assert read_lines(workdir / "out.errors.jsonl") == []
    assert sorted(line["id"] for line in ok) == sorted(row["id"] for row in rows)
    by_id = {line["id"]: line for line in ok}
    for i in range(total):
        assert by_id[f"r{i}"]["data"] == {"name": f"Person {i}", "age": 20 + i}
    # Never pay twice: nothing written was asked for again, and of what the killed run paid
    # for without writing, only what was in flight had to be paid again: the answers that had
    # arrived were in the cache.
    assert not rerun & written
    unwritten = {bill.key for bill in first_run} - written
    assert len(rerun & unwritten) <= concurrency
    # The files hold everything billed but the killed run's unwritten records.
    prompt, completion, _ = file_totals(workdir / "out.jsonl")
    lost = [bill for bill in first_run if bill.key in unwritten]
    billed_prompt, billed_completion = server.billed()
    assert prompt == billed_prompt - sum(bill.prompt_tokens for bill in lost)
    assert completion == billed_completion - sum(bill.completion_tokens for bill in lost)
    assert_no_key(*workdir.iterdir(), texts=(done.stdout, done.stderr))


def _ray_workers() -> list[int]:
    """The pids of this machine's Ray Data worker actors."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if command.startswith(b"ray::MapWorker") and b"ExtractWorker" in command:
                pids.append(int(entry.name))
    return pids


def test_a_worker_killed_mid_batch_does_not_pay_its_batch_again(
    ray_cluster: str, tmp_path: Path
) -> None:
    """The fake model kills a worker process while its batch is half answered. Ray Data runs
    the batch again on a new worker; with the cache, its answered records are not paid twice."""
    count, per_worker = 96, 8
    killed: list[int] = []
    lock = threading.Lock()

    def handler(request: ChatRequest) -> Reply:
        with lock:
            if not killed and len(server.bills) >= 24:
                pids = _ray_workers()
                killed.extend(pids[:1])
                for pid in killed:
                    os.kill(pid, signal.SIGKILL)
        return scripted(request)

    with FakeServer(handler, latency=0.05) as server:
        dataset = ray.data.from_items(
            [{"id": f"k{n}", "text": person_text(str(n), n)} for n in range(count)]
        )
        rows = extract_dataset(
            dataset,
            PERSON_SCHEMA,
            workers=2,
            concurrency=2 * per_worker,
            batch_size=per_worker * 4,
            cache=tmp_path / "answers.db",
            api_key="sk-test-ray",
            base_url=server.base_url,
        ).take_all()
        bills = Counter(bill.key for bill in server.bills)

    assert killed, "no worker was killed"
    assert sorted(row["id"] for row in rows) == sorted(f"k{n}" for n in range(count))
    assert all(row["ok"] and row["started"] for row in rows)
    for row in rows:
        n = int(row["id"][1:])
        assert json.loads(row["data"]) == {"name": f"Person {n}", "age": 20 + n}
    # Paid twice: only the records the dead worker had in flight, never its answered ones.
    assert sum(1 for times in bills.values() if times > 1) <= per_worker


def test_extract_dataset_rows_carry_values_errors_attempts_usage_and_cost(
    ray_cluster: str,
) -> None:
    texts = {name: person_text(name, n, fault) for n, (name, fault) in enumerate(FAULTS.items())}
    texts["blank"] = "   "
    with FakeServer(scripted, latency=0.005) as server:
        dataset = ray.data.from_items([{"id": k, "text": v} for k, v in texts.items()])
        rows = {
            row["id"]: row
            for row in extract_dataset(
                dataset,
                PERSON_SCHEMA,
                max_retries=2,
                api_key="sk-test-ray",
                base_url=server.base_url,
            ).take_all()
        }
        billed = server.billed()
    assert set(rows) == set(texts)
    assert rows["ok"]["ok"] and json.loads(rows["ok"]["data"]) == {"name": "Person 0", "age": 20}
    assert rows["types"]["attempts"] == 2 and rows["types"]["ok"]
    assert rows["refuse"]["error_type"] == "RefusalError" and rows["refuse"]["data"] is None
    assert rows["invalid-always"]["raw"] == "no JSON here, sorry"
    assert rows["blank"]["error_type"] == "InputError" and rows["blank"]["attempts"] == 0
    prompt = sum(row["prompt_tokens"] for row in rows.values())
    completion = sum(row["completion_tokens"] for row in rows.values())
    assert (prompt, completion) == billed
    assert sum(Decimal(row["cost"]) for row in rows.values()) == price(prompt, completion)


def test_a_bad_key_stops_every_worker_and_ctrl_c_stops_gracefully(
    ray_cluster: str, workdir: Path
) -> None:
    """The local engine's exit codes: 1 when every record would fail the same way (the
    workers stop, nothing is written), 130 after Ctrl-C (in-flight records finish and are
    written; the rerun does the rest)."""

    def reject(request: ChatRequest) -> Reply:
        key = request.headers["authorization"].removeprefix("Bearer ")  # echoed, like the API
        return Reply.http_error(401, f"Incorrect API key provided: {key}", code="invalid_api_key")

    write_people(workdir, 200)
    with FakeServer(reject) as fake:
        done = cli(workdir, *on_ray(fake, ray_cluster, "--concurrency", "4"))
        assert done.returncode == 1, done.stderr
        assert "extractor: stopped: AuthenticationError" in done.stderr
        assert len(fake.requests) < 200  # it stopped instead of failing every record
    assert read_lines(workdir / "out.jsonl") == read_lines(workdir / "out.errors.jsonl") == []
    assert_no_key(*workdir.iterdir(), texts=(done.stdout, done.stderr))

    with FakeServer(scripted, latency=0.05) as server:
        args = on_ray(server, ray_cluster, "--concurrency", "4")
        process = start_cli(workdir, args)
        wait_for_lines(workdir / "out.jsonl", 10, process, timeout=300)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 130, stderr
        assert "summary (stopped: interrupted)" in stderr
        assert len(read_lines(workdir / "out.jsonl")) < 200
        # Graceful: every answer that arrived was written.
        assert file_totals(workdir / "out.jsonl")[:2] == server.billed()
        done = cli(workdir, *args)
        assert done.returncode == 0, done.stderr
        assert sorted(line["id"] for line in read_lines(workdir / "out.jsonl")) == list(range(200))
        assert file_totals(workdir / "out.jsonl")[:2] == server.billed()


def test_compact_mode_on_ray_with_a_reask(ray_cluster: str, workdir: Path) -> None:
    from tests.test_compact import compact_person  # compact answers; SHORT: one value too few

    rows = [{"id": i, "text": f"rec-{i} P{i}, 36{' SHORT' if i == 1 else ''}"} for i in range(4)]
    write_jsonl(workdir / "in.jsonl", rows)
    with FakeServer(compact_person) as server:
        done = cli(workdir, *on_ray(server, ray_cluster, "--mode", "compact"))
    assert done.returncode == 0, done.stderr
    lines = {line["id"]: line for line in read_lines(workdir / "out.jsonl")}
    assert {i: line["data"] for i, line in lines.items()} == {
        i: {"name": f"P{i}", "age": 36} for i in range(4)
    }
    assert lines[1]["attempts"] == 2
