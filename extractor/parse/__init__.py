"""The lenient, incremental JSON parser: what a model wrote, turned back into a value.

Models asked for JSON mostly give valid JSON, so :func:`parse` tries ``json.loads`` first and
returns its value untouched. When that fails, the text goes through :class:`IncrementalParser`,
the single implementation of every repair, fed the whole text at once. The streaming driver
feeds the same parser chunk by chunk, so a streamed answer and a complete one are repaired the
same way and give the same value.

The parser is a single-pass state machine over characters with an explicit stack: no
recursion (deep nesting cannot raise RecursionError), no rescanning of earlier input (the work
for a chunk is proportional to the chunk), and string bodies, numbers and whitespace are
scanned with ``re`` and ``json``'s C ``scanstring`` rather than a character at a time. Whole
containers that happen to be valid are handed to ``json``'s C scanner; a budget on that
scanner's work keeps the total linear even when the handing over keeps failing.

Never a silently wrong value: where a repair has two readings, what follows decides, within a
fixed window so that any chunking decides alike (a closer that does not fit, a quote inside a
string); the reading that keeps more of the structure wins, and where none is safe the answer
is refused. The one guess made without seeing far enough, a quote judged to be inside its
string, is reconsidered if that string then swallows a key or runs to the end of the input:
the text since that quote (kept only while the string is open) is scanned again (at most
five times in an answer).
Hostile input stays cheap: at most ``MAX_DEPTH`` levels, 256 doubtful quotes in a string and
20,000 slow repairs in an answer, past which it is refused (``benchmarks/parse.py``, (5)).
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import ParseError
from .incremental import IncrementalParser
from .result import MAX_DEPTH, Parsed, deeper_than

__all__ = ["MAX_DEPTH", "IncrementalParser", "Parsed", "loads", "parse"]


def loads(text: str) -> Any:
    """Parse a model's JSON answer, repairing what models typically break.

    Valid JSON comes back exactly as ``json.loads`` gives it. Raises
    :class:`~extractor.errors.ParseError` (and nothing else) when the text holds no JSON
    object or array that can be recovered.
    """
    return parse(text).value


def parse(text: str) -> Parsed:
    """Like :func:`loads`, but also says whether the value needed repairing, and how."""
    if not isinstance(text, str):
        raise ParseError(f"expected the answer as str, got {type(text).__name__}", position=0)
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        pass
    else:
        if not deeper_than(value, MAX_DEPTH, text, 0, len(text)):
            return Parsed(value)
        # too deep: the lenient parser below raises the ParseError, with its position
    error: ParseError | None = None
    start = 0
    for _ in range(_ROOT_ATTEMPTS):
        parser = IncrementalParser()
        parser._consumed = start  # so that positions count from the start of ``text``
        try:
            parser.feed(text[start:])
            result = parser.finish()
        except ParseError as exc:
            # the root that got furthest is the likeliest to be the answer: report its error
            if error is None or (
                parser.root_start is not None and (exc.position or 0) > (error.position or 0)
            ):
                error = exc
            # a root found after prose may be prose itself ('Step [2/3]: {...}'): look past it,
            # unless it is too deep (its inner brackets would be just as deep, less one)
            if parser.root_start is None or not parser.root_after_prose or parser._too_deep:
                break
            start = parser.root_start + 1
            continue
        return _prefer_object(text, parser, result)
    assert error is not None
    raise error


_ROOT_ATTEMPTS = 3  # roots tried by parse(), each a pass over at most the rest of the text


def _prefer_object(text: str, parser: IncrementalParser, result: Parsed) -> Parsed:
    """JSON mode answers with an object: an array found in prose loses to an object after it
    ('Step [2/3]: {...}'), and so does it to an object that is broken beyond repair (its
    error is raised: the object is the answer, the array was prose).

    Only the text after each array is parsed again, a bounded number of times: linear.
    """
    end = parser.end
    if not isinstance(result.value, list) or not parser.root_after_prose or end is None:
        return result
    for _ in range(_ROOT_ATTEMPTS):
        if "{" not in text[end:]:
            return result
        second = IncrementalParser()
        second._consumed = end
        try:
            second.feed(text[end:])
            found = second.finish()
        except ParseError:
            start = second.root_start
            if start is not None and text[start] == "{":
                raise
            return result
        if isinstance(found.value, dict):
            repairs = dict.fromkeys((*result.repairs, *found.repairs))
            return Parsed(found.value, True, tuple(repairs))
        if second.end is None:
            return result
        end = second.end
    return result
