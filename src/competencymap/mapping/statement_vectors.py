"""Vectors of statements and of their phrases, with a bounded cache so repeated text is free.

A statement's phrases (see `segment.phrases`) get vectors from the statement's own forward
pass (`Encoder.encode_spans`: the mean of the phrase's token states), so a statement costs
one transformer input whatever the number of skills it lists; `mode="encode"` embeds each
phrase on its own instead (the older, slower way, kept to compare). Results are cached by the
statement text: boilerplate repeated across postings and re-runs are not encoded again. The
cache is a thread-safe LRU bounded by entries (`capacity`, `competencymap._common.lru`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from competencymap.encoding.encoder import Encoder
from competencymap._common.lru import LRU
from competencymap.statements.outcome import OutcomeParts, parse
from competencymap.statements.segment import phrases

MODES = ("span", "encode", "none")
CAPACITY = 50_000  # statements kept (~1.5 KB each with a few phrases: ~100 MB at most)


@dataclass(frozen=True)
class StatementVectors:
    """A statement's vector, its phrases (text, start, end relative to the statement) and theirs,
    and its outcome parts (verbs, object; see `competencymap.statements.outcome`)."""

    vector: np.ndarray
    phrases: tuple[tuple[str, int, int], ...]
    phrase_vectors: np.ndarray
    parts: OutcomeParts
    object_vector: np.ndarray | None = None  # the object of the statement's verbs, when it has one


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
        parts = [parse(t) for t in texts]
        objects = [_object_span(t, p) for t, p in zip(texts, parts)]
        wanted = [[(a, b) for _, a, b in p] + ([o] if o else []) for p, o in zip(found, objects)]
        dim = self.encoder.dimension
        if mode == "span":
            vectors, spans = self.encoder.encode_spans(texts, wanted)
        else:
            flat = [t[a:b] for t, w in zip(texts, wanted) for a, b in w]
            encoded = self.encoder.encode([*texts, *flat])
            vectors, spans, position = encoded[: len(texts)], [], len(texts)
            for w in wanted:
                spans.append(encoded[position : position + len(w)])
                position += len(w)
        out = []
        for vector, p, part, obj, span_vectors in zip(vectors, found, parts, objects, spans):
            span_vectors = span_vectors.reshape(len(span_vectors), dim)
            out.append(StatementVectors(vector, p, span_vectors[: len(p)], part, span_vectors[len(p)] if obj else None))
        return out


def _object_span(text: str, parts: OutcomeParts) -> tuple[int, int] | None:
    """The object's span when it is a phrase of its own (a word or more, not the whole text)."""
    if parts.object is None:
        return None
    a, b = parts.object
    if len(text[a:b].split()) < 1 or (a, b) == (0, len(text)):
        return None
    return a, b
