"""A credential as an employer reads it: what it is, who offers it, its learning outcomes and the
competencies designers accepted for each (label, framework, description). Read-only: no
suggestions, no decisions, no forms; the designer's editing page stays at ``/designer/{id}``."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from competencymap.catalog import Credential, NotFound, Tag
from competencymap.service.deps import Service
from competencymap.service.models import parse_id
from competencymap.service.web.pages import not_found, render, service_of, t_for

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class TagView:
    tag: Tag
    framework: str  # the framework's title where it is served, else its name
    description: str  # the framework's description of the competency ('' when not served)


@dataclass(frozen=True)
class OutcomeView:
    position: int
    text: str
    tags: list[TagView]


def credential_path(credential_id: int) -> str:
    """The address of a credential's read-only page."""
    return f"/catalog/{credential_id}"


def _describe(service: Service, tag: Tag) -> TagView:
    """The tag with its framework's title and the competency's description, read from the served
    framework holding it (the tag's own framework first)."""
    names = [tag.framework] if tag.framework in service.frameworks else []
    names += [name for name in service.frameworks if name not in names]
    for name in names:
        framework = service.engine.framework(name)
        concept = framework.concept(tag.competency_iri)
        if concept is not None:
            text = getattr(concept, "description", "") or getattr(concept, "scope_note", "") or ""
            return TagView(tag, framework.title or name, " ".join(str(text).split()))
    return TagView(tag, tag.framework, "")


def outcome_views(service: Service, credential: Credential, tags: list[Tag]) -> tuple[list[TagView], list[OutcomeView]]:
    """Accepted tags on the whole credential, and each outcome with its accepted tags."""
    views = [_describe(service, tag) for tag in tags]
    whole = [v for v in views if v.tag.outcome_id is None]
    outcomes = [OutcomeView(o.position, o.text, [v for v in views if v.tag.outcome_id == o.id])
                for o in credential.learning_outcomes]
    return whole, outcomes


def _read(service: Service, credential_id: int) -> tuple[Credential, list[Tag]]:
    credential = service.catalog.get_credential(credential_id)
    return credential, service.catalog.list_tags(credential_id, state="accepted")


@router.get("/catalog/{raw_id}", response_class=HTMLResponse)
async def credential_view(request: Request, raw_id: str) -> HTMLResponse:
    t = t_for(request)
    credential_id = parse_id(raw_id)
    missing = t("designer.no_credential", id=raw_id[:40])
    if credential_id is None:
        return not_found(request, missing)
    service = service_of(request)
    try:
        credential, tags = await run_in_threadpool(_read, service, credential_id)
    except NotFound:
        return not_found(request, missing)
    whole, outcomes = await run_in_threadpool(outcome_views, service, credential, tags)
    return render(request, "catalog_credential.html", section="employer", title=credential.title,
                  credential=credential, whole=whole, outcomes=outcomes, accepted=len(tags))
