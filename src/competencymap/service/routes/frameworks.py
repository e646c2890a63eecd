"""`GET /frameworks`, `GET /competencies/{iri}`, `GET /search`.

A competency's detail is `CompetencyMap.concept` (as `competencymap frameworks show`), searched in
the served frameworks, with its lists capped and occupations sorted by label here.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from competencymap.service.deps import Service, ServiceDep
from competencymap.service.models import (
    MAX_TOP_K,
    CompetencyDetail,
    FrameworkList,
    SearchResponse,
    errors,
)
from competencymap.catalog import NotFound
from competencymap.catalog.schemas import NONBLANK_PATTERN, TEXT_PATTERN
from competencymap.workflows.concepts import ConceptDetail, ConceptRef, Link, UnknownConcept, concept_detail
from competencymap.model.framework import Framework
from competencymap.mapping.serialize import match_dict
from competencymap._common.text import check_text

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
    detail = competency_detail(service, iri)
    return detail_dict(detail, occupations_limit)


def competency_detail(service: Service, iri: str, framework: str | None = None) -> ConceptDetail:
    """`CompetencyMap.concept` over the served frameworks; 404 unless a served one lists it as a competency."""
    if framework is not None:
        service.check_frameworks([framework])
    try:
        detail = concept_detail(service.engine, iri, framework, within=service.frameworks, lookups=service.concept_lookups)
    except UnknownConcept:
        detail = None
    if detail is None or not detail.in_framework or detail.type != "competency":
        where = f"framework {framework!r}" if framework else f"the served frameworks ({', '.join(service.frameworks)})"
        raise NotFound(f"no competency with IRI {iri!r} in {where}")
    return detail


def detail_dict(detail: ConceptDetail, limit: int) -> dict[str, Any]:
    """The response body of GET /competencies/{iri}."""
    return {
        "iri": detail.iri,
        "framework": detail.framework,
        "kind": detail.kind,
        "pref_label": detail.pref_label,
        "alt_labels": list(detail.alt_labels),
        "hidden_labels": list(detail.hidden_labels),
        "description": detail.description,
        "scope_note": detail.scope_note,
        "status": detail.status,
        "reuse_level": detail.reuse_level,
        "code": detail.code,
        "broader": [_ref(r) for r in detail.broader],
        "narrower": {"count": len(detail.narrower), "items": [_ref(r) for r in detail.narrower[:limit]]},
        "skill_groups": [_ref(r) for r in detail.skill_groups],
        "levels": [{"iri": lv.iri, "rank": lv.rank, "label": lv.label, "description": lv.description}
                   for lv in detail.levels],
        "occupations": {"essential": _occupations(detail.essential_for, limit),
                        "optional": _occupations(detail.optional_for, limit)},
        "mappings": [_mapping(link) for link in detail.mappings],
    }


def _ref(ref: ConceptRef) -> dict[str, Any]:
    return {"iri": ref.iri, "label": ref.label, "kind": ref.kind, "framework": ref.framework}


def _occupations(refs: tuple[ConceptRef, ...], limit: int) -> dict[str, Any]:
    ordered = sorted(refs, key=lambda r: (r.label or r.iri).casefold())
    return {"count": len(refs), "items": [_ref(r) for r in ordered[:limit]]}


def _mapping(link: Link) -> dict[str, Any]:
    return {"type": link.type, "direction": link.direction, "origin": link.origin, "score": link.score,
            "concept": _ref(link.concept)}


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
