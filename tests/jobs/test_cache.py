"""The sqlite answer cache."""

from __future__ import annotations

import threading
from pathlib import Path

from extractor.jobs.cache import Cache, cache_key

BODY = {"model": "gpt-5.1", "messages": [{"role": "user", "content": "Ada, 36"}]}


def test_key_covers_everything_that_changes_the_answer() -> None:
    base = cache_key(BODY, endpoint="a")
    assert cache_key(dict(reversed(list(BODY.items()))), endpoint="a") == base  # order-free
    assert cache_key({**BODY, "model": "gpt-4o"}, endpoint="a") != base
    assert cache_key({**BODY, "temperature": 0.2}, endpoint="a") != base
    assert (
        cache_key({**BODY, "messages": [{"role": "user", "content": "Ada, 37"}]}, endpoint="a")
        != base
    )
    assert cache_key(BODY, endpoint="b") != base


def test_get_put_hits_and_persistence(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    cache = Cache(path)
    key = cache_key(BODY)
    assert cache.get(key) is None
    cache.put(key, {"data": {"name": "Ada", "age": 36}})
    assert cache.get(key) == {"data": {"name": "Ada", "age": 36}}
    assert (cache.hits, cache.misses) == (1, 1)
    cache.close()
    reopened = Cache(path)
    assert reopened.get(key) == {"data": {"name": "Ada", "age": 36}}
    assert len(reopened) == 1


def test_concurrent_writers_in_one_process(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache.db")

    def writer(n: int) -> None:
        for i in range(50):
            cache.put(f"{n}-{i}", {"n": n, "i": i})
            assert cache.get(f"{n}-{i}") == {"n": n, "i": i}

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 400
