"""Plain-dict forms of mapping results, shared by the CLI's JSON output and the API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from competencymap.mapping.results import Evidence, MappingResult, Match


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


def result_dict(result: MappingResult, frameworks: Sequence[str], *, top_k: int,
                statements: bool = True) -> dict[str, Any]:
    """One mapped text, in the shape of `POST /map` (`service.models.MapResponse`) and of each line
    of `competencymap map`: the frameworks asked, the per-statement matches with evidence (left
    out with `statements=False`), each framework's profile (best `top_k`, with evidence) and the
    boilerplate dropped."""
    profile: dict[str, list[dict[str, Any]]] = {name: [] for name in frameworks}
    for match in result.profile:
        profile.setdefault(match.framework, []).append(match_dict(match, evidence=True))
    out: dict[str, Any] = {"frameworks": list(frameworks)}
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
    out["profile"] = {name: matches[:top_k] for name, matches in profile.items()}
    out["dropped"] = [{"text": s.text, "start": s.start, "end": s.end, "reason": s.reason} for s in result.dropped]
    return out
