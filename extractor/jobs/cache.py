"""An on-disk cache of validated answers (sqlite, from the standard library).

The key is a hash of the first request body (model, messages: system prompt with the schema,
instructions, examples and the text; response format; every sampling parameter) plus the
endpoint's URL without credentials, the validation mode and the re-ask budget: everything that
can change the answer, and nothing that cannot. The API key is never part of a key or a value
(request bodies do not hold it), so a cache file can be shared or kept.

Only successes are stored: a failure may be transient, and ``--retry-errors`` must be able to
try again. A hit costs nothing and is reported as such.

One connection serves the whole process, behind a lock, so concurrent writers (asyncio tasks,
or threads of the sync ``extract_many``) are safe; WAL mode with a busy timeout lets another
process read or write the same file meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError

__all__ = ["Cache", "cache_key"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created REAL NOT NULL DEFAULT (julianday('now'))
)
"""


def cache_key(body: Mapping[str, Any], **context: Any) -> str:
    """The cache key of a request ``body`` and whatever else decides its answer."""
    canonical = json.dumps(
        {"body": body, "context": context},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class Cache:
    """``cache.get(key)`` / ``cache.put(key, value)`` with JSON values; counts hits."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._db = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=30.0
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        except sqlite3.Error as exc:
            raise ConfigurationError(
                f"cannot open the cache {str(self.path)!r}: {exc}. Pass a writable file path."
            ) from None
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Any | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM answers WHERE key = ?", (key,)).fetchone()
            if row is None:
                self.misses += 1
                return None
            self.hits += 1
        return json.loads(row[0])

    def put(self, key: str, value: Any) -> None:
        """Store ``value``; committed before returning, so it survives a crash right after."""
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO answers (key, value) VALUES (?, ?)", (key, text)
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM answers").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
