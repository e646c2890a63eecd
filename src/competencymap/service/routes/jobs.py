"""Demand runs as background jobs: `POST /jobs/demand` (JSON postings or stored ones) and
`POST /jobs/demand/upload` (a postings file) answer 202 with a job id at once; `GET /jobs/{id}`
tells the state and progress; `GET /jobs/{id}/result` downloads the table (JSON, CSV or
Parquet) and `GET /jobs/{id}/errors` the postings that could not be read or mapped.

A job is a corpus run (`competencymap.workflows.demand.corpus.run.run_corpus`, the machinery of `competencymap
demand`) on a Dask cluster the service owns: a local one started on the first job
(COMPETENCYMAP_JOB_WORKERS worker processes, default 1, each with its own engine, so the
service's engine and its requests are never held by a job), or an existing scheduler named by
COMPETENCYMAP_JOB_SCHEDULER. At most COMPETENCYMAP_MAX_JOBS jobs run at once (default 1); the
others wait in order, and more than COMPETENCYMAP_MAX_QUEUED_JOBS waiting or running (default 20)
answer 429. Each job lives under `<home>/jobs/<id>/`: `job.json` (its state), `input/` and `run/`
(the run folder: per-posting files, errors, table, manifest). A job that was running when the
service stopped is `interrupted`; `POST /jobs/{id}/resume` continues it where it stopped.
"""

from __future__ import annotations

import atexit
import os
import queue
import re
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, File, Form, Path as PathParam, Query, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from competencymap.service.deps import Service, ServiceDep
from competencymap.service.errors import ApiError, TooLarge, invalid_field
from competencymap.service.models import DemandRequest, DemandResponse, errors
from competencymap.service.routes.analytics import _check_occupations, _stored, _upload_name
from competencymap.service.security import require_api_key
from competencymap.workflows.demand.counting import DemandOptions
from competencymap._common.errors import CompetencyMapError

router = APIRouter(tags=["analytics"])
write = [Depends(require_api_key)]
JOB_ID = r"^[0-9a-f]{32}$"
JobId = Annotated[str, PathParam(pattern=JOB_ID, description="The id `POST /jobs/demand` answered.")]
PARTITION_SIZE = 100  # postings per partition (COMPETENCYMAP_JOB_PARTITION_SIZE)
STATES = ("queued", "running", "complete", "failed", "interrupted")


def _env_int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, "") or default))
    except ValueError:
        return default


# -- models -------------------------------------------------------------------------------------


class JobProgress(BaseModel):
    rows_done: int = Field(description="Input rows mapped so far (postings and rows that are not postings).")
    rows_total: int | None = Field(None, description="Input rows in all (known once the job has started).")
    fraction: float | None = Field(None, description="rows_done / rows_total.")


class JobStatus(BaseModel):
    id: str = Field(description="The job id.")
    state: Literal["queued", "running", "complete", "failed", "interrupted"] = Field(
        description="queued (waiting for a free slot), running, complete, failed, or interrupted (the service "
                    "stopped while it ran; resume it).")
    created: str = Field(description="When it was submitted (ISO 8601).")
    started: str | None = Field(None, description="When it last started running.")
    finished: str | None = Field(None, description="When it finished.")
    progress: JobProgress = Field(description="How far the job has got.")
    options: dict[str, Any] = Field(description="What the job maps and how it splits the table.")
    error: str | None = Field(None, description="Why it failed.")
    result: dict[str, Any] | None = Field(None, description="When complete: postings counted, rows, errors.")
    links: dict[str, str] = Field(description="Where to poll and download.")


# -- the jobs of one service ------------------------------------------------------------------------


