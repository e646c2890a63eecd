"""The gaps of a match as a table: the required needs no catalog credential covers, each with the
posting line it was found in (for a course planner or a training request).

One row per need of ``MatchReport.uncovered_by_catalog``, in need order (best first); the line is
the one holding the need's longest evidence span, so a reader can see what the posting asked.
Written with the project's CSV writer, which escapes cells a spreadsheet would run as formulas.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from competencymap._common.csv_safe import csv_writer
from competencymap.workflows.employer_match import MatchReport, Need

COLUMNS = ("label", "iri", "framework", "score", "line_number", "line")


@dataclass(frozen=True)
class PostingLine:
    number: int  # 1-based; 0 when the need names no span of the posting
    text: str


def source_line(text: str, need: Need) -> PostingLine:
    """The line of `text` holding the need's longest evidence span (stripped)."""
    spans = [e.span for e in need.evidence if e.span]
    if not spans:
        return PostingLine(0, "")
    start, _ = max(spans, key=lambda s: s[1] - s[0])
    start = min(max(start, 0), len(text))
    begin = text.rfind("\n", 0, start) + 1
    end = text.find("\n", start)
    line = text[begin:] if end < 0 else text[begin:end]
    return PostingLine(text.count("\n", 0, start) + 1, line.strip())


def gap_rows(text: str, needs: Sequence[Need]) -> list[tuple[str, str, str, float, int | str, str]]:
    """One row per need: label, IRI, framework, score, line number (blank when none) and line."""
    rows: list[tuple[str, str, str, float, int | str, str]] = []
    for need in needs:
        line = source_line(text, need)
        rows.append((need.label, need.iri, need.framework, round(need.score, 4), line.number or "", line.text))
    return rows


def gaps_csv(text: str, report: MatchReport) -> str:
    """The needs no credential covers as CSV with a header row (see :data:`COLUMNS`)."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(gap_rows(text, report.uncovered_by_catalog))
    return out.getvalue()
