"""Dense scoring over a competency index: candidate search and exact per-competency re-scoring.

A competency owns several vectors (labels, description). FAISS finds candidate competencies
through their nearest texts; :meth:`DenseView.best` then scores each candidate exactly as the
best similarity between any query (statement or phrase, each with a weight) and any of its
texts of the requested fields, and says which text and which query gave it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from competencymap.index import CompetencyIndex, IndexEntry


class DenseView:
    """Per-competency access to an index's vectors."""

    def __init__(self, index: CompetencyIndex) -> None:
        self.index = index
        self.entries: list[IndexEntry] = index.entries
        self.vectors: np.ndarray = index.vectors()
        self.iris: list[str] = list(dict.fromkeys(e.iri for e in self.entries))
        self.position: dict[str, int] = {iri: i for i, iri in enumerate(self.iris)}
        self.owner = np.fromiter((self.position[e.iri] for e in self.entries), dtype=np.int64, count=len(self.entries))
        fields = sorted({e.field for e in self.entries})
        self.field_code = {name: code for code, name in enumerate(fields)}
        self.fields = np.fromiter((self.field_code[e.field] for e in self.entries), dtype=np.int64, count=len(self.entries))
        order = np.argsort(self.owner, kind="stable")
        self._rows = order  # entry rows grouped by owner
        counts = np.bincount(self.owner, minlength=len(self.iris))
        self._start = np.concatenate([[0], np.cumsum(counts)])

    def candidates_each(self, queries: np.ndarray, k: int) -> list[list[int]]:
        """For each query, up to k competency positions owning its nearest texts (one search)."""
        if len(queries) == 0:
            return []
        _, rows = self.index.search_rows(queries, min(len(self.entries), k * 4))
        owners = np.where(rows >= 0, self.owner[np.maximum(rows, 0)], -1)
        return [list(dict.fromkeys(row[row >= 0].tolist()))[:k] for row in owners]

    def rows_of(self, candidates: np.ndarray, fields: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Entry rows of the candidates restricted to fields, and each row's candidate slot."""
        codes = [self.field_code[f] for f in fields if f in self.field_code]
        if not codes:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        lengths = self._start[candidates + 1] - self._start[candidates]
        slots = np.repeat(np.arange(len(candidates)), lengths)
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        idx = np.repeat(self._start[candidates], lengths) + offsets
        rows = self._rows[idx]
        keep = np.isin(self.fields[rows], codes)
        return rows[keep], slots[keep]

    def best(
        self, queries: np.ndarray, candidates: np.ndarray, fields: Sequence[str], weights: np.ndarray
    ) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """For each candidate: the best weighted similarity over its texts in `fields`, and
        (entry row, query number) that gave it ((-1, -1) when it has no such text)."""
        scores = np.zeros(len(candidates), dtype=np.float32)
        best = [(-1, -1)] * len(candidates)
        rows, slots = self.rows_of(candidates, fields)
        if len(rows) == 0 or len(queries) == 0:
            return scores, best
        sims = (queries @ self.vectors[rows].T) * weights[:, None]  # (queries, rows)
        per_row_query = sims.argmax(axis=0)
        per_row = sims[per_row_query, np.arange(len(rows))]
        order = np.lexsort((-per_row, slots))  # by slot, best row first
        first = order[np.r_[True, slots[order][1:] != slots[order][:-1]]]
        scores[slots[first]] = per_row[first]
        for i in first:
            best[int(slots[i])] = (int(rows[i]), int(per_row_query[i]))
        return scores, best
