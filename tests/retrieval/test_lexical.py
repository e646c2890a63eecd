"""Lexical retrieval: tokens, exact label hits and BM25 over real ESCO labels."""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import replace
from pathlib import Path

import pytest

from competencymap._common.errors import CompetencyMapError
from competencymap.model.framework import KIND_GROUP, Competency, Framework
from competencymap.retrieval.lexical import LexicalHit, LexicalIndex, bm25_tokens, tokenize

DATA = Path(__file__).resolve().parents[1] / "data"
ROOT = Path(__file__).resolve().parents[2]
ESCO = "http://data.europa.eu/esco/skill/"
POSTGRESQL = ESCO + "a8d07b5a-c1a1-42c6-9d53-db9c7a2ca996"
JAVA = ESCO + "19a8293b-8e95-4de3-983f-77484079c389"
JAVASCRIPT = ESCO + "3cd569a2-4f88-4c1e-9995-8dce8c5e51a7"
PYTHON = ESCO + "ccd0a1d9-afda-43d9-b901-96344886e14d"
CPP = ESCO + "b633eb55-8f1f-4ae6-ab4c-2022ffe2cb7f"
CSHARP = ESCO + "4c016b68-4116-468c-9dc6-42710c239e4a"
ASPNET = ESCO + "56a7f561-1d55-43c9-9cd7-36a0a9bc6c50"
SQL = ESCO + "598de5b0-5b58-4ea7-8058-a4bc4d18c742"
SQL_SERVER = ESCO + "c062bab3-3ea0-4291-9220-a2d8fef4bead"
DBMS = ESCO + "ab1e97ed-2319-4293-a8b7-072d2648822f"
ACCESS = ESCO + "3d03c40c-1b83-4793-8902-2523f40af59e"
COMPUTER_TECHNOLOGY = ESCO + "ddc3119d-1d6e-4324-9125-a3380d299ac5"
SCRATCH = ESCO + "d56fc2b5-4b0a-4e7e-9bde-a33736f6ff18"
COMMUNICATION = ESCO + "15d76317-c71a-4fa2-aadc-2ecc34e627b7"
MANAGE_A_TEAM = ESCO + "cb668e89-6ef5-4ff3-ab4a-506010e7e70b"
PROJECT_MANAGEMENT = ESCO + "7111b95d-0ce3-441a-9d92-4c75d05c4388"


def slice_framework(*, drop_alt_labels_of: tuple[str, ...] = ()) -> Framework:
    """A framework holding 25 real ESCO v1.1.1 skills, copied from skills_en.csv."""
    rows = json.loads((DATA / "text_esco_skills_slice.json").read_text(encoding="utf-8"))["competencies"]
    framework = Framework(id="esco-slice", iri="http://data.europa.eu/esco/concept-scheme/skills", title="slice")
    for row in rows:
        alts = () if row["iri"] in drop_alt_labels_of else tuple(row["alt_labels"])
        framework.competencies[row["iri"]] = Competency(
            iri=row["iri"],
            framework="esco-slice",
            kind=row["kind"],
            pref_label=row["pref_label"],
            alt_labels=alts,
            hidden_labels=tuple(row["hidden_labels"]),
            description=row["description"],
        )
    return framework


@pytest.fixture(scope="module")
def index() -> LexicalIndex:
    return LexicalIndex.build(slice_framework())


def by_iri(hits: list[LexicalHit]) -> dict[str, LexicalHit]:
    return {h.iri: h for h in hits}


def bm25_iris(index: LexicalIndex, query: str, k: int = 100) -> list[str]:
    """The competencies BM25 ranks for ``query``, best first (what the matcher reads of it)."""
    numbers, _ = index.bm25_top(query, k=k)
    return [index.competency_iris[n] for n in numbers.tolist()]


def norms(text: str) -> list[str]:
    return [t.norm for t in tokenize(text)]


