"""Stored job postings for employers: create, list, read, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from competencymap._common.text import check_text
from competencymap.catalog import Posting
from competencymap.catalog.repository import MAX_PAGE
from competencymap.catalog.schemas import TEXT_PATTERN
from competencymap.service.deps import ServiceDep
from competencymap.service.models import MAX_ID, PostingCreate, PostingOut, PostingPage, errors
from competencymap.service.security import require_api_key

router = APIRouter(tags=["postings"])
write = [Depends(require_api_key)]
PostingId = Annotated[int, Path(ge=1, le=MAX_ID, description="Posting id.")]


@router.post(
    "/postings", status_code=201, response_model=PostingOut, dependencies=write,
    summary="Store a job posting", responses=errors(401, 403, 413, 422),
)
def create_posting(body: PostingCreate, service: ServiceDep) -> Posting:
    return service.catalog.create_posting(body)


@router.get("/postings", response_model=PostingPage, summary="List stored postings", responses=errors(422))
def list_postings(
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Page size (1 to {MAX_PAGE}).")] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID, description="How many to skip.")] = 0,
    employer: Annotated[str | None, Query(max_length=300, pattern=TEXT_PATTERN,
                                          description="Only this employer's postings (exact name).")] = None,
) -> dict[str, Any]:
    check_text(employer or "", "employer", limit=300, empty_ok=True)
    catalog = service.catalog
    items = catalog.list_postings(limit=limit, offset=offset, employer=employer)
    return {"items": items, "total": catalog.count_postings(), "limit": limit, "offset": offset}


@router.get("/postings/{posting_id}", response_model=PostingOut, summary="One posting", responses=errors(404, 422))
def get_posting(posting_id: PostingId, service: ServiceDep) -> Posting:
    return service.catalog.get_posting(posting_id)


@router.delete(
    "/postings/{posting_id}", status_code=204, dependencies=write,
    summary="Delete a posting", responses=errors(401, 403, 404, 422),
)
def delete_posting(posting_id: PostingId, service: ServiceDep) -> Response:
    service.catalog.delete_posting(posting_id)
    return Response(status_code=204)
