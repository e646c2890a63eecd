"""The bounded LRU cache behind the statement-vector, ranking and coverage caches."""

from __future__ import annotations

from competencymap._common.lru import LRU


def test_lru_drops_the_least_recently_used_past_capacity() -> None:
    cache: LRU[int] = LRU(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3)
    assert len(cache) == 2
    assert cache.get_many(["a", "b", "c"]) == [1, None, 3]
    assert (cache.hits, cache.misses) == (3, 1)


def test_lru_with_no_capacity_keeps_nothing() -> None:
    cache: LRU[int] = LRU(0)
    cache.put_many([("a", 1), ("b", 2)])
    assert len(cache) == 0 and cache.get("a") is None and cache.misses == 1
