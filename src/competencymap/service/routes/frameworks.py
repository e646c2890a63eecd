"""`GET /frameworks`, `GET /competencies/{iri}`, `GET /search`.

A competency's detail is `service.concepts.competency_detail` (the served frameworks searched),
shaped by `workflows.concept_serialize.concept_dict` as `competencymap frameworks show --json`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from competencymap._common.text import check_text
from competencymap.catalog.schemas import NONBLANK_PATTERN, TEXT_PATTERN
from competencymap.mapping.serialize import match_dict
from competencymap.model.framework import Framework
from competencymap.service.concepts import competency_detail
from competencymap.service.deps import ServiceDep
from competencymap.service.models import (
    MAX_TOP_K,
    CompetencyDetail,
    FrameworkList,
    SearchResponse,
    errors,
)
from competencymap.workflows.concept_serialize import concept_dict

router = APIRouter(tags=["frameworks"])
MAX_QUERY_CHARS = 1000


@router.get("/frameworks", response_model=FrameworkList, summary="Frameworks known and served")
def list_frameworks(service: ServiceDep) -> dict[str, Any]:
    """Every framework of this installation; requests may name the `served` ones."""
    rows = []
    for row in service.engine.store.describe():
        served = row["name"] in service.frameworks
        rows.append({**row, "served": served, "index": "ready" if served else "not served"})
    for name in service.frameworks:  # derived views such as esco-occupations
        if name not in {r["name"] for r in rows}:
            framework = service.engine.framework(name)
            rows.append(_derived_row(framework))
    return {"served": service.frameworks, "frameworks": rows}


def _derived_row(framework: Framework) -> dict[str, Any]:
    return {
        "name": framework.id,
        "title": framework.title,
        "version": framework.version,
        "language": framework.language,
        "bundled": False,
        "source": framework.source,
        "licence": framework.licence,
        "served": True,
        "index": "ready",
        "counts": framework.stats(),
    }


@router.get(
    "/competencies/{iri:path}",
    response_model=CompetencyDetail,
    summary="One competency with its hierarchy, occupations and mappings",
    responses=errors(404, 422),
)
def get_competency(
    service: ServiceDep,
    iri: Annotated[str, Path(description="The competency IRI, URL-encoded (e.g. http%3A%2F%2Fdata.europa.eu%2Fesco%2Fskill%2F...).")],
    occupations_limit: Annotated[
        int, Query(ge=0, le=500, description="Occupations listed per relation type (counts are always full).")
    ] = 20,
) -> dict[str, Any]:
    """Labels, description, kind, broader chain, narrower concepts, skill groups, levels, related
    occupations (essential/optional, capped, with counts) and cross-framework mappings (stated in
    a served framework or computed by the crosswalk)."""
    return concept_dict(competency_detail(service, iri), occupations_limit)


@router.get("/search", response_model=SearchResponse, summary="Rank competencies for a short query", responses=errors(404, 413, 422))
def search(
    service: ServiceDep,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, pattern=NONBLANK_PATTERN,
                            description="What to look for, e.g. `postgres database administration` (not blank).")],
    framework: Annotated[str | None, Query(max_length=100, pattern=TEXT_PATTERN,
                                           description="A served framework; default: the first served.")] = None,
    top_k: Annotated[int, Query(ge=1, le=MAX_TOP_K, description=f"How many competencies (1 to {MAX_TOP_K}).")] = 10,
) -> dict[str, Any]:
    """The framework's competencies ranked for `q`, best first, with evidence."""
    check_text(q, "q", limit=MAX_QUERY_CHARS)
    name = service.check_frameworks([framework] if framework else None)[0]
    matches = service.engine.search(q, name, top_k=top_k)
    return {"query": q, "framework": name, "matches": [match_dict(m, evidence=True) for m in matches]}
