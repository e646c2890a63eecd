"""A bounded cache of statement rankings, so a statement repeated across postings costs a lookup.

The statement vectors are cached already (`statement_vectors`); this keeps what scoring made of
them: one framework's ranked matches for a statement text, a number of matches and a context.
Matches are stored with their evidence spans relative to the statement and shifted to where the
statement sits when they are read back, so a cached ranking is exactly what scoring would give
(tested). Thread-safe LRU bounded by entries (`competencymap._common.lru`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from dataclasses import replace

import numpy as np

from competencymap._common.lru import LRU
from competencymap.mapping.results import Evidence, Match

CAPACITY = 20_000  # statements (about 10 matches each, ~10 KB: ~200 MB at most)


def context_key(context: np.ndarray | None) -> Hashable:
    """A key for a context vector (its bytes' digest), None for no context."""
    return None if context is None else hashlib.blake2b(np.ascontiguousarray(context).tobytes(), digest_size=16).digest()


def shifted(matches: list[Match], offset: int) -> list[Match]:
    """The matches with every evidence span moved by `offset` characters."""
    if offset == 0:
        return matches
    return [replace(m, evidence=tuple(_shift(e, offset) for e in m.evidence)) if m.evidence else m for m in matches]


def _shift(evidence: Evidence, offset: int) -> Evidence:
    if evidence.span is None:
        return evidence
    return replace(evidence, span=(evidence.span[0] + offset, evidence.span[1] + offset))


class RankingCache(LRU[list[Match]]):
    """Statement text, number of matches and context -> ranked matches (spans relative)."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        super().__init__(capacity)

    def get_at(self, key: Hashable, start: int) -> list[Match] | None:
        """The cached ranking with its spans where a statement starting at `start` has them."""
        found = self.get(key)
        return None if found is None else list(shifted(found, start))

    def put_at(self, key: Hashable, matches: list[Match], start: int) -> None:
        """Keep the ranking of a statement starting at `start` (its spans made relative)."""
        if self.capacity > 0:
            self.put(key, list(shifted(matches, -start)))  # a copy: the caller may change its list
