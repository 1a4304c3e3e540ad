"""Parquet tables in and out, through pyarrow (the ``parquet`` extra, imported only here and
only when a Parquet file is read or written).

In: rows as dicts, a row group at a time, so a table larger than memory streams like a JSONL
file. Out: a job's OUT (JSONL) as a table, one row per record: ``id``, the extracted fields as
columns (a value that is not an object goes in a ``data`` column), and the kept input fields.
Column types are inferred from the values and unified over the whole file first, so a column
that is null in its first thousand rows and text later is still one text column.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import ConfigurationError, InputError

__all__ = ["parquet_row_count", "parquet_rows", "write_parquet"]

_BATCH_ROWS = 1024


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ConfigurationError(
            'Parquet needs pyarrow: pip install "typed-extractor[parquet]"'
        ) from None
    return pyarrow


def parquet_rows(stream: IO[bytes]) -> Iterator[Any]:
    """First the column names, then each row as a dict of JSON-able values."""
    pa = _pyarrow()
    try:
        table = pa.parquet.ParquetFile(stream)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read the input as Parquet: {exc}") from None
    yield table.schema_arrow.names
    for batch in table.iter_batches(batch_size=_BATCH_ROWS):
        for row in batch.to_pylist():
            yield {name: _jsonable(value) for name, value in row.items()}


def parquet_row_count(path: str) -> int:
    pa = _pyarrow()
    return int(pa.parquet.ParquetFile(path).metadata.num_rows)


def _jsonable(value: Any) -> Any:
    """Parquet's types as JSON's: dates and times in ISO 8601, decimals as numbers, bytes in
    base64; nested lists and structs element by element."""
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _table_rows(output: Path) -> Iterator[dict[str, Any]]:
    with open(output, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                raise InputError(f"{str(output)!r} line {number} is not JSON") from None
            yield _flatten(line)


def _flatten(line: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"id": line.get("id")}
    data = line.get("data")
    if isinstance(data, dict):
        row.update(data)
    else:
        row["data"] = data
    for name, value in (line.get("input") or {}).items():
        row[name if name not in row else f"input_{name}"] = value
    return row


def _chunks(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= _BATCH_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def write_parquet(output: Path, table: Path) -> int:
    """Write the records of ``output`` (a job's OUT) to the Parquet file ``table``; returns
    the number of rows. Two passes over OUT: the column types, then the rows."""
    pa = _pyarrow()
    schemas = [pa.Table.from_pylist(chunk).schema for chunk in _chunks(_table_rows(output))]
    if not schemas:
        raise ConfigurationError(f"{str(output)!r} holds no records to write to {str(table)!r}")
    try:
        schema = pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise ConfigurationError(
            f"the records of {str(output)!r} do not fit one table: {exc}"
        ) from None
    rows = 0
    with pa.parquet.ParquetWriter(table, schema) as writer:
        for chunk in _chunks(_table_rows(output)):
            writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
            rows += len(chunk)
    return rows
