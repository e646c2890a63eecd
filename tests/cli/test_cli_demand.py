"""`competencymap demand` as a user runs it: a real process, files in and out, and bad input
answered with one `error:` line naming the file and line, exit code 1, never a traceback. The
default run is on a local Dask cluster: bad rows are recorded and skipped (exit code 3); a run
killed with SIGKILL resumes into the same folder and gives the table of an uninterrupted run."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from competencymap.catalog import Catalog, read_credentials_file
from competencymap.cli import main

DATA = Path(__file__).resolve().parents[2] / "data"
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


@dataclass
class Done:
    """What a CLI run left: exit code, stdout and stderr."""

    returncode: int
    stdout: str
    stderr: str


def run(home: Path, *args: str, cwd: Path | None = None) -> Done:
    """`competencymap demand ARGS` in process (click's CliRunner), `home` as COMPETENCYMAP_HOME, in `cwd`.
    The torch backend gives embeddings that do not depend on the rest of the batch, so differently
    batched runs agree exactly."""
    env = {"COMPETENCYMAP_HOME": str(home), "HF_HUB_OFFLINE": "1", "COMPETENCYMAP_BACKEND": "torch"}
    here = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = CliRunner().invoke(main, ["demand", *args], env=env, prog_name="competencymap")
    finally:
        os.chdir(here)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback the user would have seen
    return Done(result.exit_code, result.stdout, result.stderr)


def run_here(home: Path, *args: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """`run` with `--home`: exit code, stdout, stderr."""
    done = run(home, *args, "--home", str(home))
    return done.returncode, done.stdout, done.stderr


def process_env(home: Path) -> dict[str, str]:
    """The environment of a real `competencymap` process (for the one test that kills a run)."""
    return {**os.environ, "COMPETENCYMAP_HOME": str(home), "HF_HUB_OFFLINE": "1", "COMPETENCYMAP_BACKEND": "torch"}


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def one_error_line(done: Done) -> str:
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
        ("postings.csv", "title,text\nBaker,Bake bread\n", ["--text-column", "body"], "{path}:1: no text column 'body'"),
        ("postings.csv", "title,text\nBaker,Bake bread\n", ["--group-by", "region"], "{path}:1: no group-by column 'region'"),
        ("postings.jsonl", "\n", [], "{path}: no postings in the file"),
        ("postings.parquet", "text\nBake bread\n", [], "{path}: not a readable Parquet file"),
        ("postings.jsonl", '{"text": "Bake bread"}\n', ["--format", "parquet"], "Parquet output needs an output file"),
        ("postings.jsonl", '{"text": "Bake bread"}\n', ["--single-process", "-o", "run"], "--single-process writes no run folder"),
        # one bad row stops a single-process run, naming the file and line
        ("postings.csv", "title,text\nBaker,Bake bread\nCook,\n", ["--single-process"], "{path}:3: posting has no text"),
        ("postings.jsonl", '{"text": "Bake bread"}\n{"text": "Cook"\n', ["--single-process"], "{path}:2: not valid JSON"),
        ("postings.jsonl", '{"text": "Bake bread"}\n{"title": "Cook"}\n', ["--single-process"], "{path}:2: no text field"),
        ("postings.jsonl", '{"text": "a", "posted_on": "2026-01-02"}\n{"text": "b", "posted_on": "5 Jan"}\n',
         ["--by-month", "--single-process"], "{path}:2: posting date '5 Jan' is not an ISO date"),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, name: str, content: str | None, args: list[str], expected: str) -> None:
    """File errors fail before any cluster starts; a bad row fails a single-process run."""
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    message = one_error_line(run(tmp_path, str(path), *args, cwd=tmp_path))
    assert message.startswith(expected.format(path=path)), message


def test_a_parquet_row_without_text(tmp_path: Path) -> None:
    path = tmp_path / "postings.parquet"
    pq.write_table(pa.table({"title": ["Baker", "Cook"], "text": ["Bake bread", None]}), path)
    assert one_error_line(run(tmp_path, str(path), "--single-process")) == f"{path}: row 2: posting has no text"


def test_unknown_framework_and_catalog(tmp_path: Path) -> None:
    path = tmp_path / "postings.jsonl"
    path.write_text('{"text": "Bake bread"}\n', encoding="utf-8")
    assert "unknown framework" in one_error_line(run(tmp_path, str(path), "-f", "nope", "--no-catalog", "--single-process"))
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
    done = run(built_home, str(path), "-f", "mini", "--catalog-db", catalog_url, "--format", "json", "--workers", "1",
               "--partition-size", "2")
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
                                    "-o", str(out), "--single-process", monkeypatch=monkeypatch)
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
                                    "--single-process", monkeypatch=monkeypatch)
    assert code == 0, stderr
    rows = list(csv.DictReader(io.StringIO(stdout)))
    assert rows[0]["label"] == BREAD and rows[0]["postings"] == "1" and rows[0]["share"] == "1.0"
    assert {r["level"] for r in rows} == {"competency"} and rows[0]["credentials_supply"] == ""


# -- a run folder that cannot be written, or that another run holds --------------------------------


def stopped_run(home: Path, postings: Path, out: Path) -> None:
    """The folder a stopped `competencymap demand POSTINGS -f mini -o OUT` leaves: its manifest, nothing mapped."""
    from competencymap._common.config import load_settings
    from competencymap.workflows.demand.corpus.output import FORMAT
    from competencymap.workflows.demand.corpus.run import CorpusOptions, prepare_corpus
    from competencymap.workflows.demand.options import DemandOptions

    prepared = prepare_corpus(load_settings(home=home), [str(postings)], out, CorpusOptions(DemandOptions(frameworks=("mini",))))
    prepared.folder.create()
    prepared.folder.write_manifest({"format": FORMAT, "state": "running", "run": prepared.signature, "runs": []})


@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC])
def test_resuming_into_a_read_only_or_full_folder_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              code: int) -> None:
    postings = tmp_path / "postings.jsonl"
    postings.write_text('{"text": "Bake bread"}\n', encoding="utf-8")
    out = tmp_path / "run"
    stopped_run(tmp_path, postings, out)
    inside = str(out)
    real_os_open, real_open, real_unlink = os.open, Path.open, Path.unlink

    def refused(path: object) -> OSError:  # tests run as root, where chmod stops no write
        return OSError(code, os.strerror(code), str(path))

    def os_open(path: Any, flags: int, *args: Any) -> int:
        if str(path).startswith(inside) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise refused(path)
        return real_os_open(path, flags, *args)

    def path_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if str(self).startswith(inside) and set(mode) & set("wax+"):
            raise refused(self)
        return real_open(self, mode, *args, **kwargs)

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if str(self).startswith(inside):
            raise refused(self)
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(Path, "open", path_open)
    monkeypatch.setattr(Path, "unlink", unlink)
    status, stdout, stderr = run_here(tmp_path, str(postings), "-f", "mini", "--no-catalog", "-q", "-o", str(out),
                                      monkeypatch=monkeypatch)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert status == 1 and stdout == "" and len(lines) == 1, stderr
    assert lines[0].startswith(f"error: {out}: cannot write ") and lines[0].endswith(os.strerror(code)), lines


def test_a_second_run_into_a_folder_is_refused_naming_the_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from competencymap.workflows.demand.corpus.output import OutputFolder

    postings = tmp_path / "postings.jsonl"
    postings.write_text('{"text": "Bake bread"}\n', encoding="utf-8")
    out = tmp_path / "run"
    stopped_run(tmp_path, postings, out)
    with OutputFolder(out).locked():  # the first run, still running
        status, stdout, stderr = run_here(tmp_path, str(postings), "-f", "mini", "--no-catalog", "-q", "-o", str(out),
                                          monkeypatch=monkeypatch)
    assert status == 1 and stdout == "", stderr
    assert stderr.strip() == (f"error: {out}: another corpus run is writing this folder (pid {os.getpid()} on "
                              f"{os.uname().nodename}, started {stderr.split(', started ')[1].split(')')[0]}); "
                              "wait for it to finish or name another --output folder")


# -- a corpus run killed and resumed ---------------------------------------------------------------

STATEMENTS = ["Experience with PostgreSQL databases.", "Strong Java skills.", "Write Python scripts.",
              "Bake bread every morning.", "Drive delivery vehicles.", "Use spreadsheets to track orders.",
              "Perform data analysis on sales.", "Manage the team budget.", "Good teamwork.", "Write SQL queries."]


def corpus_lines(n: int) -> list[str]:
    return [json.dumps({"id": f"p{i}", "posted_on": f"2026-0{1 + i % 2}-15",
                        "text": " ".join(STATEMENTS[(i * 3 + k * 7) % len(STATEMENTS)] for k in range(2 + i % 2))})
            for i in range(n)]


def partitions_in(folder: Path) -> int:
    return len(list((folder / "postings").glob("part-*.parquet"))) if (folder / "postings").is_dir() else 0


@pytest.mark.model
def test_a_killed_client_resumes_to_the_uninterrupted_table(built_home: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import psutil

    clean = tmp_path / "clean.jsonl"
    clean.write_text("\n".join(corpus_lines(24)) + "\n", encoding="utf-8")
    code, reference, stderr = run_here(built_home, str(clean), "-f", "mini", "--by-month", "--no-catalog", "-q",
                                       "--single-process", monkeypatch=monkeypatch)
    assert code == 0, stderr
    corpus = tmp_path / "corpus.jsonl"  # the same postings and one bad row: skipped, recorded
    corpus.write_text("\n".join([*corpus_lines(24), '{"title": "no text"}']) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    command = [sys.executable, "-m", "competencymap", "demand", str(corpus), "-f", "mini", "--by-month", "--no-catalog",
               "-o", str(out), "--workers", "1", "--partition-size", "2", "--format", "csv", "-q"]
    process = subprocess.Popen(command, env=process_env(built_home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while partitions_in(out) == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    children = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    done = partitions_in(out)
    assert 0 < done < 13, (done, process.stderr.read().decode() if process.stderr else "")
    psutil.wait_procs(children, timeout=30)
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]  # its workers went too
    resumed = subprocess.run(command, env=process_env(built_home), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 3, resumed.stderr  # one posting left out
    assert f"resuming: {done} of 13 partitions already mapped" in resumed.stderr
    assert f"each one is listed with its reason in {out / 'errors.jsonl'}" in resumed.stderr
    assert resumed.stdout == reference  # the table of the uninterrupted single-process run
    assert (out / "demand.csv").read_text() == reference
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["partitions_reused"] == done and manifest["counts"]["partitions_mapped_by_this_run"] == 13 - done
    assert [json.loads(line)["reason"] for line in (out / "errors.jsonl").read_text().splitlines()] == [
        "no text field (one of text, description, job_description, body, posting_text); the fields are: title"]
