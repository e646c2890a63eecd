"""A thread-safe least-recently-used cache bounded by its number of entries, counting hits."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class LRU(Generic[Value]):
    """Keys to values; the least recently read or written go first past `capacity` entries
    (0 keeps nothing). `hits` and `misses` count the reads."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[Hashable, Value] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> Value | None:
        return self.get_many([key])[0]

    def get_many(self, keys: Iterable[Hashable]) -> list[Value | None]:
        """The value of each key (None when absent), read under one lock."""
        out: list[Value | None] = []
        with self._lock:
            for key in keys:
                found = self._items.get(key)
                if found is None:
                    self.misses += 1
                else:
                    self._items.move_to_end(key)
                    self.hits += 1
                out.append(found)
        return out

    def put(self, key: Hashable, value: Value) -> None:
        self.put_many([(key, value)])

    def put_many(self, items: Iterable[tuple[Hashable, Value]]) -> None:
        """Store the values (newest last), then drop the oldest past capacity."""
        if self.capacity <= 0:
            return
        with self._lock:
            for key, value in items:
                self._items[key] = value
                self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
