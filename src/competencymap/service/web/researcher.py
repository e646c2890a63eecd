"""The researcher's page: upload a postings file (CSV, JSONL or Parquet); it runs as a background
demand job (`competencymap.service.jobs`, on the service's own Dask cluster); a progress bar follows
it; the result is a sortable table and bar charts of the top competencies and roll-ups against
catalog supply, downloadable as CSV or Parquet (the jobs routes' own downloads)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from competencymap._common.errors import CompetencyMapError
from competencymap.service import jobs
from competencymap.service.deps import Service
from competencymap.service.errors import ApiError
from competencymap.service.web.charts import Chart, bar_chart
from competencymap.service.web.pages import key_ok, key_refused, not_found, redirect, render, service_of, t_for

router = APIRouter(include_in_schema=False)
TOP = 10
MAX_ROWS_SHOWN = 500
SORTABLE = ("month", "framework", "level", "label", "postings", "share", "credentials_supply")
JOB_ID_LENGTH = 32


def _submit(service: Service, upload: UploadFile, by_month: bool) -> str:
    job_id: str = jobs.submit_file(service, upload.file, upload.filename, by_month=by_month)["id"]
    return job_id


@router.get("/researcher", response_class=HTMLResponse)
def researcher_page(request: Request) -> HTMLResponse:
    return render(request, "researcher.html", section="researcher", title=t_for(request)("researcher.title"),
                  by_month=False)


@router.post("/researcher", response_class=HTMLResponse)
async def start_job(request: Request) -> Response:
    t = t_for(request)
    form = await request.form()
    upload = form.get("postings_file")
    by_month = form.get("by_month") == "on"
    context: dict[str, Any] = {"section": "researcher", "title": t("researcher.title"), "by_month": by_month}
    if not key_ok(request):
        await form.close()
        return key_refused(request)
    if not isinstance(upload, UploadFile) or not upload.filename:
        await form.close()
        return render(request, "researcher.html", status=422, errors={"postings_file": t("researcher.error.no_file")},
                      **context)
    try:
        job_id = await run_in_threadpool(_submit, service_of(request), upload, by_month)
    except ApiError as exc:  # the checks and limits of every upload path (service.uploads), a full queue
        problem = t("researcher.error.busy") if exc.status_code == 429 else t("error.file", problem=exc.detail)
        status = 413 if exc.status_code == 413 else 422
        return render(request, "researcher.html", status=status, errors={"postings_file": problem}, **context)
    except CompetencyMapError as exc:
        return render(request, "researcher.html", status=422, errors={"postings_file": t("error.file", problem=exc.line_text())},
                      **context)
    finally:
        await form.close()
    return redirect(f"/researcher/jobs/{job_id}")


def _sorted(rows: list[dict[str, Any]], column: str, descending: bool) -> list[dict[str, Any]]:
    def key(row: dict[str, Any]) -> tuple[int, Any]:
        value = row.get(column)
        if value is None:
            return (1, "")
        return (0, value.casefold() if isinstance(value, str) else value)

    present = [r for r in rows if r.get(column) is not None]
    absent = [r for r in rows if r.get(column) is None]
    return sorted(present, key=key, reverse=descending) + absent


def _charts(rows: list[dict[str, Any]], meta: dict[str, Any]) -> tuple[Chart, Chart]:
    credentials = meta.get("catalog_credentials_with_accepted_tags") or max(
        [int(r.get("credentials_supply") or 0) for r in rows] + [1])

    def items(chosen: list[dict[str, Any]]) -> list[tuple[str, float, float]]:
        best = sorted(chosen, key=lambda r: (-(r.get("postings") or 0), str(r.get("label"))))[:TOP]
        return [(f"{r.get('label') or r.get('iri')} ({r.get('framework')})", float(r.get("share") or 0.0),
                 (r.get("credentials_supply") or 0) / credentials) for r in best]

    single = [r for r in rows if not r.get("month")] or rows
    top = items([r for r in single if r.get("level") == "competency"])
    rollups = items([r for r in single if r.get("level") != "competency"])
    return bar_chart(top), bar_chart(rollups)


@router.get("/researcher/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: str, sort: str = "postings", order: str = "desc") -> HTMLResponse:
    t = t_for(request)
    service = service_of(request)
    if len(job_id) != JOB_ID_LENGTH or not all(c in "0123456789abcdef" for c in job_id):
        return not_found(request, t("researcher.no_job", id=job_id[:40]))
    try:
        status = jobs.job_status(service, job_id)
    except ApiError:
        return not_found(request, t("researcher.no_job", id=job_id))
    context: dict[str, Any] = {"section": "researcher", "title": t("researcher.job_title"), "job_status": status,
                               "job_id": job_id, "table": None}
    if status["state"] == "complete":
        table = jobs.result_table(service, job_id)
        column = sort if sort in table["columns"] and sort in SORTABLE else "postings"
        descending = order != "asc"
        rows = _sorted(table["rows"], column, descending)
        top, rollups = _charts(table["rows"], table["meta"])
        shown = [c for c in table["columns"] if c in SORTABLE]
        context.update(table=table, rows=rows[:MAX_ROWS_SHOWN], total_rows=len(rows), sort=column,
                       descending=descending, columns=shown, top_chart=top, rollup_chart=rollups)
    return render(request, "job.html", **context)
