"""The designer's pages: create or open a credential, get suggested tags per outcome, accept,
reject (one by one, or every confident suggestion at once) or search-and-add tags (each decision
kept with who and when), export. Saving reworded outcomes says what happened to their tags: the
decisions kept and, for removed outcomes, the decisions deleted (never silently).

Routes parse their forms themselves, so a bad value is shown beside its field with everything
typed kept in the form (never a JSON error). The engine and the catalog are called directly
(`workflows.tagging.suggest_and_store` on `service.engine` and `service.catalog`), as the API routes do.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from competencymap._common.errors import CompetencyMapError
from competencymap._common.text import check_text
from competencymap.catalog import Credential, NotFound, OutcomeChanges, Tag, TagIn
from competencymap.catalog.schemas import CredentialIn, CredentialUpdate
from competencymap.mapping.results import Match
from competencymap.service.concepts import competency_detail
from competencymap.service.deps import Service
from competencymap.service.models import parse_id
from competencymap.service.web.messages import Messages
from competencymap.service.web.pages import (
    PERSON_COOKIE,
    field_errors,
    is_fragment,
    key_ok,
    key_refused,
    local_path,
    not_found,
    person,
    redirect,
    render,
    service_of,
    set_cookie,
    t_for,
)
from competencymap.service.web.review import confident_left, find_tag, review
from competencymap.workflows.tagging import suggest_and_store

router = APIRouter(include_in_schema=False)
FIELDS = ("title", "issuer", "description", "learning_outcomes", "duration_hours", "delivery_mode", "credit",
          "assessment_type", "url", "language")
OUTCOME_COLUMNS = ("learning_outcome", "learning_outcomes", "outcome", "outcomes", "text")
SUGGEST_TOP_K = 5
SEARCH_TOP_K = 8
MAX_QUERY = 300
MAX_CSV_BYTES = 1_000_000
EXPORTS = (("openbadges", "json"), ("openbadges-credential", "json"), ("ctdl", "jsonld"), ("csv", "csv"))
# What saving a new outcome list did, carried to the credential's page in its address (numbers only).
CHANGE_PARAMS = ("reworded", "kept", "dropped", "removed", "deleted_accepted", "deleted_rejected")
MAX_COUNT = 100_000


# -- forms ------------------------------------------------------------------------------------------


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def read_outcomes_csv(data: bytes, filename: str) -> list[str]:
    """Outcomes from a CSV: the column named learning_outcome/outcome/text, else the first one;
    a first row naming no such column is an outcome too. Raises CompetencyMapError naming the file."""
    if not filename.lower().endswith(".csv"):
        raise CompetencyMapError("not a CSV file (.csv)", path=filename, field="outcomes_file")
    if len(data) > MAX_CSV_BYTES:
        raise CompetencyMapError(f"larger than {MAX_CSV_BYTES:,} bytes", path=filename, field="outcomes_file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CompetencyMapError("not UTF-8 text", path=filename, field="outcomes_file") from None
    rows = [r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r)]
    if not rows:
        raise CompetencyMapError("holds no outcome", path=filename, field="outcomes_file")
    header = [cell.strip().lower() for cell in rows[0]]
    column = next((header.index(c) for c in OUTCOME_COLUMNS if c in header), None)
    body = rows[1:] if column is not None else rows
    column = column or 0
    return [r[column].strip() for r in body if len(r) > column and r[column].strip()]


def _values(form: FormData) -> dict[str, str]:
    return {name: _text(form, name) for name in FIELDS}


def _payload(values: dict[str, str], outcomes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in values.items() if k != "learning_outcomes"}
    out["learning_outcomes"] = outcomes
    out["url"] = values["url"].strip() or None
    out["duration_hours"] = values["duration_hours"].strip() or None
    return out


async def _read_form(request: Request) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """The credential form: its values (outcomes merged from the CSV so nothing is lost on a
    re-render), the outcome list and the errors found before validation."""
    t = t_for(request)
    form = await request.form()
    values = _values(form)
    outcomes = _lines(values["learning_outcomes"])
    errors: dict[str, str] = {}
    upload = form.get("outcomes_file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read()
        try:
            outcomes += read_outcomes_csv(data, upload.filename)
        except CompetencyMapError as exc:
            errors["outcomes_file"] = t("error.file", problem=exc.line_text())
        values["learning_outcomes"] = "\n".join(outcomes)
    await form.close()
    if not outcomes and "outcomes_file" not in errors:
        errors["learning_outcomes"] = t("designer.error.no_outcomes")
    return values, outcomes, errors


def _form_values(credential: Credential) -> dict[str, str]:
    hours = credential.duration_hours
    return {
        "title": credential.title, "issuer": credential.issuer, "description": credential.description,
        "learning_outcomes": "\n".join(o.text for o in credential.learning_outcomes),
        "duration_hours": f"{hours:g}", "delivery_mode": credential.delivery_mode, "credit": credential.credit,
        "assessment_type": credential.assessment_type, "url": credential.url or "", "language": credential.language,
    }


BLANK = {"title": "", "issuer": "", "description": "", "learning_outcomes": "", "duration_hours": "",
         "delivery_mode": "online", "credit": "non_credit", "assessment_type": "", "url": "", "language": "en"}


# -- the list and the form --------------------------------------------------------------------------


def _shown(raw_id: str) -> str:
    return raw_id[:40]


def _no_credential(request: Request, raw_id: str) -> HTMLResponse:
    """The readable 404 page for an id that names no credential (unknown, out of range or no number)."""
    return not_found(request, t_for(request)("designer.no_credential", id=_shown(raw_id)))


def _stored_credential(request: Request, raw_id: str) -> Credential | HTMLResponse:
    """The stored credential a page's address names, or the page saying there is none (an id
    that is not a number in range, or no such credential)."""
    credential_id = parse_id(raw_id)
    if credential_id is None:
        return _no_credential(request, raw_id)
    try:
        return service_of(request).catalog.get_credential(credential_id)
    except NotFound:
        return _no_credential(request, raw_id)


@router.get("/designer", response_class=HTMLResponse)
def designer_home(request: Request, search: str = "") -> HTMLResponse:
    service = service_of(request)
    query = search.strip()[:MAX_QUERY]
    try:
        check_text(query, "search", limit=MAX_QUERY, empty_ok=True)
    except CompetencyMapError:
        query = ""
    items = service.catalog.list_credentials(limit=200, search=query or None)
    return render(request, "designer_list.html", section="designer", title=t_for(request)("designer.title"),
                  credentials=items, search=query, total=service.catalog.count_credentials(search=query or None))


@router.get("/designer/new", response_class=HTMLResponse)
def new_credential(request: Request) -> HTMLResponse:
    return render(request, "credential_form.html", section="designer", title=t_for(request)("designer.new"),
                  values=dict(BLANK), action="/designer/new", editing=None)


@router.post("/designer/new", response_class=HTMLResponse)
async def create_credential(request: Request) -> Response:
    t = t_for(request)
    values, outcomes, errors = await _read_form(request)
    again: dict[str, Any] = {"section": "designer", "title": t("designer.new"), "values": values, "action": "/designer/new",
             "editing": None}
    if not key_ok(request):
        return key_refused(request)
    try:
        item = CredentialIn.model_validate(_payload(values, outcomes))
    except ValidationError as exc:
        errors = {**field_errors(t, exc), **errors}
    if errors:
        return render(request, "credential_form.html", status=422, errors=errors, **again)
    service = service_of(request)
    credential = await run_in_threadpool(service.catalog.create_credential, item)
    return redirect(f"/designer/{credential.id}")


@router.get("/designer/{raw_id}/edit", response_class=HTMLResponse)
def edit_credential(request: Request, raw_id: str) -> HTMLResponse:
    t = t_for(request)
    credential = _stored_credential(request, raw_id)
    if isinstance(credential, HTMLResponse):
        return credential
    return render(request, "credential_form.html", section="designer", title=t("designer.edit", title=credential.title),
                  values=_form_values(credential), action=f"/designer/{credential.id}/edit", editing=credential)


@router.post("/designer/{raw_id}/edit", response_class=HTMLResponse)
async def update_credential(request: Request, raw_id: str) -> Response:
    t = t_for(request)
    service = service_of(request)
    credential = _stored_credential(request, raw_id)
    if isinstance(credential, HTMLResponse):
        return credential
    values, outcomes, errors = await _read_form(request)
    if not key_ok(request):
        return key_refused(request)
    try:
        changes = CredentialUpdate.model_validate(_payload(values, outcomes))
    except ValidationError as exc:
        errors = {**field_errors(t, exc), **errors}
    if errors:
        return render(request, "credential_form.html", status=422, section="designer", errors=errors,
                      title=t("designer.edit", title=credential.title), values=values,
                      action=f"/designer/{credential.id}/edit", editing=credential)
    revision = await run_in_threadpool(service.catalog.revise_credential, credential.id, changes)
    return redirect(f"/designer/{credential.id}{_change_query(revision.changes)}")


def _change_query(changes: OutcomeChanges) -> str:
    """The page address's query naming what the new outcome list did ('' when it did nothing)."""
    values = {"reworded": changes.reworded, "kept": changes.kept_decisions, "dropped": changes.dropped_suggestions,
              "removed": changes.removed, "deleted_accepted": changes.deleted_accepted,
              "deleted_rejected": changes.deleted_rejected}
    shown = {name: count for name, count in values.items() if count}
    return f"?{urlencode(shown)}" if shown else ""


