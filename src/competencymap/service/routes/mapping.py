"""`POST /map`: free text onto competencies."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from competencymap.service.deps import ServiceDep
from competencymap.service.models import MapRequest, MapResponse, errors
from competencymap.service.security import require_api_key
from competencymap.mapping.results import MappingResult
from competencymap.mapping.serialize import match_dict, result_dict

router = APIRouter(tags=["mapping"])
write = [Depends(require_api_key)]


@router.post("/map", response_model=MapResponse, summary="Map a text onto competencies", dependencies=write,
             responses=errors(401, 403, 404, 413, 422))
def map_text(body: MapRequest, service: ServiceDep) -> dict[str, Any]:
    """Split the text into statements (dropping posting boilerplate), match each statement in
    every framework with evidence, and aggregate one profile per framework."""
    names = service.check_frameworks(body.frameworks)
    result = service.map(body.text, names, top_k=body.top_k, kind=body.kind)
    return mapping_dict(result, names, body.top_k)


def mapping_dict(result: MappingResult, frameworks: list[str], top_k: int) -> dict[str, Any]:
    """The CLI's statement detail plus a per-framework profile and the dropped boilerplate."""
    profile: dict[str, list[dict[str, Any]]] = {name: [] for name in frameworks}
    for match in result.profile:
        profile.setdefault(match.framework, []).append(match_dict(match, evidence=True))
    return {
        "frameworks": frameworks,
        "statements": result_dict(result, top_k=top_k)["statements"],
        "profile": {name: matches[:top_k] for name, matches in profile.items()},
        "dropped": [{"text": s.text, "start": s.start, "end": s.end, "reason": s.reason} for s in result.dropped],
    }
