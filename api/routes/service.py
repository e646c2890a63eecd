"""`GET /health`."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.app import Service, get_service, service_version

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
    api_key_required: bool = Field(description="True when write endpoints need the X-API-Key header.")
    uptime_seconds: float = Field(description="Seconds since the service started.")


@router.get("/health", response_model=Health, summary="Service health")
def health(service: Annotated[Service, Depends(get_service)]) -> Health:
    """Answers once frameworks, indexes and the database are ready."""
    return Health(
        status="ok",
        version=service_version(),
        frameworks=service.frameworks,
        model=service.engine.settings.model if not service.frameworks else service.engine.encoder.name,
        catalog=CatalogCounts(
            credentials=service.catalog.count_credentials(), postings=service.catalog.count_postings()
        ),
        api_key_required=bool(service.options.api_key),
        uptime_seconds=round(time.time() - service.started_at, 3),
    )
