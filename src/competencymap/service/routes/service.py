"""`GET /health`."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from competencymap._common.version import package_version
from competencymap.service.deps import ServiceDep
from competencymap.service.security import CSRF_FIELD, CSRF_HEADER

router = APIRouter(tags=["service"])


class CatalogCounts(BaseModel):
    credentials: int = Field(description="Stored credentials.")
    postings: int = Field(description="Stored postings.")


class Health(BaseModel):
    status: str = Field(description="`ok` when the service answers and its database is reachable.")
    version: str = Field(description="competencymap version.")
    frameworks: list[str] = Field(description="Served frameworks (loaded with their indexes).")
    model: str = Field(description="Embedding model used for mapping.")
    catalog: CatalogCounts = Field(description="What the catalog holds.")
    api_key_required: bool = Field(description="True when every POST, PATCH and DELETE needs the X-API-Key header.")
    uptime_seconds: float = Field(description="Seconds since the service started.")


@router.get("/health", response_model=Health, summary="Service health")
def health(service: ServiceDep) -> Health:
    """Answers once frameworks, indexes and the database are ready."""
    return Health(
        status="ok",
        version=package_version(),
        frameworks=service.frameworks,
        model=service.engine.settings.model if not service.frameworks else service.engine.encoder.name,
        catalog=CatalogCounts(
            credentials=service.catalog.count_credentials(), postings=service.catalog.count_postings()
        ),
        api_key_required=bool(service.options.api_key),
        uptime_seconds=round(time.time() - service.started_at, 3),
    )


class CsrfToken(BaseModel):
    token: str = Field(description="A signed form token: send it in the header or the form field below.")
    expires_at: int = Field(description="When it stops being accepted (Unix seconds).")
    header: str = Field(description=f"The request header that carries it: `{CSRF_HEADER}`.")
    field: str = Field(description=f"The form field that carries it instead: `{CSRF_FIELD}`.")


@router.get("/csrf-token", response_model=CsrfToken, summary="A form token for browser pages")
def csrf_token(request: Request) -> JSONResponse:
    """A page of this service (or of a configured origin) reads this and puts the token in its
    forms (`csrf_token` field) or its requests (`X-CSRF-Token` header). Another site's page cannot
    read it, so a state-changing request carrying a valid token is not cross-site."""
    token, expiry = request.app.state.csrf.issue()
    body = CsrfToken(token=token, expires_at=expiry, header=CSRF_HEADER, field=CSRF_FIELD)
    return JSONResponse(body.model_dump(), headers={"Cache-Control": "no-store"})
