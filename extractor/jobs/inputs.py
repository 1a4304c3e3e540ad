"""Reading a batch job's input records, one at a time.

Inputs can be far larger than memory, so they are streamed: each reader is a generator over
the file's bytes, decoding line by line. A bad record does not stop the job: it comes out as a
`Record` with ``problem`` set (the job writes it to the errors file with that reason) and
reading goes on. Only what makes every record unusable (an unreadable file, a CSV without the
text column) raises `InputError` before anything is written.

Formats: JSONL (one object per line; ``.jsonl``, ``.ndjson``), CSV with a header row
(``.csv``, the delimiter sniffed from the header among ``, ; | tab`` unless given; ``.tsv`` for
tab-separated), Parquet (``.parquet``, ``.pq``; the ``parquet`` extra, read a row group at a
time), plain text (anything else: one record per line, the id is the line number). For stdin
(``-``) the first line decides: an object means JSONL, else text. Blank lines of JSONL and text
inputs are skipped; they are not records. For Parquet, a record's "line" is its row number.

``keep`` asks for the record's other fields (columns) to be carried along (`Record.fields`),
so that the output can be joined back to the input.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, Literal

from ..errors import InputError
from .parquet import parquet_row_count, parquet_rows

__all__ = [
    "ALL",
    "Format",
    "Keep",
    "Record",
    "count_lines",
    "count_records",
    "detect_format",
    "id_key",
    "open_input",
    "read_records",
    "sniff",
]

Format = Literal["jsonl", "csv", "tsv", "parquet", "text"]

_EXTENSIONS: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_SNIFFED_DELIMITERS = ",;|\t"

# ``keep``: None keeps no other field, ALL every other field, a tuple the fields named.
ALL: Literal["*"] = "*"
DEFAULT_ID_FIELD = "id"
Keep = tuple[str, ...] | Literal["*"] | None


@dataclass(frozen=True)
class Record:
    """One input record: its id and text, or the reason it cannot be processed.

    ``line`` is the line where it starts (1-based); ``id`` is None only when unreadable.
    """

    line: int
    id: str | int | None
    text: str | None = None
    problem: str | None = None
    fields: dict[str, Any] | None = None  # the other fields, when asked to keep them


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
    id_field: str | None = None,
    text_field: str = "text",
    delimiter: str | None = None,
    keep: Keep = None,
) -> Iterator[Record]:
    """The records of ``stream`` in order, each exactly once. ``delimiter`` is the CSV
    delimiter (sniffed from the header when None; tab for TSV). With no ``id_field``, the id
    is the ``id`` field where a record has one and its line number otherwise; a field named
    explicitly must be there (a misspelt name must not quietly number the records)."""
    fields = _Fields(
        id_field or DEFAULT_ID_FIELD, text_field, keep, id_required=id_field is not None
    )
    if fmt == "jsonl":
        return _jsonl(stream, fields)
    if fmt in ("csv", "tsv"):
        return _csv(stream, fields, delimiter or ("\t" if fmt == "tsv" else None))
    if fmt == "parquet":
        return _parquet(stream, fields)
    return _text(stream)


@dataclass(frozen=True)
class _Fields:
    """Where a record's id and text are, and which other fields it carries along."""

    id: str
    text: str
    keep: Keep
    id_required: bool = False

    def check(self, names: Sequence[str], what: str) -> None:
        """A table's columns must include the text, the id when it was named, and every field
        asked to be kept."""
        if self.id_required and self.id not in names:
            raise InputError(
                f"the {what} has no {self.id!r} column (columns: {', '.join(names)}); "
                "name the id column with --id-field, or leave it out to number the records."
            )
        if self.text not in names:
            raise InputError(
                f"the {what} has no {self.text!r} column (columns: {', '.join(names)}); "
                "name the text column with --text-field."
            )
        if isinstance(self.keep, tuple):
            missing = [name for name in self.keep if name not in names]
            if missing:
                raise InputError(
                    f"--keep-fields: the {what} has no column {', '.join(map(repr, missing))} "
                    f"(columns: {', '.join(names)})."
                )

    def others(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        if self.keep is None:
            return None
        if self.keep == ALL:
            return {k: v for k, v in obj.items() if k not in (self.id, self.text)}
        return {name: obj.get(name) for name in self.keep}


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


def _jsonl(stream: IO[bytes], fields: _Fields) -> Iterator[Record]:
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
        yield _from_fields(obj, number, fields)


def _from_fields(obj: dict[str, Any], number: int, fields: _Fields) -> Record:
    if fields.id_required and fields.id not in obj:
        return Record(
            number, None, problem=f"line {number} has no {fields.id!r} field (--id-field)"
        )
    record = _identify(obj, number, fields.id, fields.text)
    others = fields.others(obj)
    if others is None:
        return record
    return Record(record.line, record.id, record.text, record.problem, others)


def _identify(obj: dict[str, Any], number: int, id_field: str, text_field: str) -> Record:
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


def _csv(stream: IO[bytes], fields: _Fields, delimiter: str | None) -> Iterator[Record]:
    bad_lines: list[str] = []  # problems of lines the csv reader consumed since the last row

    def lines() -> Iterator[str]:
        for number, raw in enumerate(stream, start=1):
            text, problem = _decode(raw, number)
            if problem is not None:
                bad_lines.append(problem)
                text = raw.decode("utf-8", errors="replace")
            assert text is not None
            yield text.removeprefix("\ufeff") if number == 1 else text

    source = lines()
    if delimiter is None:
        first = next(source, "")
        delimiter = _sniff_delimiter(first)
        source = itertools.chain([first], source)
    reader = csv.reader(source, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise InputError(f"cannot read the CSV header: {exc}") from None
    if bad_lines:
        raise InputError(f"the CSV header: {bad_lines[0]}")
    fields.check(header, "CSV header")
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
        values: dict[str, Any] = dict(zip(header, row, strict=True))
        if fields.id not in values:
            values[fields.id] = number
        yield _from_fields(values, number, fields)


def _sniff_delimiter(header: str) -> str:
    """The delimiter of a CSV header line; a comma when it cannot tell (one column)."""
    try:
        return csv.Sniffer().sniff(header, delimiters=_SNIFFED_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _parquet(stream: IO[bytes], fields: _Fields) -> Iterator[Record]:
    rows = parquet_rows(stream)
    columns = next(rows)
    fields.check(list(columns), "Parquet file")
    for number, row in enumerate(rows, start=1):
        if fields.id not in row:
            row[fields.id] = number
        yield _from_fields(row, number, fields)


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


def count_records(path: str, fmt: Format) -> int:
    """Records in the file at ``path``, near enough for a progress bar's total (exact for
    Parquet, lines for the others)."""
    if fmt == "parquet":
        return parquet_row_count(path)
    return count_lines(path, header=fmt in ("csv", "tsv"))


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
