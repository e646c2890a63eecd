"""Browsing: search a served framework, and a competency's page (labels, description, broader and
narrower concepts, occupations that need it, crosswalk links) from `CompetencyMap.concept`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from competencymap._common.errors import CompetencyMapError
from competencymap._common.text import check_text
from competencymap.service.concepts import competency_detail
from competencymap.service.web.pages import is_fragment, not_found, render, service_of, t_for

router = APIRouter(include_in_schema=False)
TOP_K = 20
MAX_QUERY = 300
LIST_LIMIT = 50


@router.get("/browse", response_class=HTMLResponse)
async def browse(request: Request, q: str = "", framework: str = "") -> HTMLResponse:
    t = t_for(request)
    service = service_of(request)
    names = list(service.frameworks)
    chosen = framework if framework in names else (names[0] if names else "")
    context: dict[str, Any] = {"section": "browse", "title": t("browse.title"), "q": q, "framework": chosen,
               "frameworks": [(n, service.engine.framework(n).title or n) for n in names], "matches": None}
    errors: dict[str, str] = {}
    if q.strip() and chosen:
        try:
            check_text(q, "q", limit=MAX_QUERY)

            def run() -> list:
                return service.engine.search(q.strip(), chosen, top_k=TOP_K)

            context["matches"] = await run_in_threadpool(run)
        except CompetencyMapError as exc:
            errors["q"] = t("error.too_long", limit=MAX_QUERY, given=len(q)) if len(q) > MAX_QUERY \
                else t("error.invalid_query", problem=exc.message)
    template = "parts/browse_results.html" if is_fragment(request) else "browse.html"
    return render(request, template, status=422 if errors else 200, errors=errors, **context)


@router.get("/browse/competency", response_class=HTMLResponse)
async def competency(request: Request, iri: str = "") -> HTMLResponse:
    t = t_for(request)
    service = service_of(request)
    if not iri.strip() or len(iri) > 1000:
        return not_found(request, t("browse.no_competency", iri=iri[:200]))
    try:
        detail = await run_in_threadpool(competency_detail, service, iri)
    except CompetencyMapError:
        return not_found(request, t("browse.no_competency", iri=iri))
    served = set(service.frameworks)
    titles = {n: service.engine.framework(n).title or n for n in service.frameworks}
    def by_label(refs: tuple) -> list:
        return sorted(refs, key=lambda r: (r.label or r.iri).casefold())

    return render(request, "competency.html", section="browse", title=detail.pref_label or detail.iri, detail=detail,
                  served=served, titles=titles, limit=LIST_LIMIT, essential=by_label(detail.essential_for),
                  optional=by_label(detail.optional_for))
