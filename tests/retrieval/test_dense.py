"""Dense scoring over a tiny index of hand-made vectors, where every cosine is known.

The index holds four competencies in four dimensions (rows in index order: preferred labels by
IRI, then alternative labels, then descriptions):

    row 0  a  pref_label   (1, 0, 0, 0)
    row 1  b  pref_label   (0, 0, 0, 1)
    row 2  c  pref_label   (0.6, 0.8, 0, 0)
    row 3  a  alt_label    (0, 1, 0, 0)
    row 4  a  description  (0, 0, 1, 0)
    row 5  d  description  (0, 0, 0.6, 0.8)     d has no label at all

so the view's positions are a=0, b=1, c=2, d=3.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from competencymap.model.framework import KIND_SKILL, Competency, Framework
from competencymap.retrieval.dense import DenseView, ragged_positions
from competencymap.retrieval.vector_index import CompetencyIndex

VECTORS = {
    "a pref": (1.0, 0.0, 0.0, 0.0),
    "a alt": (0.0, 1.0, 0.0, 0.0),
    "a description": (0.0, 0.0, 1.0, 0.0),
    "b pref": (0.0, 0.0, 0.0, 1.0),
    "c pref": (0.6, 0.8, 0.0, 0.0),
    "d description": (0.0, 0.0, 0.6, 0.8),
}
A, B, C, D = 0, 1, 2, 3
S = 1 / math.sqrt(2)
Q1 = (0.0, 1.0, 0.0, 0.0)  # a's alternative label exactly
Q2 = (S, 0.0, S, 0.0)  # halfway between a's preferred label and its description
Q3 = (-1.0, 0.0, 0.0, 0.0)  # opposite a's preferred label


class TableEncoder:
    """An encoder that looks its vectors up in a table."""

    name = "table"
    checksum = "0" * 64
    dimension = 4

    def __init__(self, table: dict[str, tuple[float, ...]]) -> None:
        self.table = table

    def encode(self, texts: Sequence[str], **_: object) -> np.ndarray:
        return np.array([self.table[t] for t in texts], np.float32)


def _framework() -> Framework:
    def skill(name: str, pref: str, alts: tuple[str, ...] = (), description: str = "") -> Competency:
        return Competency(f"urn:{name}", "toy", KIND_SKILL, pref, alt_labels=alts, description=description)

    framework = Framework(id="toy", iri="urn:toy", title="Toy")
    for competency in (skill("a", "a pref", ("a alt",), "a description"), skill("b", "b pref"),
                       skill("c", "c pref"), skill("d", "", description="d description")):
        framework.competencies[competency.iri] = competency
    return framework


@pytest.fixture(scope="module")
def index() -> CompetencyIndex:
    built = CompetencyIndex.build(_framework(), TableEncoder(VECTORS))  # type: ignore[arg-type]  # a stand-in
    assert [(e.iri, e.field) for e in built.entries] == [
        ("urn:a", "pref_label"), ("urn:b", "pref_label"), ("urn:c", "pref_label"),
        ("urn:a", "alt_label"), ("urn:a", "description"), ("urn:d", "description"),
    ]
    return built


@pytest.fixture(scope="module")
def view(index: CompetencyIndex) -> DenseView:
    return DenseView(index)


def _queries(*rows: tuple[float, ...]) -> np.ndarray:
    return np.array(rows, np.float32)


# -- ragged_positions ---------------------------------------------------------------------------


def test_ragged_positions_lays_the_runs_end_to_end() -> None:
    out = ragged_positions(np.array([3, 0, 2]), np.array([1, 2, 1]))
    assert out.tolist() == [3, 0, 1, 2]
    assert ragged_positions(np.array([10, 4]), np.array([3, 2])).tolist() == [10, 11, 12, 4, 5]


def test_ragged_positions_skips_empty_runs() -> None:
    assert ragged_positions(np.array([7, 1, 9, 5]), np.array([0, 3, 0, 1])).tolist() == [1, 2, 3, 5]


def test_ragged_positions_of_nothing_is_empty() -> None:
    assert ragged_positions(np.array([], np.int64), np.array([], np.int64)).tolist() == []
    assert ragged_positions(np.array([4, 8]), np.array([0, 0])).tolist() == []


# -- DenseView: layout --------------------------------------------------------------------------


def test_view_numbers_competencies_in_index_order(view: DenseView) -> None:
    assert view.iris == ["urn:a", "urn:b", "urn:c", "urn:d"]
    assert view.position == {"urn:a": A, "urn:b": B, "urn:c": C, "urn:d": D}


def test_pref_vectors_fall_back_on_the_first_text(view: DenseView) -> None:
    expected = [VECTORS["a pref"], VECTORS["b pref"], VECTORS["c pref"], VECTORS["d description"]]
    np.testing.assert_allclose(view.pref_vectors(), expected)


# -- DenseView.candidates_each ------------------------------------------------------------------


def test_candidates_are_the_owners_of_the_nearest_texts(view: DenseView) -> None:
    # Q1: a's alternative label (1.0), then c's preferred label (0.8)
    # (0, 0, 0, 1): b's preferred label (1.0), then d's description (0.8)
    found = view.candidates_each(_queries(Q1, (0.0, 0.0, 0.0, 1.0)), k=2)
    assert [c.tolist() for c in found] == [[A, C], [B, D]]


def test_candidates_name_each_competency_once(view: DenseView) -> None:
    # nearest: a's description (0.8), a's preferred label (0.6), d's description (0.48), c's label (0.36)
    found = view.candidates_each(_queries((0.6, 0.0, 0.8, 0.0)), k=3)
    assert [c.tolist() for c in found] == [[A, D, C]]


def test_candidates_stop_at_k(view: DenseView) -> None:
    assert [c.tolist() for c in view.candidates_each(_queries(Q1, Q2), k=1)] == [[A], [A]]


def test_no_queries_or_no_k_give_no_candidates(view: DenseView) -> None:
    assert view.candidates_each(np.zeros((0, 4), np.float32), k=3) == []
    assert view.candidates_each(_queries(Q1), k=0) == []


# -- DenseView.scores ---------------------------------------------------------------------------

CANDIDATES = np.array([C, A, B, D])


def test_scores_are_the_best_label_and_the_description_cosines(view: DenseView) -> None:
    scores = view.scores(_queries(Q1, Q2, Q3), CANDIDATES)
    #                 c           a                  b    d (no label)
    expected_label = [[0.8,       1.0,               0.0, 0.0],   # Q1: c pref; a alt
                      [0.6 * S,   S,                 0.0, 0.0],   # Q2: c pref; a pref
                      [-0.6,      0.0,               0.0, 0.0]]   # Q3: c pref; a alt beats a pref (-1)
    expected_description = [[0.0, 0.0, 0.0, 0.0],
                            [0.0, S,   0.0, 0.6 * S],
                            [0.0, 0.0, 0.0, 0.0]]
    np.testing.assert_allclose(scores.label, expected_label, atol=1e-6)
    np.testing.assert_allclose(scores.description, expected_description, atol=1e-6)


def test_scores_keep_where_each_candidate_vector_came_from(view: DenseView) -> None:
    scores = view.scores(_queries(Q1), CANDIDATES)
    assert scores.rows.tolist() == [2, 0, 3, 1]  # c pref; a pref, a alt; b pref
    assert scores.bounds.tolist() == [0, 1, 3, 4, 4]  # d owns no label vector
    assert scores.description_rows.tolist() == [-1, 4, -1, 5]
    np.testing.assert_allclose(scores.sims, [[0.8, 0.0, 1.0, 0.0]], atol=1e-6)


def test_field_weights_scale_label_similarities(index: CompetencyIndex) -> None:
    view = DenseView(index, field_weights={"alt_label": 0.5})
    scores = view.scores(_queries(Q1, Q2), np.array([A, C]))
    # a under Q1: its alternative label now counts 0.5; c's preferred label is unweighted
    np.testing.assert_allclose(scores.label, [[0.5, 0.8], [S, 0.6 * S]], atol=1e-6)
    np.testing.assert_allclose(scores.description, [[0.0, 0.0], [S, 0.0]], atol=1e-6)


def test_scores_of_no_candidates_are_empty(view: DenseView) -> None:
    scores = view.scores(_queries(Q1, Q2), np.array([], np.int64))
    assert scores.label.shape == scores.description.shape == (2, 0)


def test_scores_of_label_less_candidates_are_zero_labels(view: DenseView) -> None:
    scores = view.scores(_queries(Q2), np.array([D]))
    np.testing.assert_allclose(scores.label, [[0.0]])
    np.testing.assert_allclose(scores.description, [[0.6 * S]], atol=1e-6)
    assert scores.bounds.tolist() == [0, 0]


# -- DenseScores.best_labels --------------------------------------------------------------------


def test_best_labels_name_the_row_and_query_of_each_best_label(view: DenseView) -> None:
    scores = view.scores(_queries(Q1, Q2), CANDIDATES)
    rows, queries = scores.best_labels(np.array([0, 1, 2, 3]), np.array([1.0, 1.0], np.float32))
    # c: its label under Q1 (0.8); a: its alternative label under Q1 (1.0);
    # b: 0 under both queries, the first wins; d: no label
    assert rows.tolist() == [2, 3, 1, -1]
    assert queries.tolist() == [0, 0, 0, -1]


def test_best_labels_weigh_the_queries(view: DenseView) -> None:
    scores = view.scores(_queries(Q1, Q2), CANDIDATES)
    rows, queries = scores.best_labels(np.array([1, 0]), np.array([0.5, 1.0], np.float32))
    # a: Q1 alt 0.5 x 1.0 = 0.5 < Q2 pref 1.0 x 0.707; c: Q1 0.5 x 0.8 = 0.4 < Q2 0.424
    assert rows.tolist() == [0, 2]
    assert queries.tolist() == [1, 1]


def test_best_labels_of_a_subset_follow_its_order(view: DenseView) -> None:
    scores = view.scores(_queries(Q1), CANDIDATES)
    rows, queries = scores.best_labels(np.array([3, 1]), np.array([1.0], np.float32))
    assert rows.tolist() == [-1, 3] and queries.tolist() == [-1, 0]


def test_best_labels_of_nothing(view: DenseView) -> None:
    scores = view.scores(_queries(Q1), CANDIDATES)
    rows, queries = scores.best_labels(np.array([], np.int64), np.array([1.0], np.float32))
    assert rows.tolist() == [] and queries.tolist() == []
    only_d = view.scores(_queries(Q1), np.array([D]))
    rows, queries = only_d.best_labels(np.array([0]), np.array([1.0], np.float32))
    assert rows.tolist() == [-1] and queries.tolist() == [-1]
