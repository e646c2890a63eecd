"""The framework graph: children, skill groups with depth, relations by IRI, occupation links;
cached on the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from competencymap.model.framework import (
    KIND_GROUP,
    KIND_KNOWLEDGE,
    KIND_SKILL,
    REL_ESSENTIAL,
    REL_OPTIONAL,
    Competency,
    Framework,
    Occupation,
    Relation,
)
from competencymap.model.graph import FrameworkGraph

E = "http://example.org/esco/"


def concept(iri: str, *broader: str, kind: str = KIND_KNOWLEDGE) -> Competency:
    return Competency(iri=E + iri, framework="tiny", kind=kind, pref_label=iri.upper(), broader=tuple(E + b for b in broader))


def tiny() -> Framework:
    """K > ICT > DEV > {ql > sql, java}; S > FOOD > bake > cook; a cycle between two groups."""
    items = [
        concept("K", kind=KIND_GROUP), concept("ICT", "K", kind=KIND_GROUP), concept("DEV", "ICT", kind=KIND_GROUP),
        concept("ql", "DEV"), concept("sql", "DEV", "ql"), concept("java", "DEV"),
        concept("S", kind=KIND_GROUP), concept("FOOD", "S", kind=KIND_GROUP),
        concept("bake", "FOOD", kind=KIND_SKILL), concept("cook", "bake", kind=KIND_SKILL),
        concept("A", "B", kind=KIND_GROUP), concept("B", "A", kind=KIND_GROUP),
    ]
    occupations = {E + "baker": Occupation(iri=E + "baker", framework="tiny", pref_label="baker")}
    relations = [Relation(E + "baker", E + "bake", REL_ESSENTIAL), Relation(E + "baker", E + "cook", REL_OPTIONAL),
                 Relation(E + "sql", E + "java", "skill-optional"), Relation(E + "sql", "http://x/sfs", "closeMatch", 0.6)]
    return Framework(id="tiny", iri=E, title="tiny", competencies={c.iri: c for c in items},
                     occupations=occupations, relations=relations)


def test_groups_nearest_first_with_depth() -> None:
    g = FrameworkGraph(tiny())
    assert g.groups(E + "sql") == (E + "DEV", E + "ICT", E + "K")
    assert [g.depth(x) for x in g.groups(E + "sql")] == [3, 2, 1]
    assert g.groups(E + "cook") == (E + "FOOD", E + "S")  # through its broader skill
    assert g.groups(E + "ICT") == (E + "K",) and g.groups("http://elsewhere/x") == ()
    assert g.depth(E + "A") <= 3 and set(g.groups(E + "A")) <= {E + "A", E + "B"}  # a cycle ends
    assert g.is_group(E + "DEV") and not g.is_group(E + "sql") and not g.is_group("http://elsewhere/x")


def test_children_and_parents() -> None:
    g = FrameworkGraph(tiny())
    assert g.children(E + "DEV") == (E + "ql", E + "sql", E + "java")
    assert g.children(E + "ql") == (E + "sql",) and g.children(E + "sql") == ()
    assert g.parents(E + "sql") == (E + "DEV", E + "ql") and g.parents("http://elsewhere/x") == ()
    assert g.label(E + "sql") == "SQL" and g.label("http://elsewhere/x") == "http://elsewhere/x"
    assert E + "sql" in g and E + "baker" not in g  # competencies only


def test_relations_by_iri_and_occupation_links() -> None:
    g = FrameworkGraph(tiny())
    assert [r.target for r in g.relations_from(E + "sql")] == [E + "java", "http://x/sfs"]
    assert [r.type for r in g.relations_from(E + "sql", ["closeMatch"])] == ["closeMatch"]
    assert [r.source for r in g.relations_to(E + "java")] == [E + "sql"]
    assert [(r.source, r.type) for r in g.occupations_of(E + "bake")] == [(E + "baker", REL_ESSENTIAL)]
    assert [r.target for r in g.skills_of(E + "baker")] == [E + "bake", E + "cook"]
    assert g.occupations_of(E + "sql") == []


@pytest.mark.model
def test_engine_keeps_one_graph_per_framework(built_home: Path) -> None:
    from competencymap._common.config import load_settings
    from competencymap.engine import CompetencyMap

    app = CompetencyMap(load_settings(home=built_home))
    graph = app.graph("mini")
    assert graph is app.graph("mini")
    assert graph.framework is app.framework("mini")