class JobManager:
    """Jobs under `<home>/jobs`, a bounded set of runner threads and the Dask client they share."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.root = Path(service.engine.settings.home) / "jobs"
        self.max_running = _env_int("COMPETENCYMAP_MAX_JOBS", 1)
        self.max_waiting = _env_int("COMPETENCYMAP_MAX_QUEUED_JOBS", 20)
        self.lock = threading.RLock()
        self.pending: queue.Queue[str] = queue.Queue()
        self.progress: dict[str, tuple[int, int]] = {}
        self.runners: list[threading.Thread] = []
        self._client: Any = None
        self._cluster: Any = None
        self._mark_interrupted()
        atexit.register(self.close)

    # -- jobs on disk

    def folder(self, job_id: str) -> Path:
        return self.root / job_id

    def read(self, job_id: str) -> dict[str, Any]:
        path = self.folder(job_id) / "job.json"
        if not re.match(JOB_ID, job_id) or not path.is_file():
            raise ApiError(404, "not_found", f"no job {job_id}")
        return orjson.loads(path.read_bytes())

    def save(self, job: dict[str, Any]) -> None:
        path = self.folder(job["id"]) / "job.json"
        temporary = path.with_name(f".job.json.tmp-{uuid.uuid4().hex[:8]}")
        temporary.write_bytes(orjson.dumps(job, option=orjson.OPT_INDENT_2))
        os.replace(temporary, path)

    def update(self, job_id: str, **changes: Any) -> dict[str, Any]:
        with self.lock:
            job = self.read(job_id)
            job.update(changes)
            self.save(job)
            return job

    def _mark_interrupted(self) -> None:
        if not self.root.is_dir():
            return
        for path in self.root.glob("*/job.json"):
            try:
                job = orjson.loads(path.read_bytes())
            except (orjson.JSONDecodeError, OSError):
                continue
            if job.get("state") in ("queued", "running"):
                job["state"] = "interrupted"
                self.save(job)

    # -- submitting and running

    def create(self, options: dict[str, Any]) -> dict[str, Any]:
        """A new job folder (state queued, not yet started); 429 when too many jobs wait."""
        with self.lock:
            if self.pending.qsize() + self._running() >= self.max_waiting:
                raise ApiError(429, "too_many_jobs", f"{self.max_waiting} demand jobs are already waiting or "
                                                     "running; try again when one has finished")
            job_id = uuid.uuid4().hex
            (self.folder(job_id) / "input").mkdir(parents=True)
            job = {"id": job_id, "state": "queued", "created": _now(), "started": None, "finished": None,
                   "options": options, "error": None, "result": None, "input": None}
            self.save(job)
            return job

    def enqueue(self, job_id: str) -> None:
        with self.lock:
            self.pending.put(job_id)
            while len(self.runners) < self.max_running:
                runner = threading.Thread(target=self._serve, name=f"demand-job-{len(self.runners)}", daemon=True)
                runner.start()
                self.runners.append(runner)

    def _running(self) -> int:
        return len(self.progress)

    def _serve(self) -> None:
        while True:
            job_id = self.pending.get()
            try:
                self._run(job_id)
            except Exception as exc:  # noqa: BLE001 - a job's failure is the job's state, never the service's
                self.update(job_id, state="failed", finished=_now(), error=_reason(exc))
            finally:
                self.progress.pop(job_id, None)

    def _run(self, job_id: str) -> None:
        from competencymap.workflows.demand.corpus.run import CorpusOptions, run_corpus
        from competencymap.workflows.employer_match import catalog_offers

        job = self.update(job_id, state="running", started=_now(), finished=None, error=None)
        self.progress[job_id] = (0, -1)
        options = _demand_options(job["options"])
        corpus = CorpusOptions(options, partition_size=_partition_size())
        offers = catalog_offers(self.service.catalog)

        def moved(done: int, total: int) -> None:
            self.progress[job_id] = (done, total)

        result = run_corpus(self.service.engine.settings, [str(self.folder(job_id) / "input" / job["input"])],
                            self.folder(job_id) / "run", corpus, client=self.client(), offers=offers,
                            on_progress=moved)
        self.update(job_id, state="complete", finished=_now(), result={
            "postings": result.table.postings, "rows": len(result.table.rows), "errors": result.errors,
            "postings_left_out": result.table.errors, "statements": result.table.statements})

    def client(self) -> Any:
        """The Dask client jobs share: of COMPETENCYMAP_JOB_SCHEDULER, or of a local cluster started now."""
        with self.lock:
            if self._client is None:
                from distributed import Client

                from competencymap.workflows.demand.corpus.run import local_cluster

                address = os.environ.get("COMPETENCYMAP_JOB_SCHEDULER", "").strip()
                if address:
                    self._client = Client(address, timeout="30s")
                else:
                    self._cluster = local_cluster(_env_int("COMPETENCYMAP_JOB_WORKERS", 1),
                                                  _env_int("COMPETENCYMAP_JOB_THREADS", 1))
                    self._client = Client(self._cluster)
            return self._client

    def close(self) -> None:
        with self.lock:
            for part in (self._client, self._cluster):
                try:
                    if part is not None:
                        part.close()
                except Exception:  # noqa: BLE001 - closing at exit: nothing left to tell
                    pass
            self._client = self._cluster = None

    # -- what GET answers

    def status(self, job_id: str) -> dict[str, Any]:
        job = self.read(job_id)
        done, total = self.progress.get(job_id, (0, -1))
        if job["state"] == "complete":
            manifest = self._manifest(job_id)
            total = done = manifest.get("counts", {}).get("rows", 0)
        progress = {"rows_done": done, "rows_total": total if total >= 0 else None,
                    "fraction": round(done / total, 4) if total > 0 else None}
        base = f"/jobs/{job_id}"
        links = {"self": base, "result": f"{base}/result", "errors": f"{base}/errors"}
        return {**{k: job[k] for k in ("id", "state", "created", "started", "finished", "options", "error", "result")},
                "progress": progress, "links": links}

    def _manifest(self, job_id: str) -> dict[str, Any]:
        path = self.folder(job_id) / "run" / "manifest.json"
        return orjson.loads(path.read_bytes()) if path.is_file() else {}

    def finished_run(self, job_id: str) -> Path:
        job = self.read(job_id)
        if job["state"] != "complete":
            raise ApiError(409, "conflict", f"job {job_id} is {job['state']}, not complete")
        return self.folder(job_id) / "run"


def manager(service: Service) -> JobManager:
    return service.cached("demand-jobs", lambda: JobManager(service))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _reason(exc: Exception) -> str:
    return exc.line_text() if isinstance(exc, CompetencyMapError) else f"{type(exc).__name__}: {exc}"


def _partition_size() -> int:
    return _env_int("COMPETENCYMAP_JOB_PARTITION_SIZE", PARTITION_SIZE)


def _demand_options(options: dict[str, Any]) -> DemandOptions:
    return DemandOptions(frameworks=tuple(options["frameworks"]), by_month=options["by_month"],
                         by_occupation=options["by_occupation"], rollup=options["rollup"], fast=options["fast"])


def _options(service: Service, frameworks: list[str] | None, by_month: bool, by_occupation: bool, rollup: bool,
             fast: bool, top_n: int | None) -> dict[str, Any]:
    names = service.check_frameworks(frameworks)
    if by_occupation:
        _check_occupations(service)
    return {"frameworks": names, "by_month": by_month, "by_occupation": by_occupation, "rollup": rollup,
            "fast": fast, "top_n": top_n}


def _check_input(jobs: JobManager, job: dict[str, Any], name: str) -> None:
    """Scan the job's input now, so a file without postings or a text column answers 4xx at once."""
    from competencymap.workflows.demand.corpus.run import CorpusOptions, prepare_corpus

    path = jobs.folder(job["id"]) / "input" / name
    try:
        prepare_corpus(jobs.service.engine.settings, [str(path)], jobs.folder(job["id"]) / "run",
                       CorpusOptions(_demand_options(job["options"]), partition_size=_partition_size()))
    except CompetencyMapError as exc:
        shutil.rmtree(jobs.folder(job["id"]), ignore_errors=True)
        if exc.path == str(path):
            exc.path = name  # name the upload, not the server's file
        raise ApiError(400, "bad_request", exc.line_text()) from None


