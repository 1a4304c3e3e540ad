"""A long document: every action item of a year of meeting minutes, each once, each traced to
the text.

``chunk_size=`` cuts the text into chunks (on paragraph, then sentence boundaries, with a
small overlap) that are extracted concurrently, with the same retries and budget as one call;
the answers are merged: an item read twice because it sits in an overlap is kept once. A text
too long for the model is chunked even without ``chunk_size``. If a chunk fails for good, the
call raises ``ChunkFailed`` with what the other chunks found (``partial_ok=True`` returns it).

    python examples/long_document.py [--offline]
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from _support import extractor, parse_args
from pydantic import BaseModel, Field

from extractor.testing import FakeModel
from extractor.testing.exchange import SeenRequest

OWNERS = ["Priya Nair", "Tomás Ortega", "Lena Vogt", "Kwame Mensah", "Yuki Tanaka"]
TASKS = ["update the supplier list", "draft the budget memo", "book the venue",
         "review the contract", "fix the login bug", "call the auditors"]  # fmt: skip


class ActionItem(BaseModel):
    owner: str = Field(description="Who will do it, as written")
    task: str = Field(description="What they will do, in the text's words")
    due: datetime.date = Field(description="When it is due")


class Minutes(BaseModel):
    action_items: list[ActionItem] = Field(description="Every action item, in order")


def minutes() -> str:
    """52 weekly meetings, each a few paragraphs with one or two action items."""
    parts = []
    for week in range(52):
        day = datetime.date(2024, 1, 5) + datetime.timedelta(weeks=week)
        parts.append(f"Meeting of {day:%B} {day.day}, {day.year}. Present: the whole team.")
        parts.append("Discussion went over last week's figures and the open questions. " * 3)
        for n in range(1 + week % 2):
            owner = OWNERS[(week + n) % len(OWNERS)]
            task = TASKS[(week * 2 + n) % len(TASKS)]
            due = day + datetime.timedelta(days=7 + n)
            parts.append(f"ACTION: {owner} will {task} by {due:%B} {due.day}, {due.year}.")
    return "\n\n".join(parts)


ITEM = re.compile(r"ACTION: (?P<owner>.+?) will (?P<task>.+?) by (?P<due>\w+ \d+, \d{4})\.")


def offline_reader(seen: SeenRequest) -> dict[str, Any]:
    """The fake model reads only the chunk it is sent, as a real one would."""
    items = [
        {**m.groupdict(), "due": str(datetime.datetime.strptime(m["due"], "%B %d, %Y").date())}
        for m in ITEM.finditer(seen.text)
    ]
    return {"action_items": items}


def main() -> None:
    args = parse_args(__doc__)
    text = minutes()
    with extractor(args, FakeModel(handler=offline_reader)) as ex:
        result = ex.extract_result(Minutes, text, chunk_size=3_000, ground=True)

    items = result.value.action_items
    # Items in an overlap are read by two chunks; the merge keeps each once.
    read = sum((a.raw or "").count('"owner"') for a in result.attempts)
    print(f"{len(text):,} characters in {result.chunks} chunks: {len(items)} action items")
    print(
        f"  ({read} read by the chunks, merged once each), {len(result.ungrounded)} not in the text"
    )
    assert result.spans is not None
    for i, item in enumerate(items[:3]):
        span = result.spans[f"action_items[{i}].due"]
        assert span is not None
        print(f"  {item.due}  {item.owner:<13} {item.task:<26} <- {text[span.start : span.end]!r}")
    print(
        f"{len(result.attempts)} requests, {result.usage.total_tokens:,} tokens, cost {result.cost}"
    )


if __name__ == "__main__":
    main()
