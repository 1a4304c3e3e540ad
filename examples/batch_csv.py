"""A batch over a CSV file: triage every support ticket, several at a time.

``ex.extract_many(target, records, concurrency=N)`` runs the records concurrently and yields
each result as it finishes, with the record's id; a failed record yields its error (and what
it spent) without stopping the others. The target here is the ready-made JSON Schema
``schemas/ticket.json``, so each value is a plain dict.

For big files, resumable runs, rate limits and a cache, use the command line instead:

    extractor batch examples/data/tickets.csv --schema schemas/ticket.json --output triaged.jsonl

    python examples/batch_csv.py [--offline] [--concurrency N]
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

from _support import extractor, parse_args

from extractor.testing import FakeModel, SeenRequest

HERE = Path(__file__).resolve().parent
TICKETS = HERE / "data" / "tickets.csv"
SCHEMA = HERE.parent / "schemas" / "ticket.json"


def main() -> None:
    args = parse_args(__doc__)
    with TICKETS.open(newline="", encoding="utf-8") as file:
        records = list(csv.DictReader(file))  # mappings with "id" and "text" columns

    categories: Counter[str] = Counter()
    urgent: list[str] = []
    failed = 0
    spent = Decimal(0)
    currency = ""
    with extractor(args, offline_model(records)) as ex:
        for result in ex.extract_many(str(SCHEMA), records, concurrency=4):
            if result.cost is not None:  # failed records were billed too: count them
                spent += result.cost.amount
                currency = result.cost.currency
            if not result.ok:  # the error says why; the record can be retried later
                failed += 1
                print(f"{result.id}: FAILED {result.error}")
                continue
            ticket = result.value
            categories[ticket["category"]] += 1
            if ticket["urgency"] in ("high", "critical"):
                urgent.append(f"{result.id} [{ticket['urgency']}] {ticket['summary']}")

    cost = f"{spent} {currency}" if currency else "unknown (no price for this model)"
    print(f"{len(records)} tickets: {len(records) - failed} ok, {failed} failed, cost {cost}")
    ranked = sorted(categories.items(), key=lambda item: (-item[1], item[0]))
    print("by category: " + ", ".join(f"{name} {count}" for name, count in ranked))
    print("needs attention first:")
    for line in sorted(urgent):
        print("  " + line)


def offline_model(records: list[dict[str, str]]) -> FakeModel:
    """--offline: answers each ticket with its prepared triage (data/tickets.offline.jsonl)."""
    lines = (HERE / "data" / "tickets.offline.jsonl").read_text(encoding="utf-8").splitlines()
    answers = {entry["id"]: entry["answer"] for entry in map(json.loads, lines)}
    by_text = {record["text"]: answers[record["id"]] for record in records}

    def answer(request: SeenRequest) -> object:
        return by_text[request.text]

    return FakeModel(handler=answer)


if __name__ == "__main__":
    main()