def _accepted(jobs: JobManager, job: dict[str, Any], name: str) -> JSONResponse:
    _check_input(jobs, job, name)
    jobs.update(job["id"], input=name)
    jobs.enqueue(job["id"])
    return JSONResponse(jobs.status(job["id"]), status_code=202, headers={"Location": f"/jobs/{job['id']}"})


# -- routes -----------------------------------------------------------------------------------------

ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"description": "The job is queued: its status, with links to poll and download.", "model": JobStatus},
    429: {"description": "Too many demand jobs are waiting or running."},
}


@router.post("/jobs/demand", status_code=202, response_model=JobStatus, summary="Start a demand job",
             responses={**ACCEPTED, **errors(400, 401, 403, 404, 413, 422)}, dependencies=write)
def submit_demand(body: DemandRequest, service: ServiceDep) -> JSONResponse:
    """The table of `POST /analytics/demand`, computed in the background on the service's Dask
    cluster, for any number of postings the body limit allows (given, by id, or all stored).
    Answers 202 with the job's status at once; poll `GET /jobs/{id}`."""
    options = _options(service, body.frameworks, body.by_month, body.by_occupation, body.rollup, body.fast, body.top_n)
    postings = _job_postings(body, service)
    jobs = manager(service)
    job = jobs.create(options)
    name = "postings.jsonl"
    with (jobs.folder(job["id"]) / "input" / name).open("wb") as handle:
        for posting in postings:
            handle.write(orjson.dumps(posting) + b"\n")
    return _accepted(jobs, job, name)


