"""`POST /map`: free text onto competencies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from api.app import Service, get_service
from api.errors import TooLarge
from api.models import MapRequest, MapResponse, errors
from competencymap.mapping import MAX_TEXT_CHARS, MappingResult
from competencymap.serialize import match_dict, result_dict

router = APIRouter(tags=["mapping"])


def check_length(text: str, what: str = "text") -> None:
    """413 for a text over the mapping limit (the library's own check answers 400 otherwise)."""
    if len(text) > MAX_TEXT_CHARS:
        raise TooLarge(f"{what} is {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}")


@router.post("/map", response_model=MapResponse, summary="Map a text onto competencies", responses=errors(400, 404, 413, 422))
def map_text(body: MapRequest, service: Annotated[Service, Depends(get_service)]) -> dict[str, Any]:
    """Split the text into statements (dropping posting boilerplate), match each statement in
    every framework with evidence, and aggregate one profile per framework."""
    check_length(body.text)
    names = service.check_frameworks(body.frameworks)
    with service.engine_lock:
        result = service.engine.map(body.text, names, top_k=body.top_k, kind=body.kind)
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