# --- tokens -------------------------------------------------------------------------------


def test_tokens_keep_tool_names_and_point_into_the_text() -> None:
    text = "C++, C#, .NET and Node.js; ASP.NET (Python 3.11), R&D, Java's problem-solving TCP/IP"
    tokens = tokenize(text)
    assert [t.norm for t in tokens] == [
        "c++", "c#", ".net", "and", "node.js", "asp.net", "python", "3.11", "r&d", "java",
        "problem", "solving", "tcp", "ip",
    ]
    for token in tokens:
        assert text[token.start:token.end] == token.surface
    assert tokenize("Java. Script")[1].breaks_before
    assert not tokenize("Java, script")[1].breaks_before


def test_token_normalisation() -> None:
    assert norms("Node.js") == ["node.js"]
    assert norms("Live-Script") == norms("live script")
    assert norms("Zoönoses") == ["zoonoses"]
    assert bm25_tokens("Managing the teams") == ["manag", "team"]
    assert bm25_tokens("node.js and C++") == ["node.js", "c++"]


# --- exact -------------------------------------------------------------------------------


def test_exact_finds_postgresql_and_java(index: LexicalIndex) -> None:
    text = "experience with PostgreSQL and Java"
    hits = by_iri(index.exact(text))
    assert set(hits) == {POSTGRESQL, JAVA}
    assert text[slice(*hits[POSTGRESQL].span)] == "PostgreSQL"
    assert text[slice(*hits[JAVA].span)] == "Java"
    assert hits[POSTGRESQL].field == "pref_label"


def test_java_does_not_fire_inside_javascript(index: LexicalIndex) -> None:
    hits = by_iri(index.exact("Strong JavaScript and Javascript skills"))
    assert set(hits) == {JAVASCRIPT}
    assert hits[JAVASCRIPT].span == (7, 17)


def test_java_is_found_through_the_parenthesis_free_head() -> None:
    framework = slice_framework(drop_alt_labels_of=(JAVA, PYTHON))
    index = LexicalIndex.build(framework)
    hits = by_iri(index.exact("Java and Python developers"))
    assert set(hits) == {JAVA, PYTHON}
    assert hits[JAVA].field == "pref_label_head" and hits[JAVA].text == "Java"
    assert hits[PYTHON].text == "Python"


def test_exact_is_case_and_punctuation_insensitive(index: LexicalIndex) -> None:
    text = "postgresql, JAVA, c++ and c#; asp.net. Postgres!"
    hits = by_iri(index.exact(text))
    assert {POSTGRESQL, JAVA, CPP, CSHARP, ASPNET} <= set(hits)
    assert text[slice(*hits[CPP].span)] == "c++"
    assert text[slice(*hits[CSHARP].span)] == "c#"
    assert text[slice(*hits[ASPNET].span)] == "asp.net"


def test_labels_do_not_match_across_sentence_punctuation(index: LexicalIndex) -> None:
    assert JAVASCRIPT in by_iri(index.exact("Java script experience"))
    assert JAVASCRIPT not in by_iri(index.exact("We use Java. Script writing is a plus"))


def test_longest_match_wins_unless_nested(index: LexicalIndex) -> None:
    text = "Microsoft SQL Server and Microsoft Access"
    hits = by_iri(index.exact(text))
    assert set(hits) == {SQL_SERVER, ACCESS}
    assert text[slice(*hits[SQL_SERVER].span)] == "Microsoft SQL Server"
    nested = by_iri(index.exact(text, nested=True))
    assert {SQL_SERVER, ACCESS, SQL, DBMS} <= set(nested)


def test_everyday_words_need_their_capitals_and_score_low(index: LexicalIndex) -> None:
    assert index.exact("access to data and code written from scratch") == []
    assert index.exact("it works") == []
    hits = by_iri(index.exact("Scratch, Python and IT support; Access"))
    assert {SCRATCH, PYTHON, COMPUTER_TECHNOLOGY, ACCESS} == set(hits)
    assert hits[SCRATCH].score < hits[PYTHON].score / 2
    assert hits[ACCESS].score < hits[PYTHON].score / 2


