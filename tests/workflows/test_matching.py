"""Employer matching: the coverage rule on a small hand-built hierarchy, greedy set cover, needs,
the catalog side, and (with the bundled model) a posting matched against a real catalog."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from competencymap._common.errors import CompetencyMapError, UnknownFramework
from competencymap.catalog import Catalog, read_credentials_file
from competencymap.mapping.results import Evidence, MappingResult, Match
from competencymap.mapping.settings import PipelineConfig
from competencymap.model.framework import (
    KIND_COMPONENT,
    KIND_GROUP,
    KIND_KNOWLEDGE,
    KIND_SKILL,
    Competency,
    Framework,
    Relation,
)
from competencymap.model.graph import FrameworkGraph
from competencymap.workflows.employer_match import (
    CatalogCoverage,
    CoverageRule,
    Need,
    Offer,
    catalog_offers,
    coverage_rule,
    greedy_stack,
    mapping_relations,
    match_posting,
    needs_from_result,
    posting_needs,
    tag_holders,
)
from competencymap.workflows.needs import pick_needs

DATA = Path(__file__).resolve().parents[2] / "data"
E = "http://example.org/esco/"
S = "http://example.org/sfs/"


def concept(iri: str, label: str, *broader: str, kind: str = KIND_KNOWLEDGE, framework: str = "tiny") -> Competency:
    return Competency(iri=iri, framework=framework, kind=kind, pref_label=label, broader=tuple(broader))


def tiny_framework() -> Framework:
    """Two group levels; skills under groups and under other skills (as in ESCO).

    K (top group) > ICT (group) > DEV (group) > {query languages, SQL, SPARQL, Java, Python, DBMS, PostgreSQL}
    SQL and SPARQL sit under the skill 'query languages'; PostgreSQL under the skill 'DBMS';
    Java and Python only share the group DEV. 'cook' has no group of its own, only a parent skill.
    """
    items = [
        concept(E + "K", "knowledge", kind=KIND_GROUP),
        concept(E + "ICT", "ICT", E + "K", kind=KIND_GROUP),
        concept(E + "DEV", "software development", E + "ICT", kind=KIND_GROUP),
        concept(E + "ql", "query languages", E + "DEV"),
        concept(E + "sql", "SQL", E + "DEV", E + "ql"),
        concept(E + "sparql", "SPARQL", E + "DEV", E + "ql"),
        concept(E + "java", "Java", E + "DEV"),
        concept(E + "python", "Python", E + "DEV"),
        concept(E + "dbms", "database management systems", E + "DEV"),
        concept(E + "postgres", "PostgreSQL", E + "dbms", E + "DEV"),
        concept(E + "S", "skills", kind=KIND_GROUP),
        concept(E + "FOOD", "preparing food", E + "S", kind=KIND_GROUP),
        concept(E + "prepare", "prepare food", E + "FOOD", kind=KIND_SKILL),
        concept(E + "cook", "cook", E + "prepare", kind=KIND_SKILL),
        concept(E + "count", "carry out calculations", E + "S", kind=KIND_SKILL),
    ]
    return Framework(id="tiny", iri=E, title="tiny", competencies={c.iri: c for c in items})


def tiny_sfs() -> Framework:
    items = [
        concept(S + "numeracy", "Numeracy", kind=KIND_SKILL, framework="sfs"),
        concept(S + "numeracy-measure", "Measure", S + "numeracy", kind=KIND_COMPONENT, framework="sfs"),
        concept(S + "digital", "Digital", kind=KIND_SKILL, framework="sfs"),
    ]
    return Framework(id="sfs", iri=S, title="sfs", competencies={c.iri: c for c in items})


CROSSWALK = [
    Relation(E + "count", S + "numeracy", "closeMatch", 0.7),
    Relation(E + "sql", S + "digital", "relatedMatch", 0.45),
]


def match(iri: str, score: float, confident: bool, framework: str = "tiny", optional: bool = False) -> Match:
    ev = (Evidence("label", "pref_label", iri.rsplit("/", 1)[1], score, (0, 3), "abc"),)
    return Match(iri=iri, label=iri.rsplit("/", 1)[1], framework=framework, score=score, confident=confident, evidence=ev,
                 optional=optional)


class FakeApp:
    """What matching and analytics use of CompetencyMap (framework, graph, crosswalk, map), with
    canned mapping results.

    `profiles` maps a keyword to the matches a text containing it gets; `crosswalk_relations`
    is what `crosswalk(source, target)` returns for tiny -> sfs (other pairs raise, as an engine
    without the index would).
    """

    def __init__(self, profiles: dict[str, list[Match]], *, crosswalk_relations: Sequence[Relation] = (),
                 occupations: dict[str, Match] | None = None) -> None:
        self.frameworks = {"tiny": tiny_framework(), "sfs": tiny_sfs()}
        self.profiles = profiles
        self.occupations = occupations or {}
        self.calls: list[tuple[int, tuple[str, ...], str, PipelineConfig | None]] = []
        self.crosswalk_calls: list[tuple[str, str]] = []
        self._relations = list(crosswalk_relations)

    def crosswalk(self, source: str, target: str) -> list[Relation]:
        self.crosswalk_calls.append((source, target))
        if (source, target) != ("tiny", "sfs"):
            raise CompetencyMapError(f"no crosswalk from {source} to {target}")
        return list(self._relations)

    def graph(self, name: str) -> FrameworkGraph:
        return FrameworkGraph(self.framework(name))

    def framework(self, name: str) -> Framework:
        if name == "tiny-occupations":
            return Framework(id=name, iri=E + "occ", title="occ")
        if name not in self.frameworks:
            raise UnknownFramework(f"unknown framework {name!r}")
        return self.frameworks[name]

    def matcher(self, name: str, config: PipelineConfig | None = None) -> None:
        self.framework(name)

    def map(self, text: str, frameworks: Sequence[str] = ("tiny",), *, top_k: int = 10, kind: str = "auto",
            config: PipelineConfig | None = None, context: str | None = None,
            statement_top_k: int | None = None) -> MappingResult:
        return self.map_many([text], frameworks, top_k=top_k, kind=kind, config=config)[0]

    def map_many(self, texts: Sequence[str], frameworks: Sequence[str] = ("tiny",), *, top_k: int = 10,
                 kind: str = "auto", config: PipelineConfig | None = None,
                 statement_top_k: int | None = None) -> list[MappingResult]:
        self.calls.append((len(texts), tuple(frameworks), kind, config))
        out = []
        for text in texts:
            if frameworks == ["tiny-occupations"]:
                profile = [m for key, m in self.occupations.items() if key in text][:1]
            else:
                profile = [m for key, ms in self.profiles.items() if key in text for m in ms if m.framework in frameworks]
            out.append(MappingResult(statements=[], results=[], profiles=_by_framework(profile[:top_k])))
        return out


# -- the coverage rule ----------------------------------------------------------------------------


@pytest.fixture()
def rule() -> CoverageRule:
    return CoverageRule([tiny_framework(), tiny_sfs()], CROSSWALK)


def test_same_broader_narrower(rule: CoverageRule) -> None:
    assert rule.relation(E + "sql", E + "sql") == "same"
    assert rule.relation(E + "sql", E + "ql") == "broader"  # the tag is SQL's direct broader skill
    assert rule.relation(E + "ql", E + "sql") == "narrower"  # the tag is narrower than the need
    assert rule.relation(E + "sql", E + "DEV") == "broader"  # a direct broader group counts too


def test_siblings_under_a_skill_but_not_under_a_group(rule: CoverageRule) -> None:
    assert rule.relation(E + "sql", E + "sparql") == "sibling"  # both under the skill 'query languages'
    assert rule.relation(E + "python", E + "java") is None  # only share the group DEV
    assert rule.relation(E + "sql", E + "postgres") is None  # different parent skills


def test_two_steps_away_is_not_covered(rule: CoverageRule) -> None:
    assert rule.relation(E + "sql", E + "ICT") is None  # grandparent group
    assert rule.relation(E + "cook", E + "FOOD") is None  # the group above cook's parent skill
    assert rule.relation(E + "cook", E + "prepare") == "broader"


def test_crosswalk_both_ways_and_across_frameworks(rule: CoverageRule) -> None:
    assert rule.relation(E + "count", S + "numeracy") == "crosswalk"
    assert rule.relation(S + "numeracy", E + "count") == "crosswalk"
    assert rule.relation(E + "count", S + "numeracy-measure") is None  # a component is not the mapped skill
    assert rule.relation(S + "numeracy", S + "numeracy-measure") == "narrower"  # inside sfs: hierarchy


def test_non_mapping_relations_are_ignored() -> None:
    rule = CoverageRule([tiny_framework()], [Relation(E + "java", E + "python", "skill-optional")])
    assert rule.relation(E + "python", E + "java") is None


def coverage(offers: Sequence[Offer], rule: CoverageRule) -> CatalogCoverage:
    """A coverage index over hand-made offers (what `catalog_coverage` builds from a catalog)."""
    return CatalogCoverage(0, ("tiny",), tuple(offers), rule, (), tag_holders(offers))


def needs(*pairs: tuple[str, float]) -> list[Need]:
    return [Need(E + name, name, "tiny", score) for name, score in pairs]


def test_strongest_relation_wins() -> None:
    offer = Offer(1, "Databases", ((E + "sparql", "SPARQL"), (E + "sql", "SQL"), (E + "ql", "query languages")))
    report = coverage([offer], CoverageRule([tiny_framework()])).match([Need(E + "sql", "SQL", "tiny", 0.8)])
    assert [(c.tag_iri, c.relation) for c in report.credentials[0].covered] == [(E + "sql", "same")]


def test_an_iri_no_framework_holds_matches_only_itself(rule: CoverageRule) -> None:
    other = "http://elsewhere.org/x"
    assert rule.met_by(other) == {other: "same"}
    offer = Offer(1, "Elsewhere", ((other, "x"),))  # a tag no framework holds meets only the same IRI
    report = coverage([offer], rule).match([Need(other, "x", "other", 1.0), *needs(("sql", 1.0), ("ql", 1.0))])
    assert [(c.need.iri, c.relation) for m in report.credentials for c in m.covered + m.related] == [(other, "same")]


# -- coverage share and set cover -----------------------------------------------------------------


def test_coverage_is_weighted_by_need_score() -> None:
    offer = Offer(7, "SQL course", ((E + "sql", "SQL"),))
    report = coverage([offer], CoverageRule([tiny_framework()])).match(needs(("sql", 0.9), ("java", 0.3)))
    result = report.credentials[0]
    assert result.coverage == pytest.approx(0.75)
    assert [n.iri for n in result.uncovered] == [E + "java"]


def test_greedy_stack_and_gaps() -> None:
    rule = CoverageRule([tiny_framework()])
    wanted = needs(("sql", 3.0), ("java", 1.0), ("python", 1.0), ("cook", 0.5))
    offers = [
        Offer(1, "SQL only", ((E + "sql", "SQL"),)),
        Offer(2, "Java and Python", ((E + "java", "Java"), (E + "python", "Python"))),
        Offer(3, "SQL and Java", ((E + "sql", "SQL"), (E + "java", "Java"))),
        Offer(4, "Nothing relevant", ((E + "count", "carry out calculations"),)),
    ]
    report = coverage(offers, rule).match(wanted)
    assert [c.credential_id for c in report.credentials] == [3, 1, 2]  # 4 meets nothing
    assert report.stack == [3, 2]  # 3 adds weight 4, then 2 adds python
    assert report.stack_covered == [E + "sql", E + "java", E + "python"]
    assert [n.iri for n in report.uncovered_by_catalog] == [E + "cook"]


def test_greedy_stack_ties_prefer_lower_id() -> None:
    rule = CoverageRule([tiny_framework()])
    offers = [Offer(9, "a", ((E + "sql", "SQL"),)), Offer(4, "b", ((E + "sql", "SQL"),))]
    report = coverage(offers, rule).match(needs(("sql", 1.0)))
    assert greedy_stack(report.credentials) == [4] and report.stack == [4]


def test_credentials_covering_nothing_are_not_listed_as_covering() -> None:
    offers = [
        Offer(1, "SQL course", ((E + "sql", "SQL"),)),
        Offer(2, "SPARQL course", ((E + "sparql", "SPARQL"),)),  # a sibling of the need: related only
        Offer(3, "Java course", ((E + "java", "Java"),)),  # meets only an optional need
        Offer(4, "Cooking", ((E + "cook", "cook"),)),  # nothing at all
    ]
    wanted = [Need(E + "sql", "SQL", "tiny", 1.0), Need(E + "java", "Java", "tiny", 0.5, optional=True)]
    report = coverage(offers, CoverageRule([tiny_framework()])).match(wanted)
    assert [(c.credential_id, c.coverage) for c in report.credentials] == [(1, 1.0)]
    assert [c.credential_id for c in report.related_credentials] == [2, 3]
    assert all(c.coverage == 0.0 and not c.covered for c in report.related_credentials)
    assert [c.relation for c in report.related_credentials[0].related] == ["sibling"]
    assert report.stack == [1] and report.uncovered_by_catalog == []


def test_no_needs_no_stack() -> None:
    report = coverage([Offer(1, "x", ((E + "sql", "SQL"),))], CoverageRule([tiny_framework()])).match([])
    assert report.credentials == [] and report.stack == [] and report.uncovered_by_catalog == []


# -- needs ----------------------------------------------------------------------------------------


def test_needs_are_the_confident_matches() -> None:
    profile = [match(E + "sql", 0.8, True), match(E + "java", 0.6, True), match(E + "cook", 0.3, False)]
    found = needs_from_result(MappingResult([], [], _by_framework(profile)), ["tiny"])
    assert [n.iri for n in found] == [E + "sql", E + "java"]
    assert found[0].evidence == profile[0].evidence


def test_needs_fall_back_to_the_best_when_none_is_confident() -> None:
    profile = [match(E + x, s, False) for x, s in (("sql", 0.4), ("java", 0.3), ("cook", 0.2), ("count", 0.1))]
    found = needs_from_result(MappingResult([], [], _by_framework(profile)), ["tiny"])
    assert [n.iri for n in found] == [E + "sql", E + "java", E + "cook"]


def test_a_near_duplicate_group_is_one_need_listing_the_others_as_related() -> None:
    from dataclasses import replace

    profile = [replace(match(E + "sql", 0.8, True), related=(E + "mysql", E + "query")),
               replace(match(E + "mysql", 0.75, True), grouped_under=E + "sql"),
               match(E + "java", 0.6, True),
               replace(match(E + "query", 0.55, False), grouped_under=E + "sql")]
    found = needs_from_result(MappingResult([], [], _by_framework(profile)), ["tiny"])
    assert [(n.iri, n.related) for n in found] == [(E + "sql", (E + "mysql", E + "query")), (E + "java", ())]
    unsure = [replace(m, confident=False) for m in [*profile, match(E + "cook", 0.5, False)]]
    assert [m.iri for m in pick_needs(unsure, ["tiny"])] == [E + "sql", E + "java", E + "cook"]  # three groups
    alone = profile[1:]  # grouped under an entry the profile does not hold: a need of its own
    assert [n.iri for n in needs_from_result(MappingResult([], [], _by_framework(alone)), ["tiny"])] == [
        E + "mysql", E + "java"]


def test_optional_needs_are_kept_for_matching_and_left_out_of_demand() -> None:
    profile = [match(E + "sql", 0.8, True), match(E + "java", 0.7, True, optional=True),
               match(E + "java", 0.6, True, framework="sfs")]  # the same IRI, required, in a later framework
    kept = needs_from_result(MappingResult([], [], _by_framework(profile)), ["tiny", "sfs"])
    assert [(n.iri, n.framework, n.optional) for n in kept] == [(E + "sql", "tiny", False), (E + "java", "tiny", True)]
    demand = pick_needs(profile, ["tiny", "sfs"], optional=False)  # dropped before the once-per-IRI step
    assert [(m.iri, m.framework) for m in demand] == [(E + "sql", "tiny"), (E + "java", "sfs")]


def test_needs_per_framework_and_once_per_iri() -> None:
    profile = [match(E + "sql", 0.8, True), match(S + "digital", 0.3, False, framework="sfs")]
    result = MappingResult([], [], _by_framework(profile))
    # the fallback (best three when none is confident) applies to the first framework only
    assert [n.iri for n in needs_from_result(result, ["tiny", "sfs"])] == [E + "sql"]
    assert [n.iri for n in needs_from_result(result, ["sfs", "tiny"])] == [S + "digital", E + "sql"]
    assert [n.iri for n in needs_from_result(result, ["tiny"])] == [E + "sql"]


def test_posting_needs_maps_as_a_posting() -> None:
    app = FakeApp({"SQL": [match(E + "sql", 0.8, True)]})
    found = posting_needs(app, "We use SQL daily", ["tiny"])  # type: ignore[arg-type]
    assert [n.iri for n in found] == [E + "sql"]
    assert app.calls[0][2] == "posting"


# -- crosswalks from the engine ---------------------------------------------------------------------


def test_mapping_relations_use_the_engine_crosswalk() -> None:
    app = FakeApp({}, crosswalk_relations=CROSSWALK)
    relations, notes = mapping_relations(app, ["tiny"], ["sfs"])  # type: ignore[arg-type]
    assert relations == CROSSWALK and notes == []
    assert app.crosswalk_calls == [("tiny", "sfs")]


def test_an_empty_crosswalk_adds_nothing() -> None:
    app = FakeApp({})
    relations, notes = mapping_relations(app, ["tiny"], ["sfs"])  # type: ignore[arg-type]
    assert relations == [] and notes == [] and app.crosswalk_calls == [("tiny", "sfs")]


def test_a_crosswalk_the_engine_refuses_becomes_a_note() -> None:
    app = FakeApp({}, crosswalk_relations=CROSSWALK)
    relations, notes = mapping_relations(app, ["sfs"], ["tiny"])  # type: ignore[arg-type]
    assert relations == [] and "crosswalk sfs -> tiny not used" in notes[0]


def test_match_posting_uses_crosswalk_for_tags_in_another_framework(tmp_path: Path) -> None:
    app = FakeApp({"calculations": [match(E + "count", 0.9, True)], "SQL": [match(E + "sql", 0.7, True)]},
                  crosswalk_relations=CROSSWALK)
    catalog = seeded_catalog(tmp_path, [
        [(S + "numeracy", "Numeracy", "sfs")],
        [(E + "sparql", "SPARQL", "tiny")],
    ])
    report = match_posting(app, catalog, "Do calculations and write SQL", frameworks=["tiny"])  # type: ignore[arg-type]
    relations = {(c.credential_id, c.related[0].relation) for c in report.related_credentials}
    assert relations == {(1, "crosswalk"), (2, "sibling")}  # shown as related links, never counted
    assert report.credentials == []  # covering nothing, they are not listed as covering
    assert all(not c.covered and c.coverage == 0.0 for c in report.related_credentials)
    assert report.stack == [] and {n.iri for n in report.uncovered_by_catalog} == {E + "count", E + "sql"}
    assert ("tiny", "sfs") in app.crosswalk_calls


def test_coverage_rule_only_loads_tag_frameworks_it_needs(tmp_path: Path) -> None:
    app = FakeApp({}, crosswalk_relations=CROSSWALK)
    offers = [Offer(1, "x", ((E + "sql", "SQL"),), ("esco",))]  # 'esco' label, IRI held by tiny
    _, relations, notes = coverage_rule(app, ["tiny"], offers)  # type: ignore[arg-type]
    assert relations == [] and notes == [] and app.crosswalk_calls == []


# -- the catalog side -----------------------------------------------------------------------------


def seeded_catalog(tmp_path: Path, accepted: list[list[tuple[str, str, str]]]) -> Catalog:
    """The sample credentials; credential i+1 gets `accepted[i]` as accepted tags (and a rejected
    and a suggested tag that must be ignored)."""
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    credentials = catalog.import_credentials(read_credentials_file(DATA / "catalog" / "sample_credentials.json"))
    for credential, tags in zip(credentials, accepted):
        outcome = credential.learning_outcomes[0].id
        for iri, label, framework in tags:
            catalog.add_manual_tag(credential.id, outcome, {"competency_iri": iri, "label": label, "framework": framework},
                                   decided_by="tester")
        extra = catalog.add_suggested_tags(credential.id, outcome, [
            {"competency_iri": E + "cook", "label": "cook", "framework": "tiny"},
            {"competency_iri": E + "java", "label": "Java", "framework": "tiny"},
        ])
        catalog.set_tag_state(extra[0].id, "rejected", "tester")
    return catalog


def test_catalog_offers_hold_accepted_tags_only(tmp_path: Path) -> None:
    catalog = seeded_catalog(tmp_path, [[(E + "sql", "SQL", "tiny")], [], [(E + "java", "Java", "tiny")]])
    offers = catalog_offers(catalog)
    assert [(o.credential_id, o.tags) for o in offers] == [
        (1, ((E + "sql", "SQL"),)),
        (3, ((E + "java", "Java"),)),
    ]
    assert offers[0].title == "Data Analytics with Python" and offers[0].frameworks == ("tiny",)


# -- with the real engine -------------------------------------------------------------------------

MINI = "http://data.europa.eu/esco/skill/"
POSTGRES = MINI + "a8d07b5a-c1a1-42c6-9d53-db9c7a2ca996"
JAVA = MINI + "19a8293b-8e95-4de3-983f-77484079c389"
BAKE = "prepare bread products"


@pytest.mark.model
def test_match_posting_on_the_esco_slice(built_home: Path, tmp_path: Path) -> None:
    from competencymap._common.config import load_settings
    from competencymap.engine import CompetencyMap

    app = CompetencyMap(load_settings(home=built_home))
    framework = app.framework("mini")
    assert POSTGRES in framework.competencies and JAVA in framework.competencies
    catalog = seeded_catalog(tmp_path, [[(POSTGRES, "PostgreSQL", "esco")], [(JAVA, "Java (computer programming)", "esco")]])
    text = (
        "Backend developer\n\nRequirements:\n"
        "• Experience with PostgreSQL\n• Strong Java skills\n• Prepare bread products for the staff canteen\n\n"
        "We offer a competitive salary and dental benefits."
    )
    report = match_posting(app, catalog, text, frameworks=["mini"])
    by_iri = {n.iri: n for n in report.needs}
    assert POSTGRES in by_iri and JAVA in by_iri
    assert all(n.framework == "mini" and n.evidence for n in report.needs)
    covered = {c.credential_id: {x.need.iri: x.relation for x in c.covered} for c in report.credentials}
    assert covered[1][POSTGRES] == "same" and covered[2][JAVA] == "same"
    assert set(report.stack) == {1, 2}
    assert {POSTGRES, JAVA} <= set(report.stack_covered)
    gap_labels = [n.label for n in report.uncovered_by_catalog]
    assert BAKE in gap_labels
    assert all(c.coverage < 1.0 for c in report.credentials)
    # the report keeps what became of every line, from the one mapping of the posting
    assert [(r.line.role, r.outcome) for r in report.lines] == [
        ("title", "dropped"), ("heading", "dropped"), *[("requirement", "mapped")] * 3, ("benefits", "dropped")]
    assert POSTGRES in {m.iri for m in report.lines[2].matches} and JAVA in {m.iri for m in report.lines[3].matches}


@pytest.mark.model
def test_a_sample_posting_is_covered_by_the_sample_catalog_as_shipped(built_home: Path, tmp_path: Path) -> None:
    """A fresh install: the sample credentials with their reviewed tags, a sample posting, the
    ESCO slice. The data analyst posting's Python and SQL needs are met by the analytics credential."""
    from competencymap._common.config import load_settings
    from competencymap.catalog import read_catalog_postings
    from competencymap.catalog.samples import import_sample_catalog
    from competencymap.engine import CompetencyMap

    app = CompetencyMap(load_settings(home=built_home))
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    imported = import_sample_catalog(catalog, DATA)
    posting = next(p for p in read_catalog_postings(DATA / "postings" / "sample_postings.jsonl")
                   if p.title == "Junior Data Analyst")
    report = match_posting(app, catalog, posting.text, frameworks=["mini"], title=posting.title)
    analytics = next(c.id for c in imported.credentials if c.title == "Data Analytics with Python")
    assert report.credentials and all(c.covered and c.coverage > 0 for c in report.credentials)
    met = {c.need.label: c.relation for m in report.credentials if m.credential_id == analytics for c in m.covered}
    assert met.get("Python (computer programming)") == "same" and met.get("SQL") == "same"
    assert analytics in report.stack
    assert len(report.uncovered_by_catalog) < len(report.needs)


def _by_framework(matches: list[Match]) -> dict[str, list[Match]]:
    out: dict[str, list[Match]] = {}
    for m in matches:
        out.setdefault(m.framework, []).append(m)
    return out
