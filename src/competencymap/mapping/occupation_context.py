"""Occupation context: skills that the same occupations need support each other.

A statement's best candidates point at occupations through the framework's occupation–skill
relations (essential counts 1, optional 0.5). A candidate earns the ``occupation`` signal when
an occupation that needs it is also needed by the *other* strong candidates: the share of the
strong candidates' score mass that backs its best such occupation. A candidate never backs
itself, so a skill that many occupations list gains nothing from that alone. The signal is
added as weighted evidence with the occupation named; it never replaces a score.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from competencymap.model.framework import REL_ESSENTIAL, REL_OPTIONAL, Framework

RELATION_WEIGHT = {REL_ESSENTIAL: 1.0, REL_OPTIONAL: 0.5}
SUPPORTERS = 10  # strongest candidates whose occupations form the context


class OccupationContext:
    """Occupation–skill links of one framework as a sparse (skill × occupation) matrix."""

    def __init__(self, framework: Framework, skill_iris: Sequence[str]) -> None:
        position = {iri: i for i, iri in enumerate(skill_iris)}
        occupations: dict[str, int] = {}
        rows, cols, values = [], [], []
        for relation in framework.relations:
            weight = RELATION_WEIGHT.get(relation.type)
            skill = position.get(relation.target)
            if weight is None or skill is None:
                continue
            rows.append(skill)
            cols.append(occupations.setdefault(relation.source, len(occupations)))
            values.append(weight)
        self.occupation_iris = list(occupations)
        self.framework = framework
        self.matrix = sparse.csr_matrix(
            (np.asarray(values, np.float32), (rows, cols)), shape=(len(skill_iris), len(occupations))
        )
        self.matrix.sum_duplicates()

    def __bool__(self) -> bool:
        return bool(self.occupation_iris)

    def label(self, column: int) -> str:
        iri = self.occupation_iris[column]
        occupation = self.framework.occupations.get(iri)
        return occupation.pref_label if occupation else iri

    def signal(self, candidates: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each candidate (skill position) with base score: the occupation signal in [0, 1]
        and the column of the occupation that gave it (-1 for none)."""
        scores = np.zeros(len(candidates), np.float32)
        best = np.full(len(candidates), -1, np.int64)
        if len(candidates) < 2 or not self:
            return scores, best
        top = np.argsort(-base, kind="stable")[:SUPPORTERS]
        weights = np.clip(base[top], 0.0, None).astype(np.float32)
        if weights.sum() <= 0:
            return scores, best
        links = self.matrix[candidates]  # (candidates, occupations)
        backing = np.asarray(links[top].T @ weights).ravel()  # per occupation
        own = np.zeros(len(candidates), np.float32)
        own[top] = weights
        links = links.tocoo()
        others = backing[links.col] - own[links.row] * links.data
        value = links.data * others / weights.sum()
        order = np.lexsort((-value, links.row))
        first = order[np.r_[True, links.row[order][1:] != links.row[order][:-1]]] if len(order) else order
        scores[links.row[first]] = value[first]
        best[links.row[first]] = links.col[first]
        return np.clip(scores, 0.0, 1.0), best