def _count(value: str) -> int:
    return int(value) if value.isdigit() and len(value) <= 6 and int(value) <= MAX_COUNT else 0


def edit_notes(t: Messages, params: dict[str, str]) -> tuple[list[str], bool]:
    """The sentences saying what saving the outcomes did to their tags, and whether decisions
    were deleted (a warning), from the page address's query."""
    n = {name: _count(params.get(name, "")) for name in CHANGE_PARAMS}
    notes = []
    if n["reworded"]:
        notes.append(t("designer.changes.reworded", count=n["reworded"], kept=n["kept"]))
    if n["removed"]:
        notes.append(t("designer.changes.removed", count=n["removed"], accepted=n["deleted_accepted"],
                       rejected=n["deleted_rejected"]))
    if n["dropped"]:
        notes.append(t("designer.changes.dropped", count=n["dropped"]))
    return notes, bool(n["deleted_accepted"] or n["deleted_rejected"])


# -- one credential: review -------------------------------------------------------------------------


def _counts(tags: list[Tag]) -> dict[str, int]:
    return {s: sum(1 for tag in tags if tag.state == s) for s in ("suggested", "accepted", "rejected")}


def _frameworks(service: Service) -> list[tuple[str, str]]:
    return [(name, service.engine.framework(name).title or name) for name in service.frameworks]


