"""Streaming input readers: every record once, bad ones with a clear reason."""

from __future__ import annotations

import io
import json

import pytest

from extractor.errors import InputError
from extractor.jobs.inputs import detect_format, read_records, sniff


def records(data: bytes, fmt: str, **kw: str) -> list[tuple[int, object, str | None, str | None]]:
    return [
        (r.line, r.id, r.text, r.problem)
        for r in read_records(io.BytesIO(data), fmt, **kw)  # type: ignore[arg-type]
    ]


def test_jsonl_good_and_bad_lines() -> None:
    data = b"\n".join(
        [
            json.dumps({"id": "a", "text": "hello"}).encode(),
            b"",
            b"{broken",
            json.dumps({"text": "no id"}).encode(),
            json.dumps({"id": [1], "text": "x"}).encode(),
            json.dumps({"id": 2, "text": 5}).encode(),
            b'{"id": 3, "text": "\xff"}',
        ]
    )
    got = records(data, "jsonl")
    assert got[0] == (1, "a", "hello", None)
    assert got[1][0] == 3 and "not valid JSON" in str(got[1][3])
    assert got[2] == (4, 4, "no id", None)  # no id field: the line number
    assert "must be a string or an integer" in str(got[3][3])
    assert "must be a string, not int" in str(got[4][3])
    assert got[5][0] == 7 and "not valid UTF-8 (byte 0xff" in str(got[5][3])


def test_custom_fields() -> None:
    data = json.dumps({"key": "k1", "body": "text"}).encode()
    assert records(data, "jsonl", id_field="key", text_field="body") == [(1, "k1", "text", None)]


def test_csv_with_quoted_newlines_and_bad_rows() -> None:
    data = b'id,text\n1,"first\nrecord"\n2,\n3,"third"\n4,a,b\n5,"caf\xe9"\n6,ok\n'
    got = records(data, "csv")
    assert got[0] == (2, "1", "first\nrecord", None)
    assert got[1][0] == 4 and "is empty" in str(got[1][3])
    assert got[2] == (5, "3", "third", None)
    assert "has 3 fields" in str(got[3][3])
    assert "not valid UTF-8" in str(got[4][3])
    assert got[5] == (8, "6", "ok", None)


def test_csv_without_the_text_column_is_a_clear_error() -> None:
    with pytest.raises(InputError, match=r"no 'text' column .*--text-field"):
        records(b"id,body\n1,x\n", "csv")


def test_text_lines_are_numbered_and_blank_lines_skipped() -> None:
    got = records(b"\xef\xbb\xbffirst\r\n\nthird\n", "text")
    assert got == [(1, 1, "first", None), (3, 3, "third", None)]


def test_format_detection() -> None:
    assert detect_format("a.jsonl") == "jsonl" and detect_format("a.CSV") == "csv"
    assert detect_format("a.txt") == "text" and detect_format("a.tsv") == "tsv"
    assert detect_format("-", b'{"id": 1}') == "jsonl"
    assert detect_format("-", b"plain") == "text"


def test_sniff_keeps_the_first_line_of_a_pipe() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.data = data

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            chunk, self.data = self.data[:7], self.data[7:]
            return chunk

    stream, head = sniff(Pipe(b'{"id":1,"text":"a"}\n{"id":2,"text":"b"}\n'))  # type: ignore[arg-type]
    assert head.startswith(b'{"id"')
    assert [r.id for r in read_records(stream, "jsonl")] == [1, 2]


def test_csv_delimiter_is_sniffed_from_the_header_or_given() -> None:
    for delimiter in (";", "\t", "|", ","):
        data = f"id{delimiter}text\n1{delimiter}hello world\n".encode()
        assert records(data, "csv") == [(2, "1", "hello world", None)]
    assert records(b"text\nhello\n", "csv") == [(2, 2, "hello", None)]  # one column: comma
    assert records(b"id|text\n1|a;b\n", "csv", delimiter="|") == [(2, "1", "a;b", None)]


def test_other_fields_are_kept_when_asked() -> None:
    data = json.dumps({"id": 1, "text": "t", "a": 1, "b": [2]}).encode()
    [record] = read_records(io.BytesIO(data), "jsonl", keep="*")
    assert record.fields == {"a": 1, "b": [2]}
    [record] = read_records(io.BytesIO(data), "jsonl", keep=("b", "zz"))
    assert record.fields == {"b": [2], "zz": None}
    [record] = read_records(io.BytesIO(data), "jsonl")
    assert record.fields is None
    with pytest.raises(InputError, match="no column 'zz'"):
        list(read_records(io.BytesIO(b"id,text\n1,x\n"), "csv", keep=("zz",)))


def test_an_id_field_named_explicitly_must_be_there() -> None:
    """A misspelt --id-field must not quietly number the records: joins back would break."""
    jsonl = io.BytesIO(b'{"ref": "a1", "text": "x"}\n{"text": "y"}\n')
    default = list(read_records(jsonl, "jsonl"))
    assert [r.id for r in default] == [1, 2] and all(r.problem is None for r in default)
    jsonl.seek(0)
    named = list(read_records(jsonl, "jsonl", id_field="ref"))
    assert named[0].id == "a1" and named[0].problem is None
    assert named[1].problem == "line 2 has no 'ref' field (--id-field)"
    table = io.BytesIO(b"ref,text\na1,x\n")
    with pytest.raises(InputError, match="no 'reff' column"):
        list(read_records(table, "csv", id_field="reff"))
    table.seek(0)
    assert [r.id for r in read_records(table, "csv")] == [2]
