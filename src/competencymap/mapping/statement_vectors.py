"""Vectors of statements and of their phrases, with a bounded cache so repeated text is free.

A statement's phrases (see `segment.phrases`) get vectors from the statement's own forward
pass (`Encoder.encode_spans`: the mean of the phrase's token states), so a statement costs
one transformer input whatever the number of skills it lists (`mode="none"`: no phrases).
Results are cached by the statement text: boilerplate repeated across postings and re-runs are
not encoded again. The cache is a thread-safe LRU bounded by entries (`capacity`, `competencymap._common.lru`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from competencymap._common.lru import LRU
from competencymap.encoding.encoder import Encoder
from competencymap.statements.outcome import OutcomeParts, parse
from competencymap.statements.segment import phrases

MODES = ("span", "none")
CAPACITY = 50_000  # statements kept (~1.5 KB each with a few phrases: ~100 MB at most)


@dataclass(frozen=True)
class StatementVectors:
    """A statement's vector, its phrases (text, start, end relative to the statement) and theirs,
    and its outcome parts (verbs and their class; see `competencymap.statements.outcome`)."""

    vector: np.ndarray
    phrases: tuple[tuple[str, int, int], ...]
    phrase_vectors: np.ndarray
    parts: OutcomeParts


class StatementEncoder:
    """Embeds statements and their phrases for one encoder, caching by text."""

    def __init__(self, encoder: Encoder, *, capacity: int = CAPACITY) -> None:
        self.encoder = encoder
        self.cache: LRU[StatementVectors] = LRU(capacity)

    @property
    def capacity(self) -> int:
        return self.cache.capacity

    @property
    def hits(self) -> int:
        return self.cache.hits

    @property
    def misses(self) -> int:
        return self.cache.misses

    def __len__(self) -> int:
        return len(self.cache)

    def encode(self, texts: Sequence[str], mode: str = "span") -> list[StatementVectors]:
        """One `StatementVectors` per text, in order (phrases empty with mode "none")."""
        if mode not in MODES:
            raise ValueError(f"unknown phrase mode {mode!r}")
        found = self.cache.get_many((mode, t) for t in texts)
        missing = list(dict.fromkeys(t for t, v in zip(texts, found) if v is None))
        if missing:
            fresh = dict(zip(missing, self._compute(missing, mode)))
            self.cache.put_many(((mode, t), v) for t, v in fresh.items())
            found = [v if v is not None else fresh[t] for t, v in zip(texts, found)]
        return found  # type: ignore[return-value]

    def _compute(self, texts: list[str], mode: str) -> list[StatementVectors]:
        found = [tuple(phrases(t)) if mode != "none" else () for t in texts]
        wanted = [[(a, b) for _, a, b in p] for p in found]
        vectors, spans = self.encoder.encode_spans(texts, wanted)
        dim = self.encoder.dimension
        return [StatementVectors(vector, p, span_vectors.reshape(len(p), dim), parse(text))
                for text, vector, p, span_vectors in zip(texts, vectors, found, spans)]