def _page(request: Request, credential_id: int, *, status: int = 200, **extra: Any) -> HTMLResponse:
    service = service_of(request)
    try:
        credential = service.catalog.get_credential(credential_id)
    except NotFound:
        return _no_credential(request, str(credential_id))
    tags = service.catalog.list_tags(credential_id)
    rows = review(credential, tags, _frameworks(service))
    counts = _counts(tags)
    notes, warning = edit_notes(t_for(request), dict(request.query_params))
    context = {"section": "designer", "title": credential.title, "credential": credential, "rows": rows,
               "counts": counts, "frameworks": _frameworks(service), "exports": EXPORTS, "results": None,
               "query": "", "search_framework": "", "search_outcome": "", "confident_left": confident_left(rows),
               "edit_notes": notes, "edit_warning": warning, **extra}
    if extra.get("q"):
        context.update(_search(request, credential, str(extra["q"]), str(extra.get("framework") or ""),
                               str(extra.get("outcome_id") or "")))
    return render(request, "credential.html", status=status, **context)


@router.get("/designer/{raw_id}", response_class=HTMLResponse)
def credential_page(request: Request, raw_id: str, q: str = "", framework: str = "",
                    outcome_id: str = "", accepted: str = "") -> HTMLResponse:
    credential_id = parse_id(raw_id)
    if credential_id is None:
        return _no_credential(request, raw_id)
    t = t_for(request)
    notice = ""
    if accepted:  # after accepting every confident suggestion without the page's script
        count = _count(accepted)
        notice = t("designer.accepted_confident", count=count) if count else t("designer.accepted_none")
    return _page(request, credential_id, q=q, framework=framework, outcome_id=outcome_id, accept_notice=notice)


def _suggest(service: Service, credential: Credential) -> None:
    suggest_and_store(service.engine, service.catalog, credential, frameworks=service.check_frameworks(None),
                      top_k=SUGGEST_TOP_K)


