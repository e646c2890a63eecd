"""Demand jobs in the API: POST answers 202 at once, the job runs on the service's own Dask cluster
while other requests are answered, its status shows progress, its table (JSON, CSV, Parquet) is
the synchronous endpoint's table, bad rows are listed, a failed job resumes, and a job that was
running when the service stopped is marked interrupted."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from competencymap._common.config import load_settings
from competencymap.service.app import ServiceOptions, create_app

pytestmark = pytest.mark.model
STATEMENTS = ["Experience with PostgreSQL databases.", "Strong Java skills.", "Write Python scripts.",
              "Bake bread every morning.", "Drive delivery vehicles.", "Use spreadsheets to track orders.",
              "Perform data analysis on sales.", "Manage the team budget.", "Good teamwork.", "Write SQL queries."]
POSTINGS = [{"title": "", "posted_on": f"2026-0{1 + i % 2}-15",
             "text": " ".join(STATEMENTS[(i * 3 + k * 7) % len(STATEMENTS)] for k in range(2 + i % 2))} for i in range(23)]


@pytest.fixture(scope="module")
def client(built_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("jobs") / "home"
    shutil.copytree(built_home, home, copy_function=os.link)  # jobs are written under the home
    settings = load_settings(home=home)
    if hasattr(settings, "backend"):  # batch-independent embeddings: the job and the request agree exactly
        settings = settings.with_(backend="torch")
    options = ServiceOptions(frameworks=("mini",), database_url=f"sqlite:///{home / 'catalog.sqlite'}")
    env = {"COMPETENCYMAP_JOB_PARTITION_SIZE": "10", "COMPETENCYMAP_JOB_WORKERS": "1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    app = create_app(settings, options=options)
    with TestClient(app, base_url="http://localhost") as test_client:
        yield test_client
        jobs = app.state.service.cache.get("demand-jobs")
        if jobs is not None:
            jobs.close()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def wait_for(client: TestClient, job_id: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/jobs/{job_id}").json()
        if status["state"] in ("complete", "failed"):
            return status
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {status['state']}")


@pytest.fixture(scope="module")
def finished(client: TestClient) -> dict:
    """One job over 23 postings (3 partitions), with other requests answered while it runs."""
    started = time.monotonic()
    answer = client.post("/jobs/demand", json={"postings": POSTINGS, "by_month": True})
    assert answer.status_code == 202, answer.text
    assert time.monotonic() - started < 10  # accepted at once, mapped later
    job = answer.json()
    assert job["state"] in ("queued", "running") and answer.headers["location"] == f"/jobs/{job['id']}"
    assert client.get(f"/jobs/{job['id']}/result").status_code == 409  # not yet
    seen = set()
    while (status := client.get(f"/jobs/{job['id']}").json())["state"] not in ("complete", "failed"):
        seen.add((status["state"], status["progress"]["postings_done"]))
        asked = time.monotonic()
        assert client.get("/health").status_code == 200
        mapped = client.post("/map", json={"text": "Write SQL queries", "frameworks": ["mini"]})
        assert mapped.status_code == 200, mapped.text
        assert time.monotonic() - asked < 15  # the service's engine is not held by the job
        time.sleep(0.3)
    assert status["state"] == "complete", status
    return {"job": status, "seen": seen}


def test_a_job_runs_in_the_background_and_reports_progress(finished: dict) -> None:
    status = finished["job"]
    progress = status["progress"]
    assert {k: progress[k] for k in ("postings_done", "postings_total", "rows_done", "rows_total", "fraction")} == {
        "postings_done": 23, "postings_total": 23, "rows_done": 23, "rows_total": 23, "fraction": 1.0}
    # a small job is cut finer than COMPETENCYMAP_JOB_PARTITION_SIZE (10): its progress moves in steps
    assert progress["partitions_done"] == progress["partitions_total"] >= 5
    assert all(0 <= done <= 23 for _, done in finished["seen"])
    assert status["result"]["postings"] == 23 and status["result"]["errors"] == 0
    assert status["options"]["frameworks"] == ["mini"] and status["started"] and status["finished"]
    assert any(state == "running" for state, _ in finished["seen"])


def test_the_result_is_the_synchronous_table(client: TestClient, finished: dict) -> None:
    job_id = finished["job"]["id"]
    body = client.get(f"/jobs/{job_id}/result").json()
    sync = client.post("/analytics/demand", json={"postings": POSTINGS, "by_month": True}).json()
    assert body["columns"] == sync["columns"]
    assert body["rows"] == [{c: r.get(c) for c in sync["columns"]} for r in sync["rows"]]
    assert body["meta"]["postings"] == 23 and body["meta"]["by_month"] is True
    csv_text = client.get(f"/jobs/{job_id}/result", params={"format": "csv"})
    assert csv_text.headers["content-type"].startswith("text/csv")
    assert csv_text.text.splitlines()[0] == ",".join(body["columns"]) and len(csv_text.text.splitlines()) == len(body["rows"]) + 1
    parquet = client.get(f"/jobs/{job_id}/result", params={"format": "parquet"})
    assert pq.read_table(io.BytesIO(parquet.content)).to_pylist() == body["rows"]
    assert client.get(f"/jobs/{job_id}/errors").text == ""


def test_an_uploaded_file_with_bad_rows(client: TestClient) -> None:
    lines = [json.dumps(p) for p in POSTINGS[:12]] + ['{"title": "no text"}', "not json"]
    answer = client.post("/jobs/demand/upload", files={"file": ("corpus.jsonl", "\n".join(lines) + "\n")},
                         data={"top_n": "1"})
    assert answer.status_code == 202, answer.text
    status = wait_for(client, answer.json()["id"])
    assert status["state"] == "complete" and status["result"]["postings"] == 12 and status["result"]["errors"] == 2
    errors = [json.loads(line) for line in client.get(f"/jobs/{status['id']}/errors").text.splitlines()]
    assert [(e["line"], e["stage"]) for e in errors] == [(13, "read"), (14, "read")]
    assert {e["source"] for e in errors} == {"corpus.jsonl"}  # the upload's name, never the server's path
    rows = client.get(f"/jobs/{status['id']}/result").json()["rows"]
    blocks = [(r["framework"], r["level"]) for r in rows]
    assert len(blocks) == len(set(blocks))  # top_n=1: one row per block


def test_the_researchers_page_lists_the_rows_that_could_not_be_read(client: TestClient) -> None:
    lines = [json.dumps(p) for p in POSTINGS[:4]] + ['{"title": "no text"}', "not json"]
    answer = client.post("/jobs/demand/upload", files={"file": ("corpus.jsonl", "\n".join(lines) + "\n")})
    status = wait_for(client, answer.json()["id"])
    assert status["progress"]["postings_total"] == 4 and status["progress"]["rows_total"] == 6
    page = client.get(f"/researcher/jobs/{status['id']}")
    assert page.status_code == 200
    listed = page.text[page.text.index('data-testid="demand-errors"'):page.text.index("</section>")]
    cells = re.findall(r'<td class="num">(\d+)</td>', listed)
    assert cells == ["5", "6"] and "Rows that could not be read or mapped (2)" in listed
    assert f'href="/jobs/{status["id"]}/errors"' in listed  # and the whole list to download


def test_a_job_grouped_by_a_column_of_the_file(client: TestClient) -> None:
    rows = ["text,region"] + [f'"{p["text"]}",{("north", "south")[i % 2]}' for i, p in enumerate(POSTINGS[:8])]
    answer = client.post("/jobs/demand/upload", files={"file": ("corpus.csv", "\n".join(rows) + "\n")},
                         data={"group_by": "region"})
    assert answer.status_code == 202, answer.text
    status = wait_for(client, answer.json()["id"])
    assert status["state"] == "complete" and status["options"]["group_by"] == ["region"]
    table = client.get(f"/jobs/{status['id']}/result").json()
    assert "region" in table["columns"] and {r["region"] for r in table["rows"]} == {"north", "south"}
    assert sorted((c["region"], c["postings"]) for c in table["meta"]["cells"]) == [("north", 4), ("south", 4)]
    in_catalog = client.app.state.service.catalog.count_credentials()  # type: ignore[attr-defined]
    assert table["meta"]["catalog_credentials"] == in_catalog
    page = client.get(f"/researcher/jobs/{status['id']}", params={"block": "1"}).text
    assert "region: south (4 postings)" in page and ">region</a>" in page  # a block to choose; a column


def test_group_by_refusals_name_the_column(client: TestClient) -> None:
    csv_file = ("corpus.csv", "text,region\nBake bread every morning.,north\n")
    missing = client.post("/jobs/demand/upload", files={"file": csv_file}, data={"group_by": "sector"})
    assert missing.status_code == 400 and "no group-by column 'sector'" in missing.json()["error"]["message"]
    taken = client.post("/jobs/demand/upload", files={"file": csv_file}, data={"group_by": "label"})
    assert taken.status_code == 422 and "'label' is a column of the demand table" in taken.json()["error"]["message"]


def test_a_job_of_bad_rows_fails_naming_the_upload_only(client: TestClient) -> None:
    """Its reason names no server path (on the API and the researcher's page), and its errors are listed."""
    lines = ['{"title": "no text"}', '{"text": ""}', "not json"]
    answer = client.post("/jobs/demand/upload", files={"file": ("bad.jsonl", "\n".join(lines) + "\n")})
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    status = wait_for(client, job_id)
    home = str(client.app.state.service.engine.settings.home)  # type: ignore[attr-defined]
    assert status["state"] == "failed" and home not in status["error"] and "/jobs/" + job_id + "/errors" in status["error"]
    page = client.get(f"/researcher/jobs/{job_id}")
    assert page.status_code == 200 and home not in page.text
    errors = client.get(f"/jobs/{job_id}/errors")
    assert errors.status_code == 200, errors.text
    listed = [json.loads(line) for line in errors.text.splitlines()]
    assert [(e["line"], e["source"]) for e in listed] == [(1, "bad.jsonl"), (2, "bad.jsonl"), (3, "bad.jsonl")]
    assert home not in errors.text


def test_refusals(client: TestClient) -> None:
    bad = client.post("/jobs/demand/upload", files={"file": ("corpus.csv", "title,summary\nBaker,Bake bread\n")})
    assert bad.status_code == 400 and bad.json()["error"]["message"].startswith("corpus.csv:1: no text column")
    assert client.post("/jobs/demand/upload", files={"file": ("corpus.txt", "x")}).status_code == 415
    assert client.post("/jobs/demand", json={"postings": POSTINGS[:1], "frameworks": ["nope"]}).status_code == 404
    assert client.post("/jobs/demand", json={"postings": []}).status_code == 422
    assert client.get(f"/jobs/{'0' * 32}").status_code == 404
    assert client.get("/jobs/not-an-id").status_code == 422
    finished_id = client.post("/jobs/demand", json={"postings": POSTINGS[:2]}).json()["id"]
    wait_for(client, finished_id)
    assert client.post(f"/jobs/{finished_id}/resume").status_code == 409  # complete: nothing to resume


def test_a_failed_job_resumes_from_its_partitions(client: TestClient, finished: dict) -> None:
    from competencymap.service.jobs import manager

    service = client.app.state.service  # type: ignore[attr-defined]
    jobs = manager(service)
    job_id = finished["job"]["id"]
    (jobs.folder(job_id) / "run" / "postings" / "part-0000-00001.parquet").unlink()  # one partition lost
    jobs.update(job_id, state="failed", error="the machine went down")
    answer = client.post(f"/jobs/{job_id}/resume")
    assert answer.status_code == 202
    status = wait_for(client, job_id)
    assert status["state"] == "complete" and status["error"] is None and status["result"]["postings"] == 23
    manifest = json.loads((jobs.folder(job_id) / "run" / "manifest.json").read_text())
    counts = manifest["counts"]
    assert counts["partitions_mapped_by_this_run"] == 1 and counts["partitions_reused"] == counts["partitions"] - 1


def test_progress_is_in_postings_from_the_moment_a_job_is_queued(tmp_path: Path) -> None:
    """Queued: none done of the postings the upload's scan counted; running: as the run last told."""
    from competencymap.service.jobs import JobManager
    from competencymap.workflows.demand.corpus.run import RunProgress

    service = SimpleNamespace(engine=SimpleNamespace(settings=SimpleNamespace(home=tmp_path)))
    jobs = JobManager(service)  # type: ignore[arg-type]
    folder = tmp_path / "jobs" / ("b" * 32)
    folder.mkdir(parents=True)
    (folder / "job.json").write_text(json.dumps({"id": "b" * 32, "state": "queued", "created": "x", "started": None,
                                                 "finished": None, "options": {}, "error": None, "result": None,
                                                 "plan": {"rows": 34, "postings": 33, "partitions": 9}}))
    assert jobs.status("b" * 32)["progress"] == {"postings_done": 0, "postings_total": 33, "rows_done": 0,
                                                 "rows_total": 34, "partitions_done": 0, "partitions_total": 9,
                                                 "fraction": 0.0}
    jobs.update("b" * 32, state="running")
    jobs.progress["b" * 32] = RunProgress(postings_done=12, postings_total=33, rows_done=13, rows_total=34,
                                          partitions_done=3, partitions_total=9)
    progress = jobs.status("b" * 32)["progress"]
    assert (progress["postings_done"], progress["postings_total"], progress["partitions_done"]) == (12, 33, 3)
    assert progress["fraction"] == round(12 / 33, 4)


def test_a_job_running_when_the_service_stopped_is_interrupted(tmp_path: Path) -> None:
    from competencymap.service.jobs import JobManager

    folder = tmp_path / "jobs" / ("a" * 32)
    folder.mkdir(parents=True)
    (folder / "job.json").write_text(json.dumps({"id": "a" * 32, "state": "running", "created": "x", "started": "x",
                                                 "finished": None, "options": {}, "error": None, "result": None}))
    service = SimpleNamespace(engine=SimpleNamespace(settings=SimpleNamespace(home=tmp_path)))
    jobs = JobManager(service)  # type: ignore[arg-type]
    assert jobs.status("a" * 32)["state"] == "interrupted"


@pytest.mark.parametrize("name, value", [("COMPETENCYMAP_MAX_JOBS", "several"), ("COMPETENCYMAP_JOB_WORKERS", "0"),
                                         ("COMPETENCYMAP_JOB_PARTITION_SIZE", "-5")])
def test_a_bad_job_setting_is_refused_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str,
                                                value: str) -> None:
    from competencymap._common.errors import CompetencyMapError
    from competencymap.service.jobs import JobManager

    monkeypatch.setenv(name, value)
    service = SimpleNamespace(engine=SimpleNamespace(settings=SimpleNamespace(home=tmp_path)))
    with pytest.raises(CompetencyMapError, match=f"{name} must be a positive whole number, not '{value}'"):
        JobManager(service)  # type: ignore[arg-type]