@router.post("/jobs/demand/upload", status_code=202, response_model=JobStatus, summary="Start a demand job on a file",
             responses={**ACCEPTED, **errors(400, 401, 403, 404, 413, 415, 422)}, dependencies=write)
def submit_upload(
    service: ServiceDep,
    file: Annotated[UploadFile, File(description="Postings as .csv, .jsonl (.ndjson) or .parquet (CSV and JSONL may be "
                                                 ".gz); a `text` (or description/body) column, optional title, "
                                                 "posted_on and id.")],
    frameworks: Annotated[str | None, Form(max_length=500, description="Comma-separated served frameworks; default: all served.")] = None,
    by_month: Annotated[bool, Form(description="One block of rows per month posted.")] = False,
    by_occupation: Annotated[bool, Form(description="One block of rows per posting's best ESCO occupation.")] = False,
    rollup: Annotated[bool, Form(description="Also count skill groups and Skills for Success skills.")] = True,
    fast: Annotated[bool, Form(description="Cheaper mapping for large files.")] = False,
    top_n: Annotated[int | None, Form(ge=1, le=10_000, description="Keep the n most demanded rows of each block.")] = None,
) -> JSONResponse:
    """A demand job over an uploaded postings file (the body size limit applies). Rows that are
    not postings are skipped and listed at `GET /jobs/{id}/errors`."""
    name = _upload_name(file.filename)
    names = [n.strip() for n in (frameworks or "").split(",") if n.strip()] or None
    options = _options(service, names, by_month, by_occupation, rollup, fast, top_n)
    jobs = manager(service)
    job = jobs.create(options)
    with (jobs.folder(job["id"]) / "input" / name).open("wb") as handle:
        while chunk := file.file.read(1 << 20):
            handle.write(chunk)
    return _accepted(jobs, job, name)


@router.get("/jobs/{job_id}", response_model=JobStatus, summary="A demand job's state and progress",
            responses=errors(404, 422))
def job_status(job_id: JobId, service: ServiceDep) -> JSONResponse:
    """State (queued, running, complete, failed, interrupted), progress over the input rows, and
    when complete a summary of the result."""
    return JSONResponse(manager(service).status(job_id))


@router.post("/jobs/{job_id}/resume", status_code=202, response_model=JobStatus, summary="Resume a demand job",
             responses={**ACCEPTED, **errors(401, 403, 404, 409, 422)}, dependencies=write)
def resume_job(job_id: JobId, service: ServiceDep) -> JSONResponse:
    """Queue an interrupted or failed job again: the partitions it mapped are kept, the rest are mapped."""
    jobs = manager(service)
    with jobs.lock:
        job = jobs.read(job_id)
        if job["state"] not in ("interrupted", "failed"):
            raise ApiError(409, "conflict", f"job {job_id} is {job['state']}; only an interrupted or failed job resumes")
        jobs.update(job_id, state="queued", error=None)
    jobs.enqueue(job_id)
    return JSONResponse(jobs.status(job_id), status_code=202)


