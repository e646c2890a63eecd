"""Reading postings from CSV, JSON Lines and Parquet (streamed, errors naming file and line) and
writing demand tables as CSV, JSON and Parquet. No model needed."""

from __future__ import annotations

import gzip
import io
import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from competencymap._common.errors import CompetencyMapError
from competencymap.workflows.postings_io import (
    Columns,
    Position,
    RowError,
    output_format,
    postings_format,
    read_items,
    read_positioned,
    read_postings,
    scan_postings,
    write_table,
)

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "postings" / "sample_postings.jsonl"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path, **columns: str) -> CompetencyMapError:
    with pytest.raises(CompetencyMapError) as info:
        list(read_postings(path, **columns))
    return info.value


# -- formats --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.csv", "csv"), ("a.CSV", "csv"), ("a.jsonl", "jsonl"), ("a.ndjson", "jsonl"), ("a.jsonl.gz", "jsonl"),
     ("a.csv.gz", "csv"), ("a.parquet", "parquet"), ("a.pq", "parquet")],
)
def test_format_from_the_file_name(name: str, fmt: str) -> None:
    assert postings_format(name) == fmt


@pytest.mark.parametrize("name", ["postings.txt", "postings.json", "postings", "postings.parquet.gz", "x.xlsx"])
def test_other_file_names_are_refused(name: str) -> None:
    with pytest.raises(CompetencyMapError, match="not a postings file") as info:
        postings_format(name)
    assert info.value.path == name


def test_missing_file(tmp_path: Path) -> None:
    err = error_of(tmp_path / "nope.csv")
    assert err.line_text() == f"{tmp_path / 'nope.csv'}: file not found"


# -- CSV ------------------------------------------------------------------------------------------


def test_csv_columns_by_name_and_start_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv",
                 'ID,Job_Title,Date_Posted,Description,other\n'
                 '7,Data analyst,2026-01-12,"Use SQL.\nBuild dashboards.",x\n'
                 '\n'
                 '8,Baker,,Bake bread,y\n')
    rows = list(read_postings(path))
    assert [(r["id"], r["title"], r["posted_on"], r["text"], r["line"]) for r in rows] == [
        ("7", "Data analyst", "2026-01-12", "Use SQL.\nBuild dashboards.", 2),
        ("8", "Baker", None, "Bake bread", 5),  # the quoted text spans lines 2-3; line 4 is blank
    ]
    assert rows[0]["source"] == str(path)


def test_csv_named_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", "body,role,when\nBake bread,Baker,2026-03-01\n")
    [row] = read_postings(path, text_column="BODY", title_column="role", date_column="when")
    assert (row["text"], row["title"], row["posted_on"]) == ("Bake bread", "Baker", "2026-03-01")


def test_csv_gzip(tmp_path: Path) -> None:
    path = tmp_path / "p.csv.gz"
    path.write_bytes(gzip.compress(b"text\nBake bread\n"))
    assert [r["text"] for r in read_postings(path)] == ["Bake bread"]


@pytest.mark.parametrize(
    ("content", "columns", "expected"),
    [
        ("title,text\nBaker,Bake bread\nCook,\n", {}, ":3: posting has no text"),
        ("title,text\nBaker,Bake bread\nCook,   \n", {}, ":3: posting has no text"),
        ("title,summary\nBaker,Bake bread\n", {}, ":1: no text column: expected one of text, description"),
        ("title,text\nBaker,Bake bread\n", {"text_column": "body"}, ":1: no text column 'body'; columns are: title, text"),
        ("title,text\nBaker,Bake bread\n", {"date_column": "posted"}, ":1: no date column 'posted'"),
        ("title,text\nBaker,Bake bread,extra\n", {}, ":2: row has 3 fields, the header has 2"),
        ("", {}, ":1: empty CSV file"),
    ],
)
def test_csv_errors_name_file_and_line(tmp_path: Path, content: str, columns: dict[str, str], expected: str) -> None:
    path = write(tmp_path / "p.csv", content)
    err = error_of(path, **columns)
    assert err.line_text().startswith(str(path)) and expected in err.line_text()


