"""The mapping engine and its CLI contract, on a real slice of ESCO with the bundled model."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from competencymap._common.config import load_settings
from competencymap._common.errors import InputTextError
from competencymap._common.text import MAX_TEXT_CHARS
from competencymap.cli import main
from competencymap.engine import CompetencyMap
from competencymap.statements.segment import phrases

POSTGRES = "http://data.europa.eu/esco/skill/a8d07b5a-c1a1-42c6-9d53-db9c7a2ca996"
DATA_ANALYSIS = "http://data.europa.eu/esco/skill/2b92a5b2-6758-4ee3-9fb4-b6387a55cc8f"  # perform data analysis
ONLINE_ANALYSIS = "http://data.europa.eu/esco/skill/062320e5-79d1-45e8-8b7e-5deeb53279a2"  # perform online data analysis


def test_phrases_split_enumerations_with_offsets() -> None:
    text = "Strong knowledge of HTML and CSS (LESS, SCSS) or similar JS frameworks"
    found = phrases(text, offset=10)
    assert [p[0] for p in found] == ["Strong knowledge of HTML", "CSS", "LESS", "SCSS", "similar JS frameworks"]
    for phrase, start, end in found:
        assert text[start - 10 : end - 10] == phrase


def test_phrases_of_a_single_phrase_is_empty() -> None:
    assert phrases("bake bread") == []


@dataclass
class Done:
    """What a CLI run left: exit code, stdout and stderr."""

    returncode: int
    stdout: str
    stderr: str


def _run(home: Path, *args: str, stdin: str | bytes = "") -> Done:
    """`competencymap ARGS` in process (click's CliRunner), with `home` as COMPETENCYMAP_HOME."""
    env = {"COMPETENCYMAP_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    result = CliRunner().invoke(main, list(args), input=stdin, env=env, prog_name="competencymap")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback the user would have seen
    return Done(result.exit_code, result.stdout, result.stderr)


@pytest.mark.model
def test_map_cli_contract(built_home: Path) -> None:
    lines = [
        {"id": "a", "text": "Experience with PostgreSQL and Java is required."},
        {"id": "b", "text": "Bake bread and pastries every morning"},
    ]
    done = _run(built_home, "map", "--framework", "mini", "--top-k", "5", "--format", "jsonl",
                stdin="\n".join(json.dumps(x) for x in lines) + "\n")
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b"]
    for o in out:
        assert o["frameworks"] == ["mini"] and list(o["profile"]) == ["mini"] and o["dropped"] == []
        scores = [m["score"] for m in o["profile"]["mini"]]
        assert scores == sorted(scores, reverse=True) and len(scores) == 5
        assert set(o["profile"]["mini"][0]) == {"iri", "label", "score", "framework", "kind", "confident", "evidence",
                                                "grouped_under"}
        assert all(m["framework"] == "mini" for m in o["profile"]["mini"])
    labels_a = [m["label"] for m in out[0]["profile"]["mini"][:3]]
    assert "PostgreSQL" in labels_a and "Java (computer programming)" in labels_a
    assert out[1]["profile"]["mini"][0]["label"] == "prepare bread products"
    statement = out[0]["statements"][0]
    text = lines[0]["text"]
    assert text[statement["start"] : statement["end"]] == statement["text"]
    top = statement["matches"][0]
    methods = {"exact", "label", "description", "verb", "crosswalk"}  # as service.models.Evidence says
    assert top["evidence"] and all(e["method"] in methods for e in top["evidence"])


@pytest.mark.model
@pytest.mark.parametrize(
    ("stdin", "args", "needle"),
    [
        ('{"id": "x", "text": "Java"}\n', ["--framework", "nope"], "nope"),
        ("", [], "empty"),
    ],
)
def test_map_cli_unusable_run_is_one_line(built_home: Path, stdin: str, args: list[str], needle: str) -> None:
    done = _run(built_home, "map", "--framework", "mini", *args, stdin=stdin) if "--framework" not in args else _run(built_home, "map", *args, stdin=stdin)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.model
@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        ("{not json", "not valid JSON"),
        ('{"id": "x"}', 'missing "text"'),
        ('{"id": "x", "text": "   "}', "empty"),
        ('{"id": "x", "text": 12}', "must be a string"),
        ('["a list"]', "JSON object"),
        ('{"id": "x", "text": "Write SQL \\ud800 queries"}', "surrogate"),
        ('{"id": "x", "text": "NUL\\u0000here"}', "control character"),
        (json.dumps({"id": "x", "text": "a" * (MAX_TEXT_CHARS + 1)}), "limit"),
    ],
)
def test_map_cli_bad_record_is_reported_in_place(built_home: Path, bad: str, needle: str) -> None:
    lines = [json.dumps({"id": "a", "text": "Experience with PostgreSQL"}), bad,
             json.dumps({"id": "c", "text": "Bake bread"})]
    done = _run(built_home, "map", "--framework", "mini", "--top-k", "2", stdin="\n".join(lines) + "\n")
    assert done.returncode == 3, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o.get("id") for o in out][::2] == ["a", "c"] and len(out) == 3
    assert out[0]["profile"]["mini"] and out[2]["profile"]["mini"]
    assert needle in out[1]["error"] and out[1]["line"] == 2 and "profile" not in out[1]
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: stdin:2") and needle in errors[0]
    assert "Traceback" not in done.stderr


