"""Corpus runs on a local Dask cluster (2 worker processes) with the ESCO slice: the same table as
the single-process path, per-posting files, errors kept with their reason, resume after lost
partitions, a worker killed mid-run, and folders that hold another run."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from competencymap._common.config import load_settings
from competencymap._common.errors import CompetencyMapError
from competencymap.catalog import Catalog, read_credentials_file
from competencymap.workflows.demand.corpus.run import CorpusOptions, RunProgress, run_corpus
from competencymap.workflows.demand.options import DemandOptions
from competencymap.workflows.demand.single import demand
from competencymap.workflows.employer_match import catalog_offers
from competencymap.workflows.postings_io import Columns, read_postings

pytestmark = pytest.mark.model
DATA = Path(__file__).resolve().parents[2] / "data"
POSTGRES = "http://data.europa.eu/esco/skill/a8d07b5a-c1a1-42c6-9d53-db9c7a2ca996"
STATEMENTS = ["Experience with PostgreSQL databases.", "Strong Java skills.", "Write Python scripts.",
              "Bake bread every morning.", "Prepare bread products and pastries.", "Drive delivery vehicles.",
              "Use spreadsheets to track orders.", "Perform data analysis on sales.", "Manage the team budget.",
              "Communicate well with customers.", "Good teamwork.", "Write SQL queries."]
REGIONS = ["north", "south", "east"]


def settings_for(home: Path):
    """The slice's settings on the torch backend: its embeddings do not depend on what else is in
    the batch (dynamically quantized int8 ones do, by a few hundredths of a score), so tables of
    differently batched runs can be compared exactly."""
    settings = load_settings(home=home)
    return replace(settings, backend="torch") if hasattr(settings, "backend") else settings


def posting(i: int) -> dict:
    picked = [STATEMENTS[(i * 5 + k * 7) % len(STATEMENTS)] for k in range(2 + i % 3)]
    return {"id": f"p{i}", "title": "", "text": " ".join(picked), "posted_on": f"2026-0{1 + i % 3}-1{i % 9}",
            "region": REGIONS[i % 3]}


def write_inputs(folder: Path) -> Path:
    """Two files, 27 rows, bad rows of every kind: partitions of 4 rows, batches of 3."""
    folder.mkdir()
    lines = [json.dumps(posting(i)) for i in range(14)]
    lines[3] = "not json at all"  # a read error
    lines[6] = json.dumps({**posting(6), "text": "Bake bread \u0001 daily."})  # fails in the engine
    lines[9] = json.dumps({**posting(9), "posted_on": "5 Jan"})  # mapped, counted under 'unknown'
    lines[11] = json.dumps({**posting(11), "text": "   "})  # no text
    (folder / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = ["id,text,posted_on,region"] + [f'{p["id"]},"{p["text"]}",{p["posted_on"]},{p["region"]}'
                                         for p in map(posting, range(14, 27))]
    (folder / "b.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


OPTIONS = CorpusOptions(DemandOptions(frameworks=("mini",), by_month=True, group_by=("region",), chunk_size=3),
                        Columns(groups=("region",)), partition_size=4)


@pytest.fixture(scope="module")
def client() -> Iterator:
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                           env={"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}, silence_logs=50)
    with Client(cluster) as dask:
        yield dask
    cluster.close()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_inputs(tmp_path_factory.mktemp("corpus") / "in")


@pytest.fixture(scope="module")
def offers(tmp_path_factory: pytest.TempPathFactory) -> list:
    catalog = Catalog(f"sqlite:///{tmp_path_factory.mktemp('catalog') / 'catalog.sqlite'}")
    [first, *_] = catalog.import_credentials(read_credentials_file(DATA / "catalog" / "sample_credentials.json"))
    catalog.add_manual_tag(first.id, first.learning_outcomes[0].id,
                           {"competency_iri": POSTGRES, "label": "PostgreSQL", "framework": "esco"}, decided_by="tester")
    found = catalog_offers(catalog)
    catalog.close()
    return found


@pytest.fixture(scope="module")
def told() -> list[RunProgress]:
    """What the first run told of its progress."""
    return []


@pytest.fixture(scope="module")
def first_run(built_home: Path, client, inputs: Path, offers: list, told: list,
              tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("runs") / "out"
    return run_corpus(settings_for(built_home), [str(inputs)], out, OPTIONS, client=client, offers=offers,
                      on_progress=told.append, catalog_credentials=12)


def good_postings(inputs: Path) -> list[dict]:
    """What the single-process path is given: the rows the corpus run can map, the bad date dropped."""
    out = []
    for name in ("a.jsonl", "b.csv"):
        for line in (inputs / name).read_text().splitlines()[1 if name == "b.csv" else 0:]:
            if line.startswith("not json") or "\\u0001" in line or '"   "' in line:
                continue
            out.append(line)
    rows = [json.loads(line) for line in out if line.startswith("{")]
    rows = [{**r, "posted_on": None} if r["posted_on"] == "5 Jan" else r for r in rows]
    return rows + list(read_postings(inputs / "b.csv", group_by=["region"]))


def test_the_table_is_the_single_process_table(built_home: Path, first_run, inputs: Path, offers: list,
                                               tmp_path: Path) -> None:
    from competencymap.engine import CompetencyMap

    catalog = Catalog(f"sqlite:///{tmp_path / 'same.sqlite'}")
    [first, *_] = catalog.import_credentials(read_credentials_file(DATA / "catalog" / "sample_credentials.json"))
    catalog.add_manual_tag(first.id, first.learning_outcomes[0].id,
                           {"competency_iri": POSTGRES, "label": "PostgreSQL", "framework": "esco"}, decided_by="tester")
    app = CompetencyMap(settings_for(built_home))
    expected = demand(app, good_postings(inputs), frameworks=["mini"], by_month=True, group_by=["region"],
                      catalog=catalog, chunk_size=5)
    catalog.close()
    table = first_run.table
    assert table.postings == expected.postings == 24 and table.statements == expected.statements
    assert table.records() == expected.records()
    assert table.supply_credentials == 1 and any(r.credentials_supply for r in table.rows if r.iri == POSTGRES)
    assert table.columns()[:2] == ["month", "region"]


def test_output_folder_files(first_run) -> None:
    out = first_run.folder
    parts = sorted(p.name for p in (out / "postings").iterdir())
    assert parts == [f"part-0000-{i:05d}.parquet" for i in range(4)] + [f"part-0001-{i:05d}.parquet" for i in range(4)]
    rows = pq.read_table(out / "postings").to_pylist() if False else [
        r for p in sorted((out / "postings").iterdir()) for r in pq.read_table(p).to_pylist()]
    assert {r["posting_id"] for r in rows} == {f"p{i}" for i in range(27)} - {"p3", "p6", "p11"}
    assert {r["region"] for r in rows} == set(REGIONS) and all(r["month"] for r in rows)
    assert next(r for r in rows if r["posting_id"] == "p9")["month"] == "unknown"
    assert all(r["framework"] == "mini" and r["rank"] >= 1 and isinstance(r["confident"], bool) for r in rows)
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert [(e["line"], e["stage"], e["counted"]) for e in errors] == [(4, "read", False), (7, "map", False),
                                                                       (10, "date", True), (12, "read", False)]
    assert "control character U+0001" in errors[1]["reason"] and errors[1]["posting_id"] == "p6"
    assert errors[0]["reason"].startswith("not valid JSON") and errors[3]["reason"] == "posting has no text"
    demand_csv = (out / "demand.csv").read_text().splitlines()
    assert demand_csv[0] == ",".join(first_run.table.columns()) and len(demand_csv) == len(first_run.table.rows) + 1
    assert pq.read_table(out / "demand.parquet").num_rows == len(first_run.table.rows)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["state"] == "complete" and manifest["engine"]["model"] and "mini" in manifest["engine"]["frameworks"]
    assert [len(i["sha256"]) for i in manifest["inputs"]] == [64, 64] and manifest["inputs"][0]["bad_rows"] == 2
    assert manifest["counts"]["rows"] == 27 and manifest["counts"]["errors"] == 4
    assert manifest["counts"]["postings_left_out"] == 3 and manifest["counts"]["postings_counted"] == 24
    assert manifest["timings"]["map_seconds"] > 0 and manifest["workers"]
    assert first_run.table.meta()["postings_with_errors"] == 3


def test_progress_is_told_in_postings_as_each_partition_finishes(first_run, told: list) -> None:
    """27 rows in partitions of 4 (8 partitions); 2 rows read as no posting (not JSON, no text)."""
    assert (told[0].postings_done, told[0].partitions_done, told[0].fraction) == (0, 0, 0.0)
    assert len(told) == 1 + told[0].partitions_total == 9  # once at the start, then once per partition
    steps = [after.postings_done - before.postings_done for before, after in zip(told, told[1:])]
    assert all(0 <= step <= 4 for step in steps) and sum(steps) == 25
    assert [p.partitions_done for p in told] == list(range(9))
    last = told[-1]
    assert (last.postings_done, last.postings_total, last.rows_done, last.rows_total, last.fraction) == (25, 25, 27, 27, 1.0)
    meta = first_run.table.meta()
    assert meta["catalog_credentials"] == 12 and meta["catalog_credentials_with_accepted_tags"] == 1


def test_a_rerun_maps_only_missing_partitions(built_home: Path, first_run, client, inputs: Path, offers: list) -> None:
    out = first_run.folder
    before = (out / "demand.csv").read_bytes()
    again = run_corpus(settings_for(built_home), [str(inputs)], out, OPTIONS, client=client, offers=offers)
    assert (again.partitions_mapped, again.partitions_reused) == (0, 8)
    for lost in ("part-0000-00001", "part-0001-00003"):
        (out / "postings" / f"{lost}.parquet").unlink()
    (out / "postings" / ".part-0000-00002.parquet.tmp-abc").write_bytes(b"half")  # a write cut short
    resumed = run_corpus(settings_for(built_home), [str(inputs)], out, OPTIONS, client=client, offers=offers)
    assert (resumed.partitions_mapped, resumed.partitions_reused) == (2, 6)
    assert resumed.table.records() == first_run.table.records() and (out / "demand.csv").read_bytes() == before
    assert not list((out / "postings").glob(".*"))
    assert [r["partitions_to_map"] for r in resumed.manifest["runs"]] == [8, 0, 2]


def test_a_killed_worker_is_replaced_and_its_partition_retried(built_home: Path, first_run, client, inputs: Path,
                                                               offers: list, tmp_path: Path) -> None:
    pids = set(client.run(os.getpid).values())
    killed: list[int] = []

    def kill_one(progress: RunProgress) -> None:
        if progress.partitions_done > 0 and not killed:  # the first partition is in: the others are being mapped
            victim = sorted(pids)[0]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    result = run_corpus(settings_for(built_home), [str(inputs)], tmp_path / "out", OPTIONS, client=client,
                        offers=offers, on_progress=kill_one)
    assert killed and result.partitions_mapped == 8
    assert result.table.records() == first_run.table.records()
    client.wait_for_workers(2, timeout=60)
    assert killed[0] not in set(client.run(os.getpid).values())  # a new process took its place


def test_a_folder_holding_another_run_is_refused(built_home: Path, first_run, client, inputs: Path, tmp_path: Path) -> None:
    other = CorpusOptions(DemandOptions(frameworks=("mini",), chunk_size=3), Columns(groups=("region",)), partition_size=4)
    with pytest.raises(CompetencyMapError, match="holds a run with other by_month, group_by"):
        run_corpus(settings_for(built_home), [str(inputs)], first_run.folder, other, client=client)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.txt").write_text("keep me")
    with pytest.raises(CompetencyMapError, match="not empty and holds no corpus run"):
        run_corpus(settings_for(built_home), [str(inputs)], tmp_path / "full", OPTIONS, client=client)


def test_an_unknown_framework_fails_before_mapping(built_home: Path, client, inputs: Path, tmp_path: Path) -> None:
    options = CorpusOptions(DemandOptions(frameworks=("nope",)), partition_size=4)
    with pytest.raises(CompetencyMapError, match="nope"):
        run_corpus(settings_for(built_home), [str(inputs)], tmp_path / "out", options, client=client)
    assert not list((tmp_path / "out" / "postings").iterdir())
