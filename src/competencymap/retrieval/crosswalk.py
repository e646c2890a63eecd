"""A computed crosswalk between two frameworks, stored as scored SKOS mapping relations.

Each concept is represented by one vector: the mean of its preferred-label vector and its
description vector (the description carries the meaning a short label leaves open). A
target skill is represented by itself and its components (a source concept close to any
component is close to the skill). For every source competency the best target skill is kept
when the cosine reaches `related_at`; it is a `closeMatch` from `close_at` up, else a
`relatedMatch`. The second-best is kept too when it is within `second_within` of the best.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import numpy as np

from competencymap.model.framework import Framework, Relation
from competencymap.retrieval.vector_index import CompetencyIndex

CLOSE_AT = 0.55
RELATED_AT = 0.40
SECOND_WITHIN = 0.03


def concept_vectors(index: CompetencyIndex) -> tuple[list[str], np.ndarray]:
    """One normalised vector per competency: mean of its preferred label and description."""
    vectors = index.vectors()
    rows: dict[str, list[int]] = {}
    for row, entry in enumerate(index.entries):
        if entry.field in ("pref_label", "description"):
            rows.setdefault(entry.iri, []).append(row)
    iris = list(rows)
    matrix = np.stack([vectors[rows[iri]].mean(axis=0) for iri in iris]).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True).clip(min=1e-9)
    return iris, matrix


def compute_crosswalk(
    source: CompetencyIndex,
    target: CompetencyIndex,
    target_framework: Framework,
    *,
    close_at: float = CLOSE_AT,
    related_at: float = RELATED_AT,
    second_within: float = SECOND_WITHIN,
) -> list[Relation]:
    """Scored closeMatch/relatedMatch relations from every source competency to target skills."""
    source_iris, source_matrix = concept_vectors(source)
    target_iris, target_matrix = concept_vectors(target)
    # the target index was built from target_framework, so each of its IRIs has a skill
    skill_of = cast(list[str], [target_framework.skill_of(iri) for iri in target_iris])
    skills = sorted(set(skill_of))
    column_of = {skill: j for j, skill in enumerate(skills)}
    column_skill = np.array([column_of[skill] for skill in skill_of])
    sims = source_matrix @ target_matrix.T
    per_skill = np.full((len(source_iris), len(skills)), -1.0, dtype=np.float32)
    for column, skill in enumerate(column_skill):
        np.maximum(per_skill[:, skill], sims[:, column], out=per_skill[:, skill])
    return list(_relations(source_iris, skills, per_skill, close_at, related_at, second_within))


def _relations(
    source_iris: list[str], skills: list[str], per_skill: np.ndarray, close_at: float, related_at: float, second_within: float
) -> Iterable[Relation]:
    order = np.argsort(-per_skill, axis=1)[:, :2]
    for i, iri in enumerate(source_iris):
        best = float(per_skill[i, order[i, 0]])
        for rank, column in enumerate(order[i]):
            score = float(per_skill[i, column])
            if score < related_at or (rank == 1 and best - score > second_within):
                break
            kind = "closeMatch" if score >= close_at else "relatedMatch"
            yield Relation(iri, skills[column], kind, round(score, 4))


def crosswalk_index(relations: Iterable[Relation]) -> dict[str, list[Relation]]:
    """Relations grouped by source IRI, best first."""
    out: dict[str, list[Relation]] = {}
    for relation in relations:
        out.setdefault(relation.source, []).append(relation)
    for items in out.values():
        items.sort(key=lambda r: -(r.score or 0.0))
    return out
