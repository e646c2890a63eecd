"""`POST /map`: free text onto competencies."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from competencymap.mapping.serialize import result_dict
from competencymap.service.deps import ServiceDep
from competencymap.service.models import MapRequest, MapResponse, errors
from competencymap.service.security import require_api_key

router = APIRouter(tags=["mapping"])
write = [Depends(require_api_key)]


@router.post("/map", response_model=MapResponse, summary="Map a text onto competencies", dependencies=write,
             responses=errors(401, 403, 404, 413, 422))
def map_text(body: MapRequest, service: ServiceDep) -> dict[str, Any]:
    """Split the text into statements (dropping posting boilerplate), match each statement in
    every framework with evidence, and aggregate one profile per framework."""
    names = service.check_frameworks(body.frameworks)
    result = service.map(body.text, names, top_k=body.top_k, kind=body.kind)
    return result_dict(result, names, top_k=body.top_k)
