"""Corpus inputs and partitions: files, folders and globs; one scan that cuts each file into
partitions of N rows whose reads give back the whole file; per-posting files round trip. No model."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from competencymap._common.errors import CompetencyMapError
from competencymap.workflows.demand.corpus.inputs import resolve_inputs
from competencymap.workflows.demand.corpus.output import OutputFolder, read_postings_file, write_postings
from competencymap.workflows.demand.corpus.partitions import plan_partitions
from competencymap.workflows.demand.options import DemandOptions
from competencymap.workflows.demand.postings import MappedPosting, ProfileEntry
from competencymap.workflows.postings_io import Columns, RowError, read_items


def corpus(folder: Path) -> Path:
    folder.mkdir()
    (folder / "a.jsonl").write_text("".join(json.dumps({"text": f"posting a{i}", "id": f"a{i}"}) + "\n" for i in range(7)))
    (folder / "sub").mkdir()
    (folder / "sub" / "b.csv.gz").write_bytes(gzip.compress(
        ("id,text\n" + "".join(f'b{i},"posting\nb{i}"\n' for i in range(5)) + "b5,\n").encode()))
    pq.write_table(pa.table({"text": [f"posting c{i}" for i in range(4)], "id": [f"c{i}" for i in range(4)]}),
                   folder / "c.parquet", row_group_size=3)
    (folder / "notes.txt").write_text("not postings")
    return folder


def test_folder_glob_and_file_inputs(tmp_path: Path) -> None:
    root = corpus(tmp_path / "in")
    files = resolve_inputs([str(root)])
    assert [Path(f.name).name for f in files] == ["a.jsonl", "c.parquet", "b.csv.gz"]  # sorted by path, recursive
    assert [f.number for f in files] == [0, 1, 2] and all(len(f.sha256) == 64 for f in files)
    assert [f.format for f in files] == ["jsonl", "parquet", "csv"]
    globbed = resolve_inputs([str(root / "*.jsonl"), str(root / "a.jsonl"), str(root / "**" / "*.gz")])
    assert [Path(f.name).name for f in globbed] == ["a.jsonl", "b.csv.gz"]  # the same file once
    with pytest.raises(CompetencyMapError, match="no postings file .* matches"):
        resolve_inputs([str(root / "*.xlsx")])
    with pytest.raises(CompetencyMapError, match="not a postings file"):
        resolve_inputs([str(root / "notes.txt")])
    with pytest.raises(CompetencyMapError, match="file not found"):
        resolve_inputs([str(root / "missing.csv")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(CompetencyMapError, match="no postings file .* in the folder"):
        resolve_inputs([str(tmp_path / "empty")])


def test_partitions_cover_every_row_once(tmp_path: Path) -> None:
    files = resolve_inputs([str(corpus(tmp_path / "in"))])
    plan = plan_partitions(files, Columns(), size=3)
    assert plan.rows == {0: 7, 1: 4, 2: 6} and plan.bad_rows == {0: 0, 1: 0, 2: 1} and plan.total == 17
    assert [(p.id, p.count, p.first) for p in plan.partitions] == [
        ("0000-00000", 3, 0), ("0000-00001", 3, 3), ("0000-00002", 1, 6),
        ("0001-00000", 3, 0), ("0001-00001", 1, 3), ("0002-00000", 3, 0), ("0002-00001", 3, 3)]
    assert [p.postings for p in plan.partitions] == [3, 3, 1, 3, 1, 3, 2]  # the last holds the row without text
    assert plan.postings == 16
    seen = []
    for p in plan.partitions:
        seen += [item.message if isinstance(item, RowError) else item["id"]
                 for item in read_items(p.path, Columns(), start=p.start, limit=p.count)]
    assert seen == [*(f"a{i}" for i in range(7)), *(f"c{i}" for i in range(4)), *(f"b{i}" for i in range(5)),
                    "posting has no text"]
    assert plan_partitions(files, Columns(), size=3) == plan  # the same inputs cut the same way


def test_a_file_error_fails_the_scan_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("title,summary\nBaker,Bake bread\n")
    files = resolve_inputs([str(tmp_path / "p.csv")])
    with pytest.raises(CompetencyMapError) as info:
        plan_partitions(files, Columns(), size=3)
    assert info.value.line_text().startswith(f"{tmp_path / 'p.csv'}:1: no text column")
    (tmp_path / "q.jsonl").write_text("\n")
    with pytest.raises(CompetencyMapError, match="no postings in"):
        plan_partitions(resolve_inputs([str(tmp_path / "q.jsonl")]), Columns())


def test_per_posting_file_round_trip(tmp_path: Path) -> None:
    options = DemandOptions(frameworks=("esco", "sfs"), by_month=True, group_by=("region",))
    postings = [
        MappedPosting("p1", (ProfileEntry("esco", 1, "http://x/sql", "SQL", 1.2, True),
                             ProfileEntry("esco", 2, "http://x/mysql", "MySQL", 1.1, True, grouped_under="http://x/sql"),
                             ProfileEntry("esco", 3, "http://x/java", "Java", 0.5, False),
                             ProfileEntry("sfs", 1, "http://s/digital", "Digital", 0.7, True)),
                      statements=4, month="2026-01", groups=("north",), source="a.jsonl", line=1),
        MappedPosting("p1", (), statements=0, month="unknown", groups=("(none)",), source="a.jsonl", line=2),  # same id
        MappedPosting("p3", (ProfileEntry("esco", 1, "http://x/sql", "SQL", 0.9, True),), statements=1,
                      month="2026-02", groups=("south",), source="b.jsonl", line=1),
    ]
    folder = OutputFolder(tmp_path / "out")
    folder.create()
    path = folder.postings_path("0000-00000")
    write_postings(path, postings, options)
    assert read_postings_file(path, options) == postings
    table = pq.read_table(path)
    assert table.column_names == ["posting_id", "source", "line", "framework", "rank", "iri", "label", "score",
                                  "confident", "optional", "statements", "grouped_under", "not_read", "month", "region"]
    assert table.column("grouped_under").to_pylist() == [None, "http://x/sql", None, None, None, None]
    assert table.num_rows == 6 and list(path.parent.iterdir()) == [path]  # no temporary file left
    assert [e.iri for e in postings[0].needs(["esco", "sfs"])] == ["http://x/sql", "http://s/digital"]  # a group once
    pq.write_table(table.drop(["grouped_under"]), path)  # written before format 2: nothing was grouped
    assert [e.grouped_under for p in read_postings_file(path, options) for e in p.entries] == [""] * 5
