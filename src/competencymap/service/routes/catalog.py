"""Micro-credentials for designers: CRUD, suggested and manual tags, decisions, exports."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from fastapi.responses import JSONResponse

from competencymap._common.text import check_text
from competencymap.catalog import Credential, NotFound, Tag, TagIn
from competencymap.catalog.repository import MAX_PAGE
from competencymap.catalog.schemas import HTTP_URL_RULE, TEXT_PATTERN
from competencymap.exports import (
    credential_to_achievement,
    credential_to_ctdl,
    credential_to_openbadge_credential,
    tags_to_csv,
)
from competencymap.service.concepts import competency_detail
from competencymap.service.deps import ServiceDep
from competencymap.service.models import (
    MAX_ID,
    CredentialCreate,
    CredentialOut,
    CredentialPage,
    CredentialPatch,
    CredentialUpdated,
    ManualTag,
    SuggestTagsRequest,
    SuggestTagsResponse,
    TagDecision,
    TagList,
    TagOut,
    errors,
)
from competencymap.service.security import require_api_key
from competencymap.workflows.tagging import suggest_and_store

router = APIRouter(tags=["catalog"])
write = [Depends(require_api_key)]
CredentialId = Annotated[int, Path(ge=1, le=MAX_ID, description="Credential id.")]
TagId = Annotated[int, Path(ge=1, le=MAX_ID, description="Tag id.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Page size (1 to {MAX_PAGE}).")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="How many to skip.")]


@router.post(
    "/credentials", status_code=201, response_model=CredentialOut, dependencies=write,
    summary="Store a micro-credential", responses=errors(401, 403, 413, 422),
)
def create_credential(body: CredentialCreate, service: ServiceDep) -> Credential:
    return service.catalog.create_credential(body)


@router.get("/credentials", response_model=CredentialPage, summary="List micro-credentials", responses=errors(422))
def list_credentials(
    service: ServiceDep,
    limit: Limit = 100,
    offset: Offset = 0,
    search: Annotated[str | None, Query(max_length=300, pattern=TEXT_PATTERN,
                                        description="Case-insensitive text in title or issuer.")] = None,
) -> dict[str, Any]:
    check_text(search or "", "search", limit=300, empty_ok=True)
    catalog = service.catalog
    return {
        "items": catalog.list_credentials(limit=limit, offset=offset, search=search),
        "total": catalog.count_credentials(search=search),
        "limit": limit,
        "offset": offset,
    }


@router.get("/credentials/{credential_id}", response_model=CredentialOut, summary="One micro-credential", responses=errors(404, 422))
def get_credential(credential_id: CredentialId, service: ServiceDep) -> Credential:
    return service.catalog.get_credential(credential_id)


@router.patch(
    "/credentials/{credential_id}", response_model=CredentialUpdated, dependencies=write,
    summary="Change some fields of a micro-credential", responses=errors(401, 403, 404, 413, 422),
)
def update_credential(credential_id: CredentialId, body: CredentialPatch, service: ServiceDep) -> dict[str, Any]:
    """Only the fields given change. A new `learning_outcomes` list keeps the id and tags of
    every outcome whose text is unchanged, and the id and decisions of an outcome reworded in
    place; removed outcomes lose their tags. `outcome_changes` counts what was kept and deleted."""
    revision = service.catalog.revise_credential(credential_id, body)
    return {**revision.credential.model_dump(), "outcome_changes": revision.changes.model_dump()}


@router.delete(
    "/credentials/{credential_id}", status_code=204, dependencies=write,
    summary="Delete a micro-credential with its tags", responses=errors(401, 403, 404, 422),
)
def delete_credential(credential_id: CredentialId, service: ServiceDep) -> Response:
    service.catalog.delete_credential(credential_id)
    return Response(status_code=204)


# -- tags ------------------------------------------------------------------------------------------


@router.post(
    "/credentials/{credential_id}/suggest-tags", response_model=SuggestTagsResponse, dependencies=write,
    summary="Suggest competency tags for every learning outcome", responses=errors(401, 403, 404, 413, 422),
)
def suggest_tags(
    credential_id: CredentialId,
    service: ServiceDep,
    body: Annotated[SuggestTagsRequest | None, Body(description="Options; all optional.")] = None,
) -> dict[str, Any]:
    """Maps each outcome with the engine and stores the best competencies as suggested tags,
    with their evidence. Tags already accepted or rejected keep their decision. All the
    suggestions of one request are stored in one transaction."""
    options = body or SuggestTagsRequest.model_validate({})
    credential = service.catalog.get_credential(credential_id)
    names = service.check_frameworks(options.frameworks)
    tags = suggest_and_store(service.engine, service.catalog, credential, frameworks=names, top_k=options.top_k,
                             min_score=options.min_score, confident_only=options.confident_only)
    return {"credential_id": credential_id, "frameworks": names, "outcomes": len(credential.learning_outcomes),
            "tags": tags}


@router.get("/credentials/{credential_id}/tags", response_model=TagList, summary="A credential's tags", responses=errors(404, 422))
def list_tags(
    credential_id: CredentialId,
    service: ServiceDep,
    state: Annotated[Literal["suggested", "accepted", "rejected"] | None, Query(description="Only tags in this state.")] = None,
) -> dict[str, Any]:
    every = service.catalog.list_tags(credential_id)  # one read: counts and list agree
    counts = Counter(t.state for t in every)
    return {
        "credential_id": credential_id,
        "counts": {s: counts.get(s, 0) for s in ("suggested", "accepted", "rejected")},
        "tags": every if state is None else [t for t in every if t.state == state],
    }


@router.patch(
    "/credentials/{credential_id}/tags/{tag_id}", response_model=TagOut, dependencies=write,
    summary="Accept or reject a tag", responses=errors(401, 403, 404, 422),
)
def decide_tag(credential_id: CredentialId, tag_id: TagId, body: TagDecision, service: ServiceDep) -> Tag:
    """Records the decision with who made it and when."""
    tag = service.catalog.get_tag(tag_id)
    if tag.credential_id != credential_id:
        raise NotFound(f"tag {tag_id} not found in credential {credential_id}")
    return service.catalog.set_tag_state(tag_id, body.state, body.decided_by)


@router.post(
    "/credentials/{credential_id}/tags", status_code=201, response_model=TagOut, dependencies=write,
    summary="Add a tag by hand", responses=errors(401, 403, 404, 422),
)
def add_tag(credential_id: CredentialId, body: ManualTag, service: ServiceDep) -> Tag:
    """Tags the credential (or one of its outcomes) with a competency of a served framework;
    the tag is stored as accepted by `decided_by`."""
    credential = service.catalog.get_credential(credential_id)
    if body.outcome_id is not None and credential.outcome(body.outcome_id) is None:
        raise NotFound(f"outcome {body.outcome_id} not found in credential {credential_id}")
    competency = competency_detail(service, body.competency_iri, body.framework)
    tag = TagIn(
        competency_iri=competency.iri,
        framework=competency.framework,
        label=competency.pref_label,
        evidence={"note": body.note} if body.note else {},
    )
    return service.catalog.add_manual_tag(credential_id, body.outcome_id, tag, decided_by=body.decided_by)


@router.get(
    "/credentials/{credential_id}/export",
    summary="Export as Open Badges 3.0, CTDL or a CSV of tags",
    responses={
        200: {
            "description": "`openbadges`: OB 3.0 Achievement (JSON-LD) with one alignment per accepted tag; "
            "`openbadges-credential`: the Achievement in an unsigned OpenBadgeCredential template (no recipient, "
            "no proof); `ctdl`: CTDL JSON-LD graph (ceterms:MicroCredential, competencies as "
            "ceterms:CredentialAlignmentObject under ceterms:requires); `csv`: one row per tag.",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/ld+json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        },
        **errors(400, 404, 422),
    },
)
def export_credential(
    credential_id: CredentialId,
    service: ServiceDep,
    format: Annotated[
        Literal["openbadges", "openbadges-credential", "ctdl", "csv"],
        Query(description="openbadges, openbadges-credential, ctdl or csv."),
    ] = "openbadges",
    issuer_url: Annotated[
        str | None, Query(max_length=2000, json_schema_extra=HTTP_URL_RULE,
                          description="http(s) URL of the issuer profile; ids become URLs under it (400 otherwise).")
    ] = None,
) -> Response:
    """Accepted tags become alignments whose target is the competency IRI."""
    credential = service.catalog.get_credential(credential_id)
    if format == "csv":
        text = tags_to_csv(credential, service.catalog.list_tags(credential_id))
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="credential-{credential_id}-tags.csv"'},
        )
    accepted = service.catalog.accepted_competencies(credential_id)
    if format == "ctdl":
        return JSONResponse(credential_to_ctdl(credential, accepted), media_type="application/ld+json")
    if format == "openbadges-credential":
        return JSONResponse(credential_to_openbadge_credential(credential, accepted, issuer_url=issuer_url))
    return JSONResponse(credential_to_achievement(credential, accepted, issuer_url=issuer_url))
