"""`competencymap demand` as a user runs it: a real process, files in and out, and bad input
answered with one `error:` line naming the file and line, exit code 1, never a traceback."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from competencymap.catalog import Catalog, read_credentials_file

DATA = Path(__file__).resolve().parents[1] / "data"
MINI = "http://data.europa.eu/esco/skill/"
POSTGRES = MINI + "a8d07b5a-c1a1-42c6-9d53-db9c7a2ca996"
JAVA = MINI + "19a8293b-8e95-4de3-983f-77484079c389"
BREAD = "prepare bread products"

POSTINGS = [
    {"title": "Backend developer", "posted_on": "2026-01-05",
     "text": "Requirements:\n- Experience with PostgreSQL\n- Strong Java skills\nWe offer dental benefits."},
    {"title": "Java developer", "posted_on": "2026-01-20",
     "text": "You will write Java code every day and review pull requests."},
    {"title": "Baker", "posted_on": "2026-02-02", "text": "Bake bread and pastries every morning."},
]


def run(home: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COMPETENCYMAP_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "competencymap", "demand", *args], capture_output=True, text=True,
                          env=env, timeout=300, cwd=cwd)


def run_here(home: Path, *args: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """The same command in this process (the model's imports are already paid for): exit code, stdout, stderr."""
    from click.testing import CliRunner

    from competencymap.cli import main

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = CliRunner().invoke(main, ["demand", *args, "--home", str(home)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and done.stdout == ""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0].removeprefix("error: ")


# -- bad input: no model is loaded before the file has been checked -------------------------------


@pytest.mark.parametrize(
    ("name", "content", "args", "expected"),
    [
        ("missing.csv", None, [], "{path}: file not found"),
        ("postings.txt", "text\nBake bread\n", [], "{path}: not a postings file"),
        ("postings.csv", "title,text\nBaker,Bake bread\nCook,\n", [], "{path}:3: posting has no text"),
        ("postings.csv", "title,text\nBaker,Bake bread\n", ["--text-column", "body"], "{path}:1: no text column 'body'"),
        ("postings.jsonl", '{"text": "Bake bread"}\n{"text": "Cook"\n', [], "{path}:2: not valid JSON"),
        ("postings.jsonl", '{"text": "Bake bread"}\n{"title": "Cook"}\n', [], "{path}:2: no text field"),
        ("postings.jsonl", '{"text": "a", "posted_on": "2026-01-02"}\n{"text": "b", "posted_on": "5 Jan"}\n',
         ["--by-month"], "{path}:2: posting date '5 Jan' is not an ISO date"),
        ("postings.jsonl", "\n", [], "{path}: no postings in the file"),
        ("postings.parquet", "text\nBake bread\n", [], "{path}: not a readable Parquet file"),
        ("postings.jsonl", '{"text": "Bake bread"}\n', ["--format", "parquet"], "Parquet output needs an output file"),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, name: str, content: str | None, args: list[str], expected: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    message = one_error_line(run(tmp_path, str(path), *args))
    assert message.startswith(expected.format(path=path)), message


def test_a_parquet_row_without_text(tmp_path: Path) -> None:
    path = tmp_path / "postings.parquet"
    pq.write_table(pa.table({"title": ["Baker", "Cook"], "text": ["Bake bread", None]}), path)
    assert one_error_line(run(tmp_path, str(path))) == f"{path}: row 2: posting has no text"


def test_unknown_framework_and_catalog(tmp_path: Path) -> None:
    path = tmp_path / "postings.jsonl"
    path.write_text('{"text": "Bake bread"}\n', encoding="utf-8")
    assert "unknown framework" in one_error_line(run(tmp_path, str(path), "-f", "nope", "--no-catalog"))
    wrong = f"sqlite:///{tmp_path / 'typo.sqlite'}"
    assert one_error_line(run(tmp_path, str(path), "--catalog-db", wrong)) == f"no catalog database at {wrong}"
    assert not (tmp_path / "typo.sqlite").exists()


# -- with the real engine -------------------------------------------------------------------------


@pytest.fixture()
def catalog_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    catalog = Catalog(url)
    [first, *_] = catalog.import_credentials(read_credentials_file(DATA / "catalog" / "sample_credentials.json"))
    catalog.add_manual_tag(first.id, first.learning_outcomes[0].id,
                           {"competency_iri": POSTGRES, "label": "PostgreSQL", "framework": "esco"}, decided_by="tester")
    catalog.close()
    return url


@pytest.mark.model
def test_csv_in_json_out_with_supply(built_home: Path, tmp_path: Path, catalog_url: str) -> None:
    path = write_csv(tmp_path / "postings.csv", [{"Job_Title": p["title"], "Description": p["text"]} for p in POSTINGS])
    done = run(built_home, str(path), "-f", "mini", "--catalog-db", catalog_url, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    body = json.loads(done.stdout)
    assert body["columns"] == ["framework", "level", "iri", "label", "postings", "share", "credentials_supply"]
    assert body["meta"]["postings"] == 3 and body["meta"]["catalog_credentials_with_accepted_tags"] == 1
    rows = {r["iri"]: r for r in body["rows"]}
    assert rows[JAVA]["postings"] == 2 and rows[JAVA]["share"] == pytest.approx(0.6667)
    assert rows[POSTGRES]["credentials_supply"] == 1 and rows[JAVA]["credentials_supply"] == 0
    assert any(r["label"] == BREAD for r in body["rows"])


@pytest.mark.model
def test_parquet_in_parquet_out_by_month(built_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "postings.parquet"
    pq.write_table(pa.Table.from_pylist(POSTINGS), path)
    out = tmp_path / "demand.parquet"
    code, stdout, stderr = run_here(built_home, str(path), "-f", "mini", "--by-month", "--top", "2", "--no-catalog",
                                    "-o", str(out), monkeypatch=monkeypatch)
    assert code == 0, stderr
    assert stdout == "" and f"written to {out}" in stderr
    table = pq.read_table(out)
    assert table.column_names[:2] == ["month", "framework"] and table.schema.field("postings").type == pa.int64()
    rows = table.to_pylist()
    assert {r["month"] for r in rows} == {"2026-01", "2026-02"}
    assert all(r["credentials_supply"] is None for r in rows)
    jan = [r for r in rows if r["month"] == "2026-01" and r["level"] == "competency"]
    assert len(jan) == 2 and jan[0]["iri"] == JAVA and jan[0]["postings"] == 2
    meta = json.loads(table.schema.metadata[b"competencymap"])
    assert meta["by_month"] is True and [c["postings"] for c in meta["cells"]] == [2, 1]


@pytest.mark.model
def test_csv_output_to_stdout(built_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "postings.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in POSTINGS[2:]) + "\n", encoding="utf-8")
    code, stdout, stderr = run_here(built_home, str(path), "-f", "mini", "--no-catalog", "--no-rollup", "-q",
                                    monkeypatch=monkeypatch)
    assert code == 0, stderr
    rows = list(csv.DictReader(io.StringIO(stdout)))
    assert rows[0]["label"] == BREAD and rows[0]["postings"] == "1" and rows[0]["share"] == "1.0"
    assert {r["level"] for r in rows} == {"competency"} and rows[0]["credentials_supply"] == ""