@router.post("/designer/{raw_id}/suggest", response_class=HTMLResponse)
async def suggest(request: Request, raw_id: str) -> Response:
    t = t_for(request)
    service = service_of(request)
    if not key_ok(request):
        return key_refused(request)
    credential = _stored_credential(request, raw_id)
    if isinstance(credential, HTMLResponse):
        return credential
    problem = ""
    if not credential.learning_outcomes:
        problem = t("designer.error.no_outcomes_to_map")
    else:
        try:
            await run_in_threadpool(_suggest, service, credential)
        except CompetencyMapError as exc:
            problem = t("error.engine", problem=exc.line_text())
    if problem or is_fragment(request):
        return _review_part(request, credential.id, problem, status=422 if problem else 200)
    return redirect(f"/designer/{credential.id}#review")


def _review_part(request: Request, credential_id: int, problem: str = "", *, status: int = 200,
                 **extra: Any) -> HTMLResponse:
    if not is_fragment(request):
        return _page(request, credential_id, status=status, suggest_error=problem, **extra)
    service = service_of(request)
    credential = service.catalog.get_credential(credential_id)
    tags = service.catalog.list_tags(credential_id)
    counts = _counts(tags)
    rows = review(credential, tags, _frameworks(service))
    return render(request, "parts/review.html", status=status, credential=credential, counts=counts,
                  rows=rows, confident_left=confident_left(rows), suggest_error=problem, **extra)


@router.post("/designer/{raw_id}/accept-confident", response_class=HTMLResponse)
async def accept_confident(request: Request, raw_id: str) -> Response:
    """Accept every confident suggestion nobody has decided on (one POST; again, it accepts none)."""
    t = t_for(request)
    service = service_of(request)
    who = person(request)
    if not key_ok(request):
        return key_refused(request)
    credential = _stored_credential(request, raw_id)
    if isinstance(credential, HTMLResponse):
        return credential
    if not who:
        return _review_part(request, credential.id, status=422, accept_error=t("designer.error.no_reviewer"))
    accepted = await run_in_threadpool(service.catalog.accept_confident, credential.id, who)
    notice = t("designer.accepted_confident", count=len(accepted)) if accepted else t("designer.accepted_none")
    if is_fragment(request):
        return _review_part(request, credential.id, accept_notice=notice)
    return redirect(f"/designer/{credential.id}?{urlencode({'accepted': len(accepted)})}#review")


@router.post("/designer/{raw_id}/tags/{raw_tag_id}", response_class=HTMLResponse)
async def decide(request: Request, raw_id: str, raw_tag_id: str) -> Response:
    t = t_for(request)
    service = service_of(request)
    form = await request.form()
    state = _text(form, "state")
    who = person(request)
    if not key_ok(request):
        return key_refused(request)
    credential_id, tag_id = parse_id(raw_id), parse_id(raw_tag_id)
    if credential_id is None:
        return _no_credential(request, raw_id)
    if tag_id is None:
        return not_found(request, t("designer.no_tag", id=_shown(raw_tag_id)))
    try:
        tag = service.catalog.get_tag(tag_id)
        if tag.credential_id != credential_id:
            raise NotFound(f"tag {tag_id} not found in credential {credential_id}")
    except NotFound:
        return not_found(request, t("designer.no_tag", id=tag_id))
    problem = ""
    if state not in ("accepted", "rejected", "suggested"):
        problem = t("error.choice")
    elif not who:
        problem = t("designer.error.no_reviewer")
    else:
        await run_in_threadpool(service.catalog.set_tag_state, tag_id, state, who)
    if not is_fragment(request):
        if problem:
            return _page(request, credential_id, status=422, reviewer_error=problem)
        return redirect(f"/designer/{credential_id}#tag-{tag_id}")
    credential = service.catalog.get_credential(credential_id)
    tags = service.catalog.list_tags(credential_id)
    view = find_tag(review(credential, tags, _frameworks(service)), tag_id)
    return render(request, "parts/tag_row.html", status=422 if problem else 200, view=view, credential=credential,
                  row_error=problem, counts=_counts(tags))


# -- adding a tag by search -------------------------------------------------------------------------


