"""Plain-dict forms of mapping results, shared by the CLI's JSON output and the API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from competencymap.mapping.lines import LineReport, account
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


def match_dict(match: Match, *, evidence: bool = False, grouping: bool = False) -> dict[str, Any]:
    """A match as a dict; with `evidence`, its kind, confidence and evidence too; with `grouping` (a
    profile entry, `service.models.ProfileMatch`), `grouped_under`: the IRI of the better entry this
    near duplicate is grouped under, null when it stands on its own."""
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
    if grouping:
        out["grouped_under"] = match.grouped_under or None
    return out


def result_dict(result: MappingResult, frameworks: Sequence[str], *, top_k: int,
                statements: bool = True) -> dict[str, Any]:
    """One mapped text, in the shape of `POST /map` (`service.models.MapResponse`) and of each line
    of `competencymap map`: the frameworks asked, `matches` (the whole text ranked: each framework's
    best `top_k`, frameworks in the order asked, without evidence), the per-statement matches with
    evidence (left out with `statements=False`), each framework's profile (the same best `top_k`,
    with evidence and, for a near duplicate, the entry it is grouped under) and the boilerplate
    dropped, and every line with its role and what became of it (`line_dict`). Every competency
    ranked in the top k is in `matches`; a one-statement text's `matches` are its statement's
    ranking."""
    ranked: dict[str, list[Match]] = {name: [] for name in frameworks}
    for match in result.profile:
        ranked.setdefault(match.framework, []).append(match)
    out: dict[str, Any] = {"frameworks": list(frameworks),
                           "matches": [match_dict(m) for best in ranked.values() for m in best[:top_k]]}
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
    out["profile"] = {name: [match_dict(m, evidence=True, grouping=True) for m in best[:top_k]]
                      for name, best in ranked.items()}
    out["dropped"] = [{"text": s.text, "start": s.start, "end": s.end, "reason": s.reason, "language": s.language or None}
                      for s in result.dropped]
    out["language"] = result.language or None
    out["not_read"] = len(result.not_read)
    out["lines"] = [line_dict(report, top_k=top_k) for report in account(result)]
    return out


def line_dict(report: LineReport, *, top_k: int) -> dict[str, Any]:
    """One line of a mapped text (`service.models.LineReport`): its text, offsets and role, the
    heading it sits under, its outcome (mapped, asset, dropped, no_match), the reason it was dropped,
    its mapped statements, its confident matches (the best `top_k`) and, with none, its best
    candidates."""
    line = report.line
    return {
        "text": line.text,
        "start": line.start,
        "end": line.end,
        "role": line.role,
        "under": line.under or None,
        "outcome": report.outcome,
        "reason": report.reason or None,
        "language": report.language or None,
        "statements": [{"text": s.text, "start": s.start, "end": s.end, "role": s.role} for s in report.statements],
        "matches": [match_dict(m) for m in report.matches[:top_k]],
        "candidates": [match_dict(m) for m in report.candidates],
    }
