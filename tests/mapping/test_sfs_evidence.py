"""Skills for Success evidence: through the authored crosswalk and ESCO's groups, silent below the
cut-off, and never from a number, a generic word or a credential's theme.

The unit tests build matches by hand; the rest run on the full bundled ESCO and Skills for
Success (marked full and model, `full_app` from conftest)."""

from __future__ import annotations

import pytest

from competencymap.mapping.pipeline import GroupCrosswalk, through_crosswalk
from competencymap.mapping.results import Evidence, MappingResult, Match
from competencymap.model.framework import Competency, Framework, Relation
from competencymap.workflows.tagging import limit_shared, suggest_tags

SFS = "https://w3id.org/competencymap/sfs/"
ESCO = "http://data.europa.eu/esco/skill/"
FOOD_SAFETY = "Food Safety for Food Handlers"
FOOD_OUTCOMES = [
    "Monitor and record food temperatures",
    "Explain the requirements of Ontario Regulation 493/17 for food premises",
    "Apply safe food handling practices to prevent cross-contamination",
    "Identify the main causes of foodborne illness",
    "Clean and sanitize food contact surfaces and equipment",
    "Store food at safe temperatures and rotate stock",
    "Follow personal hygiene practices in the kitchen",
    "Recognize common food allergens and prevent allergic reactions",
]


def _sfs() -> Framework:
    concepts = {SFS + "digital": Competency(SFS + "digital", "sfs", "skill/competence", "Digital"),
                SFS + "digital/c3": Competency(SFS + "digital/c3", "sfs", "component", "Use digital information",
                                               broader=(SFS + "digital",))}
    return Framework("sfs", SFS, "Skills for Success", competencies=concepts)


def _crosswalk() -> GroupCrosswalk:
    groups = {ESCO + "sql": (ESCO + "software", ESCO + "ict")}
    names = {ESCO + "software": "software development", ESCO + "ict": "ICT"}
    links = {ESCO + "ict": [Relation(ESCO + "ict", SFS + "digital", "broadMatch")],
             ESCO + "software": [Relation(ESCO + "software", SFS + "digital", "closeMatch"),
                                 Relation(ESCO + "software", SFS + "digital/c3", "relatedMatch")]}
    return GroupCrosswalk("esco", links, lambda iri: groups.get(iri, ()), lambda iri: names.get(iri, iri))


def test_a_confident_esco_match_supports_through_its_groups() -> None:
    sql = Match(ESCO + "sql", "SQL", "esco", 1.1, confident=True, signals={"confidence": 1.0})
    out = through_crosswalk([], [sql], _crosswalk(), _sfs(), threshold=0.93, top_k=5)
    by_iri = {m.iri: m for m in out}
    digital = by_iri[SFS + "digital"]
    assert digital.score == 1.0 and digital.confident  # the close match through the nearest group wins
    assert digital.evidence == (Evidence("crosswalk", "closeMatch", "SQL (in software development)", 1.0,
                                         query=ESCO + "sql"),)
    component = by_iri[SFS + "digital/c3"]
    assert component.score == 0.6 and not component.confident  # a related match never decides alone
    unsure = Match(ESCO + "sql", "SQL", "esco", 1.1, confident=False, signals={"confidence": 0.7})
    assert through_crosswalk([], [unsure], _crosswalk(), _sfs(), threshold=0.93, top_k=5) == []


def _result(*matches: Match) -> MappingResult:
    return MappingResult([], [], {"sfs": list(matches)}, [])


def test_a_component_on_most_outcomes_stays_only_where_its_evidence_holds() -> None:
    theme = Evidence("crosswalk", "closeMatch", "food safety standards", 1.0, query=ESCO + "theme")
    shared = Match(SFS + "digital/c5", "Apply safe and responsible practices online", "sfs", 1.0, confident=True,
                   evidence=(theme,), signals={"confidence": 0.5, "crosswalk": 1.0})
    own = Match(SFS + "digital/c5", "Apply safe and responsible practices online", "sfs", 1.0, confident=True,
                evidence=(theme,), signals={"confidence": 0.95})
    results = limit_shared([_result(shared), _result(shared), _result(own), _result()], "sfs", 0.93)
    assert [m.confident for r in results for m in r.profiles["sfs"]] == [False, False, True]
    few = [_result(shared), _result(shared)]
    assert limit_shared(few, "sfs", 0.93) == few  # two outcomes: no share to speak of


@pytest.mark.full
@pytest.mark.model
def test_food_safety_gets_no_online_component(full_app) -> None:  # type: ignore[no-untyped-def]
    suggested = suggest_tags(full_app, FOOD_OUTCOMES, frameworks=["esco", "sfs"], top_k=5, context=FOOD_SAFETY)
    for outcome, tags in zip(FOOD_OUTCOMES, suggested):
        sfs = [t for t in tags if t.framework == "sfs"]
        assert all(t.evidence["confident"] for t in sfs)  # silence rather than a guess
        assert not any(t.competency_iri.startswith(SFS + "digital") for t in sfs), (outcome, sfs)
    profile = full_app.map(FOOD_OUTCOMES[0], ["esco", "sfs"], top_k=5, kind="outcomes",
                           context=FOOD_SAFETY).profiles["sfs"]
    for match in profile:  # "monitor" is a screen for no one here
        assert not (match.iri.startswith(SFS + "digital") and match.confident)
        assert not any(e.method == "exact" and e.text.lower() in ("monitor", "online") for e in match.evidence)


@pytest.mark.full
@pytest.mark.model
def test_sql_queries_are_digital_through_esco(full_app) -> None:  # type: ignore[no-untyped-def]
    text = "Write SQL queries to extract and summarise records from a relational database"
    profile = full_app.map(text, ["esco", "sfs"], top_k=5, kind="outcomes").profiles["sfs"]
    sfs = full_app.framework("sfs")
    assert sfs.skill_of(profile[0].iri) == SFS + "digital"
    evidence = [e for e in profile[0].evidence if e.method == "crosswalk"]
    assert evidence and all(e.query.startswith(ESCO) for e in evidence)
    assert any("(in " in e.text for e in evidence)  # names the ESCO skill and the group it came through


@pytest.mark.full
@pytest.mark.model
def test_a_regulation_number_is_no_numeracy_evidence(full_app) -> None:  # type: ignore[no-untyped-def]
    text = "Explain the requirements of Ontario Regulation 493/17 for food premises"
    profile = full_app.map(text, ["esco", "sfs"], top_k=5, kind="outcomes", context=FOOD_SAFETY).profiles["sfs"]
    sfs = full_app.framework("sfs")
    for match in profile:
        if sfs.skill_of(match.iri) == SFS + "numeracy":
            assert not match.confident
            assert not any(e.method == "exact" for e in match.evidence)
    tags = suggest_tags(full_app, [text], frameworks=["sfs"], top_k=5, context=FOOD_SAFETY)[0]
    assert not any(t.competency_iri.startswith(SFS + "numeracy") for t in tags)
