"""Reading a batch job's input records, one at a time.

Inputs can be far larger than memory, so they are streamed: each reader is a generator over
the file's bytes, decoding line by line. A bad record does not stop the job: it comes out as a
`Record` with ``problem`` set (the job writes it to the errors file with that reason) and
reading goes on. Only what makes every record unusable (an unreadable file, a CSV without the
text column) raises `InputError` before anything is written.

Formats: JSONL (one object per line; ``.jsonl``, ``.ndjson``), CSV with a header row
(``.csv``; ``.tsv`` for tab-separated), plain text (anything else: one record per line, the id
is the line number). For stdin (``-``) the first line decides: an object means JSONL, else text.
Blank lines of JSONL and text inputs are skipped; they are not records.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, Literal

from ..errors import InputError

__all__ = [
    "Format",
    "Record",
    "count_lines",
    "detect_format",
    "id_key",
    "open_input",
    "read_records",
    "sniff",
]

Format = Literal["jsonl", "csv", "tsv", "text"]

_EXTENSIONS: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
}


@dataclass(frozen=True)
class Record:
    """One input record: its id and text, or the reason it cannot be processed.

    ``line`` is the line where it starts (1-based); ``id`` is None only when unreadable.
    """

    line: int
    id: str | int | None
    text: str | None = None
    problem: str | None = None


def id_key(record_id: str | int | None, line: int) -> str:
    """The identity of a record across runs: its id, or its line when it has none.

    ``7`` and ``"7"`` are different ids, as they are different JSON values.
    """
    if record_id is None:
        return f"line:{line}"
    return json.dumps(record_id, ensure_ascii=False)


def detect_format(path: str, head: bytes = b"") -> Format:
    """The input format from the file extension, or for stdin from its first line."""
    if path != "-":
        return _EXTENSIONS.get(os.path.splitext(path)[1].lower(), "text")
    return "jsonl" if head.lstrip().startswith(b"{") else "text"


def open_input(path: str) -> IO[bytes]:
    """The input as a binary stream; `InputError` when it cannot be opened."""
    if path == "-":
        return sys.stdin.buffer
    try:
        stream = open(path, "rb")  # noqa: SIM115 - the caller closes it
    except OSError as exc:
        raise InputError(
            f"cannot read the input {path!r}: {exc.strerror}. Pass a readable JSONL, CSV or "
            "text file, or - for stdin."
        ) from None
    if os.path.isdir(path):
        stream.close()
        raise InputError(f"the input {path!r} is a directory; pass a file, or - for stdin.")
    return stream


def read_records(
    stream: IO[bytes],
    fmt: Format,
    *,
    id_field: str = "id",
    text_field: str = "text",
) -> Iterator[Record]:
    """The records of ``stream`` in order, each exactly once."""
    if fmt == "jsonl":
        return _jsonl(stream, id_field, text_field)
    if fmt in ("csv", "tsv"):
        return _csv(stream, id_field, text_field, "\t" if fmt == "tsv" else ",")
    return _text(stream)


def _decode(raw: bytes, number: int) -> tuple[str | None, str | None]:
    """(text, None) or (None, the reason it is not UTF-8)."""
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, (
            f"line {number} is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column "
            f"{exc.start + 1}); re-encode the input as UTF-8"
        )


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, str | None, str | None]]:
    """(line number, text without its line ending and BOM, None) or (number, None, problem)."""
    for number, raw in enumerate(stream, start=1):
        text, problem = _decode(raw, number)
        if text is not None:
            text = text.rstrip("\r\n")
            if number == 1:
                text = text.removeprefix("\ufeff")
        yield number, text, problem


def _text(stream: IO[bytes]) -> Iterator[Record]:
    for number, text, problem in _lines(stream):
        if problem is not None:
            yield Record(number, number, problem=problem)
        elif text is not None and text.strip():
            yield Record(number, number, text=text)


def _jsonl(stream: IO[bytes], id_field: str, text_field: str) -> Iterator[Record]:
    for number, line, problem in _lines(stream):
        if problem is not None:
            yield Record(number, None, problem=problem)
            continue
        if line is None or not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            yield Record(number, None, problem=f"line {number} is not valid JSON: {exc}")
            continue
        if not isinstance(obj, dict):
            kind = type(obj).__name__
            yield Record(number, None, problem=f"line {number} is a JSON {kind}, not an object")
            continue
        yield _from_fields(obj, number, id_field, text_field)


def _from_fields(obj: dict[str, Any], number: int, id_field: str, text_field: str) -> Record:
    record_id = obj.get(id_field, number)
    if isinstance(record_id, bool) or not isinstance(record_id, (str, int)):
        return Record(
            number,
            None,
            problem=f"line {number}: the id field {id_field!r} must be a string or an integer, "
            f"not {json.dumps(record_id)[:40]}",
        )
    text = obj.get(text_field)
    if text is None:
        return Record(number, record_id, problem=f"line {number} has no {text_field!r} field")
    if not isinstance(text, str):
        return Record(
            number,
            record_id,
            problem=f"line {number}: the field {text_field!r} must be a string, "
            f"not {type(text).__name__}",
        )
    if not text.strip():
        return Record(
            number, record_id, problem=f"line {number}: the field {text_field!r} is empty"
        )
    return Record(number, record_id, text=text)


def _csv(stream: IO[bytes], id_field: str, text_field: str, delimiter: str) -> Iterator[Record]:
    bad_lines: list[str] = []  # problems of lines the csv reader consumed since the last row

    def lines() -> Iterator[str]:
        for number, raw in enumerate(stream, start=1):
            text, problem = _decode(raw, number)
            if problem is not None:
                bad_lines.append(problem)
                text = raw.decode("utf-8", errors="replace")
            assert text is not None
            yield text.removeprefix("\ufeff") if number == 1 else text

    reader = csv.reader(lines(), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise InputError(f"cannot read the CSV header: {exc}") from None
    if bad_lines:
        raise InputError(f"the CSV header: {bad_lines[0]}")
    if text_field not in header:
        raise InputError(
            f"the CSV header has no {text_field!r} column (columns: {', '.join(header)}); "
            "name the text column with --text-field."
        )
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Record(start, None, problem=f"line {start} is not valid CSV: {exc}")
            bad_lines.clear()
            start = reader.line_num + 1
            continue
        number, start = start, reader.line_num + 1
        if bad_lines:
            problem = bad_lines[0]
            bad_lines.clear()
            yield Record(number, None, problem=problem)
            continue
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield Record(
                number,
                None,
                problem=f"line {number} has {len(row)} fields, the header has {len(header)}",
            )
            continue
        fields: dict[str, Any] = dict(zip(header, row, strict=True))
        if id_field not in fields:
            fields[id_field] = number
        yield _from_fields(fields, number, id_field, text_field)


def sniff(stream: IO[bytes]) -> tuple[IO[bytes], bytes]:
    """Peek at the first line of a non-seekable stream without losing it."""
    if isinstance(stream, io.BufferedReader):
        return stream, stream.peek(4096)[:4096].split(b"\n", 1)[0]
    head = stream.read(4096)  # not peekable: read the start and put it back in front
    chained = io.BufferedReader(_Prepend(head, stream))
    return chained, head.split(b"\n", 1)[0]


class _Prepend(io.RawIOBase):
    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def count_lines(path: str, *, header: bool = False) -> int:
    """Lines in ``path`` (one record each, near enough for a progress bar's total)."""
    lines = 0
    last = b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    return max(0, lines - (1 if header else 0))