def _search(request: Request, credential: Credential, q: str, framework: str, outcome_id: str) -> dict[str, Any]:
    """Search results for the add-a-tag box, or a message beside the query field."""
    t = t_for(request)
    service = service_of(request)
    query = q.strip()
    context: dict[str, Any] = {"query": q, "search_framework": framework, "search_outcome": outcome_id,
                               "results": [], "search_error": ""}
    if not query:
        context["results"] = None
        return context
    names = [framework] if framework in service.frameworks else list(service.frameworks[:1])
    try:
        check_text(query, "q", limit=MAX_QUERY)
        matches = service.engine.search(query, names[0], top_k=SEARCH_TOP_K)
    except CompetencyMapError as exc:
        context["search_error"] = t("error.invalid_query", problem=exc.message)
        return context
    framework_model = service.engine.framework(names[0])
    context["results"] = [Found(m, _description(framework_model.concept(m.iri))) for m in matches]
    context["search_framework"] = names[0]
    return context


@dataclass(frozen=True)
class Found:
    """One result of the add-a-tag search: the match and the concept's description, so a person
    can tell two close labels apart before adding one."""

    match: Match
    description: str


def _description(concept: object) -> str:
    text = getattr(concept, "description", "") or getattr(concept, "scope_note", "") or ""
    return " ".join(str(text).split())


@router.get("/designer/{raw_id}/search", response_class=HTMLResponse)
def search_part(request: Request, raw_id: str, q: str = "", framework: str = "",
                outcome_id: str = "") -> HTMLResponse:
    """The add-a-tag results alone (the page's search-as-you-type replaces them)."""
    credential = _stored_credential(request, raw_id)
    if isinstance(credential, HTMLResponse):
        return credential
    context = _search(request, credential, q, framework, outcome_id)
    return render(request, "parts/search_results.html", credential=credential, **context)


@router.post("/designer/{raw_id}/tags", response_class=HTMLResponse)
async def add_tag(request: Request, raw_id: str) -> Response:
    t = t_for(request)
    service = service_of(request)
    form = await request.form()
    iri, framework, outcome = _text(form, "iri"), _text(form, "framework"), _text(form, "outcome_id").strip()
    who = person(request)
    if not key_ok(request):
        return key_refused(request)
    credential = _stored_credential(request, raw_id)
    if isinstance(credential, HTMLResponse):
        return credential
    outcome_id = parse_id(outcome) if outcome else None  # none given: a tag of the whole credential
    problem = ""
    if not who:
        problem = t("designer.error.no_reviewer")
    elif outcome and (outcome_id is None or credential.outcome(outcome_id) is None):
        problem = t("designer.no_outcome")
    else:
        try:
            detail = await run_in_threadpool(competency_detail, service, iri, framework or None)
            tag = TagIn(competency_iri=detail.iri, framework=detail.framework, label=detail.pref_label)
            await run_in_threadpool(service.catalog.add_manual_tag, credential.id, outcome_id, tag, decided_by=who)
        except (CompetencyMapError, ValidationError):
            problem = t("designer.error.unknown_competency")
    if problem:
        return _page(request, credential.id, status=422, reviewer_error=problem)
    return redirect(f"/designer/{credential.id}#review")


# -- who is reviewing -------------------------------------------------------------------------------


@router.post("/reviewer", response_class=HTMLResponse)
async def set_reviewer(request: Request) -> Response:
    t = t_for(request)
    form = await request.form()
    name = " ".join(_text(form, "reviewer").split())
    back = local_path(_text(form, "next"), "/designer")
    problem = ""
    if not name:
        problem = t("designer.error.no_reviewer")
    elif len(name) > 200:
        problem = t("error.too_long", limit=200, given=len(name))
    else:
        try:
            check_text(name, "reviewer", limit=200)
        except CompetencyMapError as exc:
            problem = t("error.invalid_text", reason=exc.message)
    if problem:
        credential_id = _credential_in(back)
        if credential_id is not None:
            return _page(request, credential_id, status=422, reviewer_error=problem, reviewer_value=name)
        return render(request, "problem.html", status=422, title=t("designer.reviewer"), message=problem,
                      link=(back, t("nav.back")))
    response = redirect(back)
    set_cookie(response, PERSON_COOKIE, name)
    return response


def _credential_in(path: str) -> int | None:
    parts = path.split("#")[0].split("?")[0].strip("/").split("/")
    if len(parts) == 2 and parts[0] == "designer":
        return parse_id(parts[1])
    return None
