"""Computed crosswalks over two tiny indexes of hand-made vectors, where every cosine is known.

The target framework has two skills along the first and third axes, and a component of the
first skill along the second axis (a source concept close to the component is close to its
skill). The fourth axis is orthogonal to every target, so a source vector (x, y, z, w) of unit
length has cosine max(x, y) with t1 and z with t2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from competencymap.model.framework import KIND_COMPONENT, KIND_SKILL, Competency, Framework, Relation
from competencymap.retrieval.crosswalk import compute_crosswalk, crosswalk_index
from competencymap.retrieval.vector_index import CompetencyIndex


def _unit(x: float, y: float, z: float) -> tuple[float, float, float, float]:
    """(x, y, z, w) with w making it unit length."""
    return (x, y, z, math.sqrt(max(0.0, 1 - x * x - y * y - z * z)))


TARGET_VECTORS = {
    "t1": (1.0, 0.0, 0.0, 0.0),
    "t1 component": (0.0, 1.0, 0.0, 0.0),
    "t2": (0.0, 0.0, 1.0, 0.0),
}
SOURCE_VECTORS = {
    "close to t1": _unit(0.8, 0.0, 0.6),  # t1 0.8, t2 0.6: too far behind to be kept
    "close to t1's component": _unit(0.0, 0.8, 0.6),  # t1 0.8 through its component
    "near both": _unit(0.7, 0.0, 0.71),  # t2 0.71, t1 0.70 within 0.03
    "close and related": _unit(0.56, 0.0, 0.54),  # t1 0.56 close, t2 0.54 related, within 0.03
    "related to t1": _unit(0.5, 0.0, 0.0),  # t1 0.5: related only
    "second below related": _unit(0.41, 0.0, 0.39),  # t1 0.41; t2 0.39 is within 0.03 but too low
    "unrelated": _unit(0.3, 0.0, 0.2),  # nothing reaches 0.40
    "label": (1.0, 0.0, 0.0, 0.0),  # with the description below: mean (0.8, 0, 0.4, 0)
    "description": (0.6, 0.0, 0.8, 0.0),  # -> (2, 0, 1, 0) / sqrt(5): t1 0.8944, t2 0.4472
}


class TableEncoder:
    """An encoder that looks its vectors up in a table."""

    name = "table"
    checksum = "0" * 64
    dimension = 4

    def __init__(self, table: dict[str, tuple[float, ...]]) -> None:
        self.table = table

    def encode(self, texts: Sequence[str], **_: object) -> np.ndarray:
        return np.array([self.table[t] for t in texts], np.float32)


def _competency(framework: str, name: str, pref: str, *, kind: str = KIND_SKILL, description: str = "",
                broader: tuple[str, ...] = ()) -> Competency:
    return Competency(f"urn:{framework}:{name}", framework, kind, pref, description=description, broader=broader)


def _target() -> Framework:
    framework = Framework(id="target", iri="urn:target", title="Target")
    for c in (_competency("target", "t1", "t1"), _competency("target", "t2", "t2"),
              _competency("target", "t1c", "t1 component", kind=KIND_COMPONENT, broader=("urn:target:t1",))):
        framework.competencies[c.iri] = c
    return framework


def _source() -> Framework:
    framework = Framework(id="source", iri="urn:source", title="Source")
    names = [text for text in SOURCE_VECTORS if text not in ("label", "description")]
    competencies = [_competency("source", f"s{i}", text) for i, text in enumerate(names)]
    competencies.append(_competency("source", "described", "label", description="description"))
    for c in competencies:
        framework.competencies[c.iri] = c
    return framework


T1, T2 = "urn:target:t1", "urn:target:t2"


@pytest.fixture(scope="module")
def target() -> Framework:
    return _target()


@pytest.fixture(scope="module")
def indexes(target: Framework) -> tuple[CompetencyIndex, CompetencyIndex]:
    source = CompetencyIndex.build(_source(), TableEncoder(SOURCE_VECTORS))  # type: ignore[arg-type]  # a stand-in
    built = CompetencyIndex.build(target, TableEncoder(TARGET_VECTORS))  # type: ignore[arg-type]
    return source, built


def _by_source(relations: list[Relation]) -> dict[str, list[tuple[str, str, float | None]]]:
    out: dict[str, list[tuple[str, str, float | None]]] = {}
    for r in relations:
        out.setdefault(r.source, []).append((r.target, r.type, r.score))
    return out


# -- compute_crosswalk --------------------------------------------------------------------------


def test_crosswalk_with_the_default_thresholds(indexes: tuple[CompetencyIndex, CompetencyIndex],
                                               target: Framework) -> None:
    source, built = indexes
    found = _by_source(compute_crosswalk(source, built, target))
    assert found == {
        "urn:source:s0": [(T1, "closeMatch", 0.8)],
        "urn:source:s1": [(T1, "closeMatch", 0.8)],  # through t1's component, named as t1
        "urn:source:s2": [(T2, "closeMatch", 0.71), (T1, "closeMatch", 0.7)],
        "urn:source:s3": [(T1, "closeMatch", 0.56), (T2, "relatedMatch", 0.54)],
        "urn:source:s4": [(T1, "relatedMatch", 0.5)],
        "urn:source:s5": [(T1, "relatedMatch", 0.41)],
        # s6 (0.3 at best) has no relation
        "urn:source:described": [(T1, "closeMatch", 0.8944)],  # mean of its label and description
    }


def test_crosswalk_relations_are_grouped_by_source_in_index_order(
        indexes: tuple[CompetencyIndex, CompetencyIndex], target: Framework) -> None:
    source, built = indexes
    relations = compute_crosswalk(source, built, target)
    assert [r.source for r in relations] == [
        "urn:source:described", "urn:source:s0", "urn:source:s1", "urn:source:s2", "urn:source:s2",
        "urn:source:s3", "urn:source:s3", "urn:source:s4", "urn:source:s5",
    ]


def test_crosswalk_never_maps_onto_a_component(indexes: tuple[CompetencyIndex, CompetencyIndex],
                                               target: Framework) -> None:
    source, built = indexes
    assert {r.target for r in compute_crosswalk(source, built, target)} == {T1, T2}


def test_a_higher_close_at_makes_close_matches_related(indexes: tuple[CompetencyIndex, CompetencyIndex],
                                                       target: Framework) -> None:
    source, built = indexes
    found = _by_source(compute_crosswalk(source, built, target, close_at=0.75))
    assert found["urn:source:s0"] == [(T1, "closeMatch", 0.8)]
    assert found["urn:source:s2"] == [(T2, "relatedMatch", 0.71), (T1, "relatedMatch", 0.7)]
    assert found["urn:source:s3"] == [(T1, "relatedMatch", 0.56), (T2, "relatedMatch", 0.54)]


def test_a_higher_related_at_drops_weaker_relations(indexes: tuple[CompetencyIndex, CompetencyIndex],
                                                    target: Framework) -> None:
    source, built = indexes
    found = _by_source(compute_crosswalk(source, built, target, related_at=0.705))
    assert found == {
        "urn:source:s0": [(T1, "closeMatch", 0.8)],
        "urn:source:s1": [(T1, "closeMatch", 0.8)],
        "urn:source:s2": [(T2, "closeMatch", 0.71)],  # its second, 0.70, is now below related_at
        "urn:source:described": [(T1, "closeMatch", 0.8944)],
    }


def test_second_within_decides_whether_the_second_best_is_kept(
        indexes: tuple[CompetencyIndex, CompetencyIndex], target: Framework) -> None:
    source, built = indexes
    wide = _by_source(compute_crosswalk(source, built, target, second_within=0.25))
    assert wide["urn:source:s0"] == [(T1, "closeMatch", 0.8), (T2, "closeMatch", 0.6)]  # 0.2 behind
    assert wide["urn:source:described"] == [(T1, "closeMatch", 0.8944)]  # 0.447 behind
    wider = _by_source(compute_crosswalk(source, built, target, second_within=0.5))
    assert wider["urn:source:described"] == [(T1, "closeMatch", 0.8944), (T2, "relatedMatch", 0.4472)]
    narrow = _by_source(compute_crosswalk(source, built, target, second_within=0.015))
    assert narrow["urn:source:s2"] == [(T2, "closeMatch", 0.71), (T1, "closeMatch", 0.7)]  # 0.01 behind
    assert narrow["urn:source:s3"] == [(T1, "closeMatch", 0.56)]  # 0.02 behind: dropped


# -- crosswalk_index ----------------------------------------------------------------------------


def test_crosswalk_index_groups_by_source_best_first() -> None:
    relations = [
        Relation("a", "x", "relatedMatch", 0.5),
        Relation("b", "y", "closeMatch", 0.7),
        Relation("a", "z", "closeMatch", 0.9),
        Relation("a", "w", "relatedMatch", 0.5),
        Relation("b", "v", "relatedMatch", None),
    ]
    grouped = crosswalk_index(relations)
    assert list(grouped) == ["a", "b"]  # sources in the order first seen
    assert [r.target for r in grouped["a"]] == ["z", "x", "w"]  # equal scores keep their order
    assert [r.target for r in grouped["b"]] == ["y", "v"]  # no score counts as 0
    assert grouped["a"][0] == Relation("a", "z", "closeMatch", 0.9)


def test_crosswalk_index_of_nothing_is_empty() -> None:
    assert crosswalk_index([]) == {}
    assert crosswalk_index(iter([Relation("a", "x", "closeMatch", 0.6)])) == {
        "a": [Relation("a", "x", "closeMatch", 0.6)]}
