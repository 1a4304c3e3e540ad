"""A batch job with hostile answers in it completes, files every record once, leaks no key;
its time and peak memory next to the same job with only well-behaved answers.

The real ``extractor batch`` command (a subprocess, its peak RSS from getrusage in a small
launcher) runs 20 records against the loopback fake server (tests/fakeserver.py). Besides 12
ordinary records, the job holds:

- ``deep``: an answer nested 5,000 deep in an open field (re-asked, then filed);
- ``pattern``: a value that makes the schema's ``^(a+)+$`` backtrack (40 a's and a "!");
- ``huge``: a 200 MB answer with its content-length (refused before reading);
- ``chunked``: a 200 MB answer sent chunked, without a length (read up to the bound);
- ``big``: a 5.6 MB record, over the model's input window: ``extract`` cuts it into chunks
  that fit (about eleven requests of 136k tokens; a stream would refuse it unsent);
- ``echo``: a 200 that is not a completion and echoes the Authorization header;
- ``parts``: Mistral-style content parts (thinking, then text): answered;
- ``xai``: reasoning billed outside completion_tokens: answered, usage as billed.

The baseline is the same 20-record job where every answer is ordinary; "no big" is the hostile
job without the 5.6 MB record (whose chunks dominate its time and memory). A last job uses a
schema with an enum of 100,000 values: every record is refused before sending.

    python benchmarks/hostile.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from batch import KEY, peak_rss_mb  # noqa: E402

from tests.fakeserver import ChatRequest, FakeServer, Reply, person_handler  # noqa: E402

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "code": {"type": "string", "pattern": "^(a+)+$"},
        "notes": {},
    },
    "required": ["name", "age"],
}
ENUM_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "code": {"type": "string", "enum": [f"CODE-{i:06d}" for i in range(100_000)]},
    },
    "required": ["name"],
}
HOSTILE = ("deep", "pattern", "huge", "chunked", "big", "echo", "parts", "xai")
ANSWERED = {"parts", "xai"}
MEGABYTE = b"a" * 2**20


def completion_bytes(message: dict[str, Any], usage: dict[str, Any]) -> bytes:
    choice = {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}
    return json.dumps(
        {"id": "x", "object": "chat.completion", "choices": [choice], "usage": usage}
    ).encode()


def hostile_handler(request: ChatRequest) -> Reply:
    kind = request.key.split("_")[0]
    if kind == "deep":
        deep = "[" * 5_000 + "]" * 5_000
        return Reply.text(f'{{"name": "D", "age": 1, "notes": {deep}}}')
    if kind == "pattern":
        return Reply.answer({"name": "P", "age": 2, "code": "a" * 40 + "!"})
    if kind == "huge":
        return Reply(raw_body=b'{"choices": [{"message": {"content": "' + MEGABYTE * 200)
    if kind == "chunked":
        return Reply(raw_chunks=[b'{"choices": [{"message": {"content": "', *[MEGABYTE] * 200])
    if kind == "echo":
        echo = {"ok": True, "you sent": request.headers.get("authorization", "")}
        return Reply(raw_body=json.dumps(echo).encode())
    if kind == "parts":
        thinking = {"type": "thinking", "thinking": [{"type": "text", "text": "Ada, 36."}]}
        text = {"type": "text", "text": '{"name": "Ada", "age": 36}'}
        usage = {"prompt_tokens": 98, "completion_tokens": 236, "total_tokens": 334}
        return Reply(raw_body=completion_bytes({"content": [thinking, text]}, usage))
    if kind == "xai":
        usage = {
            "prompt_tokens": 307,
            "completion_tokens": 26,
            "total_tokens": 588,
            "completion_tokens_details": {"reasoning_tokens": 255},
        }
        return Reply(raw_body=completion_bytes({"content": '{"name": "X", "age": 3}'}, usage))
    return person_handler(request)


def write_inputs(path: Path, kinds: tuple[str, ...]) -> list[str]:
    """20 records: one of each hostile kind, the rest ordinary."""
    ids = [f"n{i}" for i in range(20 - len(kinds))] + [f"{kind}_0" for kind in kinds]
    with open(path, "w") as out:
        for record_id in ids:
            text = f"rec-{record_id} name: Person {record_id}, age: 30"
            if record_id.startswith("big"):
                text += " filler" * 800_000  # 5.6 MB
            out.write(json.dumps({"id": record_id, "text": text}) + "\n")
    return ids


def run(
    work: Path, server: FakeServer, schema: dict[str, Any], kinds: tuple[str, ...] = ()
) -> dict[str, Any]:
    (work / "schema.json").write_text(json.dumps(schema))
    ids = write_inputs(work / "in.jsonl", kinds)
    for name in ("out.jsonl", "out.errors.jsonl"):
        (work / name).unlink(missing_ok=True)
    server.reset()
    argv = [sys.executable, "-m", "extractor", "batch", "in.jsonl", "--schema", "schema.json"]
    argv += ["-o", "out.jsonl", "--no-progress", "--base-url", server.base_url]
    peak_mb, seconds = peak_rss_mb(argv, work)  # raises unless the command exits 0
    done = _ids(work / "out.jsonl")
    failed = _ids(work / "out.errors.jsonl")
    filed = sorted(done + failed)
    assert filed == sorted(ids), f"records filed {filed}, expected each of {sorted(ids)} once"
    for name in ("out.jsonl", "out.errors.jsonl"):
        text = (work / name).read_text() if (work / name).exists() else ""
        assert KEY not in text, f"the key leaked into {name}"
    errors = work / "out.errors.jsonl"
    return {
        "seconds": seconds,
        "peak_mb": peak_mb,
        "done": len(done),
        "failed": sorted(failed),
        "errors_kb": (errors.stat().st_size / 1024) if errors.exists() else 0.0,
        "requests": len(server.requests),
    }


def _ids(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["id"] for line in path.read_text().splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    small = tuple(kind for kind in HOSTILE if kind != "big")
    results: dict[str, list[dict[str, Any]]] = {
        "baseline": [],
        "hostile": [],
        "no big": [],
        "enum": [],
    }
    with tempfile.TemporaryDirectory() as tmp, FakeServer(hostile_handler) as server:
        work = Path(tmp)
        for _ in range(rounds):
            results["baseline"].append(run(work, server, SCHEMA))
            results["hostile"].append(run(work, server, SCHEMA, HOSTILE))
            results["no big"].append(run(work, server, SCHEMA, small))
            results["enum"].append(run(work, server, ENUM_SCHEMA))
    print(f"20-record batch, median of {rounds} rounds (time and peak RSS of the command):")
    for name, runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        peak = statistics.median(r["peak_mb"] for r in runs)
        last = runs[-1]
        print(
            f"  {name:8s} {seconds:6.2f} s  {peak:6.1f} MB peak  "
            f"{last['done']} answered, {len(last['failed'])} filed as errors "
            f"({last['errors_kb']:.1f} KB), {last['requests']} requests"
        )
        if last["failed"]:
            print(f"           errors: {', '.join(last['failed'])}")
    print("Each command exited 0, every record was in exactly one file, no key in either file.")


if __name__ == "__main__":
    main()
