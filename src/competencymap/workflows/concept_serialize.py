"""The plain-dict form of a concept's detail (`workflows.concepts.ConceptDetail`), one shape for
`GET /competencies/{iri}` (documented by `service.models.CompetencyDetail`) and for
`competencymap frameworks show --json`.

A competency of a framework has exactly the API's shape. The command line also shows what the API
never answers, an occupation or an IRI only named by relations; for those the dict adds `type`
('competency' or 'occupation') and `in_framework`, and an occupation has `isco_group` and
`skills` (essential and optional) where a competency has `occupations`.
"""

from __future__ import annotations

from typing import Any

from competencymap.workflows.concepts import ConceptDetail, ConceptRef, Link


def concept_dict(detail: ConceptDetail, limit: int | None = None) -> dict[str, Any]:
    """The concept as a dict; the narrower concepts and the related occupations (or skills) are
    capped at `limit` items each (None: all), with their full counts."""
    out: dict[str, Any] = {
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
        "broader": [ref_dict(r) for r in detail.broader],
        "narrower": _capped(detail.narrower, limit),
        "skill_groups": [ref_dict(r) for r in detail.skill_groups],
        "levels": [{"iri": lv.iri, "rank": lv.rank, "label": lv.label, "description": lv.description}
                   for lv in detail.levels],
    }
    if detail.type == "competency":
        out["occupations"] = {"essential": _by_label(detail.essential_for, limit),
                              "optional": _by_label(detail.optional_for, limit)}
    else:
        out["isco_group"] = detail.isco_group
        out["skills"] = {"essential": _by_label(detail.essential_skills, limit),
                         "optional": _by_label(detail.optional_skills, limit)}
    out["mappings"] = [_mapping(link) for link in detail.mappings]
    if detail.type != "competency" or not detail.in_framework:
        out.update(type=detail.type, in_framework=detail.in_framework)
    return out


def ref_dict(ref: ConceptRef) -> dict[str, Any]:
    """A concept named by another: label, kind and framework are None when no searched framework lists it."""
    return {"iri": ref.iri, "label": ref.label, "kind": ref.kind, "framework": ref.framework}


def _capped(refs: tuple[ConceptRef, ...], limit: int | None) -> dict[str, Any]:
    shown = refs if limit is None else refs[:limit]
    return {"count": len(refs), "items": [ref_dict(r) for r in shown]}


def _by_label(refs: tuple[ConceptRef, ...], limit: int | None) -> dict[str, Any]:
    return _capped(tuple(sorted(refs, key=lambda r: (r.label or r.iri).casefold())), limit)


def _mapping(link: Link) -> dict[str, Any]:
    return {"type": link.type, "direction": link.direction, "origin": link.origin, "score": link.score,
            "concept": ref_dict(link.concept)}
