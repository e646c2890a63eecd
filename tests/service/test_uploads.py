"""Uploads stay within the limits on every path (`POST /analytics/demand/upload`, `POST
/jobs/demand/upload`, the researcher's page): the bytes a file inflates to and its rows are
checked while it is read, and the first limit passed answers 413 naming it before any job is
accepted; a file that is not text is refused alike on every path; a stalled body answers 408.

In process, on a service that loads no framework (no model) but takes the framework names it is
asked for: every refusal comes before the engine. Accepted jobs are not run (their queue is
replaced), so no cluster starts.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from competencymap._common.config import load_settings
from competencymap.service.app import ServiceOptions, create_app
from competencymap.service.deps import Service
from competencymap.service.jobs import JobManager
from competencymap.service.security import BodyLimit

ORIGIN = "http://localhost:8000"
ROW = b'{"text": "Bake bread every morning."}\n'


def bomb(rows: int, tail: bytes = b"") -> bytes:
    """A few KB of gzip that inflate to `rows` postings (and `tail`)."""
    return gzip.compress(ROW * rows + tail)


@pytest.fixture()
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("COMPETENCYMAP_JOB_MAX_POSTINGS", "1000")
    monkeypatch.setattr(JobManager, "enqueue", lambda self, job_id: None)  # accepted jobs wait: no cluster
    monkeypatch.setattr(Service, "check_frameworks", lambda self, names: ["mini"])  # nothing is mapped here
    options = ServiceOptions(frameworks=(), database_url=f"sqlite:///{tmp_path / 'catalog.sqlite'}",
                             max_upload_decompressed_bytes=4_000_000, max_batch=100)
    with TestClient(create_app(load_settings(home=tmp_path), options=options), base_url=ORIGIN) as test_client:
        yield test_client


def refusal(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    error: dict[str, Any] = answer.json()["error"]
    return error


def job_folders(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "jobs").glob("*") if p.is_dir()] if (tmp_path / "jobs").is_dir() else []


def test_a_gzip_bomb_of_rows_is_refused_before_a_job_is_accepted(client: TestClient, tmp_path: Path) -> None:
    data = bomb(50_000)
    assert len(data) < 10_000
    error = refusal(client.post("/jobs/demand/upload", files={"file": ("corpus.jsonl.gz", data)}), 413)
    assert error["limit"] == "COMPETENCYMAP_JOB_MAX_POSTINGS" and error["maximum"] == 1000
    assert "corpus.jsonl.gz" in error["message"] and "1,000" in error["message"]
    assert job_folders(tmp_path) == []
    accepted = client.post("/jobs/demand/upload", files={"file": ("corpus.jsonl.gz", bomb(1000))})
    assert accepted.status_code == 202, accepted.text


def test_the_row_count_stops_at_the_limit(client: TestClient) -> None:
    """Rows past the limit are never read: a broken gzip stream after them goes unnoticed."""
    data = bomb(2000)[:-30]  # the stream's end is cut off
    error = refusal(client.post("/jobs/demand/upload", files={"file": ("corpus.jsonl.gz", data)}), 413)
    assert error["limit"] == "COMPETENCYMAP_JOB_MAX_POSTINGS"
    csv = b"text\n" + b"Bake bread\n" * 150 + b'"never closed\n'
    synchronous = client.post("/analytics/demand/upload", files={"file": ("p.csv", csv)})
    assert refusal(synchronous, 413)["maximum"] == 100  # the service's batch limit


def test_every_upload_path_bounds_the_inflated_bytes(client: TestClient, tmp_path: Path) -> None:
    data = gzip.compress(b"\n" * 8_000_000 + ROW)  # one posting after 8 MB of blank lines
    for path, field in (("/jobs/demand/upload", "file"), ("/analytics/demand/upload", "file")):
        error = refusal(client.post(path, files={field: ("corpus.jsonl.gz", data)}), 413)
        assert error["limit"] == "COMPETENCYMAP_MAX_UPLOAD_DECOMPRESSED_BYTES" and error["maximum"] == 4_000_000
        assert "corpus.jsonl.gz" in error["message"]
    page = client.post("/researcher", files={"postings_file": ("corpus.jsonl.gz", data)}, headers={"Origin": ORIGIN})
    assert page.status_code == 413 and "4,000,000" in page.text
    assert job_folders(tmp_path) == []


def test_random_bytes_are_refused_alike_on_every_path(client: TestClient, tmp_path: Path) -> None:
    noise = random.Random(20).randbytes(200_000)
    api = refusal(client.post("/analytics/demand/upload", files={"file": ("corpus.jsonl", noise)}), 400)
    job = refusal(client.post("/jobs/demand/upload", files={"file": ("corpus.jsonl", noise)}), 400)
    assert api["message"] == job["message"] and api["message"].startswith("corpus.jsonl: not a text file")
    page = client.post("/researcher", files={"postings_file": ("corpus.jsonl", noise)}, headers={"Origin": ORIGIN})
    assert page.status_code == 422 and "corpus.jsonl: not a text file" in page.text
    assert job_folders(tmp_path) == []


def test_the_limits_are_settings(tmp_path: Path) -> None:
    options = ServiceOptions.from_env({"COMPETENCYMAP_MAX_UPLOAD_DECOMPRESSED_BYTES": "4096",
                                       "COMPETENCYMAP_BODY_TIMEOUT": "5"})
    assert options.max_upload_decompressed_bytes == 4096 and options.body_timeout == 5
    defaults = ServiceOptions.from_env({})
    assert defaults.max_upload_decompressed_bytes == 256 * 1024 * 1024 and defaults.body_timeout == 60


# -- a stalled body -------------------------------------------------------------------------------


def test_a_stalled_body_answers_408() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read"})

    async def stalled_after_one_chunk() -> Any:
        stalled_after_one_chunk.calls += 1  # type: ignore[attr-defined]
        if stalled_after_one_chunk.calls == 1:  # type: ignore[attr-defined]
            return {"type": "http.request", "body": b"x" * 10, "more_body": True}
        await asyncio.sleep(3600)

    stalled_after_one_chunk.calls = 0  # type: ignore[attr-defined]
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "headers": [], "path": "/jobs/demand/upload"}
    guarded = BodyLimit(app, max_bytes=1000, timeout=0.2)
    asyncio.run(asyncio.wait_for(guarded(scope, stalled_after_one_chunk, send), timeout=10))
    assert sent[0]["status"] == 408
    body = json.loads(sent[1]["body"])
    assert body["error"]["type"] == "request_timeout" and "0.2 seconds" in body["error"]["message"]


def test_a_body_that_keeps_coming_is_read() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read"})
        await receive()  # after the body: waits for the disconnect, with no timeout

    chunks = [{"type": "http.request", "body": b"x", "more_body": True}] * 3 + [
        {"type": "http.request", "body": b"x", "more_body": False}]

    async def slowly() -> Any:
        if chunks:
            await asyncio.sleep(0.05)
            return chunks.pop(0)
        await asyncio.sleep(0.5)  # longer than the timeout: the client is still connected
        return {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(BodyLimit(app, max_bytes=1000, timeout=0.2)({"type": "http", "headers": []}, slowly, send))
    assert sent[0]["status"] == 200