def _records(count: int) -> list[str]:
    texts = ["Experience with PostgreSQL and Java", "Bake bread and pastries", "Communicate with clients",
             "Drive delivery vehicles safely", "Manage the team budget"]
    return [json.dumps({"id": f"r{i}", "text": f"{texts[i % len(texts)]} ({i})"}) for i in range(count)]


@pytest.mark.model
@pytest.mark.parametrize("count", [1, 32, 33, 1000])
def test_map_cli_keeps_every_record_in_order(built_home: Path, count: int) -> None:
    done = _run(built_home, "map", "--framework", "mini", "--top-k", "1", "--no-statements",
                stdin="\n".join(_records(count)) + "\n")
    assert done.returncode == 0, done.stderr[-2000:]
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["id"] for o in out] == [f"r{i}" for i in range(count)]
    assert all(len(o["profile"]["mini"]) == 1 and "statements" not in o for o in out)
    assert "Traceback" not in done.stderr


@pytest.mark.model
@pytest.mark.parametrize("statements", ["--statements", "--no-statements"])
def test_map_cli_bad_line_in_the_middle_of_many_batches(built_home: Path, statements: str) -> None:
    lines = _records(150)
    lines[70] = "{broken"
    lines[100] = json.dumps({"id": "r100", "text": ""})
    done = _run(built_home, "map", "--framework", "mini", "--framework", "sfs", "--top-k", "2", statements,
                stdin="\n".join(lines) + "\n")
    assert done.returncode == 3, done.stderr[-2000:]
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == 150
    assert [i for i, o in enumerate(out) if "error" in o] == [70, 100]
    assert [o["id"] for i, o in enumerate(out) if i not in (70, 100)] == [f"r{i}" for i in range(150) if i not in (70, 100)]
    good = [o for o in out if "error" not in o]
    assert all(o["profile"]["mini"] and o["profile"]["sfs"] for o in good)
    if statements == "--statements":
        assert all({s["framework"] for s in o["statements"]} == {"mini", "sfs"} for o in good)
    lines = [line.strip() for line in re.split(r"[\r\n]", done.stderr)]
    assert [line.split(":")[2] for line in lines if line.startswith("error:")] == ["71", "101 (id r100)"]


@pytest.mark.model
def test_map_cli_fail_fast_keeps_what_came_before(built_home: Path) -> None:
    lines = _records(40)
    lines[35] = "{broken"
    done = _run(built_home, "map", "--framework", "mini", "--top-k", "1", "--fail-fast",
                stdin="\n".join(lines) + "\n")
    assert done.returncode == 1
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["id"] for o in out] == [f"r{i}" for i in range(35)]
    assert done.stderr.strip().splitlines()[-1].startswith("error: stdin:36: not valid JSON")


@pytest.mark.model
def test_search_cli(built_home: Path) -> None:
    done = _run(built_home, "search", "postgres database administration", "--framework", "mini", "--top-k", "3", "--json")
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)
    assert hits[0]["iri"] == POSTGRES and hits[0]["evidence"]


