"""Demand jobs of one service: submitted at once, run in the background, read back when done.

A job is a corpus run (`competencymap.workflows.demand.corpus.run.run_corpus`, the machinery of
`competencymap demand`) on a Dask cluster the service owns: a local one started on the first job
(COMPETENCYMAP_JOB_WORKERS worker processes, default 1, each with its own engine, so the
service's engine and its requests are never held by a job), or an existing scheduler named by
COMPETENCYMAP_JOB_SCHEDULER. At most COMPETENCYMAP_MAX_JOBS jobs run at once (default 1); the
others wait in order, and more than COMPETENCYMAP_MAX_QUEUED_JOBS waiting or running (default 20)
are refused (429). A job's input is cut into partitions of at most COMPETENCYMAP_JOB_PARTITION_SIZE
rows (default 100), smaller for a small input so that it has about PROGRESS_STEPS partitions: progress
is told each time a partition finishes, in postings (the rows that read as postings). Each job lives under `<home>/jobs/<id>/`: `job.json` (its state), `input/` and
`run/` (the run folder: per-posting files, errors, table, manifest). A job that was running when
the service stopped is `interrupted`; `resume` continues it where it stopped.

The functions here take and return plain values (dicts, paths); `service.routes.jobs` is the
HTTP layer over them and the researcher's page calls them directly.
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from competencymap._common.config import env_int, env_value
from competencymap._common.errors import CompetencyMapError
from competencymap.service.demand_inputs import check_group_by, check_occupations, upload_name
from competencymap.service.deps import Service
from competencymap.service.errors import ApiError, OverLimit
from competencymap.service.uploads import receive_upload, row_limit
from competencymap.workflows.demand.options import DemandOptions
from competencymap.workflows.postings_io import TooManyRows

JOB_ID = r"^[0-9a-f]{32}$"
STATES = ("queued", "running", "complete", "failed", "interrupted")
MAX_POSTINGS_SETTING = "COMPETENCYMAP_JOB_MAX_POSTINGS"
PROGRESS_STEPS = 10  # partitions a small job is cut into, so that its progress moves


@dataclass(frozen=True)
class JobSettings:
    """How a service runs its demand jobs; `from_env` reads the COMPETENCYMAP_* variables."""

    max_running: int = 1  # COMPETENCYMAP_MAX_JOBS
    max_waiting: int = 20  # COMPETENCYMAP_MAX_QUEUED_JOBS: waiting or running
    workers: int = 1  # COMPETENCYMAP_JOB_WORKERS: processes of the local cluster
    threads: int = 1  # COMPETENCYMAP_JOB_THREADS: threads per worker
    partition_size: int = 100  # COMPETENCYMAP_JOB_PARTITION_SIZE: rows per partition, at most
    max_postings: int = 1_000_000  # COMPETENCYMAP_JOB_MAX_POSTINGS: per job
    scheduler: str | None = None  # COMPETENCYMAP_JOB_SCHEDULER: an existing Dask scheduler's address

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> JobSettings:
        """The settings the environment gives; a bad value raises CompetencyMapError naming its variable."""
        def number(name: str, default: int) -> int:
            return env_int(name, default, minimum=1, environ=environ)

        return cls(
            max_running=number("COMPETENCYMAP_MAX_JOBS", cls.max_running),
            max_waiting=number("COMPETENCYMAP_MAX_QUEUED_JOBS", cls.max_waiting),
            workers=number("COMPETENCYMAP_JOB_WORKERS", cls.workers),
            threads=number("COMPETENCYMAP_JOB_THREADS", cls.threads),
            partition_size=number("COMPETENCYMAP_JOB_PARTITION_SIZE", cls.partition_size),
            max_postings=number("COMPETENCYMAP_JOB_MAX_POSTINGS", cls.max_postings),
            scheduler=env_value("COMPETENCYMAP_JOB_SCHEDULER", environ),
        )


class JobManager:
    """Jobs under `<home>/jobs`, a bounded set of runner threads and the Dask client they share."""

    def __init__(self, service: Service, settings: JobSettings | None = None) -> None:
        self.service = service
        self.settings = settings or JobSettings.from_env()
        self.root = Path(service.engine.settings.home) / "jobs"
        self.lock = threading.RLock()
        self.pending: queue.Queue[str] = queue.Queue()
        self.progress: dict[str, Any] = {}  # job id -> its RunProgress (None before the first)
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
        job: dict[str, Any] = orjson.loads(path.read_bytes())
        return job

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
            if self.pending.qsize() + self._running() >= self.settings.max_waiting:
                raise ApiError(429, "too_many_jobs", f"{self.settings.max_waiting} demand jobs are already waiting "
                                                     "or running; try again when one has finished")
            job_id = uuid.uuid4().hex
            (self.folder(job_id) / "input").mkdir(parents=True)
            job = {"id": job_id, "state": "queued", "created": _now(), "started": None, "finished": None,
                   "options": options, "error": None, "result": None, "input": None}
            self.save(job)
            return job

    def enqueue(self, job_id: str) -> None:
        with self.lock:
            self.pending.put(job_id)
            while len(self.runners) < self.settings.max_running:
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
                self.update(job_id, state="failed", finished=_now(), error=self.reason(job_id, exc))
            finally:
                self.progress.pop(job_id, None)

    def corpus_options(self, options: dict[str, Any], partition_size: int | None = None) -> Any:
        """The corpus run's options for a job's options (partitions of the settings' size unless given)."""
        from competencymap.workflows.demand.corpus.run import CorpusOptions
        from competencymap.workflows.postings_io import Columns

        return CorpusOptions(_demand_options(options), Columns(groups=tuple(options.get("group_by") or ())),
                             partition_size=partition_size or self.settings.partition_size)

    def _run(self, job_id: str) -> None:
        from competencymap.workflows.demand.corpus.run import run_corpus
        from competencymap.workflows.employer_match import catalog_offers

        job = self.update(job_id, state="running", started=_now(), finished=None, error=None)
        self.progress[job_id] = None
        offers = catalog_offers(self.service.catalog)
        in_catalog = self.service.catalog.count_credentials()

        def moved(progress: Any) -> None:
            self.progress[job_id] = progress

        path = str(self.folder(job_id) / "input" / job["input"])
        result = run_corpus(self.service.engine.settings, [path], self.folder(job_id) / "run",
                            self.corpus_options(job["options"], job.get("partition_size")), client=self.client(),
                            offers=offers, on_progress=moved, names={path: job["input"]},
                            catalog_credentials=in_catalog)
        self.update(job_id, state="complete", finished=_now(), result={
            "postings": result.table.postings, "rows": len(result.table.rows), "errors": result.errors,
            "postings_left_out": result.table.errors, "statements": result.table.statements})

    def reason(self, job_id: str, exc: Exception) -> str:
        """Why a job failed, in words that name its uploaded file and never a path on the server."""
        from competencymap.workflows.demand.corpus.run import NothingMapped

        if isinstance(exc, NothingMapped):
            return f"no posting could be mapped; each one is listed with its reason at /jobs/{job_id}/errors"
        text = exc.line_text() if isinstance(exc, CompetencyMapError) else f"{type(exc).__name__}: {exc}"
        folder = self.folder(job_id)
        text = text.replace(f"{folder / 'input'}{os.sep}", "")  # the upload by its own name
        return text.replace(str(folder / "run"), "the job's run folder").replace(str(self.root), "the jobs folder")

    def client(self) -> Any:
        """The Dask client jobs share: of COMPETENCYMAP_JOB_SCHEDULER, or of a local cluster started now."""
        with self.lock:
            if self._client is None:
                from distributed import Client

                from competencymap.workflows.demand.corpus.run import local_cluster

                if self.settings.scheduler:
                    self._client = Client(self.settings.scheduler, timeout="30s")
                else:
                    self._cluster = local_cluster(self.settings.workers, self.settings.threads)
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

    # -- what a job tells

    def status(self, job_id: str) -> dict[str, Any]:
        job = self.read(job_id)
        base = f"/jobs/{job_id}"
        links = {"self": base, "result": f"{base}/result", "errors": f"{base}/errors"}
        return {**{k: job[k] for k in ("id", "state", "created", "started", "finished", "options", "error", "result")},
                "progress": self.job_progress(job), "links": links}

    def job_progress(self, job: dict[str, Any]) -> dict[str, Any]:
        """Postings, rows and partitions done of those in all: as the run last told (running), all
        of them (complete), none of those the upload's scan counted (queued, or stopped: its
        partitions are counted again when it resumes), or unknown (a job of an older service)."""
        sizes = job.get("plan") or {}
        if job["state"] == "complete":
            sizes = _plan_of_manifest(self.manifest(job["id"])) or sizes
        total = {name: sizes.get(name) for name in ("postings", "rows", "partitions")}
        done = dict.fromkeys(total, 0)
        if job["state"] == "complete":
            done = {name: value or 0 for name, value in total.items()}
        current = self.progress.get(job["id"]) if job["state"] == "running" else None
        if current is not None:
            total = {"postings": current.postings_total, "rows": current.rows_total,
                     "partitions": current.partitions_total}
            done = {"postings": current.postings_done, "rows": current.rows_done,
                    "partitions": current.partitions_done}
        measure = "postings" if total["postings"] else "rows"
        whole = total[measure]
        fraction = round(done[measure] / whole, 4) if whole else None
        return {"postings_done": done["postings"], "postings_total": total["postings"],
                "rows_done": done["rows"], "rows_total": total["rows"],
                "partitions_done": done["partitions"], "partitions_total": total["partitions"], "fraction": fraction}

    def manifest(self, job_id: str) -> dict[str, Any]:
        path = self.folder(job_id) / "run" / "manifest.json"
        manifest: dict[str, Any] = orjson.loads(path.read_bytes()) if path.is_file() else {}
        return manifest

    def finished_run(self, job_id: str) -> Path:
        """The run folder of a complete job; 409 for a job not complete."""
        job = self.read(job_id)
        if job["state"] != "complete":
            raise ApiError(409, "conflict", f"job {job_id} is {job['state']}, not complete")
        return self.folder(job_id) / "run"


def manager(service: Service) -> JobManager:
    """The service's one job manager (made on first use)."""
    jobs: JobManager = service.cached("demand-jobs", lambda: JobManager(service))
    return jobs


# -- what the routes and pages call -----------------------------------------------------------------


def job_options(service: Service, frameworks: list[str] | None, *, by_month: bool = False,
                by_occupation: bool = False, rollup: bool = True, fast: bool = False,
                top_n: int | None = None, group_by: Sequence[str] = ()) -> dict[str, Any]:
    """A job's options, checked: served frameworks (default: all served), occupations ready,
    group-by column names (each a column of the postings, checked when the file is read)."""
    names = service.check_frameworks(frameworks)
    if by_occupation:
        check_occupations(service)
    return {"frameworks": names, "by_month": by_month, "by_occupation": by_occupation, "rollup": rollup,
            "fast": fast, "top_n": top_n, "group_by": check_group_by(group_by)}


def submit_postings(service: Service, postings: list[dict[str, Any]], options: dict[str, Any]) -> dict[str, Any]:
    """Queue a job over posting records; its status. 413 beyond COMPETENCYMAP_JOB_MAX_POSTINGS."""
    jobs = manager(service)
    limit = jobs.settings.max_postings
    if len(postings) > limit:
        raise OverLimit(f"{len(postings):,} postings; the limit is {limit:,} per job ({MAX_POSTINGS_SETTING})",
                        MAX_POSTINGS_SETTING, limit)
    job = jobs.create(options)
    name = "postings.jsonl"
    with (jobs.folder(job["id"]) / "input" / name).open("wb") as handle:
        for posting in postings:
            handle.write(orjson.dumps(posting) + b"\n")
    return _accept(jobs, job, name)


def submit_file(service: Service, source: BinaryIO, filename: str | None, *, frameworks: list[str] | None = None,
                by_month: bool = False, by_occupation: bool = False, rollup: bool = True, fast: bool = False,
                top_n: int | None = None, group_by: Sequence[str] = ()) -> dict[str, Any]:
    """Queue a job over a postings file (read from `source`, named `filename`) with the options
    of `job_options`; its status. 415 for a file name that is no postings format (checked first),
    413 for a file past the upload limits (`service.uploads`, COMPETENCYMAP_JOB_MAX_POSTINGS rows),
    400 for a file without postings or that is not text."""
    name = upload_name(filename)
    options = job_options(service, frameworks, by_month=by_month, by_occupation=by_occupation, rollup=rollup,
                          fast=fast, top_n=top_n, group_by=group_by)
    jobs = manager(service)
    job = jobs.create(options)
    try:
        receive_upload(source, jobs.folder(job["id"]) / "input" / name, name,
                       service.options.max_upload_decompressed_bytes)
    except BaseException:
        shutil.rmtree(jobs.folder(job["id"]), ignore_errors=True)
        raise
    return _accept(jobs, job, name)


def job_status(service: Service, job_id: str) -> dict[str, Any]:
    """State, progress and (when complete) a summary of the result; 404 for no such job."""
    return manager(service).status(job_id)


def resume(service: Service, job_id: str) -> dict[str, Any]:
    """Queue an interrupted or failed job again (the partitions it mapped are kept); its status."""
    jobs = manager(service)
    with jobs.lock:
        job = jobs.read(job_id)
        if job["state"] not in ("interrupted", "failed"):
            raise ApiError(409, "conflict", f"job {job_id} is {job['state']}; only an interrupted or failed job resumes")
        jobs.update(job_id, state="queued", error=None)
    jobs.enqueue(job_id)
    return jobs.status(job_id)


def result_file(service: Service, job_id: str, fmt: str) -> Path | None:
    """The run's own table file (`csv` or `parquet`) of a complete job, or None when the job keeps
    only its top rows (then the table is `result_table`)."""
    jobs = manager(service)
    run = jobs.finished_run(job_id)
    if jobs.read(job_id)["options"].get("top_n") is not None:
        return None
    return run / f"demand.{fmt}"


def result_table(service: Service, job_id: str) -> dict[str, Any]:
    """A complete job's table: `meta`, `columns` and `rows` (the top rows of each block with `top_n`)."""
    import pyarrow.parquet as pq

    jobs = manager(service)
    run = jobs.finished_run(job_id)
    top_n = jobs.read(job_id)["options"].get("top_n")
    table = jobs.manifest(job_id)["table"]
    rows = _top(pq.read_table(run / "demand.parquet").to_pylist(), top_n)
    return {"meta": table["meta"], "columns": table["columns"], "rows": rows}


def errors_file(service: Service, job_id: str) -> Path | None:
    """A finished job's errors (JSON lines: the postings that could not be read or mapped); for a
    failed or interrupted job, those of the partitions it finished (gathered now). None: a job
    that failed before it read a row. 409 for a job still queued or running."""
    from competencymap.workflows.demand.corpus.output import ERRORS_FILE, OutputFolder, merge_errors

    jobs = manager(service)
    job = jobs.read(job_id)
    run = jobs.folder(job_id) / "run"
    if job["state"] == "complete":
        return run / ERRORS_FILE
    if job["state"] not in ("failed", "interrupted"):
        raise ApiError(409, "conflict", f"job {job_id} is {job['state']}; its errors are listed once it has finished")
    parts = sorted((run / "errors").glob("part-*.jsonl")) if (run / "errors").is_dir() else []
    if not parts:
        return None
    with jobs.lock:
        merge_errors(OutputFolder(run), [part.stem.removeprefix("part-") for part in parts])
    return run / ERRORS_FILE


def first_errors(service: Service, job_id: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The first `limit` entries of a finished job's errors (source, line, posting_id, stage,
    reason, counted) and how many there are in all; ([], 0) for a job still queued or running."""
    job = manager(service).read(job_id)
    if job["state"] not in ("complete", "failed", "interrupted"):
        return [], 0
    path = errors_file(service, job_id)
    if path is None or not path.is_file():
        return [], 0
    shown: list[dict[str, Any]] = []
    total = 0
    with path.open("rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            total += 1
            if len(shown) < limit:
                shown.append(orjson.loads(line))
    return shown, total


# -- helpers ----------------------------------------------------------------------------------------


def _accept(jobs: JobManager, job: dict[str, Any], name: str) -> dict[str, Any]:
    try:
        plan = _check_input(jobs, job, name)
    except BaseException:
        shutil.rmtree(jobs.folder(job["id"]), ignore_errors=True)
        raise
    size = partition_size(plan.total, jobs.settings.partition_size)
    partitions = -(-plan.total // size)
    jobs.update(job["id"], input=name, partition_size=size,
                plan={"rows": plan.total, "postings": plan.postings, "partitions": partitions})
    jobs.enqueue(job["id"])
    return jobs.status(job["id"])


def partition_size(rows: int, most: int) -> int:
    """Rows per partition for a job of `rows` rows: `most`, or fewer so a small job has about
    PROGRESS_STEPS partitions (its progress then moves in steps rather than at the end)."""
    return max(1, min(most, -(-rows // PROGRESS_STEPS)))


def _check_input(jobs: JobManager, job: dict[str, Any], name: str) -> Any:
    """Scan the job's input now, so a file without postings or a text column (or a group-by
    column) is refused (400), and one of more than COMPETENCYMAP_JOB_MAX_POSTINGS rows (413, the
    scan stopping there), at once; the scan's plan (rows and postings counted)."""
    from competencymap.workflows.demand.corpus.run import prepare_corpus

    path = str(jobs.folder(job["id"]) / "input" / name)
    limit = jobs.settings.max_postings
    try:
        prepared = prepare_corpus(jobs.service.engine.settings, [path], jobs.folder(job["id"]) / "run",
                                  jobs.corpus_options(job["options"]), names={path: name}, max_rows=limit)
    except TooManyRows as exc:
        raise row_limit(exc, name, MAX_POSTINGS_SETTING, f"per job ({MAX_POSTINGS_SETTING})") from None
    except CompetencyMapError as exc:
        raise ApiError(400, "bad_request", jobs.reason(job["id"], exc)) from None
    return prepared.plan


def _plan_of_manifest(manifest: dict[str, Any]) -> dict[str, int] | None:
    """Rows, postings and partitions of a finished run, from its manifest."""
    counts = manifest.get("counts")
    if not counts:
        return None
    bad = sum(int(entry.get("bad_rows") or 0) for entry in manifest.get("inputs", []))
    return {"rows": counts["rows"], "postings": counts["rows"] - bad, "partitions": counts["partitions"]}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _demand_options(options: dict[str, Any]) -> DemandOptions:
    return DemandOptions(frameworks=tuple(options["frameworks"]), by_month=options["by_month"],
                         by_occupation=options["by_occupation"], rollup=options["rollup"], fast=options["fast"],
                         group_by=tuple(options.get("group_by") or ()))


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
