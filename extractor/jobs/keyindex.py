"""A set of record keys kept on disk, so that a job's memory does not grow with its input.

Resuming a job of millions of records means knowing which ids are done, and catching
duplicate ids means remembering every id seen: as Python sets these cost 150-300 bytes per
record (a 2-million-record job would hold several hundred MB). Here they live in a private
temporary sqlite database (deleted when closed) with a bounded page cache, at a few
microseconds per lookup.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

__all__ = ["KeyIndex"]

_CACHE_KIB = 16 * 1024
_BATCH = 500  # keys per query: under every sqlite build's limit on bound parameters


class KeyIndex:
    """``key in index``, and batched adds and lookups (a chunk of records at a time).
    One thread at a time."""

    def __init__(self) -> None:
        # "" opens a private temporary database on disk, removed on close.
        self._db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
        self._db.execute("CREATE TABLE keys (key TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID")
        self._size = 0

    def add_many(self, items: Sequence[tuple[str, int]]) -> dict[int, int]:
        """Add (key, line) pairs in one go; returns {line: first line} for each pair whose key
        was already there (earlier, or earlier in ``items``)."""
        found = dict(
            self._lookup("SELECT key, line FROM keys WHERE key IN ({})", [k for k, _ in items])
        )
        repeats: dict[int, int] = {}
        new: list[tuple[str, int]] = []
        for key, line in items:
            first = found.get(key)
            if first is None:
                found[key] = line
                new.append((key, line))
            else:
                repeats[line] = first
        if new:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO keys VALUES (?, ?)", new)
            self._db.execute("COMMIT")
            self._size += len(new)
        return repeats

    def present(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` are in the index (one query for the lot)."""
        return {key for key, _ in self._lookup("SELECT key, 1 FROM keys WHERE key IN ({})", keys)}

    def _lookup(self, query: str, keys: Sequence[str]) -> list[tuple[str, int]]:
        rows: list[tuple[str, int]] = []
        for start in range(0, len(keys), _BATCH):
            part = keys[start : start + _BATCH]
            sql = query.format(",".join("?" * len(part)))
            rows.extend(self._db.execute(sql, part).fetchall())
        return rows

    def update(self, keys: Iterable[str]) -> None:
        self._db.execute("BEGIN")
        self._db.executemany("INSERT OR IGNORE INTO keys VALUES (?, 0)", ((key,) for key in keys))
        self._db.execute("COMMIT")
        self._size = int(self._db.execute("SELECT count(*) FROM keys").fetchone()[0])

    def __contains__(self, key: object) -> bool:
        row = self._db.execute("SELECT 1 FROM keys WHERE key = ?", (key,)).fetchone()
        return row is not None

    def __len__(self) -> int:
        return self._size

    def close(self) -> None:
        self._db.close()
