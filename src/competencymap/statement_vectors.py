"""Vectors of statements and of their phrases, with a bounded cache so repeated text is free.

A statement's phrases (see `segment.phrases`) get vectors from the statement's own forward
pass (`Encoder.encode_spans`: the mean of the phrase's token states), so a statement costs
one transformer input whatever the number of skills it lists; `mode="encode"` embeds each
phrase on its own instead (the older, slower way, kept to compare). Results are cached by the
statement text: boilerplate repeated across postings and re-runs are not encoded again. The
cache is a thread-safe LRU bounded by entries (`capacity`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from competencymap.embedding import Encoder
from competencymap.segment import phrases

MODES = ("span", "encode", "none")
CAPACITY = 50_000  # statements kept (~1.5 KB each with a few phrases: ~100 MB at most)


@dataclass(frozen=True)
class StatementVectors:
    """A statement's vector, its phrases (text, start, end relative to the statement) and theirs."""

    vector: np.ndarray
    phrases: tuple[tuple[str, int, int], ...]
    phrase_vectors: np.ndarray


class StatementEncoder:
    """Embeds statements and their phrases for one encoder, caching by text."""

    def __init__(self, encoder: Encoder, *, capacity: int = CAPACITY) -> None:
        self.encoder = encoder
        self.capacity = capacity
        self._cache: OrderedDict[tuple[str, str], StatementVectors] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._cache)

    def encode(self, texts: Sequence[str], mode: str = "span") -> list[StatementVectors]:
        """One `StatementVectors` per text, in order (phrases empty with mode "none")."""
        if mode not in MODES:
            raise ValueError(f"unknown phrase mode {mode!r}")
        found = self._cached(texts, mode)
        missing = list(dict.fromkeys(t for t, v in zip(texts, found) if v is None))
        if missing:
            fresh = dict(zip(missing, self._compute(missing, mode)))
            self._store(fresh, mode)
            found = [v if v is not None else fresh[t] for t, v in zip(texts, found)]
        return found  # type: ignore[return-value]

    def _cached(self, texts: Sequence[str], mode: str) -> list[StatementVectors | None]:
        out: list[StatementVectors | None] = []
        with self._lock:
            for text in texts:
                item = self._cache.get((mode, text))
                if item is not None:
                    self._cache.move_to_end((mode, text))
                    self.hits += 1
                else:
                    self.misses += 1
                out.append(item)
        return out

    def _store(self, fresh: dict[str, StatementVectors], mode: str) -> None:
        if self.capacity <= 0:
            return
        with self._lock:
            for text, item in fresh.items():
                self._cache[(mode, text)] = item
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)

    def _compute(self, texts: list[str], mode: str) -> list[StatementVectors]:
        found = [tuple(phrases(t)) if mode != "none" else () for t in texts]
        dim = self.encoder.dimension
        if mode == "span":
            vectors, spans = self.encoder.encode_spans(texts, [[(a, b) for _, a, b in p] for p in found])
            return [StatementVectors(v, p, s.reshape(len(p), dim)) for v, p, s in zip(vectors, found, spans)]
        flat = [text for p in found for text, _, _ in p]
        vectors = self.encoder.encode([*texts, *flat])
        out, position = [], len(texts)
        for i, p in enumerate(found):
            out.append(StatementVectors(vectors[i], p, vectors[position : position + len(p)].reshape(len(p), dim)))
            position += len(p)
        return out
