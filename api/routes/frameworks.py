"""`GET /frameworks`, `GET /competencies/{iri}`, `GET /search`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from api.app import Service, get_service
from api.models import (
    MAX_TOP_K,
    CompetencyDetail,
    ConceptRef,
    CrossMapping,
    FrameworkList,
    LevelInfo,
    OccupationLinks,
    RelatedOccupations,
    SearchResponse,
    errors,
)
from competencymap.catalog import NotFound
from competencymap.errors import InputTextError
from competencymap.model import MAPPING_TYPES, REL_ESSENTIAL, REL_OPTIONAL, Competency, Framework, Relation
from competencymap.serialize import match_dict

router = APIRouter(tags=["frameworks"])
MAX_QUERY_CHARS = 1000


@router.get("/frameworks", response_model=FrameworkList, summary="Frameworks known and served")
def list_frameworks(service: Annotated[Service, Depends(get_service)]) -> dict[str, Any]:
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
    service: Annotated[Service, Depends(get_service)],
    iri: Annotated[str, Path(description="The competency IRI, URL-encoded (e.g. http%3A%2F%2Fdata.europa.eu%2Fesco%2Fskill%2F...).")],
    occupations_limit: Annotated[
        int, Query(ge=0, le=500, description="Occupations listed per relation type (counts are always full).")
    ] = 20,
) -> dict[str, Any]:
    """Labels, description, kind, broader chain, related occupations (essential/optional, capped,
    with counts) and cross-framework mappings (stated in a served framework or computed)."""
    name, competency = find_competency(service, iri)
    framework = service.engine.framework(name)
    return {
        "iri": competency.iri,
        "framework": name,
        "kind": competency.kind,
        "pref_label": competency.pref_label,
        "alt_labels": list(competency.alt_labels),
        "hidden_labels": list(competency.hidden_labels),
        "description": competency.description,
        "scope_note": competency.scope_note,
        "status": competency.status,
        "reuse_level": competency.reuse_level,
        "code": competency.code,
        "broader": [_ref(service, c.iri) for c in framework.broader_chain(iri)],
        "levels": _levels(framework, iri),
        "occupations": _occupations(service, framework, iri, occupations_limit),
        "mappings": _mappings(service, competency),
    }


@router.get("/search", response_model=SearchResponse, summary="Rank competencies for a short query", responses=errors(400, 404, 422))
def search(
    service: Annotated[Service, Depends(get_service)],
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="What to look for, e.g. `postgres database administration`.")],
    framework: Annotated[str | None, Query(max_length=100, description="A served framework; default: the first served.")] = None,
    top_k: Annotated[int, Query(ge=1, le=MAX_TOP_K, description=f"How many competencies (1 to {MAX_TOP_K}).")] = 10,
) -> dict[str, Any]:
    """The framework's competencies ranked for `q`, best first, with evidence."""
    if not q.strip():
        raise InputTextError("q is empty")
    name = service.check_frameworks([framework] if framework else None)[0]
    with service.engine_lock:
        matches = service.engine.search(q, name, top_k=top_k)
    return {"query": q, "framework": name, "matches": [match_dict(m, evidence=True) for m in matches]}


def find_competency(service: Service, iri: str, framework: str | None = None) -> tuple[str, Competency]:
    """(served framework name, competency) for an IRI in `framework` (or any served one); 404 otherwise."""
    name = framework or _owners(service).get(iri)
    found = service.framework(name).competencies.get(iri) if name else None
    if found is None:
        where = f"framework {framework!r}" if framework else f"the served frameworks ({', '.join(service.frameworks)})"
        raise NotFound(f"no competency with IRI {iri!r} in {where}")
    return name, found


# -- lookups built once per service --------------------------------------------------------------


def _owners(service: Service) -> dict[str, str]:
    """IRI -> served framework holding it (the first served one wins)."""

    def build() -> dict[str, str]:
        owners: dict[str, str] = {}
        for name in service.frameworks:
            framework = service.engine.framework(name)
            for iri in [*framework.competencies, *framework.occupations]:
                owners.setdefault(iri, name)
        return owners

    return service.cached("owners", build)


