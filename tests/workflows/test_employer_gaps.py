"""The needs no credential covers as CSV: one row per gap with the posting line it came from,
formula cells escaped."""

from __future__ import annotations

import csv
import io

from competencymap.mapping.results import Evidence
from competencymap.workflows.employer_gaps import COLUMNS, PostingLine, gap_rows, gaps_csv, source_line
from competencymap.workflows.employer_match import MatchReport, Need

TEXT = "Line cook\n\nDuties:\n=HYPERLINK(\"http://evil.example\",\"x\") bake bread daily\n- Keep the grill clean\n"
E = "http://example.org/esco/"


def _span(text: str, part: str) -> tuple[int, int]:
    start = TEXT.index(part)
    return start, start + len(part)


def need(name: str, score: float, *parts: str) -> Need:
    evidence = tuple(Evidence("label", "pref_label", name, score, _span(TEXT, p)) for p in parts)
    return Need(E + name, name, "esco", score, evidence)


def test_the_source_line_holds_the_longest_evidence_span() -> None:
    bake = need("bake", 0.9, "bread", "bake bread daily")
    assert source_line(TEXT, bake).number == 4
    assert source_line(TEXT, bake).text.startswith("=HYPERLINK") and source_line(TEXT, bake).text.endswith("daily")
    assert source_line(TEXT, need("grill", 0.5, "grill")).text == "- Keep the grill clean"
    assert source_line(TEXT, Need(E + "x", "x", "esco", 0.1)) == PostingLine(0, "")  # no span: no line


def test_gap_rows_follow_the_report_order_with_rounded_scores() -> None:
    rows = gap_rows(TEXT, [need("grill", 0.512345, "grill"), Need(E + "lone", "lone", "sfs", 0.3)])
    assert rows == [("grill", E + "grill", "esco", 0.5123, 5, "- Keep the grill clean"),
                    ("lone", E + "lone", "sfs", 0.3, "", "")]


def test_gaps_csv_escapes_formula_cells_and_lists_only_the_gaps() -> None:
    covered, bake, grill = need("cook", 1.0, "Line cook"), need("bake", 0.9, "bake bread"), need("grill", 0.5, "grill")
    report = MatchReport(needs=[covered, bake, grill], credentials=[], stack=[], stack_covered=[covered.iri],
                         uncovered_by_catalog=[bake, grill])
    rows = list(csv.reader(io.StringIO(gaps_csv(TEXT, report))))
    assert tuple(rows[0]) == COLUMNS == ("label", "iri", "framework", "score", "line_number", "line")
    assert [r[0] for r in rows[1:]] == ["bake", "grill"]
    assert rows[1][5].startswith("'=HYPERLINK") and rows[2][5] == "'- Keep the grill clean"
    assert rows[1][3] == "0.9" and rows[1][4] == "4"


def test_no_gaps_is_a_header_only() -> None:
    report = MatchReport(needs=[], credentials=[], stack=[], stack_covered=[], uncovered_by_catalog=[])
    assert gaps_csv(TEXT, report) == ",".join(COLUMNS) + "\n"
