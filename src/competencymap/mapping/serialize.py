"""Plain-dict forms of mapping results, shared by the CLI's JSON output and the API."""

from __future__ import annotations

from typing import Any

from competencymap.mapping.results import Evidence, Match, MappingResult


def evidence_dict(evidence: Evidence) -> dict[str, Any]:
    return {
        "method": evidence.method,
        "field": evidence.field,
        "text": evidence.text,
        "score": round(evidence.score, 4),
        "span": list(evidence.span) if evidence.span else None,
        "query": evidence.query,
    }


def match_dict(match: Match, *, evidence: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "iri": match.iri,
        "label": match.label,
        "score": match.score,
        "framework": match.framework,
    }
    if evidence:
        out["kind"] = match.kind
        out["confident"] = match.confident
        out["evidence"] = [evidence_dict(e) for e in match.evidence]
    return out


def result_dict(result: MappingResult, *, top_k: int, statements: bool = True) -> dict[str, Any]:
    """`matches` ranks the whole text best first (top_k per framework, frameworks in the order asked);
    `statements` carries the per-statement detail."""
    matches = [m for profile in result.profiles.values() for m in profile[:top_k]]
    out: dict[str, Any] = {"matches": [match_dict(m) for m in matches]}
    if statements:
        out["statements"] = [
            {
                "text": item.statement.text,
                "start": item.statement.start,
                "end": item.statement.end,
                "framework": item.framework,
                "matches": [match_dict(m, evidence=True) for m in item.matches],
            }
            for item in result.results
        ]
    return out
