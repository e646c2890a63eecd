"""The researcher's page: upload a postings file (CSV, JSONL or Parquet), optionally split by
month, by occupation and by columns of the file; it runs as a background demand job
(`competencymap.service.jobs`, on the service's own Dask cluster); a progress bar follows it in
postings; the result is the competencies (and, in their own view, the roll-ups) in a sortable,
paged table with one chart per block against catalog supply (`demand_view`), the rows that could
not be read listed on the page, and the table to download as CSV or Parquet."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from competencymap._common.errors import CompetencyMapError
from competencymap._common.options import split_list
from competencymap.service import jobs
from competencymap.service.deps import Service
from competencymap.service.errors import ApiError
from competencymap.service.web.demand_view import CATALOG_SHARE, TAGGED_SHARE, demand_view
from competencymap.service.web.pages import key_ok, key_refused, not_found, redirect, render, service_of, t_for

router = APIRouter(include_in_schema=False)
JOB_ID_LENGTH = 32
ERRORS_SHOWN = 20  # rows that could not be read, listed on the page (all of them: the download)
GROUP_BY_MAX_CHARS = 500
PERCENT_COLUMNS = ("share", CATALOG_SHARE, TAGGED_SHARE)


def _submit(service: Service, upload: UploadFile, form: dict[str, Any]) -> str:
    job_id: str = jobs.submit_file(service, upload.file, upload.filename, by_month=form["by_month"],
                                   by_occupation=form["by_occupation"], group_by=split_list(form["group_by"]))["id"]
    return job_id


@router.get("/researcher", response_class=HTMLResponse)
def researcher_page(request: Request) -> HTMLResponse:
    return render(request, "researcher.html", section="researcher", title=t_for(request)("researcher.title"),
                  form={"by_month": False, "by_occupation": False, "group_by": ""})


def _field_of(exc: ApiError | CompetencyMapError) -> str:
    """The form field an error is about: by_occupation (its index), group_by (a column), else the file."""
    text = str(exc.detail) if isinstance(exc, ApiError) else exc.message
    if "by_occupation" in text:
        return "by_occupation"
    return "group_by" if text.startswith("group_by:") or "no group-by column" in text else "postings_file"


@router.post("/researcher", response_class=HTMLResponse)
async def start_job(request: Request) -> Response:
    t = t_for(request)
    data = await request.form()
    upload = data.get("postings_file")
    group_by = data.get("group_by")
    columns = group_by if isinstance(group_by, str) else ""
    form: dict[str, Any] = {"by_month": data.get("by_month") == "on",
                            "by_occupation": data.get("by_occupation") == "on", "group_by": columns}
    context: dict[str, Any] = {"section": "researcher", "title": t("researcher.title"), "form": form}
    try:
        if not key_ok(request):
            return key_refused(request)
        if len(columns) > GROUP_BY_MAX_CHARS:
            form["group_by"] = columns[:GROUP_BY_MAX_CHARS]
            return render(request, "researcher.html", status=422, errors={
                "group_by": t("error.too_long", limit=GROUP_BY_MAX_CHARS, given=len(columns))}, **context)
        if not isinstance(upload, UploadFile) or not upload.filename:
            return render(request, "researcher.html", status=422,
                          errors={"postings_file": t("researcher.error.no_file")}, **context)
        job_id = await run_in_threadpool(_submit, service_of(request), upload, form)
    except ApiError as exc:  # the checks and limits of every upload path (service.uploads), a full queue
        problem = t("researcher.error.busy") if exc.status_code == 429 else t("error.file", problem=exc.detail)
        status = 413 if exc.status_code == 413 else 422
        return render(request, "researcher.html", status=status, errors={_field_of(exc): problem}, **context)
    except CompetencyMapError as exc:
        return render(request, "researcher.html", status=422,
                      errors={_field_of(exc): t("error.file", problem=exc.line_text())}, **context)
    finally:
        await data.close()
    return redirect(f"/researcher/jobs/{job_id}")


@router.get("/researcher/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: str, view: str = "competencies", block: str = "", sort: str = "",
             order: str = "desc", page: str = "1") -> HTMLResponse:
    t = t_for(request)
    service = service_of(request)
    if len(job_id) != JOB_ID_LENGTH or not all(c in "0123456789abcdef" for c in job_id):
        return not_found(request, t("researcher.no_job", id=job_id[:40]))
    try:
        status = jobs.job_status(service, job_id)
    except ApiError:
        return not_found(request, t("researcher.no_job", id=job_id))
    errors, error_count = jobs.first_errors(service, job_id, ERRORS_SHOWN)
    context: dict[str, Any] = {"section": "researcher", "title": t("researcher.job_title"), "job_status": status,
                               "job_id": job_id, "table": None, "errors_shown": errors, "error_count": error_count}
    if status["state"] == "complete":
        table = jobs.result_table(service, job_id)
        shown = demand_view(table, t, view=view, block=_number(block), sort=sort or None,
                            descending=order != "asc", page=_number(page) or 1)
        headers = _headers(t, [*shown.block_columns, *shown.columns])
        names = [headers[c].lower() if c in ("month", "occupation_label") else c for c in shown.block_columns]
        context.update(table=table, v=shown, headers=headers, percent_columns=PERCENT_COLUMNS,
                       block_names=", ".join(names))
    return render(request, "job.html", **context)


def _number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) < 9 else None


def _headers(t: Any, columns: list[str]) -> dict[str, str]:
    """Each shown column's heading; a group-by column goes by its own name."""
    known = {"month": t("column.month"), "occupation_label": t("column.occupation_label"),
             "framework": t("column.framework"), "level": t("column.level"), "label": t("column.label"),
             "postings": t("column.postings"), "share": t("column.share"),
             "credentials_supply": t("column.credentials_supply"), CATALOG_SHARE: t("column.catalog_share"),
             TAGGED_SHARE: t("column.tagged_share")}
    return {c: known.get(c, c) for c in columns}
