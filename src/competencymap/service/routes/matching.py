"""`POST /match`: a posting against the catalog (needs, coverage, the greedy stack, gaps).

The work is `competencymap.workflows.employer_match.match_posting`; its module docstring is the coverage rule.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from competencymap.service.deps import ServiceDep
from competencymap.service.errors import invalid_field
from competencymap.service.models import MatchRequest, MatchResponse, errors
from competencymap.service.security import require_api_key
from competencymap.workflows.employer_match import (
    Coverage,
    CredentialMatch,
    MatchReport,
    Need,
    match_posting,
    need_dict,
)

router = APIRouter(tags=["matching"])
write = [Depends(require_api_key)]

COVERAGE_RULE = (
    "A required need is met when a credential has an accepted tag that is the same competency, the need's direct "
    "broader concept, or a concept directly under the need. A sibling under the same skill (not under a skill group) "
    "or a cross-framework mapping (stated in a framework or computed crosswalk) is listed under `related`, shown but "
    "not counted; so are optional needs (named only by asset lines). "
    "Coverage share = sum of the scores of the required needs met / sum of the scores of all required needs."
)
STACK_METHOD = "greedy weighted set cover: small, within a factor ln(n) of the smallest, not guaranteed optimal"


@router.post(
    "/match", response_model=MatchResponse, summary="Match a posting against the catalog", dependencies=write,
    responses=errors(401, 403, 404, 413, 422),
)
def match(body: MatchRequest, service: ServiceDep) -> dict[str, Any]:
    """Map the posting (give `text` or a stored `posting_id`) onto the frameworks, rank every
    catalog credential by the share of the posting's needs its accepted tags meet, pick a small
    stack of credentials that meets the most needs (greedy set cover) and list the needs no
    credential meets."""
    if (body.text is None) == (body.posting_id is None):
        raise invalid_field("text", "give exactly one of text or posting_id")
    if body.posting_id is not None:
        posting = service.catalog.get_posting(body.posting_id)
        text, ref, title = posting.text, {"id": posting.id, "title": posting.title}, posting.title or ""
    else:
        text, ref, title = body.text or "", {"id": None, "title": None}, body.title
    names = service.check_frameworks(body.frameworks)
    coverage = service.coverage(names)  # the catalog read once per catalog version
    report = match_posting(service.engine, service.catalog, text, frameworks=names, coverage=coverage, title=title)
    return match_dict(report, names, {**ref, "characters": len(text)}, body.top_k)


def match_dict(report: MatchReport, frameworks: list[str], posting: dict[str, Any], top_k: int) -> dict[str, Any]:
    """The report as the response body: needs with evidence, credentials best first (top_k)."""
    return {
        "posting": posting,
        "frameworks": frameworks,
        "needs": [need_dict(n) for n in report.needs],
        "optional_needs": [need_dict(n) for n in report.optional_needs],
        "credentials": [_credential(c) for c in report.credentials[:top_k]],
        "credentials_matching": len(report.credentials),
        "related_credentials": [_credential(c) for c in report.related_credentials[:top_k]],
        "stack": list(report.stack),
        "stack_method": STACK_METHOD,
        "stack_covered": list(report.stack_covered),
        "uncovered_by_catalog": [_ref(n) for n in report.uncovered_by_catalog],
        "coverage_rule": COVERAGE_RULE,
        "notes": list(report.notes),
        "language": report.language or None,
        "not_read": [{"text": s.text, "start": s.start, "end": s.end, "reason": s.reason, "language": s.language}
                     for s in report.not_read],
    }


def _credential(match: CredentialMatch) -> dict[str, Any]:
    return {
        "credential_id": match.credential_id,
        "title": match.title,
        "coverage": match.coverage,
        "covered": [_link(v) for v in match.covered],
        "uncovered": [_ref(n) for n in match.uncovered],
        "related": [_link(v) for v in match.related],
    }


def _link(link: Coverage) -> dict[str, str]:
    return {"need": link.need.iri, "need_label": link.need.label, "tag_iri": link.tag_iri,
            "tag_label": link.tag_label, "relation": link.relation}


def _ref(need: Need) -> dict[str, str]:
    return {"iri": need.iri, "label": need.label}
