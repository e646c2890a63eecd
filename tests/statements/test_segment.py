"""Segmentation of learning outcomes and postings into statements with offsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from competencymap._common.errors import CompetencyMapError, InputTextError
from competencymap.statements.segment import (
    BOILERPLATE_PATTERNS,
    Statement,
    boilerplate_reason,
    detect_kind,
    phrases,
    segment,
    segment_with_dropped,
)

DATA = Path(__file__).resolve().parents[1] / "data"
FIXTURES = sorted(DATA.glob("text_*.txt"))


def read(name: str) -> str:
    with open(DATA / name, encoding="utf-8", newline="") as handle:  # keep CRLF as written
        return handle.read()


def texts(statements: list[Statement]) -> list[str]:
    return [s.text for s in statements]


def assert_spans(original: str, statements: list[Statement]) -> None:
    for s in statements:
        assert original[s.start:s.end] == s.text
        assert s.text == s.text.strip() and s.text


# --- offsets -------------------------------------------------------------------------


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_every_span_points_into_the_original(path: Path) -> None:
    original = read(path.name)
    kept, dropped = segment_with_dropped(original)
    assert kept
    assert_spans(original, kept)
    assert_spans(original, dropped)
    spans = sorted((s.start, s.end) for s in kept + dropped)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), "statements overlap"


def test_empty_and_blank_input() -> None:
    assert segment("") == []
    assert segment(" \r\n\t \n") == []
    assert segment_with_dropped("") == ([], [])


def test_bad_arguments_raise_readable_errors() -> None:
    with pytest.raises(InputTextError, match="unknown text kind"):
        segment("Java", kind="resume")
    with pytest.raises(CompetencyMapError, match="max_chars"):
        segment("Java", max_chars=5)
    with pytest.raises(InputTextError, match="must be a string"):
        segment(b"Java")  # type: ignore[arg-type]


# --- bullets, numbering, headings -----------------------------------------------------


def test_outcome_fixture_statements() -> None:
    original = read("text_outcomes_databases.txt")
    kept, dropped = segment_with_dropped(original, kind="outcomes")
    assert texts(kept) == [
        "COMP 2521 Database Systems",
        "Design relational databases using entity-relationship modelling.",
        "Write SQL queries (joins, subqueries, window functions) in PostgreSQL",
        "Explain transaction isolation, i.e. how concurrent updates interact.",
        "Build a web application with Node.js and .NET back ends.",
        "Use Python 3.11 to automate reports.",
        "Evaluate query plans and reduce cost by 2.5 times.",
        "Communicate design decisions to peers.",
        "Work in teams of 3-4 students.",
        "Apply normalisation to remove update anomalies",
        "Compare NoSQL and relational data models",
        "analyse the security of a database deployment.",
        "Indexing",
        "Query optimisation",
    ]
    assert [(s.reason, s.text) for s in dropped] == [
        ("heading", "Course Learning Outcomes"),
        ("heading", "By the end of this course, students will be able to:"),
        ("heading", "What you will learn"),
    ]


@pytest.mark.parametrize(
    "line, expected",
    [
        ("• Java", "Java"),
        ("- Design APIs", "Design APIs"),
        ("* Design APIs", "Design APIs"),
        ("▪ Design APIs", "Design APIs"),
        ("◦ Design APIs", "Design APIs"),
        ("– Design APIs", "Design APIs"),
        ("1. Design APIs", "Design APIs"),
        ("12) Design APIs", "Design APIs"),
        ("a) Design APIs", "Design APIs"),
        ("(iv) Design APIs", "Design APIs"),
        ("(b) Design APIs", "Design APIs"),
        ("1.6 Design APIs", "Design APIs"),
        ("2.3.1. Design APIs", "Design APIs"),
        ("LO2: Design APIs", "Design APIs"),
        ("CLO 3. Design APIs", "Design APIs"),
        ("\t•\tDesign APIs", "Design APIs"),
        ("1.\tDesign APIs", "Design APIs"),
        ("II. Design APIs", "Design APIs"),
        ("IV) Design APIs", "Design APIs"),
        ("CO2 emissions reporting", "CO2 emissions reporting"),
        ("1.5 years of experience with Java", "1.5 years of experience with Java"),
        ("3 years of Java", "3 years of Java"),
        ("-1 is not a bullet", "-1 is not a bullet"),
        ("C++ and C# programming", "C++ and C# programming"),
        (".NET development", ".NET development"),
    ],
)
def test_bullets_and_numbering_are_cut(line: str, expected: str) -> None:
    original = "intro\n" + line + "\n"
    statements = segment(original, kind="outcomes")
    assert texts(statements) == ["intro", expected]
    assert_spans(original, statements)


def test_headings_are_dropped_and_items_under_them_kept() -> None:
    original = "Requirements:\n• Java\n• SQL\n## Nice to have\n**Skills**\nKubernetes\nWhat you'll do\nShip code"
    kept, dropped = segment_with_dropped(original, kind="outcomes")
    assert texts(kept) == ["Java", "SQL", "Kubernetes", "Ship code"]
    assert [s.reason for s in dropped] == ["heading"] * 4


def test_heading_before_colon_on_the_same_line_is_cut() -> None:
    original = "Requirements: Java, SQL\tNice to have: Kubernetes • Terraform | AWS"
    assert texts(segment(original)) == ["Java, SQL", "Kubernetes", "Terraform", "AWS"]


def test_inline_numbered_items_are_split() -> None:
    original = "Students will be able to: (1) design schemas; (2) write queries; and (3) tune indexes."
    statements = segment(original)
    assert texts(statements) == ["design schemas", "write queries", "tune indexes."]
    assert_spans(original, statements)


def test_short_pieces_are_dropped() -> None:
    kept, dropped = segment_with_dropped("•\n1.\nx\nSQL\n---\n", kind="outcomes")
    assert texts(kept) == ["SQL"]
    assert {s.reason for s in dropped} == {"too_short"}


# --- sentences -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "original, expected",
    [
        ("Use tools, e.g. Git and Jira. Write tests.", ["Use tools, e.g. Git and Jira.", "Write tests."]),
        ("Know the basics, i.e. SQL. Build apps.", ["Know the basics, i.e. SQL.", "Build apps."]),
        ("Know Java, Kotlin, etc. Build apps.", ["Know Java, Kotlin, etc.", "Build apps."]),
        ("Use Java, Kotlin, etc. to build apps.", ["Use Java, Kotlin, etc. to build apps."]),
        ("Build services in Node.js and .NET. Deploy them.", ["Build services in Node.js and .NET.", "Deploy them."]),
        ("Use Python 3.11 daily. Tune it.", ["Use Python 3.11 daily.", "Tune it."]),
        ("Cut costs by 2.5 percent. Report.", ["Cut costs by 2.5 percent.", "Report."]),
        ("Work with U.S. clients. Travel.", ["Work with U.S. clients.", "Travel."]),
        ("Report to Dr. Smith weekly.", ["Report to Dr. Smith weekly."]),
        ("Is it done? Yes! Ship it...  Then rest", ["Is it done?", "Yes!", "Ship it...", "Then rest"]),
        ("learn sql. build small apps.", ["learn sql.", "build small apps."]),
        ("Hold a Ph.D. in statistics", ["Hold a Ph.D. in statistics"]),
        ("Assist surgeons in the OR", ["Assist surgeons in the OR"]),
    ],
)
def test_sentence_splitting(original: str, expected: list[str]) -> None:
    statements = segment(original, kind="outcomes")
    assert texts(statements) == expected
    assert_spans(original, statements)


def test_text_without_punctuation_or_newlines() -> None:
    original = "design databases write queries test code"
    assert texts(segment(original)) == [original]


def test_crlf_and_tabs() -> None:
    original = read("text_posting_payroll.txt")
    assert "\r\n" in original
    statements = segment(original, kind="posting")
    assert "Process payroll and salary adjustments for 300 employees." in texts(statements)
    assert all("\r" not in s.text and "\t" not in s.text for s in statements)
    assert_spans(original, statements)


# --- lead-ins ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "original, expected",
    [
        ("By the end of this course, learners will analyse data using SQL.", "analyse data using SQL."),
        ("Students will be able to design relational schemas", "design relational schemas"),
        ("Upon successful completion of the program, graduates will be able to: plan audits", "plan audits"),
        ("The student will be able to explain TCP/IP.", "explain TCP/IP."),
        ("After completing this module you will be able to deploy containers", "deploy containers"),
        ("On completion of this unit, students should be able to cite sources", "cite sources"),
        ("Learners will learn how to write unit tests", "write unit tests"),
        ("Students will work in teams to build a robot.", "work in teams to build a robot."),
        ("Students' projects are graded weekly.", "Students' projects are graded weekly."),
        ("We will provide training in Java.", "We will provide training in Java."),
    ],
)
def test_lead_ins_are_cut(original: str, expected: str) -> None:
    statements = segment(original, kind="outcomes")
    assert texts(statements) == [expected]
    assert_spans(original, statements)


def test_a_pure_lead_in_is_dropped() -> None:
    original = "By the end of this course, you will be able to\n- write SQL"
    kept, dropped = segment_with_dropped(original, kind="outcomes")
    assert texts(kept) == ["write SQL"]
    assert [s.reason for s in dropped] == ["lead_in"]


# --- postings and boilerplate ----------------------------------------------------------


def test_kind_detection() -> None:
    assert detect_kind(read("text_posting_backend.txt")) == "posting"
    assert detect_kind(read("text_posting_payroll.txt")) == "posting"
    assert detect_kind(read("text_outcomes_databases.txt")) == "outcomes"
    assert detect_kind("design databases") == "outcomes"


def test_posting_boilerplate_is_dropped_and_listed() -> None:
    original = read("text_posting_backend.txt")
    kept, dropped = segment_with_dropped(original)
    assert texts(kept) == [
        "Senior Backend Developer (Toronto, hybrid)",
        "Northwind Logistics builds route-planning software used by 500 retailers across Canada.",
        "Our platform runs on Kubernetes and processes 2.5 million orders a day.",
        "Design and maintain REST APIs in Java and Kotlin.",
        "Write SQL queries and tune PostgreSQL performance, e.g. indexes, partitions, etc.",
        "Mentor junior developers and review code.",
        "Manage cloud budgets of $2M per project.",
        "5+ years of experience with Java, Python and Docker",
        "Experience with PostgreSQL and Java",
        "Familiarity with Node.js or .NET is an asset",
        "Strong communication skills; ability to work in an agile team",
    ]
    reasons = {s.text: s.reason for s in dropped}
    assert reasons["Competitive salary"] == "salary"
    assert reasons["Dental, vision and extended health coverage"] == "benefits"
    assert reasons["RRSP matching and 4 weeks of vacation"] == "benefits"
    assert reasons["Salary range: $95,000 - $125,000 per year."] == "salary"
    assert reasons["Only shortlisted candidates will be contacted."] == "how_to_apply"
    assert reasons["Application deadline: March 31, 2025."] == "deadline"
    assert (
        reasons["Northwind is an equal opportunity employer and values diversity, equity and inclusion."]
        == "equal_opportunity"
    )


def test_outcomes_keep_what_a_posting_would_drop() -> None:
    original = read("text_posting_backend.txt")
    assert "Competitive salary" in texts(segment(original, kind="outcomes"))
    assert "Competitive salary" not in texts(segment(original, kind="posting"))


def test_duties_that_mention_pay_or_benefits_are_kept() -> None:
    original = read("text_posting_payroll.txt")
    kept, dropped = segment_with_dropped(original, kind="posting")
    assert texts(kept) == [
        "Job Title: Payroll Administrator",
        "Process payroll and salary adjustments for 300 employees.",
        "Administer group benefits enrolment and pension remittances.",
        "Apply machine learning to forecast overtime.",
        "We are a growing accounting firm serving hotels; experience managing guest accommodation "
        "bookings is a plus.",
    ]
    reasons = {s.text: s.reason for s in dropped}
    assert reasons["Job Type: Full-time"] == "job_details"
    assert reasons["Pay: $28.00-$32.00 per hour"] == "salary"
    assert reasons["Dental care"] == "benefits"
    assert reasons["Paid time off"] == "benefits"


def test_boilerplate_section_ends_at_a_new_paragraph() -> None:
    original = "Perks\n• Free snacks\n• Team offsite\n\nYou will build Kafka pipelines."
    kept, dropped = segment_with_dropped(original, kind="posting")
    assert texts(kept) == ["build Kafka pipelines."]
    assert [s.reason for s in dropped] == ["heading", "benefits", "section:benefits"]


@pytest.mark.parametrize(
    "statement, reason",
    [
        ("$25 - $30 an hour", "salary"),
        ("The pay rate is 22.50 CAD per hour", "salary"),
        ("Comprehensive benefits package including RRSP", "benefits"),
        ("We are committed to employment equity.", "equal_opportunity"),
        ("All qualified applicants will receive consideration without regard to race, religion or sex.",
         "equal_opportunity"),
        ("Please apply online.", "how_to_apply"),
        ("Applications will be accepted until May 2.", "deadline"),
        ("Location: Ottawa, ON", "job_details"),
        ("Knowledge of pension legislation", ""),
        ("Apply online marketing strategies", ""),
        ("Manage a $2M budget", ""),
        ("Our clients include the largest banks in Canada.", ""),
    ],
)
def test_boilerplate_patterns(statement: str, reason: str) -> None:
    assert boilerplate_reason(statement) == reason


def test_boilerplate_patterns_are_named() -> None:
    assert {name for name, _ in BOILERPLATE_PATTERNS} == {
        "salary", "benefits", "equal_opportunity", "how_to_apply", "deadline", "job_details"
    }


# --- long statements ----------------------------------------------------------------------


def test_long_statements_split_at_clause_boundaries() -> None:
    clause = "design and document a relational schema for the hospital records system"
    original = "; ".join([clause] * 12) + "."
    statements = segment(original, max_chars=200)
    assert len(statements) >= 6
    assert all(len(s.text) <= 200 for s in statements)
    assert all(s.text.startswith("design") for s in statements)
    assert_spans(original, statements)


def test_long_run_without_punctuation_is_cut_at_spaces() -> None:
    original = " ".join(["database"] * 300)
    statements = segment(original, max_chars=100)
    assert all(len(s.text) <= 100 for s in statements)
    assert all(s.text.split() == ["database"] * len(s.text.split()) for s in statements)
    assert sum(len(s.text.split()) for s in statements) == 300
    assert_spans(original, statements)


def test_long_clauses_split_at_and() -> None:
    left = "develop a detailed communication plan for the stakeholders of the regional hospital network"
    right = "evaluate the outcomes of the plan against the objectives agreed with the management board"
    original = f"{left} and {right}"
    statements = segment(original, max_chars=120)
    assert texts(statements) == [left, right]


# --- phrases: the items of a list --------------------------------------------------------


@pytest.mark.parametrize(
    "text, items",
    [
        ("Java, Python and Docker", ["Java", "Python", "Docker"]),
        ("Experience with Java, Python and Docker.", ["Experience with Java", "Python", "Docker"]),
        ("5+ years of experience with Java, Python, and Docker", ["5+ years of experience with Java", "Python", "Docker"]),
        ("Knowledge of Python (pandas, numpy), SQL or Git", ["Knowledge of Python", "pandas", "numpy", "SQL", "Git"]),
        ("Tools: Jira; Confluence; GitHub Actions", ["Tools", "Jira", "Confluence", "GitHub Actions"]),
        ("Design databases, write queries and test code", ["Design databases", "write queries", "test code"]),
        ("Java and Python", ["Java", "Python"]),
    ],
)
def test_phrases_of_a_list(text: str, items: list[str]) -> None:
    found = phrases(text, offset=7)
    assert [p for p, _, _ in found] == items
    for phrase, start, end in found:
        assert text[start - 7:end - 7] == phrase


def test_phrase_spans_in_a_document() -> None:
    original = read("text_posting_backend.txt")
    statement = next(s for s in segment(original) if s.text.startswith("5+ years"))
    found = phrases(statement.text, statement.start)
    assert [p for p, _, _ in found][1:] == ["Python", "Docker"]
    assert_spans(original, [Statement(p, start, end) for p, start, end in found])