def test_bytes_that_are_not_utf8_are_reported_at_their_line(tmp_path: Path) -> None:
    csv_path = tmp_path / "p.csv"
    csv_path.write_bytes(b"\xef\xbb\xbftext\nBake bread\n\xff\xfe\x00 binary\n")
    assert error_of(csv_path).line_text().startswith(f"{csv_path}:3: not UTF-8 text")
    jsonl_path = tmp_path / "p.jsonl"
    jsonl_path.write_bytes(b'\xef\xbb\xbf{"text": "a"}\n{"text": "\xff"}\n')
    assert error_of(jsonl_path).line_text().startswith(f"{jsonl_path}:2: not valid JSON")


def test_broken_gzip(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl.gz"
    path.write_bytes(b"not gzip at all")
    assert error_of(path).line_text().startswith(f"{path}: cannot read the file")


# -- JSON Lines -----------------------------------------------------------------------------------


def test_jsonl_sample_postings() -> None:
    rows = list(read_postings(SAMPLE))
    assert len(rows) == 32
    assert rows[0]["title"] == "Junior Data Analyst" and rows[0]["posted_on"] == "2026-01-12"
    assert [r["line"] for r in rows] == list(range(1, 33))


def test_jsonl_blank_lines_and_field_names(tmp_path: Path) -> None:
    path = write(tmp_path / "p.jsonl", '{"Description": "Bake bread", "Job_Title": "Baker"}\n\n{"text": "Drive trucks"}\n')
    rows = list(read_postings(path))
    assert [(r["text"], r["title"], r["line"]) for r in rows] == [("Bake bread", "Baker", 1), ("Drive trucks", "", 3)]


@pytest.mark.parametrize(
    ("content", "columns", "expected"),
    [
        ('{"text": "ok"}\n{"text": "ok"\n', {}, ":2: not valid JSON"),
        ('{"text": "ok"}\n["text"]\n', {}, ":2: each line must be a JSON object"),
        ('{"text": "ok"}\n{"title": "Cook"}\n', {}, ":2: no text field (one of text, description"),
        ('{"text": "ok"}\n{"text": ""}\n', {}, ":2: posting has no text"),
        ('{"text": "ok"}\n{"text": 12}\n', {}, ":2: posting text is a int, not a string"),
        ('{"text": "ok"}\n', {"text_column": "body"}, ":1: no text field 'body'; the fields are: text"),
        ('title,text\nBaker,Bake bread\n', {}, ":1: not valid JSON"),  # a CSV named .jsonl
    ],
)
def test_jsonl_errors_name_file_and_line(tmp_path: Path, content: str, columns: dict[str, str], expected: str) -> None:
    path = write(tmp_path / "p.jsonl", content)
    assert expected in error_of(path, **columns).line_text()


def test_reading_is_lazy(tmp_path: Path) -> None:
    """A bad line far down is only met when reading gets there: the reader streams."""
    path = write(tmp_path / "p.jsonl", '{"text": "a"}\n{"text": "b"}\nnot json\n')
    rows = read_postings(path)
    assert next(rows)["text"] == "a" and next(rows)["text"] == "b"
    with pytest.raises(CompetencyMapError, match="not valid JSON"):
        next(rows)


# -- Parquet --------------------------------------------------------------------------------------


def test_parquet_with_dates_and_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    table = pa.table({"title": ["Baker", "Driver", "Cook"], "text": ["Bake bread", "Drive trucks", "Cook meals"],
                      "posted_on": [date(2026, 1, 5), None, date(2026, 2, 1)]})
    pq.write_table(table, path, row_group_size=2)
    rows = list(read_postings(path, batch_size=2))
    assert [(r["title"], r["posted_on"], r["line"]) for r in rows] == [
        ("Baker", "2026-01-05", 1), ("Driver", None, 2), ("Cook", "2026-02-01", 3)]
    assert scan_postings(path) == 3


def test_parquet_errors(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"text": ["Bake bread", None]}), path)
    assert error_of(path).line_text() == f"{path}: row 2: posting has no text"
    pq.write_table(pa.table({"summary": ["Bake bread"]}), path)
    assert "no text column" in error_of(path).line_text()
    bad = write(tmp_path / "q.parquet", "text\nBake bread\n")
    assert error_of(bad).line_text().startswith(f"{bad}: not a readable Parquet file")


