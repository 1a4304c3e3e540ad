"""What extraction costs, next to the most used peer library (instructor) measured in the same run.

1. The fixed prompt. For a small nested model without descriptions, the characters the model
   reads besides the record's text (message contents, and tool definitions where the schema
   travels in them) for extractor and for instructor (its default tools mode, the text as the
   only user message), next to the pretty-printed JSON Schema (``json.dumps(schema,
   indent=2)``). Target: extractor's at most half the pretty-printed schema. Nothing is
   called: both requests are captured with ``httpx.MockTransport``.
2. Billed cost per correct record on a simulated gpt-5.1 workload with faults: 300 invoice
   records (a six-field schema, texts of about 110 characters) through both libraries against
   one loopback fake server (tests/fakeserver.py), which answers each record in the form its
   request asks for (content or a tool call; keyed or, for extractor's ``mode="compact"``,
   each object as the array of its values; the whole answer or, for extractor's patch re-ask,
   only the fields asked for) and with the same faults for both: first answers with a wrong
   type, a missing field or an out-of-enum value (right after one re-ask), a refusal, a
   truncated answer, a record never answered right. The server bills both alike,
   with a tokenizer-free count (4 characters a token) of what the model reads (message
   contents plus tool definitions, 3 tokens of framing a message) and writes, at gpt-5.1's
   price (¥1.80 / ¥15.00 per 1M input / output tokens). Both get the same attempts per record
   (extractor's ``max_retries=3`` re-asks; instructor's ``max_retries=4`` attempts). Target:
   extractor's cost per correct record at most half instructor's (a quarter through the
   Batch API), against instructor in its default tools mode and in its JSON mode (the
   ``response_format: json_object`` mode extractor uses). The simulated model follows every
   instruction perfectly: what a real model loses in accuracy by writing arrays instead of
   keyed objects is not measured here.

    pip install instructor   # the peer, only for this script
    python benchmarks/cost.py
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractor import Extractor  # noqa: E402
from extractor.core.modes import ModeName  # noqa: E402
from extractor.core.prompt import PATCH_REQUEST  # noqa: E402
from extractor.core.schema import render  # noqa: E402
from extractor.core.target import Target  # noqa: E402
from extractor.errors import ExtractionError  # noqa: E402
from extractor.testing import compact_answer  # noqa: E402
from tests.batchserver import BatchServer  # noqa: E402
from tests.fakeserver import ChatRequest, FakeServer, Reply  # noqa: E402
from tests.helpers import Invoice  # noqa: E402

try:
    import instructor
    from openai import OpenAI
except ImportError:  # pragma: no cover
    raise SystemExit(
        "this benchmark measures instructor next to extractor: pip install instructor"
    ) from None

KEY = "bench-key"
RECORDS = 300
INPUT_PRICE, OUTPUT_PRICE = Decimal("1.80"), Decimal("15.00")


# -- 1. the fixed prompt ---------------------------------------------------------------------


class Address(BaseModel):
    street: str
    city: str
    zip: str | None = None


class Person(BaseModel):
    name: str
    age: int | None = None
    address: Address
    tags: list[str] = []


def read_chars(body: dict[str, Any]) -> int:
    """Characters the model reads: message contents, and tool definitions when sent."""
    chars = sum(len(message.get("content") or "") for message in body["messages"])
    if body.get("tools"):
        chars += len(json.dumps(body["tools"], separators=(",", ":")))
    return chars


def instructor_request(
    model: type[BaseModel], text: str, mode: instructor.Mode = instructor.Mode.TOOLS
) -> dict[str, Any]:
    """The body instructor sends for ``model`` over ``text``, captured, nothing called."""
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        return httpx.Response(500, json={"error": {"message": "captured"}})

    client = instructor.from_openai(
        OpenAI(
            api_key=KEY,
            base_url="http://peer.invalid/v1",
            max_retries=0,
            http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        ),
        mode=mode,
    )
    with contextlib.suppress(Exception):  # the 500 is how the capture ends
        client.chat.completions.create(
            model="gpt-5.1",
            response_model=model,
            messages=[{"role": "user", "content": text}],
            max_retries=1,
        )
    return seen[0]


def fixed_prompt() -> None:
    text = "TEXT"
    pretty = len(json.dumps(Person.model_json_schema(), indent=2))
    ours = read_chars(Extractor(api_key=KEY).request_body(Person, text)) - len(text)
    peer = read_chars(instructor_request(Person, text)) - len(text)
    json_mode = read_chars(instructor_request(Person, text, instructor.Mode.JSON)) - len(text)
    print("1. fixed prompt, small nested model without descriptions (characters, text excluded)")
    print(f"   pretty-printed JSON Schema (baseline): {pretty}")
    print(f"   instructor (tools mode, its default):  {peer}")
    print(f"   instructor (JSON mode, like ours):     {json_mode}")
    print(
        f"   extractor, schema as compact JSON:     {as_json(Person, ours)} (the rendering "
        "before type notation)"
    )
    print(
        f"   extractor:                             {ours} = {ours / pretty:.2f} of the "
        f"pretty-printed schema (target <= 0.50: {'met' if ours <= pretty / 2 else 'NOT met'}); "
        f"{ours / peer:.2f} of instructor's"
    )
    invoice_text = make_records()[0][0]
    first = read_chars(Extractor(api_key=KEY).request_body(Invoice, invoice_text))
    compact = read_chars(Extractor(api_key=KEY).request_body(Invoice, invoice_text, mode="compact"))
    print(
        f"   the workload's first request (Invoice, {len(invoice_text)}-character text): "
        f"{first} characters, {as_json(Invoice, first)} with the schema as compact JSON; "
        f"{compact} in mode='compact'"
    )


def compact_answers() -> None:
    """Output characters of the workload's answers, keyed (json mode) and compact (``mode=
    "compact"``), both as the simulated model writes them (``json.dumps``)."""
    records = make_records()
    positional = Target.of(Invoice).positional
    keyed = sum(len(json.dumps(answer)) for _, answer, _ in records)
    compact = sum(len(json.dumps(positional.answer(answer))) for _, answer, _ in records)
    print(
        f"   the workload's answers (Invoice, {len(records)} records): {keyed / len(records):.0f} "
        f"characters each keyed (json mode), {compact / len(records):.0f} compact "
        f"(mode='compact') = {compact / keyed:.2f} of keyed"
    )


def as_json(model: type[BaseModel], chars: int) -> int:
    """``chars`` of a json-mode request had its schema been rendered as compact JSON (the
    rendering type notation replaced), measured on the same target."""
    target = Target.of(model)
    return chars - len(target.prompt_schema) + len(render(target.prompt_schema_data))


# -- 2. the simulated workload ----------------------------------------------------------------


SELLERS = ["Acme Trading Co.", "Globex Ltd", "Initech GmbH", "Umbrella Foods", "Hooli Cloud"]
FAULTS = ["wrong-type"] * 8 + ["missing"] * 5 + ["enum"] * 4 + ["refusal"] * 2
FAULTS += ["truncated"] * 2 + ["never"] * 1
FAULTS += [""] * (100 - len(FAULTS))


def make_records() -> list[tuple[str, dict[str, Any], str]]:
    """(text, expected answer, fault) for each record; the same every run."""
    rng = random.Random(12)
    records = []
    for i in range(RECORDS):
        answer = {
            "number": f"INV-{i:04d}",
            "issued": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "seller": rng.choice(SELLERS),
            "total": round(rng.uniform(10, 9000), 2),
            "currency": rng.choice(["CNY", "USD", "EUR"]),
            "paid": rng.random() < 0.5,
        }
        text = (
            f"rec-{i} Invoice {answer['number']} from {answer['seller']}, dated "
            f"{answer['issued']}: {answer['total']:.2f} {answer['currency']}"
            f"{', paid in full' if answer['paid'] else ', payment due'}."
        )
        records.append((text, answer, rng.choice(FAULTS)))
    return records


def model_for(
    records: list[tuple[str, dict[str, Any], str]], *, by_server: bool
) -> Callable[[ChatRequest], Reply]:
    """The simulated model: the record's answer, or its fault on a first answer. Billed by
    what the model reads (see the module docstring), or with ``by_server`` as the fake server
    bills by default (``extractor.testing.wire.Answer``: message texts, tools and response
    format, with the library's own token estimate)."""
    by_key = {f"{i}": record for i, record in enumerate(records)}

    def reply(request: ChatRequest) -> Reply:
        _, answer, fault = by_key[request.key]
        billed = None if by_server else prompt_tokens(request.body)
        if fault == "refusal":
            return billed_reply(Reply.refuse("I can't help with that."), billed)
        if fault == "truncated":
            return billed_reply(Reply.truncated(json.dumps(answer)[:40]), billed)
        asked = patch_fields(request)
        compact = asks_compact(request)

        def write(data: dict[str, Any]) -> Reply:
            if compact:  # as the instruction asks: each object as the array of its values
                data = compact_answer(Invoice, data, patch=asked is not None)
            return billed_reply(Reply.answer(data), billed)

        if fault == "never" or (fault and not request.is_reask):
            wrong = dict(answer)
            if fault in ("wrong-type", "never"):
                wrong["total"] = f"{answer['total']:,.2f} {answer['currency']}"
            elif fault == "missing":
                del wrong["issued"]
            elif fault == "enum":
                wrong["currency"] = answer["currency"].lower()
            return write(wrong)
        if asked is not None:  # a re-ask for some fields only: the model writes just those
            return write({k: answer[k] for k in asked if k in answer})
        return write(answer)

    return reply


def asks_compact(request: ChatRequest) -> bool:
    """Whether the request asks for objects written as arrays of their values (extractor's
    ``mode="compact"``), as a model reading its system message sees it."""
    return any(
        m.get("role") == "system" and "write tuples as arrays" in (m.get("content") or "")
        for m in request.messages
    )


def patch_fields(request: ChatRequest) -> list[str] | None:
    """The fields a re-ask asks for alone (extractor's patch re-ask ends with the line
    ``Reply with a JSON object of only these fields: ["total"]``), as a model following the
    instruction reads them; None for a re-ask of the whole answer."""
    lines = request.feedback.splitlines()
    if lines and lines[-1].startswith(PATCH_REQUEST):
        asked = json.loads(lines[-1][len(PATCH_REQUEST) :])
        return [str(name) for name in asked]
    return None


def prompt_tokens(body: dict[str, Any]) -> int:
    tokens = 3
    for message in body.get("messages") or []:
        tokens += 3 + tokens_of(message.get("content") or "")
        for call in message.get("tool_calls") or []:
            tokens += tokens_of(json.dumps(call["function"]))
    if body.get("tools"):
        tokens += tokens_of(json.dumps(body["tools"], separators=(",", ":")))
    return tokens


def tokens_of(text: str) -> int:
    return math.ceil(len(text) / 4)


def billed_reply(reply: Reply, billed: int | None) -> Reply:
    if billed is not None:
        reply.usage = (billed, tokens_of(reply.content or reply.refusal or "") + 1)
    return reply


def same(value: BaseModel, answer: dict[str, Any]) -> bool:
    """Whether an extracted value is the record's right answer (by its fields: instructor
    returns an instance of a subclass of the model)."""
    return value.model_dump() == Invoice.model_validate(answer).model_dump()


def run_extractor(
    server: FakeServer, records: list[tuple[str, dict[str, Any], str]], mode: ModeName = "json"
) -> int:
    extractor = Extractor(api_key=KEY, base_url=server.base_url, max_retries=3, mode=mode)

    def one(record: tuple[str, dict[str, Any], str]) -> bool:
        text, answer, _ = record
        try:
            value = extractor.extract(Invoice, text)
        except ExtractionError:
            return False
        return same(value, answer)

    with ThreadPoolExecutor(16) as pool:
        return sum(pool.map(one, records))


def run_instructor(
    server: FakeServer,
    records: list[tuple[str, dict[str, Any], str]],
    mode: instructor.Mode = instructor.Mode.TOOLS,
) -> int:
    openai = OpenAI(api_key=KEY, base_url=server.base_url, max_retries=0)
    client = instructor.from_openai(openai, mode=mode)

    def one(record: tuple[str, dict[str, Any], str]) -> bool:
        text, answer, _ = record
        try:
            value = client.chat.completions.create(
                model="gpt-5.1",
                response_model=Invoice,
                messages=[{"role": "user", "content": text}],
                max_retries=4,
            )
        except Exception:  # any failure is a record not extracted
            return False
        return same(value, answer)

    with ThreadPoolExecutor(16) as pool:
        return sum(pool.map(one, records))


def bill(server: FakeServer) -> tuple[int, int, int, Decimal]:
    prompt, completion = server.billed()
    cost = (prompt * INPUT_PRICE + completion * OUTPUT_PRICE) / 1_000_000
    return len(server.bills), prompt, completion, cost


def workload(*, by_server: bool) -> None:
    records = make_records()
    how = "the fake server's own estimate" if by_server else "what the model reads"
    print(
        f"2. simulated gpt-5.1 workload: {RECORDS} invoice records, faults on "
        f"{sum(1 for *_, fault in records if fault)}; prompt tokens billed by {how}"
    )
    results = {}
    output_cost = Decimal(0)
    runs: list[tuple[str, Callable[..., int]]] = [
        ("instructor", run_instructor),
        ("instructor JSON mode", partial(run_instructor, mode=instructor.Mode.JSON)),
        ("extractor", run_extractor),
        ("extractor --batch-api", run_batch_api),
        ("extractor compact", partial(run_extractor, mode="compact")),
        ("extractor compact --batch-api", partial(run_batch_api, mode="compact")),
    ]
    with BatchServer(model_for(records, by_server=by_server), key=_record_id) as server:
        for name, run in runs:
            server.reset()
            correct = run(server, records)
            requests, prompt, completion, cost = bill(server)
            if name.endswith("--batch-api"):
                cost /= 2  # the Batch API's price
            results[name] = cost / correct
            if name == "extractor":
                output_cost = completion * OUTPUT_PRICE / 1_000_000 / correct
            print(
                f"   {name:30} correct {correct:3}  requests {requests:3}  tokens "
                f"{prompt:6} in {completion:5} out  cost ¥{cost:.4f}  per 1,000 correct "
                f"records ¥{cost / correct * 1000:.4f}"
            )
    print(
        f"   (floor: extractor's answers alone, with no prompt at all, would cost "
        f"{output_cost / results['instructor']:.2f} of instructor's per correct record)"
    )
    for name, target in (
        ("extractor", Decimal("0.5")),
        ("extractor --batch-api", Decimal("0.25")),
        ("extractor compact", Decimal("0.5")),
        ("extractor compact --batch-api", Decimal("0.25")),
    ):
        for peer in ("instructor", "instructor JSON mode"):
            ratio = results[name] / results[peer]
            print(
                f"   {name}: cost per correct record = {ratio:.2f} of {peer}'s "
                f"(target <= {target}: {'met' if ratio <= target else 'NOT met'})"
            )


def run_batch_api(
    server: FakeServer, records: list[tuple[str, dict[str, Any], str]], mode: ModeName = "json"
) -> int:
    """The same records through ``extractor batch --batch-api`` (a subprocess)."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = [{"id": i, "text": text} for i, (text, _, _) in enumerate(records)]
        (work / "in.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
        env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
        env.update(EXTRACTOR_API_KEY=KEY, PYTHONPATH=str(ROOT))
        command = [sys.executable, "-m", "extractor", "batch", "in.jsonl", "--schema"]
        command += ["tests.helpers:Invoice", "-o", "out.jsonl", "--base-url", server.base_url]
        command += ["--batch-api", "--poll-interval", "0.01", "--no-progress", "--mode", mode]
        subprocess.run(command, cwd=work, env=env, capture_output=True, check=True)
        lines = [json.loads(line) for line in (work / "out.jsonl").read_text().splitlines()]
    return sum(1 for line in lines if line["data"] == records[line["id"]][1])


def _record_id(body: dict[str, Any]) -> str:
    for message in body.get("messages") or []:
        if message.get("role") == "user":
            content = message.get("content") or ""
            start = content.index("rec-") + 4
            return content[start : content.index(" ", start)]
    return ""


if __name__ == "__main__":
    fixed_prompt()
    compact_answers()
    workload(by_server=False)
    workload(by_server=True)
