"""End to end: the command line's options, input formats and what they put in the output."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from extractor._version import __version__
from extractor.cli import _parser
from tests.e2e.test_cli import (
    batch_args,
    cli,
    person_text,
    read_lines,
    write_jsonl,
    write_people,
)
from tests.fakeserver import FakeServer


def test_request_options_reach_the_request_and_the_price_is_shown(
    server: FakeServer, workdir: Path
) -> None:
    write_people(workdir, 2)
    done = cli(
        workdir,
        *batch_args(server),
        "--mode", "tools", "--temperature", "0.2", "--reasoning-effort", "none",
        "--max-tokens", "300", "--price", "1.25/0.125/10.00 usd", "--timeout", "30",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    body = server.requests[0].body
    assert body["temperature"] == 0.2 and body["reasoning_effort"] == "none"
    assert body["max_completion_tokens"] == 300  # gpt-5.1 takes this name
    assert body["tool_choice"]["type"] == "function"  # tools mode
    assert "USD (at 1.25 in / 0.125 cached in / 10.00 out USD per 1M tokens; --price)" in (
        done.stderr
    )
    settings = json.loads((workdir / "out.job.json").read_text())["settings"]
    assert settings["mode"] == "tools" and settings["temperature"] == 0.2


def test_version_help_and_bad_values(workdir: Path) -> None:
    done = cli(workdir, "--version")
    assert done.returncode == 0 and done.stdout.strip() == f"extractor {__version__}"
    commands = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(commands.choices) >= {"batch", "estimate", "extract", "prompt", "export"}
    for name, command in commands.choices.items():
        for action in command._actions:
            assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)
    assert "id field or column" in cli(workdir, "estimate", "--help").stdout
    done = cli(workdir, "prompt", "--schema", "person.json", "--price", "cheap")
    assert done.returncode == 2 and "INPUT/OUTPUT CURRENCY" in done.stderr


def test_budget_for_a_model_without_a_price_says_how_to_give_one(
    server: FakeServer, workdir: Path
) -> None:
    write_people(workdir, 3)
    env_free = batch_args(server, "--model", "my-model", "--budget", "1")
    done = cli(workdir, *env_free, env={"EXTRACTOR_PRICE": ""})
    assert done.returncode == 2 and "--price" in done.stderr and "EXTRACTOR_PRICE" in done.stderr
    assert server.requests == []
    done = cli(workdir, *env_free, "--price", "0.5/1.5 EUR", env={"EXTRACTOR_PRICE": ""})
    assert done.returncode == 0, done.stderr
    assert "EUR (at 0.5 in / 1.5 out EUR per 1M tokens; --price)" in done.stderr


def test_csv_delimiters_are_sniffed_or_given(server: FakeServer, workdir: Path) -> None:
    rows = "".join(f"k{i};{person_text(f'k{i}', i)};x{i}\n" for i in range(3))
    (workdir / "semi.csv").write_text("id;text;extra\n" + rows)
    done = cli(workdir, *_batch(server, "semi.csv", "semi.jsonl"))
    assert done.returncode == 0, done.stderr
    lines = sorted(read_lines(workdir / "semi.jsonl"), key=lambda line: line["id"])
    assert [line["id"] for line in lines] == ["k0", "k1", "k2"]
    assert lines[1]["data"] == {"name": "Person 1", "age": 21}

    (workdir / "pipe.csv").write_text("id|text\n" + "".join(
        f"p{i}|{person_text(f'p{i}', i)}\n" for i in range(2)
    ))  # fmt: skip
    done = cli(workdir, *_batch(server, "pipe.csv", "pipe.jsonl"), "--delimiter", "|")
    assert done.returncode == 0, done.stderr
    assert len(read_lines(workdir / "pipe.jsonl")) == 2


def test_kept_fields_go_in_the_output_and_parquet_in_and_out(
    server: FakeServer, workdir: Path
) -> None:
    table = pa.table(
        {
            "id": ["a", "b", "c"],
            "text": [person_text(name, n) for n, name in enumerate("abc")],
            "region": ["north", "south", None],
            "score": [1.5, 2.5, 3.5],
        }
    )
    pq.write_table(table, workdir / "in.parquet")
    done = cli(
        workdir,
        *_batch(server, "in.parquet", "out.jsonl"),
        "--keep-fields", "all", "--parquet", "table.parquet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = {line["id"]: line for line in read_lines(workdir / "out.jsonl")}
    assert lines["a"]["input"] == {"region": "north", "score": 1.5}
    assert list(lines["a"])[:3] == ["id", "data", "input"]
    out = pq.read_table(workdir / "table.parquet").to_pylist()
    assert sorted(out, key=lambda row: row["id"]) == [
        {"id": "a", "name": "Person 0", "age": 20, "region": "north", "score": 1.5},
        {"id": "b", "name": "Person 1", "age": 21, "region": "south", "score": 2.5},
        {"id": "c", "name": "Person 2", "age": 22, "region": None, "score": 3.5},
    ]

    (workdir / "in.csv").write_text(
        "id,text,region,notes\n" + f'r1,"{person_text("r1", 1)}",east,n\n'
    )
    done = cli(workdir, *_batch(server, "in.csv", "csv.jsonl"), "--keep-fields", "region")
    assert done.returncode == 0, done.stderr
    assert read_lines(workdir / "csv.jsonl")[0]["input"] == {"region": "east"}
    done = cli(workdir, *_batch(server, "in.csv", "bad.jsonl"), "--keep-fields", "nope")
    assert done.returncode == 2 and "no column 'nope'" in done.stderr

    done = cli(workdir, "export", "csv.jsonl", "csv.parquet")
    assert done.returncode == 0, done.stderr
    assert pq.read_table(workdir / "csv.parquet").to_pylist() == [
        {"id": "r1", "name": "Person 1", "age": 21, "region": "east"}
    ]


def _batch(server: FakeServer, source: str, output: str) -> list[str]:
    args = batch_args(server)
    args[1], args[5] = source, output
    return args


def test_timeout_bounds_each_request(server: FakeServer, workdir: Path) -> None:
    write_jsonl(workdir / "in.jsonl", [{"id": 1, "text": person_text("1", 1, "FAULT-SLOW")}])
    args = batch_args(server, "--timeout", "0.1", "--transport-retries", "0")
    done = cli(workdir, *args)
    assert done.returncode == 0, done.stderr  # one failure is not an outage
    [line] = read_lines(workdir / "out.errors.jsonl")
    assert line["error"]["type"] == "APITimeoutError"