# -- the checking pass ----------------------------------------------------------------------------


def test_scan_counts_and_checks(tmp_path: Path) -> None:
    path = write(tmp_path / "p.jsonl", '{"text": "a", "date": "2026-01"}\n{"text": "b", "date": "Jan 5"}\n')

    def check(posting: dict, number: int) -> None:
        if not posting["posted_on"].startswith("2026"):
            raise CompetencyMapError("bad date", path=posting["source"], line=posting["line"])

    with pytest.raises(CompetencyMapError, match="bad date") as info:
        scan_postings(path, check=check)
    assert info.value.line == 2
    assert scan_postings(SAMPLE) == 32


def test_scan_refuses_a_file_without_postings(tmp_path: Path) -> None:
    for path in (write(tmp_path / "p.jsonl", "\n\n"), write(tmp_path / "p.csv", "text\n")):
        with pytest.raises(CompetencyMapError, match="no postings in the file"):
            scan_postings(path)


# -- reading in partitions, row errors kept ------------------------------------------------------

CSV_ROWS = ('id,title,region,text\n'
            '1,Analyst,north,"Use SQL.\nBuild dashboards."\n'
            '\n'
            '2,Baker,south,Bake bread\n'
            '3,Cook,,\n'  # no text: a row error
            '4,Driver,north,Drive trucks,extra\n'  # wrong field count: a row error
            '5,Nurse,east,"Care for patients, \u00e9t\u00e9"\n'
            '6,Welder,west,Weld steel\n')
JSONL_ROWS = ('{"id": 1, "text": "Use SQL", "region": "north"}\n'
              'not json\n'
              '\n'
              '{"id": 3, "text": "Bake bread"}\n'
              '{"id": 4, "title": "no text"}\n'
              '{"id": 5, "text": "Weld steel", "region": "west"}\n')


def as_view(item) -> tuple:
    if isinstance(item, RowError):
        return ("error", item.line or item.row, item.message)
    return (item["id"], item["line"], item["text"], item.get("groups"))


@pytest.mark.parametrize(("name", "content"), [("p.csv", CSV_ROWS), ("p.csv.gz", CSV_ROWS), ("p.jsonl", JSONL_ROWS),
                                               ("p.jsonl.gz", JSONL_ROWS)])