@pytest.mark.model
def test_map_text_profile_and_dropped_boilerplate(built_home: Path) -> None:
    app = CompetencyMap(load_settings(home=built_home))
    posting = "Requirements:\n- Solid SQL skills\n- Working knowledge of Java\nSalary: $60,000 - $70,000 per year\n"
    result = app.map(posting, ["mini"], top_k=3, kind="posting")
    assert [s.text for s in result.statements] == ["Solid SQL skills", "Working knowledge of Java"]
    assert [d.reason for d in result.dropped if "60,000" in d.text] == ["salary"]
    assert {m.label for m in result.profile[:4]} >= {"SQL", "Java (computer programming)"}
    with pytest.raises(InputTextError):
        app.map("   ", ["mini"])


@pytest.mark.model
@pytest.mark.parametrize("text", ["Experience with PostgreSQL and Java is required.",
                                  "Perform data analysis, including online data analysis",
                                  "Prepare bread products and dairy products"])
def test_a_one_statement_texts_matches_are_its_statements_ranking(built_home: Path, text: str) -> None:
    done = _run(built_home, "map", "--framework", "mini", "--top-k", "10", stdin=json.dumps({"text": text}) + "\n")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    [statement] = out["statements"]
    ranking = [m["iri"] for m in statement["matches"]]
    assert len(ranking) == 10
    assert [m["iri"] for m in out["matches"]] == ranking
    assert [m["iri"] for m in out["profile"]["mini"]] == ranking
    assert [m["score"] for m in out["matches"]] == [m["score"] for m in statement["matches"]]


@pytest.mark.model
def test_two_close_labelled_competencies_are_both_matched_one_grouped_under_the_other(built_home: Path) -> None:
    text = "Perform data analysis, including online data analysis"
    done = _run(built_home, "map", "--framework", "mini", "--top-k", "10", stdin=json.dumps({"text": text}) + "\n")
    out = json.loads(done.stdout)
    ranked = [m["iri"] for m in out["matches"]]
    assert set(ranked[:2]) == {ONLINE_ANALYSIS, DATA_ANALYSIS}  # both named, both shown, each at its own rank
    first, second = ranked[:2]
    entries = {m["iri"]: m for m in out["profile"]["mini"]}
    assert entries[second]["grouped_under"] == first and entries[second]["confident"]
    assert entries[first]["grouped_under"] is None
    app = CompetencyMap(load_settings(home=built_home))
    profile = app.map(text, ["mini"], top_k=10).profiles["mini"]
    assert second in profile[0].related and profile[1].grouped_under == first
    printed = _run(built_home, "map", "--framework", "mini", "--top-k", "3", "--format", "text", stdin=text).stdout
    grouped = [line for line in printed.split("profile [mini]:")[1].splitlines() if second in line]
    assert grouped == [grouped[0]] and grouped[0].startswith("      ")
    assert grouped[0].endswith(f"≈ grouped with {entries[first]['label']}")


@pytest.mark.model
def test_map_cli_bytes_that_are_not_utf8_fail_only_their_record(built_home: Path) -> None:
    data = b'{"id": "a", "text": "Bake bread"}\n{"id": "b", "text": "bad \xff byte"}\n{"id": "c", "text": "Use SQL"}\n'
    done = _run(built_home, "map", "--framework", "mini", "--top-k", "1", stdin=data)
    assert done.returncode == 3, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o.get("id") for o in out] == ["a", None, "c"] and "error" in out[1] and out[2]["profile"]["mini"]
    assert "Traceback" not in done.stderr


@pytest.mark.model
def test_map_cli_takes_a_title_as_context_and_checks_it(built_home: Path) -> None:
    lines = [json.dumps({"id": "a", "text": "Prepare bread products", "title": "Bakery assistant"}),
             json.dumps({"id": "b", "text": "Prepare bread products", "title": "Bad\u0007title"})]
    done = _run(built_home, "map", "--framework", "mini", "--top-k", "3", stdin="\n".join(lines) + "\n")
    assert done.returncode == 3, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    top = out[0]["statements"][0]["matches"][0]
    assert out[0]["profile"]["mini"] and any(e["method"] == "label" for e in top["evidence"])
    assert "control character" in out[1]["error"] and '"title"' in out[1]["error"]


