"""A batch job's output files: whole lines only, and what they say about a previous run.

Durability policy: every line is one ``write`` on a file opened with ``O_APPEND``, made as
soon as its record finishes, so a killed process (kill -9) loses nothing that was written:
the line is in the operating system's cache. ``fsync`` runs at most once per
``fsync_interval`` seconds and at close, which bounds what an operating-system crash or power
loss could take. Either way the worst left behind is a torn last line, which `repair_tail`
cuts off before the next run appends: the record it held is simply done again.

On start, `scan` reads both files back: which records are done (by id, or by line for records
without a readable id), and what the failed ones already cost.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..core.cost import Usage
from ..errors import OutputError
from .inputs import id_key
from .keyindex import KeyIndex

__all__ = [
    "JsonlWriter",
    "Prior",
    "Spent",
    "compact_errors",
    "line_key",
    "ok_keys",
    "repair_tail",
    "scan",
]


def repair_tail(path: Path) -> int:
    """Cut a torn last line (one without its newline) off ``path``; returns bytes removed."""
    try:
        handle = open(path, "rb+")  # noqa: SIM115
    except FileNotFoundError:
        return 0
    with handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return 0
        end = size
        keep = 0
        while end > 0:
            start = max(0, end - 65536)
            handle.seek(start)
            chunk = handle.read(end - start)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            end = start
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
        return size - keep


def line_key(obj: dict[str, Any]) -> str:
    """The record identity of an output line: its input line when it was written for an input
    problem (a duplicate id shares its id with the record it duplicates), else its id."""
    line = obj.get("line")
    if line is not None:
        return id_key(None, int(line))
    return id_key(obj.get("id"), 0)


@dataclass
class Spent:
    """What lines in the files already cost."""

    usage: Usage = field(default_factory=Usage)
    cost: Decimal = Decimal(0)
    attempts: int = 0

    def add(self, obj: dict[str, Any]) -> None:
        self.usage += Usage.from_dict(obj.get("usage"))
        self.cost += _decimal(obj.get("cost"))
        self.attempts += int(obj.get("attempts") or 0)


@dataclass
class Prior:
    """What earlier runs left: done ids, and the failed records with what each cost."""

    ok: KeyIndex = field(default_factory=KeyIndex)
    failed: dict[str, Spent] = field(default_factory=dict)  # failures are few: in memory
    spent: Spent = field(default_factory=Spent)
    ok_count: int = 0
    duplicates: int = 0  # keys found in both files, or twice in the errors file


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        handle = open(path, "rb")  # noqa: SIM115
    except FileNotFoundError:
        return
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw, parse_float=Decimal)
            except ValueError:
                raise OutputError(
                    f"{str(path)!r} line {number} is not JSON, so it was not written by this "
                    "tool or was edited; fix or remove that line, or choose another output."
                ) from None
            if not isinstance(obj, dict):
                raise OutputError(f"{str(path)!r} line {number} is not a JSON object.")
            yield number, obj


def scan(output: Path, errors: Path) -> Prior:
    """Read back both files (after `repair_tail`)."""
    prior = Prior()

    def ok_lines() -> Iterator[str]:
        for _, obj in _lines(output):
            prior.ok_count += 1
            prior.spent.add(obj)
            yield line_key(obj)

    prior.ok.update(ok_lines())
    prior.duplicates += prior.ok_count - len(prior.ok)
    for _, obj in _lines(errors):
        key = line_key(obj)
        if key in prior.ok or key in prior.failed:
            prior.duplicates += 1
        spent = prior.failed.setdefault(key, Spent())
        spent.add(obj)
        prior.spent.add(obj)
    return prior


def ok_keys(output: Path) -> KeyIndex:
    """The records done in OUT."""
    keys = KeyIndex()
    keys.update(line_key(obj) for _, obj in _lines(output))
    return keys


def compact_errors(errors: Path, ok: Container[str]) -> int:
    """Rewrite the errors file keeping only the last line of each record not in ``ok``;
    returns the number of lines dropped. Atomic: a crash leaves the old file or the new one.

    A record retried by ``--retry-errors`` carries what its earlier failures cost in its new
    line, so dropping the old lines loses no accounting.
    """
    last: dict[str, int] = {}
    total = 0
    for number, obj in _lines(errors):
        last[line_key(obj)] = number
        total += 1
    keep = {number for key, number in last.items() if key not in ok}
    if len(keep) == total:
        return 0
    temporary = errors.with_name(errors.name + ".tmp")
    with open(errors, "rb") as source, open(temporary, "wb") as target:
        for number, raw in enumerate(source, start=1):
            if number in keep:
                target.write(raw)
        target.flush()
        os.fsync(target.fileno())
    os.replace(temporary, errors)
    _fsync_dir(errors.parent)
    return total - len(keep)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _decimal(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


class JsonlWriter:
    """Appends JSON lines to a file, one ``write`` each; see the module docstring."""

    def __init__(self, path: Path, *, fsync_interval: float = 1.0) -> None:
        self.path = path
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(
                f"cannot write {str(path)!r}: {exc.strerror}. Choose a writable path."
            ) from None
        self._interval = fsync_interval
        self._synced = time.monotonic()
        self._dirty = False

    def write(self, obj: dict[str, Any]) -> None:
        data = (
            json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=_json_default) + "\n"
        ).encode()
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self._dirty = True
        now = time.monotonic()
        if now - self._synced >= self._interval:
            self.sync()

    def sync(self) -> None:
        if self._dirty:
            os.fsync(self._fd)
            self._dirty = False
        self._synced = time.monotonic()

    def close(self) -> None:
        if self._fd >= 0:
            self.sync()
            os.close(self._fd)
            self._fd = -1


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Shortest float repr round-trips: Decimal(repr(float(x))) == x for these amounts.
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