def test_partitions_read_back_the_whole_file(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    data = content.encode()
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    columns = Columns(groups=("region",))
    whole = list(read_positioned(path, columns))
    assert any(isinstance(item, RowError) for _, item in whole)  # kept, and reading went on
    assert len(whole) == 6 if name.startswith("p.csv") else len(whole) == 5
    for size in (1, 2, 4):
        parts = []
        for first in range(0, len(whole), size):
            parts += list(read_items(path, columns, start=whole[first][0], limit=size))
        assert [as_view(i) for i in parts] == [as_view(i) for _, i in whole]
    if not name.endswith(".gz"):  # a byte offset to seek to
        assert all(position.offset is not None for position, _ in whole) and whole[1][0].offset > 0


def test_csv_partition_items(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", CSV_ROWS)
    views = [as_view(i) for i in read_items(path, Columns(groups=("Region",)))]
    assert views[0] == ("1", 2, "Use SQL.\nBuild dashboards.", {"Region": "north"})
    assert views[1] == ("2", 5, "Bake bread", {"Region": "south"})  # the quoted text spans lines 2-3
    assert views[2] == ("error", 6, "posting has no text")
    assert views[3] == ("error", 7, "row has 5 fields, the header has 4")
    assert views[4][2] == "Care for patients, \u00e9t\u00e9"
    with pytest.raises(CompetencyMapError, match="posting has no text"):
        list(read_postings(path))  # the strict reader stops at the first bad row


def test_named_id_and_group_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", "ref,text,site\nA-1,Bake bread,x\n")
    [row] = read_postings(path, id_column="REF", group_by=["site"])
    assert row["id"] == "A-1" and row["groups"] == {"site": "x"}
    with pytest.raises(CompetencyMapError, match="no group-by column 'region'") as info:
        list(read_postings(path, group_by=["region"]))
    assert info.value.line == 1
    with pytest.raises(CompetencyMapError, match="no id column 'key'"):
        list(read_postings(path, id_column="key"))


def test_a_bad_byte_is_one_row_error(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b"text\nBake bread\n\xff\xfe binary\nWeld steel\n")
    views = [as_view(i) for i in read_items(path)]
    assert [v[0] for v in views] == ["", "error", ""] and views[1][1] == 3 and "not UTF-8" in views[1][2]


def test_parquet_partitions_by_row(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    texts = [f"posting {i}" if i != 4 else None for i in range(1, 11)]
    pq.write_table(pa.table({"text": texts, "region": [str(i % 3) for i in range(10)]}), path, row_group_size=3)
    whole = [as_view(i) for i in read_items(path, Columns(groups=("region",)), batch_size=2)]
    assert whole[3] == ("error", 4, "row 4: posting has no text") and len(whole) == 10
    for size in (1, 3, 4):
        parts = []
        for first in range(0, 10, size):
            parts += [as_view(i) for i in read_items(path, Columns(groups=("region",)), start=Position(first + 1),
                                                     limit=size, batch_size=2)]
        assert parts == whole
    assert list(read_items(path, start=Position(11))) == []


# -- writers --------------------------------------------------------------------------------------

COLUMNS = ["framework", "iri", "label", "postings", "share", "credentials_supply"]
RECORDS = [
    {"framework": "esco", "iri": "http://x/1", "label": "SQL, databases", "postings": 3, "share": 0.75, "credentials_supply": 2},
    {"framework": "esco", "iri": "http://x/2", "label": "bake \"bread\"", "postings": 1, "share": 0.25, "credentials_supply": None},
]


def test_output_format() -> None:
    assert output_format(None, None) == "csv"
    assert output_format("t.parquet", None) == "parquet" and output_format("t.json", None) == "json"
    assert output_format("t.txt", None) == "csv" and output_format("t.csv", "json") == "json"
    with pytest.raises(CompetencyMapError, match="unknown output format"):
        output_format(None, "xlsx")


def test_csv_and_json_round_trip(tmp_path: Path) -> None:
    import csv

    stream = io.StringIO()
    write_table(RECORDS, COLUMNS, "csv", stream=stream)
    rows = list(csv.DictReader(io.StringIO(stream.getvalue())))
    assert rows[0]["label"] == "SQL, databases" and rows[1]["label"] == 'bake "bread"'
    assert rows[1]["credentials_supply"] == "" and rows[0]["postings"] == "3"
    write_table(RECORDS, COLUMNS, "json", tmp_path / "t.json", meta={"postings": 4})
    body = json.loads((tmp_path / "t.json").read_text())
    assert body["meta"] == {"postings": 4} and body["columns"] == COLUMNS and body["rows"] == RECORDS


def test_parquet_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    write_table(RECORDS, COLUMNS, "parquet", path, meta={"postings": 4})
    table = pq.read_table(path)
    assert table.column_names == COLUMNS and table.to_pylist() == RECORDS
    assert table.schema.field("postings").type == pa.int64()
    assert json.loads(table.schema.metadata[b"competencymap"]) == {"postings": 4}
    with pytest.raises(CompetencyMapError, match="needs an output file"):
        write_table(RECORDS, COLUMNS, "parquet")


def test_unwritable_output(tmp_path: Path) -> None:
    with pytest.raises(CompetencyMapError, match="cannot write file") as info:
        write_table(RECORDS, COLUMNS, "csv", tmp_path / "missing" / "t.csv")
    assert info.value.path == str(tmp_path / "missing" / "t.csv")