def test_one_letter_labels_need_their_capital(index: LexicalIndex) -> None:
    r_language = ESCO + "51586df8-1c46-4b47-8583-773cb63bf00b"
    assert r_language in by_iri(index.exact("statistics in R and Python"))
    assert r_language not in by_iri(index.exact("r/w access to the r drive"))


def test_score_reflects_specificity(index: LexicalIndex) -> None:
    hits = by_iri(index.exact("project management, Java, SQL, C++ and communication"))
    assert hits[PROJECT_MANAGEMENT].score > hits[JAVA].score  # longer label
    assert hits[CPP].score > hits[SQL].score  # 'SQL' is shared by two competencies
    assert hits[JAVA].score > hits[COMMUNICATION].score  # an everyday word
    assert all(0 < h.score <= 1 for h in hits.values())
    ordered = index.exact("project management, Java, SQL, C++ and communication")
    assert [h.score for h in ordered] == sorted((h.score for h in ordered), reverse=True)


def test_a_shared_label_finds_every_competency_that_has_it(index: LexicalIndex) -> None:
    assert set(by_iri(index.exact("SQL"))) == {SQL, DBMS}  # a preferred label of one, an alternative of the other
    assert set(by_iri(index.exact("sql"))) == {SQL, DBMS}
    assert set(by_iri(index.exact("Postgres"))) == {POSTGRESQL}
    assert len(index.exact("manage  TEAM")) == 1  # case and spacing do not count
    assert index.exact("knitting") == []


def test_each_competency_is_reported_once_with_its_best_label(index: LexicalIndex) -> None:
    hits = index.exact("PostgreSQL, Postgres and PostgreSQL again")
    assert [h.iri for h in hits] == [POSTGRESQL]
    assert hits[0].field == "pref_label" and hits[0].span == (0, 10)


def test_exact_on_empty_text(index: LexicalIndex) -> None:
    assert index.exact("") == []
    assert index.exact("   ... ,;") == []


# --- fields, groups, bad arguments -----------------------------------------------------


def test_fields_limit_what_is_indexed() -> None:
    index = LexicalIndex.build(slice_framework(), fields=("pref_label",))
    assert by_iri(index.exact("Postgres and PostgreSQL")).keys() == {POSTGRESQL}
    assert index.exact("Postgres") == []
    assert bm25_iris(index, "Postgres") == []


def test_hidden_labels_and_descriptions() -> None:
    framework = Framework(id="t", iri="urn:t", title="t")
    framework.competencies["urn:a"] = Competency(
        "urn:a", "t", "knowledge", "spreadsheet software", hidden_labels=("Exel",),
        description="Tools such as LibreOffice Calc.",
    )
    plain = LexicalIndex.build(framework)
    assert by_iri(plain.exact("Exel"))["urn:a"].field == "hidden_label"
    assert bm25_iris(plain, "LibreOffice") == []
    with_description = LexicalIndex.build(framework, fields=("pref_label", "description"))
    assert bm25_iris(with_description, "LibreOffice") == ["urn:a"]  # from the description
    assert with_description.exact("LibreOffice Calc") == []


def test_skill_groups_only_on_request() -> None:
    framework = slice_framework()
    group = Competency(ESCO + "group", "esco-slice", KIND_GROUP, "working with computers")
    framework.competencies[group.iri] = group
    assert LexicalIndex.build(framework).exact("working with computers") == []
    assert by_iri(LexicalIndex.build(framework, include_groups=True).exact("working with computers"))


def test_unknown_field_is_a_readable_error() -> None:
    with pytest.raises(CompetencyMapError, match="unknown label field"):
        LexicalIndex.build(slice_framework(), fields=("pref_label", "labels"))


