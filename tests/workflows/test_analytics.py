"""Demand analytics: counting needs once per posting, roll-ups to skill groups and Skills for
Success, months, occupations, catalog supply, streaming in chunks, and errors. Most tests run on
a hand-built framework with canned mapping results; the last ones use the real engine on the
ESCO slice."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from competencymap._common.errors import CompetencyMapError, UnknownFramework
from competencymap.catalog import Catalog, read_credentials_file
from competencymap.mapping.results import Match
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
from competencymap.statements.segment import Statement
from competencymap.workflows.demand.counting import DemandCounter
from competencymap.workflows.demand.options import LEVEL_COMPETENCY, LEVEL_SFS, NO_OCCUPATION, DemandOptions
from competencymap.workflows.demand.postings import PostingError, map_batch_safely, posting_month
from competencymap.workflows.demand.rollup import Rollup, sfs_links
from competencymap.workflows.demand.single import demand
from competencymap.workflows.demand.table import build_table

DATA = Path(__file__).resolve().parents[2] / "data"
E = "http://example.org/esco/"
S = "http://example.org/sfs/"
OCC = "http://example.org/occupation/"


def concept(iri: str, label: str, *broader: str, kind: str = KIND_KNOWLEDGE, framework: str = "tiny") -> Competency:
    return Competency(iri=iri, framework=framework, kind=kind, pref_label=label, broader=tuple(broader))


def tiny() -> Framework:
    """K (top group) > ICT > DEV > {query languages > SQL, Java}; S (top group) > FOOD > bake > cook."""
    items = [
        concept(E + "K", "knowledge", kind=KIND_GROUP),
        concept(E + "ICT", "ICT", E + "K", kind=KIND_GROUP),
        concept(E + "DEV", "software development", E + "ICT", kind=KIND_GROUP),
        concept(E + "ql", "query languages", E + "DEV"),
        concept(E + "sql", "SQL", E + "DEV", E + "ql"),
        concept(E + "java", "Java", E + "DEV"),
        concept(E + "S", "skills", kind=KIND_GROUP),
        concept(E + "FOOD", "preparing food", E + "S", kind=KIND_GROUP),
        concept(E + "bake", "bake bread", E + "FOOD", kind=KIND_SKILL),
        concept(E + "cook", "cook", E + "bake", kind=KIND_SKILL),  # no group of its own
    ]
    return Framework(id="tiny", iri=E, title="tiny", competencies={c.iri: c for c in items})


def tiny_sfs() -> Framework:
    items = [
        concept(S + "numeracy", "Numeracy", kind=KIND_SKILL, framework="sfs"),
        concept(S + "numeracy-measure", "Measure", S + "numeracy", kind=KIND_COMPONENT, framework="sfs"),
        concept(S + "digital", "Digital", kind=KIND_SKILL, framework="sfs"),
        concept(S + "reading", "Reading", kind=KIND_SKILL, framework="sfs"),
    ]
    return Framework(id="sfs", iri=S, title="sfs", competencies={c.iri: c for c in items})


CROSSWALK = [
    Relation(E + "sql", S + "digital", "closeMatch", 0.6),
    Relation(E + "bake", S + "numeracy-measure", "closeMatch", 0.58),  # a component: counts for Numeracy
    Relation(E + "java", S + "reading", "relatedMatch", 0.45),  # too loose to roll up
]


def m(name: str, score: float = 0.8, confident: bool = True, framework: str = "tiny") -> Match:
    if framework.endswith("occupations"):
        return Match(iri=OCC + name, label=name, framework=framework, score=score, confident=confident)
    label = tiny().competencies[E + name].pref_label
    return Match(iri=E + name, label=label, framework=framework, score=score, confident=confident)


PROFILES = {
    "SQL": [m("sql", 0.9)],
    "Java": [m("java", 0.7)],
    "bread": [m("bake", 0.8)],
    "vague": [m("cook", 0.4, False), m("bake", 0.3, False), m("sql", 0.2, False), m("java", 0.1, False)],
    "weak": [m("ql", 0.3, False)],
}
OCCUPATIONS = {"analyst": m("data analyst", framework="tiny-occupations"), "Baker": m("baker", framework="tiny-occupations"),
               "bread": m("baker", framework="tiny-occupations")}


class FakeMatcher:
    def __init__(self, app: FakeApp) -> None:
        self.app = app

    def rank(self, texts: Sequence[str], *, top_k: int = 10) -> list[list[Match]]:
        self.app.ranked += list(texts)
        return [[mt for key, mt in OCCUPATIONS.items() if key in text][:top_k] for text in texts]


class FakeApp:
    """What analytics uses of CompetencyMap, with canned mapping results (see PROFILES)."""

    def __init__(self, *, crosswalk: list[Relation] | None = CROSSWALK) -> None:
        self.frameworks = {"tiny": tiny(), "sfs": tiny_sfs(),
                           "tiny-occupations": Framework(id="tiny-occupations", iri=OCC, title="occupations")}
        self.calls: list[tuple[int, tuple[str, ...], str]] = []
        self.ranked: list[str] = []
        self.graphs: list[str] = []
        self._crosswalk = crosswalk

    def graph(self, name: str) -> FrameworkGraph:
        self.graphs.append(name)
        return FrameworkGraph(self.framework(name))

    def framework(self, name: str) -> Framework:
        if name not in self.frameworks:
            raise UnknownFramework(f"unknown framework {name!r}")
        return self.frameworks[name]

    def matcher(self, name: str, config: PipelineConfig | None = None) -> FakeMatcher:
        self.framework(name)
        return FakeMatcher(self)

    def crosswalk(self, source: str, target: str) -> list[Relation]:
        if self._crosswalk is None or (source, target) != ("tiny", "sfs"):
            raise CompetencyMapError(f"no index for {target}")
        return list(self._crosswalk)

    def map_many(self, texts: Sequence[str], frameworks: Sequence[str], *, top_k: int = 10, kind: str = "auto",
                 config: PipelineConfig | None = None, statement_top_k: int | None = None) -> list[Result]:
        self.calls.append((len(texts), tuple(frameworks), kind))
        if any("BOOM" in text for text in texts):
            raise RuntimeError("the encoder choked")
        table = OCCUPATIONS if list(frameworks) == ["tiny-occupations"] else None
        out = []
        for text in texts:
            if table is not None:
                profile = [mt for key, mt in table.items() if key in text][:1]
            else:
                profile = [mt for key, ms in PROFILES.items() if key in text for mt in ms]
            pieces = text.split(". ")
            unread = [Statement(p, 0, len(p), reason=FRENCH) for p in pieces if "français" in p]
            out.append(Result(statements=[p for p in pieces if "français" not in p], profile=profile[:top_k],
                              not_read=unread))
        return out


FRENCH = "French text: not mapped with the bundled English model"


@dataclass
class Result:
    """What analytics reads of a MappingResult (a statement with "français" in it is not read)."""

    statements: list[str]
    profile: list[Match]
    not_read: list[Statement] = field(default_factory=list)


def run(postings: list, **options) -> tuple[FakeApp, dict]:
    app = options.pop("app", None) or FakeApp()
    table = demand(app, postings, frameworks=["tiny"], occupations="tiny-occupations", **options)  # type: ignore[arg-type]
    return app, table


def rows_of(table, **where) -> dict[tuple[str, str], int]:
    """(level, label) -> postings, for the rows matching `where`."""
    return {(r.level, r.label): r.postings for r in table.rows if all(getattr(r, k) == v for k, v in where.items())}


# -- hierarchy and roll-up keys -------------------------------------------------------------------


def test_rollup_reads_the_framework_graph_of_the_engine() -> None:
    app = FakeApp()
    _, table = run([{"text": "SQL"}], app=app)
    assert "tiny" in app.graphs and set(app.graphs) <= {"tiny", "sfs"}  # the engine's graphs, no hierarchy of its own
    assert rows_of(table, level="group level 3") == {("group level 3", "software development"): 1}


def test_sfs_links_keep_close_links_from_either_side() -> None:
    relations = [*CROSSWALK, Relation(S + "reading", E + "ql", "narrowMatch"), Relation(S + "numeracy", E + "java", "broadMatch")]
    links = sfs_links(relations, tiny_sfs())
    # reading narrowMatch ql  ==  ql broadMatch reading: rolls up; numeracy broadMatch java: java is broader, no
    assert links == {E + "sql": (S + "digital",), E + "bake": (S + "numeracy-measure",), E + "ql": (S + "reading",)}
    assert tiny_sfs().skill_of(S + "numeracy-measure") == S + "numeracy"
    assert tiny_sfs().skill_of(E + "sql") is None


def test_rollup_keys() -> None:
    rollup = Rollup([tiny()], tiny_sfs(), sfs_links(CROSSWALK, tiny_sfs()))
    # the top level ("knowledge", "skills") is left out: every posting would have it
    assert rollup.keys(E + "sql") == {("tiny", "group level 3", E + "DEV"), ("tiny", "group level 2", E + "ICT"),
                                      ("sfs", LEVEL_SFS, S + "digital")}
    assert ("sfs", LEVEL_SFS, S + "numeracy") in rollup.keys(E + "bake")
    assert rollup.own_key(E + "DEV") == ("tiny", "group level 3", E + "DEV")
    assert rollup.own_key(S + "numeracy") == ("sfs", LEVEL_SFS, S + "numeracy")
    assert rollup.own_key(S + "numeracy-measure") is None and rollup.own_key(E + "sql") is None


# -- counting -------------------------------------------------------------------------------------


def test_each_posting_counts_once_per_competency_and_group() -> None:
    postings = [{"text": "SQL. SQL again. Java"}, {"text": "SQL"}, {"text": "bread"}, {"text": "bread and SQL"}]
    _, table = run(postings)
    assert table.postings == 4 and table.statements == 6
    counts = rows_of(table)
    assert counts[(LEVEL_COMPETENCY, "SQL")] == 3 and counts[(LEVEL_COMPETENCY, "Java")] == 1
    assert counts[("group level 3", "software development")] == 3  # SQL and Java in one posting: once
    assert not any(level == "group level 1" for level, _ in counts)
    assert counts[(LEVEL_SFS, "Digital")] == 3 and counts[(LEVEL_SFS, "Numeracy")] == 2
    assert (LEVEL_SFS, "Reading") not in counts  # Java -> Reading is only a relatedMatch
    sql = next(r for r in table.rows if r.label == "SQL")
    assert sql.share == 0.75 and sql.framework == "tiny" and sql.iri == E + "sql"
    assert sql.credentials_supply is None and table.supply_credentials is None


def test_rows_are_ordered_by_level_then_demand() -> None:
    _, table = run([{"text": "SQL Java"}, {"text": "SQL"}, {"text": "bread"}])
    levels = [r.level for r in table.rows]  # competencies, then groups from the top down, then SfS skills
    assert levels == sorted(levels, key=lambda x: (x != LEVEL_COMPETENCY, x == LEVEL_SFS, x))
    comp = [r.postings for r in table.rows if r.level == LEVEL_COMPETENCY]
    assert comp == sorted(comp, reverse=True) and table.rows[0].label == "SQL"


def test_needs_follow_the_matching_rule() -> None:
    """Confident entries only; the best three when none is confident (counted in the meta)."""
    _, table = run([{"text": "SQL and something weak"}, {"text": "vague"}])
    counts = rows_of(table, level=LEVEL_COMPETENCY)
    assert counts == {(LEVEL_COMPETENCY, "SQL"): 2, (LEVEL_COMPETENCY, "cook"): 1, (LEVEL_COMPETENCY, "bake bread"): 1}
    assert table.meta()["postings_without_confident_need"] == 1


def test_without_rollup_only_competencies() -> None:
    _, table = run([{"text": "SQL"}], rollup=False)
    assert {r.level for r in table.rows} == {LEVEL_COMPETENCY} and not table.rollup


def test_missing_crosswalk_is_a_note_not_an_error() -> None:
    _, table = run([{"text": "SQL"}], app=FakeApp(crosswalk=None))
    assert not [r for r in table.rows if r.level == LEVEL_SFS]
    assert any("crosswalk tiny -> sfs not used" in n for n in table.notes)
    assert any("Skills for Success roll-up is empty" in n for n in table.notes)


# -- months and occupations -----------------------------------------------------------------------


def test_by_month_cells_and_shares() -> None:
    postings = [{"text": "SQL", "posted_on": "2026-01-12"}, {"text": "Java", "posted_on": "2026-01-30T10:00:00"},
                {"text": "SQL", "date": date(2026, 2, 3)}, {"text": "bread"}]
    _, table = run(postings, by_month=True)
    assert table.columns()[0] == "month"
    jan = rows_of(table, month="2026-01", level=LEVEL_COMPETENCY)
    assert jan == {(LEVEL_COMPETENCY, "SQL"): 1, (LEVEL_COMPETENCY, "Java"): 1}
    assert {r.share for r in table.rows if r.month == "2026-01" and r.level == LEVEL_COMPETENCY} == {0.5}
    assert rows_of(table, month="unknown", level=LEVEL_COMPETENCY) == {(LEVEL_COMPETENCY, "bake bread"): 1}
    assert [(c["month"], c["postings"]) for c in table.meta()["cells"]] == [("2026-01", 2), ("2026-02", 1), ("unknown", 1)]
    assert [r.month for r in table.rows] == sorted(r.month for r in table.rows)


@pytest.mark.parametrize("value", ["12/01/2026", "2026-13-01", "January"])
def test_a_date_that_is_not_iso_is_recorded_and_counted_under_unknown(value: str) -> None:
    errors: list[PostingError] = []
    _, table = run([{"text": "SQL", "posted_on": "2026-01-02"}, {"text": "Java", "posted_on": value}], by_month=True,
                   on_error=errors.append)
    assert table.postings == 2 and table.errors == 0  # still counted, so not left out
    assert rows_of(table, month="unknown", level=LEVEL_COMPETENCY) == {(LEVEL_COMPETENCY, "Java"): 1}
    assert len(errors) == 1 and errors[0].counted and errors[0].stage == "date"
    assert re.match(r"posting 2 date .* is not an ISO date", errors[0].reason)
    posting = {"text": "SQL", "posted_on": value, "source": "p.csv", "line": 7}
    with pytest.raises(CompetencyMapError) as info:
        posting_month(posting, 1)
    assert info.value.line_text().startswith("p.csv:7: posting date")


def test_by_occupation_uses_the_title_then_the_text() -> None:
    postings = [{"title": "Junior data analyst", "text": "SQL"}, {"title": "Baker", "text": "bread"},
                {"text": "bread and more bread"}, {"title": "Astronaut", "text": "Java"}]
    app, table = run(postings, by_occupation=True)
    assert app.ranked == ["Junior data analyst", "Baker", "Astronaut"]  # one short query per title
    assert (1, ("tiny-occupations",), "posting") in app.calls  # the untitled posting maps its text
    assert table.columns()[:2] == ["occupation", "occupation_label"]
    assert rows_of(table, occupation_label="baker", level=LEVEL_COMPETENCY) == {(LEVEL_COMPETENCY, "bake bread"): 2}
    assert rows_of(table, occupation_label=NO_OCCUPATION, level=LEVEL_COMPETENCY) == {(LEVEL_COMPETENCY, "Java"): 1}
    analyst = next(r for r in table.rows if r.occupation_label == "data analyst")
    assert analyst.occupation == OCC + "data analyst" and analyst.share == 1.0


# -- supply ---------------------------------------------------------------------------------------


def seeded_catalog(tmp_path: Path, accepted: list[list[tuple[str, str, str]]]) -> Catalog:
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    credentials = catalog.import_credentials(read_credentials_file(DATA / "catalog" / "sample_credentials.json"))
    for credential, tags in zip(credentials, accepted):
        for iri, label, framework in tags:
            catalog.add_manual_tag(credential.id, credential.learning_outcomes[0].id,
                                   {"competency_iri": iri, "label": label, "framework": framework}, decided_by="tester")
    suggested = catalog.add_suggested_tags(credentials[5].id, None, [{"competency_iri": E + "java", "label": "Java", "framework": "tiny"}])
    assert suggested[0].state == "suggested"  # never counted
    return catalog


def test_supply_per_competency_and_roll_up(tmp_path: Path) -> None:
    catalog = seeded_catalog(tmp_path, [
        [(E + "sql", "SQL", "tiny")],
        [(E + "ql", "query languages", "tiny"), (E + "sql", "SQL", "tiny")],
        [(S + "numeracy", "Numeracy", "sfs")],
        [(E + "cook", "cook", "tiny")],
        [(E + "FOOD", "preparing food", "tiny")],
    ])
    _, table = run([{"text": "SQL Java"}, {"text": "bread"}], catalog=catalog)
    supply = {(r.level, r.label): r.credentials_supply for r in table.rows}
    assert supply[(LEVEL_COMPETENCY, "SQL")] == 2  # same (twice in one credential: once)
    assert supply[(LEVEL_COMPETENCY, "Java")] == 0  # SQL and Java only share a group
    assert supply[(LEVEL_COMPETENCY, "bake bread")] == 2  # cook is narrower; FOOD is its direct group
    assert supply[("group level 3", "software development")] == 2
    assert supply[("group level 2", "preparing food")] == 2  # cook (via bake) and the group itself
    assert supply[(LEVEL_SFS, "Digital")] == 2  # SQL rolls up to Digital
    assert supply[(LEVEL_SFS, "Numeracy")] == 1  # tagged with the SfS skill itself
    assert table.supply_credentials == 5 and table.meta()["catalog_credentials_with_accepted_tags"] == 5
    in_catalog = len(json.loads((DATA / "catalog" / "sample_credentials.json").read_text(encoding="utf-8")))
    assert in_catalog > 5 and table.meta()["catalog_credentials"] == in_catalog  # tagged or not
    catalog.close()


def test_an_empty_catalog_gives_zero_supply_and_says_so(tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    _, table = run([{"text": "SQL"}], catalog=catalog)
    assert {r.credentials_supply for r in table.rows} == {0}
    assert any("no credential with an accepted tag" in n for n in table.notes)
    catalog.close()


# -- streaming, inputs, errors --------------------------------------------------------------------


def test_postings_stream_through_in_chunks() -> None:
    pulled: list[int] = []

    def postings() -> Iterator[dict]:
        for i in range(5):
            pulled.append(i)
            yield {"text": "SQL"}

    app = FakeApp()
    original = app.map_many
    seen_at_call: list[int] = []

    def spy(texts, frameworks, **kw):
        seen_at_call.append(len(pulled))
        return original(texts, frameworks, **kw)

    app.map_many = spy  # type: ignore[method-assign]
    _, table = run(postings(), app=app, chunk_size=2)
    assert [c[0] for c in app.calls] == [2, 2, 1] and all(c[2] == "posting" for c in app.calls)
    assert seen_at_call == [2, 4, 5]  # never more than one chunk read ahead
    assert table.postings == 5


@dataclass
class StoredPosting:
    text: str
    title: str = ""
    posted_on: date | None = None


def test_postings_may_be_objects() -> None:
    _, table = run([StoredPosting("SQL", posted_on=date(2026, 3, 1)), StoredPosting("bread")], by_month=True)
    assert {r.month for r in table.rows} == {"2026-03", "unknown"}


@pytest.mark.parametrize(
    ("postings", "reason"),
    [
        ([{"text": "SQL"}, {"text": "  "}], "posting 2 has no text"),
        ([{"text": "SQL"}, {"title": "Cook"}], "posting 2 has no text"),
        ([{"text": "SQL"}, {"text": "x" * 100_001}], "posting 2 text is 100,001 characters; the limit is 100,000"),
        ([{"text": "SQL"}, 42], "posting 2 is not a mapping with a 'text' field"),
        ([{"text": "SQL"}, {"text": "BOOM Java"}], "RuntimeError: the encoder choked"),
    ],
)
def test_bad_postings_are_recorded_and_skipped(postings: list, reason: str) -> None:
    """As in the corpus run: a bad posting is left out with its reason, the others are counted."""
    errors: list[PostingError] = []
    _, table = run(postings, on_error=errors.append)
    assert table.postings == 1 and table.errors == 1 and table.meta()["postings_with_errors"] == 1
    assert [(e.reason, e.number, e.counted) for e in errors] == [(reason, 2, False)]
    assert rows_of(table, level=LEVEL_COMPETENCY) == {(LEVEL_COMPETENCY, "SQL"): 1}


@pytest.mark.parametrize(
    ("postings", "message"),
    [
        ([{"text": "x" * 100_001}], "no posting could be analysed: posting 1 text is 100,001 characters; the limit is 100,000"),
        ([{"text": "  "}, 42], "no posting could be analysed: posting 1 has no text (and 1 more left out)"),
        ([], "no postings to analyse"),
    ],
)
def test_no_posting_to_count_is_an_error(postings: list, message: str) -> None:
    with pytest.raises(CompetencyMapError) as info:
        run(postings)
    assert info.value.line_text() == message


def test_a_file_posting_error_names_file_and_line() -> None:
    errors: list[PostingError] = []
    _, table = run([{"text": "SQL", "source": "p.jsonl", "line": 1}, {"text": "", "source": "p.jsonl", "line": 9}],
                   on_error=errors.append)
    assert table.errors == 1 and [(e.source, e.line, e.reason) for e in errors] == [("p.jsonl", 9, "posting has no text")]
    with pytest.raises(CompetencyMapError) as info:
        run([{"text": "", "source": "p.jsonl", "line": 9}])
    assert info.value.line_text() == "p.jsonl:9: no posting could be analysed: posting has no text"


def test_unknown_framework_fails_before_reading() -> None:
    def postings() -> Iterator[dict]:
        raise AssertionError("read")
        yield {}

    with pytest.raises(UnknownFramework):
        demand(FakeApp(), postings(), frameworks=["nope"])  # type: ignore[arg-type]


# -- per-posting records, safe batches, parts that add up ----------------------------------------


def test_a_bad_posting_never_takes_good_ones_with_it() -> None:
    app = FakeApp()
    batch = list(enumerate([{"text": "SQL", "id": "a"}, {"text": "  ", "id": "b"}, {"text": "BOOM Java", "id": "c"},
                            {"text": "bread", "id": "d", "posted_on": "5 Jan"}, {"text": "Java", "id": "e"}], 1))
    mapped, errors = map_batch_safely(app, batch, DemandOptions(frameworks=("tiny",), by_month=True))  # type: ignore[arg-type]
    assert [m.posting_id for m in mapped] == ["a", "d", "e"]  # in input order
    assert [(e.posting_id, e.stage, e.counted) for e in errors] == [("b", "text", False), ("d", "date", True),
                                                                    ("c", "map", False)]
    assert errors[2].reason == "RuntimeError: the encoder choked" and errors[2].number == 3
    assert "counted under 'unknown'" in errors[1].reason and mapped[1].month == "unknown"
    assert mapped[0].entries[0].iri == E + "sql" and mapped[0].entries[0].rank == 1 and mapped[0].statements == 1
    assert app.calls[0][0] == 4  # the whole batch was tried first, then split


def test_text_the_model_cannot_read_is_left_out_and_counted() -> None:
    errors: list[PostingError] = []
    postings = [{"text": "SQL. Java"}, {"text": "Conduire un camion en français. Lire en français"},
                {"text": "SQL. Un atout en français"}]
    _, table = run(postings, on_error=errors.append)
    assert table.postings == 2  # the all-French posting is not counted
    assert rows_of(table, level=LEVEL_COMPETENCY)[(LEVEL_COMPETENCY, "SQL")] == 2
    assert (table.errors, table.not_read_postings, table.not_read_statements) == (1, 1, 1)
    assert [(e.stage, e.reason, e.number) for e in errors] == [("language", FRENCH, 2)]
    assert table.statements == 3  # statements mapped: the French ones are not among them
    meta = table.meta()["not_read"]
    assert (meta["postings"], meta["statements"]) == (1, 1)


def test_postings_all_in_a_language_the_model_cannot_read_name_it() -> None:
    with pytest.raises(CompetencyMapError, match="no posting could be analysed: French text: not mapped"):
        run([{"text": "Conduire en français"}, {"text": "Lire en français"}])


def test_counter_parts_add_up_to_the_whole() -> None:
    postings = [{"text": t, "region": r} for t, r in
                [("SQL Java", "north"), ("SQL", "south"), ("bread", "north"), ("vague", None), ("bread and SQL", "south")]]
    options = DemandOptions(frameworks=("tiny",), group_by=("region",))
    app = FakeApp()
    mapped, errors = map_batch_safely(app, list(enumerate(postings, 1)), options)  # type: ignore[arg-type]
    assert not errors
    rollup = Rollup([tiny()])
    whole = DemandCounter(rollup)
    for posting in mapped:
        whole.add_mapped(posting, options.frameworks)
    merged = DemandCounter(rollup)
    for piece in (mapped[:2], mapped[2:]):
        part = DemandCounter(Rollup([tiny()]))
        for posting in piece:
            part.add_mapped(posting, options.frameworks)
        merged.merge(part.part())
    a = build_table(whole, frameworks=["tiny"], by_month=False, by_occupation=False, group_by=["region"])
    b = build_table(merged, frameworks=["tiny"], by_month=False, by_occupation=False, group_by=["region"])
    assert a.records() == b.records() and a.meta() == b.meta()
    assert a.columns()[:2] == ["region", "framework"]
    north = {r["label"]: r["postings"] for r in a.records() if r["region"] == "north" and r["level"] == LEVEL_COMPETENCY}
    assert north == {"SQL": 1, "Java": 1, "bake bread": 1}
    assert {c["region"] for c in a.meta()["cells"]} == {"north", "south", "(none)"} and a.meta()["group_by"] == ["region"]


def test_group_by_in_memory() -> None:
    _, table = run([{"text": "SQL", "source_site": "a"}, {"text": "SQL", "source_site": "b"}], group_by=["source_site"])
    rows = [(r["source_site"], r["label"], r["share"]) for r in table.records() if r["level"] == LEVEL_COMPETENCY]
    assert rows == [("a", "SQL", 1.0), ("b", "SQL", 1.0)]
    assert {(r.groups, r.framework) for r in table.top(1).rows} >= {(("a",), "tiny"), (("b",), "tiny")}


# -- the table ------------------------------------------------------------------------------------


def test_top_records_and_json_form() -> None:
    _, table = run([{"text": "SQL Java", "posted_on": "2026-01-01"}, {"text": "SQL", "posted_on": "2026-01-09"},
                    {"text": "SQL", "posted_on": "2026-02-01"}], by_month=True)
    top = table.top(1)
    blocks = [(r.month, r.framework, r.level) for r in top.rows]
    assert len(blocks) == len(set(blocks)) and top.postings == table.postings
    assert [r.label for r in top.rows if r.level == LEVEL_COMPETENCY] == ["SQL", "SQL"]
    records = table.records()
    assert list(records[0]) == table.columns() == ["month", "framework", "level", "iri", "label", "postings", "share",
                                                   "credentials_supply"]
    body = table.to_dict()
    assert body["rows"] == records and body["meta"]["postings"] == 3 and body["meta"]["by_month"] is True


# -- with the real engine -------------------------------------------------------------------------

MINI = "http://data.europa.eu/esco/skill/"
POSTGRES = MINI + "a8d07b5a-c1a1-42c6-9d53-db9c7a2ca996"
JAVA = MINI + "19a8293b-8e95-4de3-983f-77484079c389"


@pytest.mark.model
def test_demand_on_the_esco_slice(built_home: Path, tmp_path: Path) -> None:
    from competencymap._common.config import load_settings
    from competencymap.engine import CompetencyMap

    app = CompetencyMap(load_settings(home=built_home))
    catalog = seeded_catalog(tmp_path, [[(POSTGRES, "PostgreSQL", "esco")]])
    postings = [
        {"title": "Backend developer", "text": "Requirements:\n- Experience with PostgreSQL\n- Strong Java skills\n"
                                               "We offer dental benefits.", "posted_on": "2026-01-05"},
        {"title": "Java developer", "text": "You will write Java code every day and review pull requests.",
         "posted_on": "2026-01-20"},
        {"title": "Baker", "text": "Bake bread and pastries every morning.", "posted_on": "2026-02-02"},
    ]
    table = demand(app, postings, frameworks=["mini"], by_month=True, catalog=catalog, chunk_size=2)
    jan = {r.iri: r for r in table.rows if r.month == "2026-01" and r.level == LEVEL_COMPETENCY}
    assert jan[JAVA].postings == 2 and jan[JAVA].share == 1.0
    assert jan[POSTGRES].postings == 1 and jan[POSTGRES].credentials_supply == 1
    assert jan[JAVA].credentials_supply == 0
    feb = [r.label for r in table.rows if r.month == "2026-02" and r.level == LEVEL_COMPETENCY]
    assert "prepare bread products" in feb and "Java (computer programming)" not in feb
    assert table.statements >= 3 and table.postings == 3 and table.pipeline == "full"
    catalog.close()
