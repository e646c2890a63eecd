"""ESCO occupations as a framework of their own, so job titles and postings map onto them
with the same index and matcher as skills; and the occupation–skill evidence they give."""

from __future__ import annotations

from collections import defaultdict

from competencymap.model.framework import KIND_OCCUPATION, REL_ESSENTIAL, REL_OPTIONAL, Competency, Framework

OCCUPATIONS_SUFFIX = "-occupations"


def occupation_framework(framework: Framework) -> Framework:
    """A view of a framework's occupations (not ISCO groups) as mapping candidates."""
    competencies = {
        o.iri: Competency(
            iri=o.iri,
            framework=framework.id + OCCUPATIONS_SUFFIX,
            kind=KIND_OCCUPATION,
            pref_label=o.pref_label,
            alt_labels=o.alt_labels,
            hidden_labels=o.hidden_labels,
            description=o.description,
            broader=o.broader,
            status=o.status,
            code=o.code,
        )
        for o in framework.occupations.values()
        if o.kind == KIND_OCCUPATION
    }
    return Framework(
        id=framework.id + OCCUPATIONS_SUFFIX,
        iri=framework.iri.replace("/skills", "/occupations") if framework.iri.endswith("/skills") else framework.iri + "#occupations",
        title=f"{framework.title} occupations",
        version=framework.version,
        language=framework.language,
        source=framework.source,
        licence=framework.licence,
        competencies=competencies,
        languages=framework.languages,
    )


def skills_by_occupation(framework: Framework) -> dict[str, dict[str, str]]:
    """occupation IRI -> {skill IRI: 'essential' | 'optional'}.

    Keys may include occupations that are not in ``framework.occupations``: ESCO v1.1.1's
    withdrawn occupation keeps its relations but is not a released occupation.
    """
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for relation in framework.relations:
        if relation.type in (REL_ESSENTIAL, REL_OPTIONAL):
            out[relation.source][relation.target] = relation.type
    return dict(out)
