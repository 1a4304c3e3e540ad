"""End to end: the real ``python -m extractor`` in a subprocess, against the loopback fake
server, with every fault the server can inject. No network, no real key."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.fakeserver import ChatRequest, FakeServer, Reply, person_answer

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-test-e2e-9f8e7d6c5b4a"  # must never show up in any file or output

PERSON_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


def scripted(request: ChatRequest) -> Reply:
    """The model, per record: the record's text names its fault."""
    text, nth = request.text, request.nth
    answer = person_answer(text)
    if "FAULT-429" in text and nth == 0:
        return Reply.rate_limited(0.05)
    if "FAULT-5XX" in text and nth < 2:
        return Reply.server_error(503)
    if "FAULT-DROP" in text and nth == 0:
        return Reply.dropped()
    if "FAULT-SLOW" in text:
        return Reply.answer(answer, delay=0.3)
    if "FAULT-INVALID-ONCE" in text and nth == 0:
        return Reply.text("Sure! The person is called something, aged something.")
    if "FAULT-INVALID-ALWAYS" in text:
        return Reply.text("no JSON here, sorry")
    if "FAULT-FENCED" in text:
        return Reply.text("Here you go:\n```json\n" + json.dumps(answer) + "\n```")
    if "FAULT-TYPES" in text:
        # Fixed only when the re-ask names the offending field.
        if request.is_reask and "age" in request.feedback:
            return Reply.answer(answer)
        return Reply.answer({**answer, "age": "thirty-something"})
    if "FAULT-TRUNCATED" in text:
        return Reply.truncated('{"name": "' + answer["name"][:2])
    if "FAULT-REFUSE-ONCE" in text and nth == 0:
        return Reply.refuse()
    if "FAULT-REFUSE" in text and "ONCE" not in text:
        return Reply.refuse()
    return Reply.answer(answer)


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.pop("EXTRACTOR_BASE_URL", None)
    env.pop("OPENAI_BASE_URL", None)
    env.pop("EXTRACTOR_PRICE", None)
    env.update(EXTRACTOR_API_KEY=KEY, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    # The loopback server stands for a gateway billing in yuan: its price is one setting away.
    env["EXTRACTOR_PRICE"] = "1.80/15.00 CNY"
    return env


def cli(
    workdir: Path,
    *args: str,
    stdin: str | bytes | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    data = stdin.decode("latin-1") if isinstance(stdin, bytes) else stdin
    return subprocess.run(
        [sys.executable, "-m", "extractor", *args],
        cwd=workdir,
        env={**cli_env(), **(env or {})},
        input=data,
        capture_output=True,
        text=True,
        timeout=120,
    )


def start_cli(workdir: Path, args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "extractor", *args],
        cwd=workdir,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def person_text(record_id: str, n: int, fault: str = "") -> str:
    return f"rec-{record_id} {fault} name: Person {n}, age: {20 + n}".replace("  ", " ")


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def write_people(workdir: Path, count: int) -> None:
    """in.jsonl with ``count`` well-formed person records, ids 0..count-1."""
    write_jsonl(
        workdir / "in.jsonl", [{"id": i, "text": person_text(str(i), i)} for i in range(count)]
    )


def read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    raw = path.read_bytes()
    assert not raw or raw.endswith(b"\n"), f"torn last line in {path}"
    return [json.loads(line, parse_float=Decimal) for line in raw.splitlines()]


def file_totals(*paths: Path) -> tuple[int, int, Decimal]:
    prompt = completion = 0
    cost = Decimal(0)
    for path in paths:
        for line in read_lines(path):
            prompt += line["usage"]["prompt_tokens"]
            completion += line["usage"]["completion_tokens"]
            cost += Decimal(str(line["cost"]))
    return prompt, completion, cost


def price(prompt: int, completion: int) -> Decimal:
    return (prompt * Decimal("1.80") + completion * Decimal("15.00")) / 1_000_000


def assert_no_key(*paths: Path, texts: tuple[str, ...] = ()) -> None:
    for path in paths:
        if path.exists():
            assert KEY.encode() not in path.read_bytes(), f"API key leaked into {path}"
    for text in texts:
        assert KEY not in text


def batch_args(server: FakeServer, *extra: str) -> list[str]:
    return [
        "batch",
        "in.jsonl",
        "--schema",
        "person.json",
        "-o",
        "out.jsonl",
        "--base-url",
        server.base_url,
        "--no-progress",
        *extra,
    ]


FAULTS = {
    "ok": "",
    "429": "FAULT-429",
    "5xx": "FAULT-5XX",
    "drop": "FAULT-DROP",
    "slow": "FAULT-SLOW",
    "invalid-once": "FAULT-INVALID-ONCE",
    "invalid-always": "FAULT-INVALID-ALWAYS",
    "fenced": "FAULT-FENCED",
    "types": "FAULT-TYPES",
    "truncated": "FAULT-TRUNCATED",
    "refuse": "FAULT-REFUSE",
}


def test_batch_with_every_fault(server: FakeServer, workdir: Path) -> None:
    rows = [
        {"id": name, "text": person_text(name, n, fault)}
        for n, (name, fault) in enumerate(FAULTS.items())
    ]
    write_jsonl(workdir / "in.jsonl", rows)
    done = cli(workdir, *batch_args(server, "--concurrency", "4", "--max-retries", "2", "-v"))
    assert done.returncode == 0, done.stderr
    assert "attempt 1 model=gpt-5.1" in done.stderr  # -v logs every attempt (never the key)
    assert server.authorizations == {f"Bearer {KEY}"}  # the key was sent, and only there

    ok = {line["id"]: line for line in read_lines(workdir / "out.jsonl")}
    failed = {line["id"]: line for line in read_lines(workdir / "out.errors.jsonl")}
    assert set(ok) == {"ok", "429", "5xx", "drop", "slow", "invalid-once", "fenced", "types"}
    assert set(failed) == {"invalid-always", "truncated", "refuse"}
    for n, name in enumerate(FAULTS):
        if name in ok:
            assert ok[name]["data"] == {"name": f"Person {n}", "age": 20 + n}
    # Transport retries are not attempts; re-asks are.
    assert ok["429"]["attempts"] == 1 and ok["5xx"]["attempts"] == 1
    assert ok["drop"]["attempts"] == 1
    assert ok["invalid-once"]["attempts"] == 2 and ok["types"]["attempts"] == 2
    assert failed["invalid-always"]["error"]["type"] == "ValidationFailed"
    assert failed["invalid-always"]["attempts"] == 3
    assert failed["invalid-always"]["raw"] == "no JSON here, sorry"
    assert failed["truncated"]["error"]["type"] == "TruncatedError"
    assert failed["truncated"]["raw"].startswith('{"name": "Pe')
    assert failed["refuse"]["error"]["type"] == "RefusalError"
    # The retried requests really went out again.
    requested = server.keys_requested()
    assert requested["429"] == 2 and requested["5xx"] == 3 and requested["drop"] == 2

    # What the files say was spent is what the server billed, token for token.
    prompt, completion, cost = file_totals(workdir / "out.jsonl", workdir / "out.errors.jsonl")
    assert (prompt, completion) == server.billed()
    assert cost == price(prompt, completion)
    assert f"tokens:      {prompt + completion} " in done.stderr
    assert f"cost:        {cost:f} CNY" in done.stderr
    assert "ValidationFailed 1" in done.stderr and "RefusalError 1" in done.stderr
    assert_no_key(*workdir.iterdir(), texts=(done.stdout, done.stderr))


def test_rerun_skips_done_records_and_pays_nothing(server: FakeServer, workdir: Path) -> None:
    write_people(workdir, 20)
    first = cli(workdir, *batch_args(server, "--rpm", "60000", "--tpm", "50000000"))
    assert first.returncode == 0, first.stderr
    billed = server.billed()
    again = cli(workdir, *batch_args(server))
    assert again.returncode == 0, again.stderr
    assert server.billed() == billed
    assert "skipped:     20" in again.stderr
    assert len(read_lines(workdir / "out.jsonl")) == 20


def test_bad_input_records_go_to_the_errors_file(server: FakeServer, workdir: Path) -> None:
    lines = [
        json.dumps({"id": "a", "text": person_text("a", 1)}).encode(),
        b"{not json",
        json.dumps({"id": "b"}).encode(),
        json.dumps({"id": "c", "text": "   "}).encode(),
        json.dumps({"id": "a", "text": person_text("a", 2)}).encode(),
        b'{"id": "d", "text": "caf\xe9 \xff"}',
        b"[1, 2]",
        json.dumps({"id": "e", "text": person_text("e", 5)}).encode(),
    ]
    (workdir / "in.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    done = cli(workdir, *batch_args(server))
    assert done.returncode == 0, done.stderr
    assert sorted(line["id"] for line in read_lines(workdir / "out.jsonl")) == ["a", "e"]
    errors = {line["line"]: line for line in read_lines(workdir / "out.errors.jsonl")}
    assert set(errors) == {2, 3, 4, 5, 6, 7}
    assert "not valid JSON" in errors[2]["error"]["message"]
    assert "no 'text' field" in errors[3]["error"]["message"]
    assert "is empty" in errors[4]["error"]["message"]
    assert "duplicate id" in errors[5]["error"]["message"] and errors[5]["id"] == "a"
    assert "not valid UTF-8" in errors[6]["error"]["message"]
    assert "not an object" in errors[7]["error"]["message"]
    assert all(line["error"]["type"] == "InputError" for line in errors.values())
    # Rerun: nothing is redone, not even the bad records.
    again = cli(workdir, *batch_args(server))
    assert again.returncode == 0 and "skipped:     8" in again.stderr
    assert len(read_lines(workdir / "out.errors.jsonl")) == 6


def test_csv_text_and_stdin_inputs(server: FakeServer, workdir: Path) -> None:
    (workdir / "in.csv").write_text(
        "key,body\n" + "".join(f'k{i},"{person_text(f"k{i}", i)}"\n' for i in range(3))
    )
    done = cli(
        workdir,
        "batch",
        "in.csv",
        "--schema",
        "person.json",
        "-o",
        "csv.jsonl",
        "--id-field",
        "key",
        "--text-field",
        "body",
        "--base-url",
        server.base_url,
        "--no-progress",
    )
    assert done.returncode == 0, done.stderr
    assert sorted(line["id"] for line in read_lines(workdir / "csv.jsonl")) == ["k0", "k1", "k2"]

    text = "".join(person_text(f"t{i}", i) + "\n" for i in range(3))
    done = cli(
        workdir,
        "batch",
        "-",
        "--schema",
        "person.json",
        "-o",
        "txt.jsonl",
        "--base-url",
        server.base_url,
        "--no-progress",
        stdin=text,
    )
    assert done.returncode == 0, done.stderr
    lines = sorted(read_lines(workdir / "txt.jsonl"), key=lambda line: line["id"])
    assert [line["id"] for line in lines] == [1, 2, 3]  # plain text: id = line number
    assert lines[2]["data"] == {"name": "Person 2", "age": 22}


def test_configuration_errors_write_nothing(server: FakeServer, workdir: Path) -> None:
    write_jsonl(workdir / "in.jsonl", [{"id": 1, "text": person_text("1", 1)}])
    (workdir / "models.py").write_text("X = 1\n")
    (workdir / "broken.py").write_text("class Person(:\n")
    cases = [
        (["--schema", "missing.json"], "missing.json"),
        (["--schema", "nomodule:Person"], "cannot import 'nomodule'"),
        (["--schema", "models:Person"], "has no 'Person'"),
        (["--schema", "broken:Person"], "importing 'broken' failed: SyntaxError"),
    ]
    for schema_args, message in cases:
        done = cli(
            workdir,
            "batch",
            "in.jsonl",
            *schema_args,
            "-o",
            "out.jsonl",
            "--base-url",
            server.base_url,
        )
        assert done.returncode == 2, done.stderr
        assert message in done.stderr and "Traceback" not in done.stderr
    done = cli(workdir, *batch_args(server)[:1], "nothere.jsonl", *batch_args(server)[2:])
    assert done.returncode == 2 and "cannot read the input" in done.stderr
    done = cli(workdir, *batch_args(server), "--errors", "nodir/errors.jsonl")
    assert done.returncode == 2 and "no directory 'nodir'" in done.stderr
    (workdir / "adir").mkdir()
    done = cli(workdir, *batch_args(server), "--errors", "adir")
    assert done.returncode == 2 and "'adir': it is a directory" in done.stderr, done.stderr
    assert not (workdir / "out.jsonl").exists() and not (workdir / "out.errors.jsonl").exists()
    assert server.requests == []


def test_authentication_error_stops_the_job(workdir: Path) -> None:
    def reject(request: ChatRequest) -> Reply:
        # Like the real API, the message echoes the key it was given.
        key = request.headers["authorization"].removeprefix("Bearer ")
        return Reply.http_error(401, f"Incorrect API key provided: {key}", code="invalid_api_key")

    write_people(workdir, 30)
    with FakeServer(reject) as fake:
        done = cli(workdir, *batch_args(fake, "--concurrency", "2"))
        assert done.returncode == 1, done.stderr
        assert "AuthenticationError" in done.stderr
        assert len(fake.requests) < 30  # it stopped instead of failing every record
    assert read_lines(workdir / "out.jsonl") == read_lines(workdir / "out.errors.jsonl") == []
    assert_no_key(*workdir.iterdir(), texts=(done.stdout, done.stderr))


def test_budget_stops_and_the_rerun_goes_on(server: FakeServer, workdir: Path) -> None:
    write_people(workdir, 40)
    done = cli(workdir, *batch_args(server, "--concurrency", "2", "--budget", "0.003"))
    assert done.returncode == 3, done.stderr
    assert "budget reached" in done.stderr
    first = read_lines(workdir / "out.jsonl")
    assert 0 < len(first) < 40
    spent = sum(Decimal(str(line["cost"])) for line in first)
    # It stopped starting records once the budget was reached: at most the in-flight overshoot.
    most = max(Decimal(str(line["cost"])) for line in first)
    assert Decimal("0.003") <= spent < Decimal("0.003") + 2 * most
    done = cli(workdir, *batch_args(server, "--concurrency", "2"))
    assert done.returncode == 0
    assert sorted(line["id"] for line in read_lines(workdir / "out.jsonl")) == list(range(40))


def test_retry_errors_moves_records_that_now_succeed(server: FakeServer, workdir: Path) -> None:
    rows = [{"id": i, "text": person_text(str(i), i)} for i in range(5)]
    rows += [{"id": 5, "text": person_text("5", 5, "FAULT-REFUSE-ONCE")}]
    rows += [{"id": 6, "text": person_text("6", 6, "FAULT-REFUSE")}]
    write_jsonl(workdir / "in.jsonl", rows)
    assert cli(workdir, *batch_args(server)).returncode == 0
    assert {line["id"] for line in read_lines(workdir / "out.errors.jsonl")} == {5, 6}
    again = cli(workdir, *batch_args(server, "--retry-errors"))
    assert again.returncode == 0, again.stderr
    ok = {line["id"]: line for line in read_lines(workdir / "out.jsonl")}
    errors = read_lines(workdir / "out.errors.jsonl")
    assert set(ok) == {0, 1, 2, 3, 4, 5}
    assert [line["id"] for line in errors] == [6]
    assert ok[5]["attempts"] == 2  # the failed first try is carried into its line
    assert errors[0]["attempts"] == 2
    prompt, completion, _ = file_totals(workdir / "out.jsonl", workdir / "out.errors.jsonl")
    assert (prompt, completion) == server.billed()


def test_cache_makes_reruns_and_duplicate_texts_free(server: FakeServer, workdir: Path) -> None:
    rows = [{"id": i, "text": person_text(str(i % 5), i % 5)} for i in range(10)]
    write_jsonl(workdir / "in.jsonl", rows)
    done = cli(workdir, *batch_args(server, "--cache", "cache.db", "--concurrency", "3"))
    assert done.returncode == 0, done.stderr
    assert len(server.requests) == 5  # each distinct text asked once
    assert "cache hits:  5" in done.stderr
    lines = read_lines(workdir / "out.jsonl")
    assert len(lines) == 10 and sum(1 for line in lines if line.get("cached")) == 5
    again = cli(
        workdir,
        "batch",
        "in.jsonl",
        "--schema",
        "person.json",
        "-o",
        "second.jsonl",
        "--cache",
        "cache.db",
        "--base-url",
        server.base_url,
        "--no-progress",
    )
    assert again.returncode == 0
    assert len(server.requests) == 5 and "cache hits:  10" in again.stderr
    assert read_lines(workdir / "second.jsonl")[0]["usage"]["prompt_tokens"] == 0
    prompt, completion, _ = file_totals(workdir / "out.jsonl")
    assert (prompt, completion) == server.billed()
    assert_no_key(workdir / "cache.db", workdir / "cache.db-wal")


def wait_for_lines(
    path: Path, count: int, process: subprocess.Popen[str], timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= count:
            return
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        time.sleep(0.01)
    raise AssertionError(f"{path} never reached {count} lines")


def test_sigkill_mid_run_then_rerun_is_exactly_once(workdir: Path) -> None:
    """kill -9 at an arbitrary moment, rerun: every record in exactly one file, none twice,
    and only the requests in flight at the kill were paid for and lost (see job.py)."""
    total, concurrency = 300, 12  # two connection pools of 6
    rows = [
        {"id": f"r{i}", "text": person_text(f"r{i}", i, "FAULT-TYPES" if i % 7 == 0 else "")}
        for i in range(total)
    ]
    write_jsonl(workdir / "in.jsonl", rows)
    with FakeServer(scripted, latency=0.02) as server:
        args = batch_args(server, "--concurrency", str(concurrency))
        process = start_cli(workdir, args)
        wait_for_lines(workdir / "out.jsonl", 60, process)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        time.sleep(0.1)  # let the server finish answering the dead client
        first_run_bills = list(server.bills)

        raw = (workdir / "out.jsonl").read_bytes()
        written = {json.loads(line)["id"] for line in raw.split(b"\n")[:-1]}  # whole lines only
        assert 60 <= len(written) < total

        done = cli(workdir, *args)
        assert done.returncode == 0, done.stderr
        rerun_keys = {bill.key for bill in server.bills[len(first_run_bills) :]}

    ok = read_lines(workdir / "out.jsonl")
    failed = read_lines(workdir / "out.errors.jsonl")
    ids = [line["id"] for line in ok + failed]
    assert sorted(ids) == sorted(row["id"] for row in rows)  # each exactly once
    assert failed == []
    by_id = {line["id"]: line for line in ok}
    for i in range(total):
        assert by_id[f"r{i}"]["data"] == {"name": f"Person {i}", "age": 20 + i}

    # Never pay twice: no record written by the killed run was asked for again.
    assert not rerun_keys & written
    # What was billed but is in no file: exactly the killed run's requests for records it had
    # not written, i.e. those in flight at the kill (at most `concurrency` records).
    lost = [bill for bill in first_run_bills if bill.key not in written]
    assert len({bill.key for bill in lost}) <= concurrency
    prompt, completion, _ = file_totals(workdir / "out.jsonl", workdir / "out.errors.jsonl")
    billed_prompt, billed_completion = server.billed()
    assert prompt == billed_prompt - sum(bill.prompt_tokens for bill in lost)
    assert completion == billed_completion - sum(bill.completion_tokens for bill in lost)
    assert_no_key(*workdir.iterdir(), texts=(done.stdout, done.stderr))


def test_ctrl_c_stops_gracefully_and_the_rerun_completes(workdir: Path) -> None:
    write_people(workdir, 400)
    with FakeServer(scripted, latency=0.02) as server:
        args = batch_args(server, "--concurrency", "4")
        process = start_cli(workdir, args)
        wait_for_lines(workdir / "out.jsonl", 20, process)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 130, stderr
        assert "stopping: finishing" in stderr and "summary (stopped: interrupted)" in stderr
        first = read_lines(workdir / "out.jsonl")
        assert len(first) < 400
        # Graceful: every answer that arrived was written, nothing was lost.
        assert (
            file_totals(workdir / "out.jsonl", workdir / "out.errors.jsonl")[:2] == server.billed()
        )
        done = cli(workdir, *args)
        assert done.returncode == 0, done.stderr
        assert len(read_lines(workdir / "out.jsonl")) == 400
        assert file_totals(workdir / "out.jsonl")[:2] == server.billed()


def test_torn_last_line_is_repaired_on_start(server: FakeServer, workdir: Path) -> None:
    write_people(workdir, 5)
    assert cli(workdir, *batch_args(server)).returncode == 0
    out = workdir / "out.jsonl"
    lines = out.read_bytes().splitlines(keepends=True)
    torn_id = json.loads(lines[-1])["id"]
    out.write_bytes(b"".join(lines[:-1]) + lines[-1][:25])  # a crash mid-write
    done = cli(workdir, *batch_args(server))
    assert done.returncode == 0, done.stderr
    assert "repaired a torn last line" in done.stderr
    assert sorted(line["id"] for line in read_lines(out)) == list(range(5))
    assert server.keys_requested()[str(torn_id)] == 2


def test_extract_prompt_and_estimate_commands(server: FakeServer, workdir: Path) -> None:
    (workdir / "models.py").write_text(
        "from pydantic import BaseModel\n\nclass Person(BaseModel):\n    name: str\n    age: int\n"
    )
    done = cli(
        workdir,
        "extract",
        "--schema",
        "models:Person",
        "--text",
        person_text("x", 3),
        "--base-url",
        server.base_url,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"name": "Person 3", "age": 23}

    done = cli(
        workdir,
        "extract",
        "--schema",
        "person.json",
        "-",
        "--base-url",
        server.base_url,
        stdin=person_text("y", 4, "FAULT-REFUSE"),
    )
    assert done.returncode == 1 and "RefusalError" in done.stderr

    asked = len(server.requests)
    # An empty stdin (a script or cron job with nothing piped in) is not worth a paid request.
    for source, stdin in ((["-"], ""), (["--text", " \n"], None)):
        done = cli(workdir, "extract", "--schema", "person.json", *source, stdin=stdin)
        assert done.returncode == 2 and "is empty" in done.stderr, done.stderr
    assert len(server.requests) == asked
    done = cli(workdir, "prompt", "--schema", "person.json", "--text", "Ada, 36")
    assert done.returncode == 0
    body = json.loads(done.stdout)
    assert body["model"] == "gpt-5.1" and body["response_format"] == {"type": "json_object"}
    assert "Ada, 36" in body["messages"][-1]["content"]

    write_jsonl(workdir / "in.jsonl", [{"id": i, "text": "x" * 400} for i in range(10)])
    done = cli(workdir, "estimate", "in.jsonl", "--schema", "person.json")
    assert done.returncode == 0, done.stderr
    assert "records:        10\n" in done.stdout
    assert len(server.requests) == asked  # estimate and prompt never call the API


def test_no_api_key_is_a_configuration_error_before_anything_is_written(
    server: FakeServer, workdir: Path
) -> None:
    write_jsonl(workdir / "in.jsonl", [{"id": 1, "text": person_text("1", 1)}])
    env = {k: v for k, v in cli_env().items() if not k.endswith("_API_KEY")}
    done = subprocess.run(
        [sys.executable, "-m", "extractor", *batch_args(server)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "EXTRACTOR_API_KEY" in done.stderr
    assert not (workdir / "out.jsonl").exists() and server.requests == []


def test_second_ctrl_c_abandons_in_flight_records(workdir: Path) -> None:
    write_people(workdir, 8)
    with FakeServer(scripted, latency=30.0) as server:  # answers that will never come in time
        args = batch_args(server, "--concurrency", "4")
        process = start_cli(workdir, args)
        deadline = time.monotonic() + 30
        while len(server.requests) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
        assert process.returncode == 130, stderr
        assert "abandoning in-flight records" in stderr
        assert read_lines(workdir / "out.jsonl") == read_lines(workdir / "out.errors.jsonl") == []
        assert len(server.requests) == 4  # nothing new was started after the first Ctrl-C


def test_non_object_targets_are_unwrapped_in_out_and_from_the_cache(workdir: Path) -> None:
    (workdir / "people.json").write_text(json.dumps({"type": "array", "items": PERSON_SCHEMA}))

    def listing(request: ChatRequest) -> Reply:
        return Reply.answer({"result": [person_answer(request.text)]})

    write_people(workdir, 3)
    with FakeServer(listing) as fake:
        for output in ("a.jsonl", "b.jsonl"):
            done = cli(
                workdir, "batch", "in.jsonl", "--schema", "people.json", "-o", output,
                "--cache", "cache.db", "--base-url", fake.base_url, "--no-progress",
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
        assert len(fake.requests) == 3
    for output in ("a.jsonl", "b.jsonl"):
        lines = sorted(read_lines(workdir / output), key=lambda line: line["id"])
        assert [line["data"] for line in lines] == [
            [{"name": f"Person {i}", "age": 20 + i}] for i in range(3)
        ]
    assert all(line.get("cached") for line in read_lines(workdir / "b.jsonl"))


def test_a_burst_of_429s_slows_the_job_down_instead_of_failing_records(workdir: Path) -> None:
    limited = 12  # the first dozen requests, whichever records they are for

    def overloaded(request: ChatRequest) -> Reply:
        if len(fake.requests) <= limited:
            return Reply.rate_limited(0.05)
        return scripted(request)

    write_people(workdir, 10)
    with FakeServer(overloaded) as fake:
        done = cli(workdir, *batch_args(fake, "--concurrency", "4"))
        assert done.returncode == 0, done.stderr
        assert fake.statuses[429] == limited
    assert sorted(line["id"] for line in read_lines(workdir / "out.jsonl")) == list(range(10))
    assert read_lines(workdir / "out.errors.jsonl") == []


def test_budget_reached_by_the_last_record_is_a_complete_job(
    server: FakeServer, workdir: Path
) -> None:
    write_people(workdir, 2)
    done = cli(workdir, *batch_args(server, "--concurrency", "1", "--budget", "0.0000001"))
    assert done.returncode == 3, done.stderr  # one record left when the budget was reached
    assert len(read_lines(workdir / "out.jsonl")) == 1
    done = cli(workdir, *batch_args(server, "--concurrency", "1", "--budget", "0.0000001"))
    assert done.returncode == 0, done.stderr  # the last one spent it, but nothing is left
    assert "stopped" not in done.stderr and "budget reached" not in done.stderr
    assert len(read_lines(workdir / "out.jsonl")) == 2
