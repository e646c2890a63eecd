"""Demand runs as background jobs over HTTP: `POST /jobs/demand` (JSON postings or stored ones)
and `POST /jobs/demand/upload` (a postings file) answer 202 with a job id at once; `GET /jobs/{id}`
tells the state and progress; `GET /jobs/{id}/result` downloads the table (JSON, CSV or
Parquet) and `GET /jobs/{id}/errors` the postings that could not be read or mapped;
`POST /jobs/{id}/resume` continues an interrupted or failed job.

The jobs themselves (the cluster, the queue, the limits and their COMPETENCYMAP_* variables) are
`competencymap.service.jobs`; these routes only read requests and shape responses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from competencymap._common.options import split_list
from competencymap.service import jobs
from competencymap.service.demand_inputs import stored_posting
from competencymap.service.deps import Service, ServiceDep
from competencymap.service.errors import invalid_field
from competencymap.service.models import (
    DemandRequest,
    DemandResponse,
    FormByMonth,
    FormByOccupation,
    FormFast,
    FormFrameworks,
    FormGroupBy,
    FormRollup,
    FormTopN,
    errors,
)
from competencymap.service.security import require_api_key

router = APIRouter(tags=["analytics"])
write = [Depends(require_api_key)]
JobId = Annotated[str, PathParam(pattern=jobs.JOB_ID, description="The id `POST /jobs/demand` answered.")]


# -- models -------------------------------------------------------------------------------------


class JobProgress(BaseModel):
    postings_done: int = Field(description="Postings (input rows that read as postings) of the partitions mapped so "
                                           "far; it moves each time a partition finishes.")
    postings_total: int | None = Field(None, description="Postings in the input (known once the upload is read).")
    rows_done: int = Field(description="Input rows mapped so far (postings and rows that are not postings).")
    rows_total: int | None = Field(None, description="Input rows in all.")
    partitions_done: int = Field(description="Partitions mapped so far.")
    partitions_total: int | None = Field(None, description="Partitions the input is cut into.")
    fraction: float | None = Field(None, description="postings_done / postings_total (of rows when no row is a "
                                                     "posting).")


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
    options = jobs.job_options(service, body.frameworks, by_month=body.by_month, by_occupation=body.by_occupation,
                               rollup=body.rollup, fast=body.fast, top_n=body.top_n)
    status = jobs.submit_postings(service, _job_postings(body, service), options)
    return _accepted(status)


@router.post("/jobs/demand/upload", status_code=202, response_model=JobStatus, summary="Start a demand job on a file",
             responses={**ACCEPTED, **errors(400, 401, 403, 404, 413, 415, 422)}, dependencies=write)
def submit_upload(
    service: ServiceDep,
    file: Annotated[UploadFile, File(description="Postings as .csv, .jsonl (.ndjson) or .parquet (CSV and JSONL may be "
                                                 ".gz); a `text` (or description/body) column, optional title, "
                                                 "posted_on and id.")],
    frameworks: FormFrameworks = None,
    by_month: FormByMonth = False,
    by_occupation: FormByOccupation = False,
    rollup: FormRollup = True,
    fast: FormFast = False,
    top_n: FormTopN = None,
    group_by: FormGroupBy = None,
) -> JSONResponse:
    """A demand job over an uploaded postings file (the body size limit applies). Rows that are
    not postings are skipped and listed at `GET /jobs/{id}/errors`. `group_by` names columns of
    the file that split the table (400 naming the column when the file has no such column)."""
    return _accepted(jobs.submit_file(service, file.file, file.filename, frameworks=split_list(frameworks) or None,
                                      by_month=by_month, by_occupation=by_occupation, rollup=rollup, fast=fast,
                                      top_n=top_n, group_by=split_list(group_by)))


@router.get("/jobs/{job_id}", response_model=JobStatus, summary="A demand job's state and progress",
            responses=errors(404, 422))
def job_status(job_id: JobId, service: ServiceDep) -> JSONResponse:
    """State (queued, running, complete, failed, interrupted), progress (postings, rows and
    partitions done of those in all), and when complete a summary of the result."""
    return JSONResponse(jobs.job_status(service, job_id))


@router.post("/jobs/{job_id}/resume", status_code=202, response_model=JobStatus, summary="Resume a demand job",
             responses={**ACCEPTED, **errors(401, 403, 404, 409, 422)}, dependencies=write)
def resume_job(job_id: JobId, service: ServiceDep) -> JSONResponse:
    """Queue an interrupted or failed job again: the partitions it mapped are kept, the rest are mapped."""
    return JSONResponse(jobs.resume(service, job_id), status_code=202)


ResultFormat = Annotated[Literal["json", "csv", "parquet"], Query(description="json (with the table's metadata), csv or parquet.")]
MEDIA = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


@router.get("/jobs/{job_id}/result", response_model=DemandResponse, summary="Download a demand job's table",
            responses={200: {"description": "The demand table.", "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}}}},
                **errors(404, 409, 422)})
def job_result(job_id: JobId, service: ServiceDep, format: ResultFormat = "json") -> Response:
    """The table, when the job is complete (409 before). With `top_n` in the job's options, the
    top rows of each block."""
    path = jobs.result_file(service, job_id, format) if format != "json" else None
    if path is not None:
        return FileResponse(path, media_type=MEDIA[format], filename=f"demand-{job_id}.{format}")
    table = jobs.result_table(service, job_id)
    if format == "json":
        return JSONResponse(table)
    return _table_file(table["rows"], table["columns"], format, table["meta"], job_id)


@router.get("/jobs/{job_id}/errors", summary="The postings a demand job could not read or map",
            responses={200: {"description": "One JSON object per line: source, line, posting_id, stage, reason, "
                                            "counted.", "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
                       **errors(404, 409, 422)})
def job_errors(job_id: JobId, service: ServiceDep) -> Response:
    """Each posting that was skipped (or counted with an unknown month), with its reason: of a
    complete job, or of the partitions a failed or interrupted job finished (409 before then)."""
    path = jobs.errors_file(service, job_id)
    if path is None:
        return Response(b"", media_type="application/x-ndjson",
                        headers={"Content-Disposition": f'attachment; filename="errors-{job_id}.jsonl"'})
    return FileResponse(path, media_type="application/x-ndjson", filename=f"errors-{job_id}.jsonl")


# -- helpers ----------------------------------------------------------------------------------------


def _accepted(status: dict[str, Any]) -> JSONResponse:
    return JSONResponse(status, status_code=202, headers={"Location": f"/jobs/{status['id']}"})


def _job_postings(body: DemandRequest, service: Service) -> list[dict[str, Any]]:
    """The postings of the request's one source (the body size limit bounds a given list)."""
    sources = [name for name, given in (("postings", body.postings is not None),
                                        ("posting_ids", body.posting_ids is not None),
                                        ("all_stored", body.all_stored)) if given]
    if len(sources) != 1:
        raise invalid_field("postings", "give exactly one of postings, posting_ids or all_stored=true")
    if body.postings is not None:
        found = [p.model_dump() for p in body.postings]
    elif body.posting_ids is not None:
        found = [stored_posting(service.catalog.get_posting(pid)) for pid in dict.fromkeys(body.posting_ids)]
    else:
        limit = jobs.manager(service).settings.max_postings
        found = [stored_posting(p) for p in service.catalog.all_postings(limit=limit)]
    if not found:
        raise invalid_field("postings", "no postings to analyse")
    return found


def _table_file(rows: list[dict[str, Any]], columns: list[str], fmt: str, meta: dict[str, Any], job_id: str) -> Response:
    import tempfile

    from competencymap.workflows.postings_io import write_table

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"demand.{fmt}"
        write_table(rows, columns, fmt, path, meta=meta)
        data = path.read_bytes()
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.apache.parquet"
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="demand-{job_id}.{fmt}"'})
