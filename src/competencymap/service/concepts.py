"""A served competency by its IRI: what `GET /competencies/{iri}`, the catalog's manual tags and
the browse and designer pages look up."""

from __future__ import annotations

from competencymap.catalog import NotFound
from competencymap.service.deps import Service
from competencymap.workflows.concepts import ConceptDetail, UnknownConcept, concept_detail


def competency_detail(service: Service, iri: str, framework: str | None = None) -> ConceptDetail:
    """`concept_detail` over the served frameworks (or the one served `framework`); NotFound (404)
    unless a served framework lists the IRI as a competency."""
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
