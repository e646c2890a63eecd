"""Dense scoring over a competency index: candidate search and exact per-competency scores.

A competency owns several vectors (labels, description). FAISS finds candidate competencies
through their nearest texts; :meth:`DenseView.scores` then scores every candidate exactly, for
every query of a statement (the statement and its phrases) at once: the best cosine over the
candidate's label vectors, and the cosine with its description. The vectors of the candidates
are gathered once per statement and compared in one matrix product; which label gave a score
is worked out only for the matches that are shown (:meth:`DenseScores.best_labels`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from competencymap.retrieval.vector_index import CompetencyIndex, IndexEntry

LABEL_FIELDS = ("pref_label", "alt_label", "hidden_label")
DESCRIPTION = "description"


def ragged_positions(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The runs starts[i] .. starts[i] + lengths[i] - 1, one after another, as one array."""
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()))


@dataclass(frozen=True)
class DenseScores:
    """Exact scores of one statement's candidates for each of its queries."""

    label: np.ndarray  # (queries, candidates): best label cosine
    description: np.ndarray  # (queries, candidates): description cosine (0 without one)
    sims: np.ndarray  # (queries, label rows): cosine with every gathered label vector
    rows: np.ndarray  # entry row of each gathered label vector
    bounds: np.ndarray  # candidate j owns gathered label vectors bounds[j]:bounds[j+1]
    description_rows: np.ndarray  # entry row of each candidate's description (-1: none)

    def best_labels(self, js: np.ndarray, query_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For candidates `js`: the entry row and query number of each one's best weighted label
        similarity (-1 where a candidate has no label), in one pass."""
        rows = np.full(len(js), -1, np.int64)
        queries = np.full(len(js), -1, np.int64)
        if not len(js) or not len(self.sims):
            return rows, queries
        starts, ends = self.bounds[js], self.bounds[js + 1]
        lengths = ends - starts
        if not lengths.sum():
            return rows, queries
        slots = np.repeat(np.arange(len(js)), lengths)
        columns = ragged_positions(starts, lengths)
        weighted = self.sims[:, columns] * query_weights[:, None]
        best_query = np.argmax(weighted, axis=0)
        value = weighted[best_query, np.arange(len(columns))]
        order = np.lexsort((np.arange(len(columns)), -value, slots))  # by slot, best first, then first column
        first = order[np.r_[True, slots[order][1:] != slots[order][:-1]]]
        rows[slots[first]] = self.rows[columns[first]]
        queries[slots[first]] = best_query[first]
        return rows, queries


class DenseView:
    """Per-competency access to an index's vectors."""

    def __init__(self, index: CompetencyIndex, field_weights: dict[str, float] | None = None) -> None:
        self.index = index
        self.entries: list[IndexEntry] = index.entries
        self.vectors: np.ndarray = np.asarray(index.vectors())  # a plain view of the (memory-mapped) array
        self.iris: list[str] = list(dict.fromkeys(e.iri for e in self.entries))
        self.position: dict[str, int] = {iri: i for i, iri in enumerate(self.iris)}
        position = self.position
        owner = np.fromiter((position[e.iri] for e in self.entries), dtype=np.int64, count=len(self.entries))
        self.owner = owner
        fields = np.array([e.field for e in self.entries])
        self._fields = fields
        is_label = np.isin(fields, LABEL_FIELDS)
        label_rows = np.flatnonzero(is_label)
        order = np.argsort(owner[label_rows], kind="stable")
        self._label_rows = label_rows[order]  # label rows grouped by owner
        weights = field_weights or {}
        field_weight = np.ones(len(self.entries), np.float32)
        for name, weight in weights.items():
            field_weight[fields == name] = weight
        self._label_weight = field_weight[self._label_rows]  # a label's similarity counts this much
        counts = np.bincount(owner[label_rows], minlength=len(self.iris))
        self._label_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._single_fields = {str(f) for f in np.unique(fields)  # fields with one text per competency at most
                               if np.bincount(owner[fields == f]).max() <= 1}
        self._description_row = np.full(len(self.iris), -1, np.int64)
        described = np.flatnonzero(fields == DESCRIPTION)
        self._description_row[owner[described]] = described

    def pref_vectors(self) -> np.ndarray:
        """One vector per competency (in position order): its preferred label's, else its first text's."""
        rows = np.full(len(self.iris), -1, np.int64)
        _, first = np.unique(self.owner, return_index=True)  # each competency's first text
        rows[self.owner[first]] = first
        preferred = np.flatnonzero(self._fields == "pref_label")
        rows[self.owner[preferred]] = preferred
        return np.asarray(self.vectors[rows])

    def candidates_each(self, queries: np.ndarray, k: int) -> list[np.ndarray]:
        """For each query, up to k competency positions owning its nearest texts (one search)."""
        if len(queries) == 0 or k <= 0:
            return []
        limits = {name: k for name in self._single_fields}
        _, rows = self.index.search_rows(queries, min(len(self.entries), k * 4), per_field=limits)
        out = []
        for row in rows:
            owners = self.owner[row[row >= 0]]
            _, first = np.unique(owners, return_index=True)
            out.append(owners[np.sort(first)][:k])
        return out

    def scores(self, queries: np.ndarray, candidates: np.ndarray) -> DenseScores:
        """Exact label and description scores of the candidates for every query, in one product."""
        starts = self._label_start[candidates]
        lengths = self._label_start[candidates + 1] - starts
        bounds = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        positions = ragged_positions(starts, lengths)  # where each candidate's labels sit in _label_rows
        gathered = self._label_rows[positions]
        descriptions = self._description_row[candidates]
        has_description = descriptions >= 0
        wanted = np.concatenate([gathered, descriptions[has_description]])
        sims_all = queries @ self.vectors[wanted].T if len(wanted) else np.zeros((len(queries), 0), np.float32)
        sims = sims_all[:, : len(gathered)]
        if len(gathered):
            sims = sims * self._label_weight[positions]
        label = np.zeros((len(queries), len(candidates)), np.float32)
        nonempty = lengths > 0
        if len(gathered):
            label[:, nonempty] = np.maximum.reduceat(sims, bounds[:-1][nonempty], axis=1)
        description = np.zeros_like(label)
        description[:, has_description] = sims_all[:, len(gathered):]
        return DenseScores(label, description, sims, gathered, bounds, descriptions)