def _ref(service: Service, iri: str) -> dict[str, Any]:
    name = _owners(service).get(iri)
    if name is None:
        return {"iri": iri, "label": None, "kind": None, "framework": None}
    concept = service.engine.framework(name).concept(iri)
    kind = concept.kind if concept is not None else None
    return {"iri": iri, "label": concept.pref_label if concept else None, "kind": kind, "framework": name}


def _occupation_index(framework: Framework) -> dict[str, dict[str, list[str]]]:
    """skill IRI -> {'essential': [occupation IRIs], 'optional': [...]}, sorted by label."""
    out: dict[str, dict[str, list[str]]] = {}
    for relation in framework.relations:
        if relation.type in (REL_ESSENTIAL, REL_OPTIONAL):
            out.setdefault(relation.target, {}).setdefault(relation.type, []).append(relation.source)

    def label(iri: str) -> str:
        occupation = framework.occupations.get(iri)
        return occupation.pref_label.casefold() if occupation else iri

    for by_type in out.values():
        for iris in by_type.values():
            iris.sort(key=label)
    return out


def _occupations(service: Service, framework: Framework, iri: str, limit: int) -> RelatedOccupations:
    index = service.cached(f"occupations:{framework.id}", lambda: _occupation_index(framework))
    by_type = index.get(iri, {})

    def links(kind: str) -> OccupationLinks:
        iris = by_type.get(kind, [])
        return OccupationLinks(count=len(iris), items=[ConceptRef(**_ref(service, o)) for o in iris[:limit]])

    return RelatedOccupations(essential=links(REL_ESSENTIAL), optional=links(REL_OPTIONAL))


def _mapping_index(service: Service) -> dict[str, list[tuple[Relation, str]]]:
    """IRI -> (relation, direction) for the SKOS mapping relations of every served framework."""
    out: dict[str, list[tuple[Relation, str]]] = {}
    for name in service.frameworks:
        for relation in service.engine.framework(name).relations:
            if relation.type in MAPPING_TYPES:
                out.setdefault(relation.source, []).append((relation, "outgoing"))
                out.setdefault(relation.target, []).append((relation, "incoming"))
    return out


def _mappings(service: Service, competency: Competency) -> list[CrossMapping]:
    stated = service.cached("mappings", lambda: _mapping_index(service)).get(competency.iri, [])
    out = [
        CrossMapping(
            type=relation.type,
            direction=direction,  # type: ignore[arg-type]
            origin="framework",
            score=relation.score,
            concept=ConceptRef(**_ref(service, relation.target if direction == "outgoing" else relation.source)),
        )
        for relation, direction in stated
    ]
    return out + _computed_mappings(service, competency, {m.concept.iri for m in out})


def _computed_mappings(service: Service, competency: Competency, known: set[str]) -> list[CrossMapping]:
    """Mappings from `CompetencyMap.crosswalk(source, target)` between served frameworks, when it exists."""
    crosswalk = getattr(service.engine, "crosswalk", None)
    if crosswalk is None:
        return []
    out = []
    for other in service.frameworks:
        if other == competency.framework or other.endswith("-occupations"):
            continue
        relations = service.cached(
            f"crosswalk:{competency.framework}:{other}", lambda o=other: _grouped(_crosswalk(service, competency.framework, o))
        )
        for relation in relations.get(competency.iri, []):
            if relation.target not in known:
                out.append(
                    CrossMapping(
                        type=relation.type,
                        direction="outgoing",
                        origin="crosswalk",
                        score=relation.score,
                        concept=ConceptRef(**_ref(service, relation.target)),
                    )
                )
    return out


def _crosswalk(service: Service, source: str, target: str) -> list[Relation]:
    with service.engine_lock:
        return list(service.engine.crosswalk(source, target))


def _grouped(relations: list[Relation]) -> dict[str, list[Relation]]:
    out: dict[str, list[Relation]] = {}
    for relation in relations:
        out.setdefault(relation.source, []).append(relation)
    for items in out.values():
        items.sort(key=lambda r: -(r.score or 0.0))
    return out


def _levels(framework: Framework, iri: str) -> list[LevelInfo]:
    levels = sorted((lv for lv in framework.levels if lv.competency == iri), key=lambda lv: lv.rank)
    return [LevelInfo(iri=lv.iri, rank=lv.rank, label=lv.label, description=lv.description) for lv in levels]
