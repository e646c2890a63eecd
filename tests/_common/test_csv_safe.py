"""One CSV writer for every CSV the project writes: a text cell a spreadsheet would run as a
formula (=, +, -, @, tab, carriage return first) is written with a leading apostrophe; numbers
stay numbers (a negative number is not a formula)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from competencymap._common.csv_safe import csv_writer, safe_cell
from competencymap.workflows.postings_io import write_csv, write_table

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("value", FORMULAS)
def test_a_formula_cell_is_defused(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Toronto", "", "a=b", "2026-01", None, -3, -0.5, 7, 0.25, True])
def test_other_cells_are_kept(value: object) -> None:
    assert safe_cell(value) == value


def test_the_writer_defuses_every_row() -> None:
    stream = io.StringIO()
    writer = csv_writer(stream)
    writer.writerow(["region", "postings", "share"])
    writer.writerows([[FORMULAS[0], -3, -0.5]])
    assert list(csv.reader(io.StringIO(stream.getvalue()))) == [["region", "postings", "share"],
                                                                 ["'" + FORMULAS[0], "-3", "-0.5"]]


def test_the_demand_table_csv_defuses_group_values(tmp_path: Path) -> None:
    """`competencymap demand --group-by region` writes a region value as a cell of demand.csv."""
    values = FORMULAS[:-1]  # a lone carriage return is no cell the reader below takes back
    records = [{"region": value, "postings": -3, "share": 0.5} for value in values]
    stream = io.StringIO()
    write_csv(records, ["region", "postings", "share"], stream)
    rows = list(csv.DictReader(io.StringIO(stream.getvalue())))
    assert [r["region"] for r in rows] == ["'" + v for v in values]
    assert {r["postings"] for r in rows} == {"-3"}
    path = tmp_path / "demand.csv"
    write_table(records, ["region", "postings", "share"], "csv", path)
    assert path.read_text(encoding="utf-8") == stream.getvalue()