def test_empty_framework() -> None:
    index = LexicalIndex.build(Framework(id="empty", iri="urn:empty", title="empty"))
    assert index.exact("Java") == []
    assert bm25_iris(index, "Java") == []
    assert len(index) == 0


# --- BM25 ---------------------------------------------------------------------------------


def test_bm25_ranks_the_matching_label_first(index: LexicalIndex) -> None:
    assert bm25_iris(index, "Java programming")[0] == JAVA
    assert bm25_iris(index, "managing a team")[0] == MANAGE_A_TEAM  # stemmed: managing ~ manage
    assert bm25_iris(index, "management of projects", k=3)[0] == PROJECT_MANAGEMENT  # the preferred label's stems
    assert bm25_iris(index, "principles of programme management", k=3)[0] == PROJECT_MANAGEMENT  # an alternative


def test_bm25_gives_one_hit_per_competency_best_first(index: LexicalIndex) -> None:
    numbers, scores = index.bm25_top("SQL database systems", k=100)
    iris = [index.competency_iris[n] for n in numbers.tolist()]
    assert len(iris) == len(set(iris)) == len(scores)
    assert scores.tolist() == sorted(scores.tolist(), reverse=True)
    assert (scores > 0).all()
    assert {SQL, DBMS} <= set(iris[:4])


def test_bm25_k_and_unknown_words(index: LexicalIndex) -> None:
    assert len(bm25_iris(index, "programming techniques", k=1)) <= 1
    assert bm25_iris(index, "knitting crochet") == []
    assert bm25_iris(index, "") == []
    assert bm25_iris(index, "the and of") == []
    assert bm25_iris(index, "Java", k=0) == []


# --- full release --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def esco_index() -> LexicalIndex:
    try:
        from competencymap.frameworks.esco_csv import load_esco_csv
    except ImportError:
        pytest.skip("competencymap.frameworks.esco_csv is not available")
    started = time.perf_counter()
    framework = load_esco_csv(ROOT / "data" / "esco")
    loaded = time.perf_counter()
    index = LexicalIndex.build(framework)
    print(f"\nESCO load {loaded - started:.1f} s, lexical index build {time.perf_counter() - loaded:.1f} s")
    return index


@pytest.mark.full
def test_full_esco_exact_hits(esco_index: LexicalIndex) -> None:
    hits = by_iri(esco_index.exact("experience with PostgreSQL and Java"))
    assert POSTGRESQL in hits and JAVA in hits
    assert JAVA not in by_iri(esco_index.exact("JavaScript developer"))
    assert bm25_iris(esco_index, "Java programming")[0] == JAVA


@pytest.mark.full
def test_full_esco_latency(esco_index: LexicalIndex) -> None:
    from competencymap.statements.segment import segment

    statements = [s.text for path in sorted(DATA.glob("text_*.txt")) for s in segment(path.read_text("utf-8"))]
    assert len(statements) > 20
    figures = {}
    for name, search in (("exact", esco_index.exact), ("bm25", lambda q: esco_index.bm25_top(q, k=100))):
        times = []
        for _ in range(5):
            for statement in statements:
                started = time.perf_counter()
                search(statement)
                times.append(time.perf_counter() - started)
        times.sort()
        figures[name] = (statistics.median(times) * 1e3, times[int(len(times) * 0.95)] * 1e3)
        print(f"\n{name}: median {figures[name][0]:.3f} ms, p95 {figures[name][1]:.3f} ms "
              f"over {len(times)} statement searches")
    assert figures["exact"][0] < 2.0
    assert figures["bm25"][0] < 25.0


def test_hits_are_plain_values() -> None:
    hit = LexicalHit("urn:a", 0.5, "pref_label", "Java", (0, 4))
    assert replace(hit, score=0.25).score == 0.25
    assert hit == LexicalHit("urn:a", 0.5, "pref_label", "Java", (0, 4))