POSTING = """Data Analyst — Riverside Logistics (Hamilton, ON)

About us: Riverside Logistics moves fresh food across Ontario.

What you bring
- Working knowledge of PostgreSQL and Java
- Juggle flaming torches while reciting sonnets
- French is an asset

Riverside Logistics is an equal opportunity employer.
"""


@pytest.mark.model
def test_map_accounts_for_every_line(built_home: Path) -> None:
    done = _run(built_home, "map", "--framework", "mini", "--top-k", "5", "--format", "jsonl",
                stdin=json.dumps({"id": "p", "text": POSTING}) + "\n")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    lines = out["lines"]
    assert [x["text"] for x in lines] == [x.strip() for x in POSTING.splitlines() if x.strip()]
    for x in lines:
        assert POSTING[x["start"]:x["end"]] == x["text"]
    by_text = {x["text"]: x for x in lines}
    title = by_text["Data Analyst — Riverside Logistics (Hamilton, ON)"]
    assert (title["role"], title["outcome"], title["reason"]) == ("title", "dropped", "title")
    company = lines[1]
    assert (company["role"], company["outcome"], company["reason"]) == ("company", "dropped", "company")
    assert by_text["What you bring"]["outcome"] == "dropped"
    skills = by_text["- Working knowledge of PostgreSQL and Java"]
    assert (skills["role"], skills["outcome"], skills["under"]) == ("requirement", "mapped", "What you bring")
    assert POSTGRES in {m["iri"] for m in skills["matches"]} and skills["candidates"] == []
    juggling = by_text["- Juggle flaming torches while reciting sonnets"]
    assert juggling["outcome"] == "no_match" and juggling["matches"] == []
    assert 1 <= len(juggling["candidates"]) <= 3  # its best three, never silently gone
    assert by_text["- French is an asset"]["outcome"] == "asset"
    assert by_text["Riverside Logistics is an equal opportunity employer."]["reason"] == "equal_opportunity"
    assert not any("Riverside" in s["text"] for s in out["statements"])  # title and company never mapped
    assert {"title", "company"} <= {d["reason"] for d in out["dropped"]}
    text = _run(built_home, "map", "--framework", "mini", "--top-k", "3", "--format", "text", stdin=POSTING)
    assert "[title] Data Analyst — Riverside Logistics (Hamilton, ON)\n      dropped: title" in text.stdout
    assert "no confident match; best: " in text.stdout


FRENCH_LINES = "- Utiliser l'équipement de signalisation\n- Interpréter les feux de circulation\n"


@pytest.mark.model
def test_map_never_maps_text_the_model_cannot_read(built_home: Path) -> None:
    text = "What you'll do:\n- Write SQL queries against PostgreSQL\n" + FRENCH_LINES
    done = _run(built_home, "map", "--framework", "mini", "--format", "jsonl", stdin=json.dumps({"text": text}) + "\n")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    reason = "French text: not mapped with the bundled English model"
    assert (out["language"], out["not_read"]) == ("fr", 2)  # most of the text is French
    assert [s["text"] for s in out["statements"]] == ["Write SQL queries against PostgreSQL"]
    french = [d for d in out["dropped"] if d["language"] == "fr"]
    assert [d["text"] for d in french] == ["Utiliser l'équipement de signalisation", "Interpréter les feux de circulation"]
    assert {d["reason"] for d in french} == {reason}
    lines = {x["text"]: x for x in out["lines"]}
    assert (lines["- Utiliser l'équipement de signalisation"]["outcome"], lines["- Utiliser l'équipement de signalisation"]["reason"]) == ("dropped", reason)
    assert lines["- Write SQL queries against PostgreSQL"]["outcome"] == "mapped"
    shown = _run(built_home, "map", "--framework", "mini", "--format", "text", stdin=FRENCH_LINES)
    assert f"0 statements; language: fr\n  warning: 2 statements not mapped: {reason}" in shown.stdout
    assert f"dropped: {reason}" in shown.stdout and "  [mini] " not in shown.stdout  # no statement mapped
    assert shown.stdout.rstrip().endswith("profile [mini]:")  # and an empty profile