ResultFormat = Annotated[Literal["json", "csv", "parquet"], Query(description="json (with the table's metadata), csv or parquet.")]


@router.get("/jobs/{job_id}/result", response_model=DemandResponse, summary="Download a demand job's table",
            responses={200: {"description": "The demand table.", "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}}}},
                **errors(404, 409, 422)})
def job_result(job_id: JobId, service: ServiceDep, format: ResultFormat = "json") -> Response:
    """The table, when the job is complete (409 before). With `top_n` in the job's options, the
    top rows of each block."""
    jobs = manager(service)
    run = jobs.finished_run(job_id)
    top_n = jobs.read(job_id)["options"].get("top_n")
    if format == "parquet" and top_n is None:
        return FileResponse(run / "demand.parquet", media_type="application/vnd.apache.parquet",
                            filename=f"demand-{job_id}.parquet")
    if format == "csv" and top_n is None:
        return FileResponse(run / "demand.csv", media_type="text/csv; charset=utf-8", filename=f"demand-{job_id}.csv")
    import pyarrow.parquet as pq

    manifest = jobs._manifest(job_id)
    columns = manifest["table"]["columns"]
    rows = _top(pq.read_table(run / "demand.parquet").to_pylist(), top_n)
    if format == "json":
        return JSONResponse({"meta": manifest["table"]["meta"], "columns": columns, "rows": rows})
    return _table_file(rows, columns, format, manifest["table"]["meta"], job_id)


@router.get("/jobs/{job_id}/errors", summary="The postings a demand job could not read or map",
            responses={200: {"description": "One JSON object per line: source, line, posting_id, stage, reason, "
                                            "counted.", "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
                       **errors(404, 409, 422)})
def job_errors(job_id: JobId, service: ServiceDep) -> Response:
    """Each posting that was skipped (or counted with an unknown month), with its reason."""
    run = manager(service).finished_run(job_id)
    return FileResponse(run / "errors.jsonl", media_type="application/x-ndjson", filename=f"errors-{job_id}.jsonl")


# -- helpers ----------------------------------------------------------------------------------------


def _job_postings(body: DemandRequest, service: Service) -> list[dict[str, Any]]:
    """The postings of the request's one source (the body size limit bounds a given list)."""
    sources = [name for name, given in (("postings", body.postings is not None),
                                        ("posting_ids", body.posting_ids is not None),
                                        ("all_stored", body.all_stored)) if given]
    if len(sources) != 1:
        raise invalid_field("postings", "give exactly one of postings, posting_ids or all_stored=true")
    limit = _env_int("COMPETENCYMAP_JOB_MAX_POSTINGS", 1_000_000)
    if body.postings is not None:
        found = [p.model_dump() for p in body.postings]
    elif body.posting_ids is not None:
        found = [_stored(service.catalog.get_posting(pid)) for pid in dict.fromkeys(body.posting_ids)]
    else:
        found = [_stored(p) for p in service.catalog.all_postings(limit=limit)]
    if not found:
        raise invalid_field("postings", "no postings to analyse")
    if len(found) > limit:
        raise TooLarge(f"{len(found):,} postings; the limit is {limit:,} per job")
    return found


def _top(rows: list[dict[str, Any]], n: int | None) -> list[dict[str, Any]]:
    """The first `n` rows of each block (every column but the row's own: iri, label, counts)."""
    if n is None:
        return rows
    own = {"iri", "label", "postings", "share", "credentials_supply"}
    seen: dict[tuple[Any, ...], int] = {}
    kept = []
    for row in rows:
        block = tuple(v for k, v in row.items() if k not in own)
        seen[block] = seen.get(block, 0) + 1
        if seen[block] <= n:
            kept.append(row)
    return kept


def _table_file(rows: list[dict[str, Any]], columns: list[str], fmt: str, meta: dict[str, Any], job_id: str) -> Response:
    import tempfile

    from competencymap.workflows.postings_io import write_table

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"demand.{fmt}"
        write_table(rows, columns, fmt, path, meta=meta)
        data = path.read_bytes()
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.apache.parquet"
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="demand-{job_id}.{fmt}"'})
