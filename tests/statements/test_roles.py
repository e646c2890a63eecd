"""Line roles on postings and credentials written as people write them (tests/data/roles), the
bundled examples and the benchmark postings: titles never mapped, the frame around the job dropped
with its role as the reason, duties, requirements, assets and outcomes kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from competencymap.statements.roles import (
    ASSET,
    BENEFITS,
    BOILERPLATE,
    COMPANY,
    CONTEXT,
    DROPPED_ROLES,
    DUTY,
    HEADING,
    OUTCOME,
    REQUIREMENT,
    TITLE,
    read,
    section_role,
    statement_role,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "roles"

# The role of every non-blank line, top to bottom.
EXPECTED = {
    "security_analyst.txt": [
        TITLE, CONTEXT, CONTEXT,
        HEADING, COMPANY,
        HEADING, DUTY, DUTY, DUTY,
        HEADING, REQUIREMENT, REQUIREMENT,
        HEADING, ASSET, ASSET,
        BOILERPLATE,
    ],
    "early_childhood_educator.txt": [
        TITLE, CONTEXT,
        HEADING, COMPANY,
        HEADING, DUTY, DUTY, DUTY,
        HEADING, REQUIREMENT, REQUIREMENT, ASSET,
        HEADING, BENEFITS, BENEFITS,
        BOILERPLATE,
    ],
    "line_cook.txt": [
        TITLE, COMPANY, DUTY, DUTY, DUTY, DUTY, REQUIREMENT, ASSET, CONTEXT, HEADING, BOILERPLATE,
    ],
    "project_management_certificate.txt": [TITLE, HEADING, OUTCOME, OUTCOME, OUTCOME, OUTCOME, OUTCOME],
    "administrative_assistant.txt": [
        TITLE, CONTEXT, CONTEXT,
        DUTY, CONTEXT,
        HEADING, REQUIREMENT, REQUIREMENT,
        HEADING, ASSET, ASSET,
        BOILERPLATE,
    ],
    "warehouse_associate.txt": [
        TITLE, CONTEXT, CONTEXT, CONTEXT,
        HEADING, DUTY, DUTY, DUTY,
        HEADING, REQUIREMENT, REQUIREMENT,
        HEADING, ASSET,
        BENEFITS, BOILERPLATE,
    ],
}


def text_of(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_line_gets_its_role(name: str) -> None:
    text = text_of(name)
    reading = read(text)
    assert [line.text for line in reading.lines] == [line.strip() for line in text.splitlines() if line.strip()]
    assert [(line.role, line.text) for line in reading.lines] == list(zip(EXPECTED[name], [x.text for x in reading.lines]))


def test_the_data_files_are_all_checked() -> None:
    assert sorted(p.name for p in DATA.glob("*.txt")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_statements_keep_their_offsets_and_only_content_roles_are_kept(name: str) -> None:
    text = text_of(name)
    reading = read(text)
    for statement in reading.statements + reading.dropped:
        assert text[statement.start:statement.end] == statement.text
    assert reading.statements
    assert all(s.role in (DUTY, REQUIREMENT, ASSET, OUTCOME) and not s.reason for s in reading.statements)
    assert all(s.reason for s in reading.dropped)
    starts = {line.start for line in reading.lines}
    assert all(s.line in starts for s in reading.statements + reading.dropped)


def test_a_reporting_line_keeps_the_duties_after_its_lead() -> None:
    reading = read(text_of("security_analyst.txt"))
    kept = [s.text for s in reading.statements]
    assert "monitor security alerts and investigate incidents across our branches." in kept
    assert not any("Reporting to" in s for s in kept)
    assert [s.reason for s in reading.dropped if s.text == "Reporting to the Manager, Information Security"] == [CONTEXT]


def test_a_reporting_line_with_nothing_after_it_is_context_only() -> None:
    reading = read(text_of("administrative_assistant.txt"))
    assert [s.text for s in reading.statements][0] == "coordinate the Director's calendar and prepare briefing packages."
    dropped = {s.text: s.reason for s in reading.dropped}
    assert dropped["Reporting to the Manager, Corporate Services."] == CONTEXT


def test_lines_under_a_heading_know_it() -> None:
    reading = read(text_of("warehouse_associate.txt"))
    under = {line.text: line.under for line in reading.lines}
    assert under["* Load and unload trucks at the shipping dock"] == "Responsibilities include:"
    assert under["Location: Mississauga, ON"] == "Warehouse Associate"  # the title, before the first heading


def test_the_sample_posting() -> None:
    text = (ROOT / "examples" / "job_posting.txt").read_text(encoding="utf-8")
    reading = read(text)
    roles = {line.text: line.role for line in reading.lines}
    assert roles["Junior Data Analyst — Riverside Logistics (Hamilton, ON)"] == TITLE
    assert roles[next(t for t in roles if t.startswith("About us: Riverside Logistics"))] == COMPANY
    kept = {s.text: s.role for s in reading.statements}
    assert not any("Riverside" in t for t in kept)
    # one line, two clauses: English required, French an asset
    assert kept["Good written and spoken communication in English"] == REQUIREMENT
    assert kept["French is an asset"] == ASSET
    assert {s.reason for s in reading.dropped if "Riverside" in s.text} == {TITLE, COMPANY, "equal_opportunity"}


def test_the_sample_credential() -> None:
    text = (ROOT / "examples" / "micro_credential.txt").read_text(encoding="utf-8")
    reading = read(text)
    assert reading.lines[0].role == TITLE and reading.lines[1].role == HEADING
    assert [s.role for s in reading.statements] == [OUTCOME] * 5
    assert not any(s.text.startswith("Micro-credential") for s in reading.statements)


ASSET_LINES = {name: item["asset_line"].lstrip("- ") for name, item in json.loads(
    (ROOT / "benchmarks" / "data" / "postings" / "core_duties.json").read_text(encoding="utf-8")).items()}


@pytest.mark.parametrize("path", sorted((ROOT / "benchmarks" / "data" / "postings").glob("*.txt")), ids=lambda p: p.name)
def test_benchmark_postings(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    reading = read(text)
    title = text.strip().splitlines()[0]
    assert reading.lines[0].role == TITLE and reading.lines[1].role == COMPANY
    assert not any(s.text.strip() == title.strip() for s in reading.statements)  # the title line is never a statement
    assert all(s.role in (DUTY, REQUIREMENT, ASSET) for s in reading.statements)
    asset = ASSET_LINES[path.name]  # each posting's one asset line (benchmarks/data/postings/core_duties.json)
    assert [line.role for line in reading.lines if asset in line.text] == [ASSET]
    assert reading.lines[-1].role in DROPPED_ROLES


def test_one_line_is_never_a_title() -> None:
    reading = read("Senior Data Analyst", kind="posting")
    assert [line.role for line in reading.lines] == [DUTY]
    assert [s.text for s in reading.statements] == ["Senior Data Analyst"]


def test_a_first_line_that_reads_as_a_duty_is_not_a_title() -> None:
    reading = read("Design and maintain REST APIs in Java\n\nWrite SQL queries against PostgreSQL\n", kind="posting")
    assert [line.role for line in reading.lines] == [DUTY, DUTY]


def test_a_one_paragraph_posting_is_read_sentence_by_sentence() -> None:
    text = ("Acme Foods is a leading bakery in Winnipeg. You will operate the ovens and clean the line. "
            "We offer dental and an RRSP match. Acme is an equal opportunity employer.")
    reading = read(text, kind="posting")
    assert [s.text for s in reading.statements] == ["operate the ovens and clean the line."]
    assert reading.lines[0].role == DUTY  # the role of what it says
    assert [s.reason for s in reading.dropped] == [COMPANY, "benefits", "equal_opportunity"]


def test_credentials_keep_their_content_lines() -> None:
    text = "Workplace Finance Basics\n\nLearning outcomes\n- Explain pension plans and RRSP benefits\n- Prepare a budget\n"
    reading = read(text, kind="outcomes")
    assert [s.text for s in reading.statements] == ["Explain pension plans and RRSP benefits", "Prepare a budget"]


@pytest.mark.parametrize(("heading", "role"), [
    ("What you'll do:", DUTY), ("Key Responsibilities", DUTY), ("What you bring", REQUIREMENT),
    ("Qualifications", REQUIREMENT), ("Nice to have", ASSET), ("Preferred qualifications", ASSET),
    ("About us", COMPANY), ("About Harbourview", COMPANY), ("About you", REQUIREMENT), ("Benefits", BENEFITS),
    ("How to apply", BOILERPLATE), ("Learning outcomes", OUTCOME), ("Summary", ""),
])
def test_section_roles(heading: str, role: str) -> None:
    assert section_role(heading) == role


@pytest.mark.parametrize(("text", "role"), [
    ("Reporting to the Director of Finance", CONTEXT),
    ("Toronto, ON (hybrid)", CONTEXT),
    ("Full-time, permanent", CONTEXT),
    ("Remote monitoring of patient vital signs using telemetry systems in a cardiac unit", DUTY),
    ("French is an asset", ASSET),
    ("5+ years of experience with Java", REQUIREMENT),
    ("Administer group benefits and pension remittances", DUTY),
    ("Dental, vision and extended health coverage", BENEFITS),
])
def test_statement_roles(text: str, role: str) -> None:
    assert statement_role(text, kind="posting") == role
