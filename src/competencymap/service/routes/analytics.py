"""`POST /analytics/demand` and `POST /analytics/demand/upload`: how often each competency is
asked for across postings, rolled up, set against catalog supply.

The work is `competencymap.workflows.demand.single.demand`; this module gathers the postings (given in the
body, stored, or an uploaded CSV/JSONL/Parquet file), enforces the batch limit and shapes the
table as JSON or CSV.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from competencymap._common.errors import CompetencyMapError
from competencymap._common.options import split_list
from competencymap._common.text import check_text
from competencymap.service.demand_inputs import check_occupations, stored_posting, upload_name
from competencymap.service.deps import Service, ServiceDep
from competencymap.service.errors import TooLarge, invalid_field
from competencymap.service.models import (
    DemandRequest,
    DemandResponse,
    FormByMonth,
    FormByOccupation,
    FormFast,
    FormFrameworks,
    FormRollup,
    FormTopN,
    errors,
)
from competencymap.service.security import require_api_key
from competencymap.service.uploads import receive_upload, row_limit
from competencymap.workflows.demand.postings import posting_month
from competencymap.workflows.demand.single import demand
from competencymap.workflows.postings_io import TooManyRows, read_postings, scan_postings, write_csv

router = APIRouter(tags=["analytics"])
BATCH_LIMIT = "max_batch"  # the service's postings per request (ServiceOptions.max_batch)
write = [Depends(require_api_key)]
OutputFormat = Annotated[
    Literal["json", "csv"], Query(description="json (table with its metadata) or csv (the table only).")
]
TABLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The demand table: JSON with `meta`, `columns` and `rows`, or CSV with the same columns.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    },
    **errors(400, 401, 403, 404, 413, 422),
}


@router.post(
    "/analytics/demand", response_model=DemandResponse, summary="Competency demand across postings",
    responses=TABLE_RESPONSES, dependencies=write,
)
def demand_table(body: DemandRequest, service: ServiceDep, format: OutputFormat = "json") -> Response:
    """Maps every posting (given in `postings`, stored ones by `posting_ids`, or `all_stored`),
    counts the postings needing each competency, rolls the counts up the ESCO skill hierarchy
    and to Skills for Success skills, optionally by month and occupation, and sets each row
    against the number of catalog credentials that cover it."""
    postings = _postings(body, service)
    table = _run(service, postings, body.frameworks, body.by_month, body.by_occupation, body.rollup, body.fast, body.top_n)
    return _table_response(table, format)


@router.post(
    "/analytics/demand/upload", response_model=DemandResponse, summary="Competency demand of an uploaded postings file",
    responses={**TABLE_RESPONSES, **errors(400, 401, 403, 404, 413, 415, 422)}, dependencies=write,
)
def demand_upload(
    service: ServiceDep,
    file: Annotated[UploadFile, File(description="Postings as .csv, .jsonl (.ndjson) or .parquet; a `text` "
                                                 "(or description/body) column, optional title and posted_on.")],
    frameworks: FormFrameworks = None,
    by_month: FormByMonth = False,
    by_occupation: FormByOccupation = False,
    rollup: FormRollup = True,
    fast: FormFast = False,
    top_n: FormTopN = None,
    csrf_token: Annotated[str | None, Form(max_length=200, description="The page's form token (GET /csrf-token), "
                                                                        "for browser forms.")] = None,
    format: OutputFormat = "json",
) -> Response:
    """The same table as `POST /analytics/demand` for a file of postings (at most the batch
    limit of postings; the body size limit applies to the file, and the limit on the bytes it
    inflates to, COMPETENCYMAP_MAX_UPLOAD_DECOMPRESSED_BYTES)."""
    name = upload_name(file.filename)
    check_text(frameworks or "", "frameworks", limit=500, empty_ok=True)
    names = split_list(frameworks) or None
    with tempfile.TemporaryDirectory(prefix="competencymap-upload-") as folder:
        path = FilePath(folder) / name
        receive_upload(file.file, path, name, service.options.max_upload_decompressed_bytes)
        try:
            scan_postings(path, check=posting_month if by_month else None, limit=service.options.max_batch)
            table = _run(service, read_postings(path), names, by_month, by_occupation, rollup, fast, top_n)
        except TooManyRows as exc:
            raise row_limit(exc, name, BATCH_LIMIT, "per request (POST /jobs/demand/upload takes more)") from None
        except CompetencyMapError as exc:
            if exc.path == str(path):
                exc.path = name  # name the upload, not the server's temporary file
            raise
    return _table_response(table, format)


def _postings(body: DemandRequest, service: Service) -> list[dict[str, Any]]:
    """The postings of the request's one source, within the batch limit (stored ones are read in
    one transaction: a posting deleted meanwhile is simply absent)."""
    sources = [name for name, given in (("postings", body.postings is not None),
                                        ("posting_ids", body.posting_ids is not None),
                                        ("all_stored", body.all_stored)) if given]
    if len(sources) != 1:
        raise invalid_field("postings", "give exactly one of postings, posting_ids or all_stored=true")
    limit = service.options.max_batch
    if body.postings is not None:
        _check_batch(len(body.postings), limit)
        return [p.model_dump() for p in body.postings]
    if body.posting_ids is not None:
        _check_batch(len(body.posting_ids), limit)
        return [stored_posting(service.catalog.get_posting(pid)) for pid in dict.fromkeys(body.posting_ids)]
    stored = service.catalog.all_postings(limit=limit)
    _check_batch(len(stored), limit, "stored postings" if len(stored) <= limit else "or more stored postings")
    return [stored_posting(p) for p in stored]


def _check_batch(count: int, limit: int, what: str = "postings") -> None:
    if count > limit:
        raise TooLarge(f"{count:,} {what}; the limit is {limit:,} per request")


def _run(
    service: Service,
    postings: Iterable[dict[str, Any]],
    frameworks: list[str] | None,
    by_month: bool,
    by_occupation: bool,
    rollup: bool,
    fast: bool,
    top_n: int | None,
) -> Any:
    names = service.check_frameworks(frameworks)
    if by_occupation:
        check_occupations(service)
    table = demand(service.engine, postings, frameworks=names, by_month=by_month, by_occupation=by_occupation,
                                  catalog=service.catalog, rollup=rollup, fast=fast)
    return table.top(top_n) if top_n is not None else table


def _table_response(table: Any, fmt: str) -> Response:
    columns = table.columns()
    if fmt == "csv":
        stream = io.StringIO()
        write_csv(table.records(), columns, stream)
        return Response(stream.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="demand.csv"'})
    body = DemandResponse.model_validate({"meta": table.meta(), "columns": columns, "rows": table.records()})
    return JSONResponse(body.model_dump(mode="json"))
