"""End to end: ``extractor batch --batch-api`` in a subprocess, against the loopback fake of the
Files and Batches endpoints (tests/batchserver.py), with the usual faults."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from extractor.core.prompt import PATCH_REQUEST
from tests.batchserver import BatchServer
from tests.e2e.test_cli import (
    FAULTS,
    assert_no_key,
    batch_args,
    cli,
    file_totals,
    person_text,
    read_lines,
    scripted,
    start_cli,
    write_jsonl,
    write_people,
)
from tests.fakeserver import ChatRequest, FakeServer, Reply, person_answer


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    (tmp_path / "person.json").write_text(json.dumps(schema))
    return tmp_path


@pytest.fixture
def server() -> Iterator[BatchServer]:
    with BatchServer(scripted) as fake:
        yield fake


def batch_api_args(server: FakeServer, *extra: str) -> list[str]:
    return batch_args(server, "--batch-api", "--poll-interval", "0.01", *extra)


def batch_price(prompt: int, completion: int) -> Decimal:
    return (prompt * Decimal("0.90") + completion * Decimal("7.50")) / 1_000_000


def assert_exactly_once(workdir: Path, ids: set[object]) -> None:
    ok = [line["id"] for line in read_lines(workdir / "out.jsonl")]
    failed = [line["id"] for line in read_lines(workdir / "out.errors.jsonl")]
    assert len(ok) == len(set(ok)) and len(failed) == len(set(failed))
    assert not set(ok) & set(failed)
    assert set(ok) | set(failed) == ids


def test_every_fault_through_the_batch_api(server: BatchServer, workdir: Path) -> None:
    faults = {k: v for k, v in FAULTS.items() if k not in ("slow", "drop")}
    rows = [
        {"id": name, "text": person_text(name, n, fault)}
        for n, (name, fault) in enumerate(faults.items())
    ]
    write_jsonl(workdir / "in.jsonl", rows)
    done = cli(workdir, *batch_api_args(server, "--max-retries", "2"))
    assert done.returncode == 0, done.stderr

    ok = {line["id"]: line for line in read_lines(workdir / "out.jsonl")}
    failed = {line["id"]: line for line in read_lines(workdir / "out.errors.jsonl")}
    assert set(ok) == {"ok", "429", "5xx", "invalid-once", "fenced", "types"}
    assert set(failed) == {"invalid-always", "truncated", "refuse"}
    for n, name in enumerate(faults):
        if name in ok:
            assert ok[name]["data"] == {"name": f"Person {n}", "age": 20 + n}
    # Re-asks went into later rounds, with the live path's feedback; refusals and truncations
    # were not re-asked; a request failing with 429/5xx went again in the next round.
    assert ok["invalid-once"]["attempts"] == 2 and ok["types"]["attempts"] == 2
    assert failed["invalid-always"]["attempts"] == 3
    assert failed["invalid-always"]["error"]["type"] == "ValidationFailed"
    assert failed["truncated"]["error"]["type"] == "TruncatedError"
    assert failed["refuse"]["error"]["type"] == "RefusalError"
    submitted = {json.loads(key): count for key, count in server.submitted.items()}
    assert submitted["refuse"] == 1 and submitted["truncated"] == 1
    assert submitted["invalid-always"] == 3 and submitted["5xx"] == 3
    assert submitted["ok"] == 1
    assert not [r for r in server.requests if r.headers]  # nothing was sent live

    # What the files say was spent is what was billed, at the batch price (half).
    prompt, completion, cost = file_totals(workdir / "out.jsonl", workdir / "out.errors.jsonl")
    assert (prompt, completion) == server.billed()
    assert cost == batch_price(prompt, completion)
    assert "rounds:      3" in done.stderr
    assert f"batches:     {len(server.created())} created this run" in done.stderr
    assert f"requests:    {sum(server.submitted.values())} in batches" in done.stderr
    assert f"cost:        {cost:f} CNY" in done.stderr
    assert not (workdir / "out.jsonl.batches.json").exists()  # done: no state left behind
    assert_no_key(*workdir.iterdir(), texts=(done.stdout, done.stderr))


def test_requests_are_split_at_the_batch_limits(server: BatchServer, workdir: Path) -> None:
    write_people(workdir, 25)
    done = cli(workdir, *batch_api_args(server, "--batch-max-requests", "10"))
    assert done.returncode == 0, done.stderr
    sizes = [batch["request_counts"]["total"] for batch in server.created()]
    assert sorted(sizes) == [5, 10, 10]
    assert_exactly_once(workdir, set(range(25)))

    (workdir / "out.jsonl").unlink()
    before = set(server.files)
    done = cli(workdir, *batch_api_args(server, "--batch-max-bytes", "3000"))
    assert done.returncode == 0, done.stderr
    uploads = [len(server.contents[name]) for name in set(server.files) - before]
    assert len(uploads) > 1 and max(uploads) <= 3000
    assert_exactly_once(workdir, set(range(25)))


def test_expired_and_failed_batches_resubmit_only_unanswered_requests(workdir: Path) -> None:
    def fault(number: int, lines: list[dict[str, object]]) -> str | None:
        return {1: "expire", 2: "fail"}.get(number)

    write_people(workdir, 10)
    with BatchServer(scripted, batch_fault=fault) as server:
        done = cli(workdir, *batch_api_args(server))
        assert done.returncode == 0, done.stderr
        assert_exactly_once(workdir, set(range(10)))
        assert not read_lines(workdir / "out.errors.jsonl")
        # Batch 1 expired after answering half: only the other half went again (batch 2),
        # which failed validation and went once more (batch 3).
        totals = [batch["request_counts"]["total"] for batch in server.created()]
        assert totals == [10, 5, 5]
        assert [batch["status"] for batch in server.created()] == [
            "expired",
            "failed",
            "completed",
        ]
        assert sorted(server.submitted.values()) == [1] * 5 + [3] * 5
        assert "expired: its unanswered requests go again" in done.stderr


def test_a_batch_that_never_works_files_its_records_as_failed(workdir: Path) -> None:
    write_people(workdir, 3)
    with BatchServer(scripted, batch_fault=lambda number, lines: "fail") as server:
        done = cli(workdir, *batch_api_args(server))
        assert done.returncode == 0, done.stderr
        failed = read_lines(workdir / "out.errors.jsonl")
        assert len(failed) == 3 and len(server.created()) == 3
        assert "invalid_request: bad line" in failed[0]["error"]["message"]
        assert failed[0]["error"]["type"] == "APIError"


def test_reask_live_sends_re_asks_to_the_live_api(server: BatchServer, workdir: Path) -> None:
    rows = [{"id": "types", "text": person_text("types", 0, "FAULT-TYPES")}]
    rows.append({"id": "ok", "text": person_text("ok", 1)})
    write_jsonl(workdir / "in.jsonl", rows)
    done = cli(workdir, *batch_api_args(server, "--reask-live"))
    assert done.returncode == 0, done.stderr
    ok = {line["id"]: line for line in read_lines(workdir / "out.jsonl")}
    assert ok["types"]["attempts"] == 2 and len(server.created()) == 1
    live = [r for r in server.requests if r.headers]
    assert [r.key for r in live] == ["types"] and live[0].is_reask
    # The batch answer at the batch price, the live re-ask at the live price.
    bills = {(b.key, b.prompt_tokens, b.completion_tokens) for b in server.bills}
    batch_part, live_part = [b for b in server.bills if b.key == "types"]
    expected = (
        batch_price(batch_part.prompt_tokens, batch_part.completion_tokens)
        + (live_part.prompt_tokens * Decimal("1.80") + live_part.completion_tokens * Decimal("15"))
        / 1_000_000
    )
    assert len(bills) == 3
    assert Decimal(str(ok["types"]["cost"])) == expected
    assert "1 live re-asks" in done.stderr


def patching(request: ChatRequest) -> Reply:
    """A model that leaves out the age, then answers a patch re-ask with only the fields it
    asks for (the JSON array ending the feedback); it writes a number as a string once."""
    answer = person_answer(request.text)
    if "FAULT-PATCH" in request.text:
        if request.is_reask:
            last = request.feedback.splitlines()[-1]
            fields = (
                json.loads(last[len(PATCH_REQUEST) :]) if last.startswith(PATCH_REQUEST) else []
            )
            return Reply.answer({name: answer[name] for name in fields})
        return Reply.answer({"name": answer["name"]})
    if "FAULT-NEVER" in request.text:
        return Reply.answer({"age": "old"} if request.is_reask else {"name": answer["name"]})
    if "FAULT-GROUPED" in request.text:
        return Reply.answer({**answer, "age": f" {answer['age']} "})
    return Reply.answer(answer)


def test_a_re_ask_round_sends_patches_and_merges_the_replies(workdir: Path) -> None:
    rows = [{"id": "patch", "text": person_text("patch", 0, "FAULT-PATCH")}]
    rows.append({"id": "grouped", "text": person_text("grouped", 1, "FAULT-GROUPED")})
    rows.append({"id": "never", "text": person_text("never", 2, "FAULT-NEVER")})
    write_jsonl(workdir / "in.jsonl", rows)
    with BatchServer(patching) as server:
        done = cli(workdir, *batch_api_args(server, "--max-retries", "1"))
    assert done.returncode == 0, done.stderr
    ok = {line["id"]: line for line in read_lines(workdir / "out.jsonl")}
    assert ok["patch"]["data"] == {"name": "Person 0", "age": 20}
    assert ok["grouped"]["data"] == {"name": "Person 1", "age": 21}
    assert ok["patch"]["attempts"] == 2 and ok["grouped"]["attempts"] == 1  # mended locally
    reask = next(r for r in server.requests if r.is_reask and r.key == "patch")
    assert reask.feedback.endswith(PATCH_REQUEST + '["age"]')
    assert len(server.created()) == 2  # the patches went in the second round
    # The errors file shows the answer the problems are about, and the reply that made it.
    (failed,) = read_lines(workdir / "out.errors.jsonl")
    assert failed["id"] == "never" and failed["error"]["type"] == "ValidationFailed"
    merged, note = failed["raw"].split("\n")
    assert json.loads(merged) == {"name": "Person 2", "age": "old"}
    assert note.endswith('{"age": "old"}]')


def _wait(predicate: object, process: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert process.poll() is None, process.communicate()  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_kill_9_after_submission_then_rerun_submits_nothing_twice(
    server: BatchServer, workdir: Path
) -> None:
    write_people(workdir, 30)
    server.hold = True  # the batches stay in progress until released
    process = start_cli(workdir, batch_api_args(server, "--batch-max-requests", "10"))
    _wait(lambda: len(server.created()) == 3 and server.polls >= 3, process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert not (workdir / "out.jsonl").exists() or not read_lines(workdir / "out.jsonl")
    assert (workdir / "out.jsonl.batches.json").exists()

    server.hold = False
    done = cli(workdir, *batch_api_args(server, "--batch-max-requests", "10"))
    assert done.returncode == 0, done.stderr
    assert len(server.created()) == 3  # the rerun collected them: none created again
    assert set(server.submitted.values()) == {1}
    assert "3 picked up from an earlier run" in done.stderr
    assert_exactly_once(workdir, set(range(30)))
    prompt, completion, cost = file_totals(workdir / "out.jsonl")
    assert (prompt, completion) == server.billed() and cost == batch_price(prompt, completion)


def test_kill_9_with_re_asks_pending_resumes_their_conversations(
    server: BatchServer, workdir: Path
) -> None:
    rows = [{"id": n, "text": person_text(str(n), n, "FAULT-TYPES" * (n < 3))} for n in range(5)]
    write_jsonl(workdir / "in.jsonl", rows)
    server.hold, server.hold_from = True, 2  # round 1 completes; round 2 stays in progress
    process = start_cli(workdir, batch_api_args(server))
    _wait(lambda: len(server.created()) == 2 and server.polls >= 4, process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert len(read_lines(workdir / "out.jsonl")) == 2  # the records right the first time
    state = json.loads((workdir / "out.jsonl.batches.json").read_text())
    assert set(state["records"]) == {"0", "1", "2"}  # each with its rejected answer
    assert_no_key(*workdir.iterdir())

    server.hold = False
    done = cli(workdir, *batch_api_args(server))
    assert done.returncode == 0, done.stderr
    assert len(server.created()) == 2
    assert Counter(server.submitted.values()) == Counter({2: 3, 1: 2})
    ok = {line["id"]: line for line in read_lines(workdir / "out.jsonl")}
    assert {n: ok[n]["attempts"] for n in range(5)} == {0: 2, 1: 2, 2: 2, 3: 1, 4: 1}
    assert ok[0]["data"] == {"name": "Person 0", "age": 20}
    prompt, completion, cost = file_totals(workdir / "out.jsonl")
    assert (prompt, completion) == server.billed() and cost == batch_price(prompt, completion)


def test_kill_between_upload_and_saving_the_batch_id_finds_the_batch(
    server: BatchServer, workdir: Path
) -> None:
    """The window a kill -9 can hit between creating a batch and saving its id: the rerun
    finds the batch by its input file instead of creating a second one."""
    write_people(workdir, 4)
    server.hold = True
    process = start_cli(workdir, batch_api_args(server))
    _wait(lambda: len(server.created()) == 1 and server.polls >= 1, process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    state_file = workdir / "out.jsonl.batches.json"
    state = json.loads(state_file.read_text())
    state["batches"][0]["id"] = None  # as if killed before the id was saved
    state_file.write_text(json.dumps(state))

    server.hold = False
    done = cli(workdir, *batch_api_args(server))
    assert done.returncode == 0, done.stderr
    assert len(server.created()) == 1
    assert_exactly_once(workdir, set(range(4)))


def test_ctrl_c_while_polling_stops_and_the_rerun_collects(
    server: BatchServer, workdir: Path
) -> None:
    write_people(workdir, 5)
    server.hold = True
    process = start_cli(workdir, batch_api_args(server))
    _wait(lambda: server.polls >= 2, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "rerun the same command to collect" in stderr
    server.hold = False
    done = cli(workdir, *batch_api_args(server))
    assert done.returncode == 0, done.stderr
    assert len(server.created()) == 1
    assert_exactly_once(workdir, set(range(5)))
    assert Counter(server.submitted.values()) == Counter({1: 5})


def test_a_server_without_the_batch_api_stops_the_job_with_a_clear_error(workdir: Path) -> None:
    write_people(workdir, 2)
    with FakeServer(scripted) as server:  # chat completions only: /files is not found
        done = cli(workdir, *batch_api_args(server))
    assert done.returncode == 1, done.stderr
    assert "stopped: NotFoundError: POST http://127.0.0.1:" in done.stderr
    assert "/v1/files: 404" in done.stderr and "drop --batch-api" in done.stderr
    assert not read_lines(workdir / "out.jsonl") and not read_lines(workdir / "out.errors.jsonl")


def test_budget_submits_only_what_it_pays_for_and_the_rerun_goes_on(
    server: BatchServer, workdir: Path
) -> None:
    """A batch is paid once submitted: the budget is checked before each round, at the batch
    price, and the requests it does not cover wait for a rerun."""
    write_people(workdir, 20)
    budget = Decimal("0.002")
    done = cli(workdir, *batch_api_args(server, "--budget", str(budget)))
    assert done.returncode == 3, done.stderr
    assert "budget:" in done.stderr and "the rest wait for a rerun" in done.stderr
    first = set(server.submitted)
    assert 0 < len(first) < 20
    *_, cost = file_totals(workdir / "out.jsonl", workdir / "out.errors.jsonl")
    assert cost <= budget
    assert (workdir / "out.jsonl.batches.json").exists()  # the rest is still to do

    done = cli(workdir, *batch_api_args(server))
    assert done.returncode == 0, done.stderr
    assert_exactly_once(workdir, set(range(20)))
    assert all(count == 1 for count in server.submitted.values())  # nothing paid twice


def test_cache_answers_records_without_submitting_them(server: BatchServer, workdir: Path) -> None:
    """An answer paid for once, live or through a batch, is not paid for again."""
    write_people(workdir, 2)
    live = [("live.jsonl" if a == "out.jsonl" else a) for a in batch_args(server)]
    done = cli(workdir, *live, "--cache", "cache.db")
    assert done.returncode == 0, done.stderr  # two records live, into the cache
    write_people(workdir, 6)
    done = cli(workdir, *batch_api_args(server, "--cache", "cache.db"))
    assert done.returncode == 0, done.stderr
    assert sorted(server.submitted) == ["2", "3", "4", "5"]  # the cached two not submitted
    assert_exactly_once(workdir, set(range(6)))

    args = batch_api_args(server, "--cache", "cache.db")
    done = cli(workdir, *[("again.jsonl" if a == "out.jsonl" else a) for a in args])
    assert done.returncode == 0, done.stderr
    assert all(count == 1 for count in server.submitted.values())  # nothing submitted again
    lines = read_lines(workdir / "again.jsonl")
    assert len(lines) == 6 and all(line["cached"] and line["cost"] == 0 for line in lines)


def test_a_batch_api_outage_stops_the_job_for_a_rerun_filing_nothing(
    server: BatchServer, workdir: Path
) -> None:
    """The Files and Batches endpoints answering 503 through every retry is an outage, as on
    the live engine (exit 4): the records are not failures of theirs."""
    write_people(workdir, 4)
    server.down = True
    done = cli(workdir, *batch_api_args(server))
    assert done.returncode == 4, done.stderr
    assert "Batch API is not answering" in done.stderr and "rerun" in done.stderr
    assert not read_lines(workdir / "out.jsonl") and not read_lines(workdir / "out.errors.jsonl")

    server.down = False
    done = cli(workdir, *batch_api_args(server))
    assert done.returncode == 0, done.stderr
    assert_exactly_once(workdir, set(range(4)))


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        # Ray used to run the records live, at the full price --batch-api is asked to halve.
        (["--batch-api", "--engine", "ray"], "--batch-api runs on the local engine"),
        (["--reask-live"], "--reask-live goes with --batch-api"),  # used to be ignored
    ],
)
def test_batch_api_flags_in_the_wrong_company_are_usage_errors(
    server: BatchServer, workdir: Path, flags: list[str], message: str
) -> None:
    write_people(workdir, 2)
    done = cli(workdir, *batch_args(server, *flags))
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert not (workdir / "out.jsonl").exists() and server.requests == []


def test_a_state_file_of_another_job_or_not_json_is_refused(
    server: BatchServer, workdir: Path
) -> None:
    write_people(workdir, 2)
    server.hold = True
    process = start_cli(workdir, batch_api_args(server))
    _wait(lambda: server.polls >= 1, process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    changed = batch_api_args(server, "--instructions", "Names in capitals.")
    other = cli(workdir, *changed)
    assert other.returncode == 2, other.stderr  # the job's recorded settings refuse it first
    assert "other settings" in other.stderr and "instructions: now" in other.stderr
    # Past that check (--allow-changes), the state file still refuses another job's batches.
    other = cli(workdir, *changed, "--allow-changes")
    assert other.returncode == 2, other.stderr
    assert "belongs to a job run with another model, schema, instructions" in other.stderr
    (workdir / "out.jsonl.batches.json").write_text("{torn")
    torn = cli(workdir, *batch_api_args(server, "--allow-changes"))
    assert torn.returncode == 2 and "is not JSON" in torn.stderr
    assert len(server.created()) == 1


def test_a_request_the_batch_rejects_is_filed_with_its_error_not_resubmitted(
    workdir: Path,
) -> None:
    def model(request: ChatRequest) -> Reply:
        if "FAULT-400" in request.text:
            return Reply.http_error(400, "Invalid 'messages[1].content': string too long.")
        return scripted(request)

    rows = [{"id": "bad", "text": person_text("bad", 0, "FAULT-400")}]
    rows.append({"id": "ok", "text": person_text("ok", 1)})
    write_jsonl(workdir / "in.jsonl", rows)
    with BatchServer(model) as server:
        done = cli(workdir, *batch_api_args(server))
        assert done.returncode == 0, done.stderr
        (failed,) = read_lines(workdir / "out.errors.jsonl")
        assert failed["id"] == "bad" and failed["error"]["type"] == "BadRequestError"
        assert "string too long" in failed["error"]["message"]
        assert len(server.created()) == 1
        assert [line["id"] for line in read_lines(workdir / "out.jsonl")] == ["ok"]


def test_a_request_over_the_file_size_limit_is_a_clear_error(
    server: BatchServer, workdir: Path
) -> None:
    write_people(workdir, 2)
    done = cli(workdir, *batch_api_args(server, "--batch-max-bytes", "200"))
    assert done.returncode == 2, done.stderr
    assert "over the Batch API's limit of 200 per file" in done.stderr
    assert not server.files
