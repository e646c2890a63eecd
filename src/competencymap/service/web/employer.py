"""The employer's page: paste or upload a posting and see its needs, which catalog credentials
cover which needs (and by which rule), the needs no credential covers, a small stack of
credentials covering the most (`workflows.employer_match.match_posting` over the catalog's accepted tags),
and what became of each line of the posting (its role, and the needs it became or why it was dropped:
`MatchReport.lines`, from `mapping.lines`).

Credentials link to their read-only page (`catalog_view`), never to the designer's editing page.
The needs no credential covers download as CSV (`POST /employer/gaps.csv`, the posting sent
again from the result: `workflows.employer_gaps`)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from competencymap._common.errors import CompetencyMapError, TextTooLong
from competencymap._common.text import MAX_TEXT_CHARS, check_text
from competencymap.service.deps import Service
from competencymap.service.web.messages import Messages
from competencymap.service.web.pages import key_ok, key_refused, render, service_of, t_for
from competencymap.workflows.employer_gaps import gaps_csv
from competencymap.workflows.employer_match import MatchReport, Need, match_posting
from competencymap.workflows.postings_io import postings_format, read_postings

router = APIRouter(include_in_schema=False)
TEXT_SUFFIXES = (".txt", ".md", ".text")
MAX_TITLE = 300
MAX_FILE_BYTES = 2_000_000


Link = tuple[int, str, str, str]  # (credential id, title, tag label, relation)


@dataclass(frozen=True)
class NeedView:
    need: Need
    statement: str  # the part of the posting it was found in
    confident: bool
    covered_by: list[Link]  # tags that meet the need (same, broader, narrower)
    related: list[Link]  # tags linked to it that do not count (sibling, crosswalk)


def posting_from_file(data: bytes, filename: str) -> tuple[str, str]:
    """A posting's (text, title) from an upload: a text file as it is (no title), or the first
    posting of a CSV, JSONL or Parquet postings file. Raises CompetencyMapError naming the file."""
    name = Path(filename).name or "upload"
    if len(data) > MAX_FILE_BYTES:
        raise CompetencyMapError(f"larger than {MAX_FILE_BYTES:,} bytes", path=name)
    if name.lower().endswith(TEXT_SUFFIXES):
        try:
            return data.decode("utf-8-sig"), ""
        except UnicodeDecodeError:
            raise CompetencyMapError("not UTF-8 text", path=name) from None
    try:
        postings_format(name)
    except CompetencyMapError:
        raise CompetencyMapError("not a posting: expected a text file (.txt, .md) or a postings file "
                                 "(.csv, .jsonl, .parquet)", path=name) from None
    with tempfile.TemporaryDirectory(prefix="competencymap-posting-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            first = next(iter(read_postings(path)), None)
        except CompetencyMapError as exc:
            exc.path = name
            raise
    if first is None:
        raise CompetencyMapError("holds no posting", path=name)
    return str(first.get("text") or ""), str(first.get("title") or "")


def _statement(text: str, need: Need) -> str:
    spans = [e.span for e in need.evidence if e.span]
    if not spans:
        return ""
    start, end = max(spans, key=lambda s: s[1] - s[0])
    return text[start:end]


def need_views(text: str, report: MatchReport, threshold: dict[str, float], needs: list[Need]) -> list[NeedView]:
    """`needs` (required or optional ones of `report`) with the credentials that meet them and
    those only related to them."""
    covering: dict[str, list[Link]] = {}
    relating: dict[str, list[Link]] = {}
    for credential in [*report.credentials, *report.related_credentials]:
        for links, found in ((covering, credential.covered), (relating, getattr(credential, "related", []))):
            for cover in found:
                links.setdefault(cover.need.iri, []).append(
                    (credential.credential_id, credential.title, cover.tag_label, cover.relation))
    return [NeedView(n, _statement(text, n), n.score >= threshold.get(n.framework, 0.0), covering.get(n.iri, []),
                     relating.get(n.iri, [])) for n in needs]


def _match(service: Service, text: str, title: str) -> tuple[MatchReport, list[str]]:
    names = service.check_frameworks(None)
    coverage = service.coverage(names)  # the catalog read once per catalog version
    report = match_posting(service.engine, service.catalog, text, frameworks=names, coverage=coverage, title=title)
    return report, names


def _thresholds(service: Service, names: list[str]) -> dict[str, float]:
    """The score from which a need is confident, per framework (none known: every need is)."""
    out = {}
    for name in names:
        config = getattr(service.engine.matcher(name), "config", None)
        if config is not None and hasattr(config, "threshold_for"):
            out[name] = float(config.threshold_for(name))
    return out


@router.get("/employer", response_class=HTMLResponse)
def employer_page(request: Request) -> HTMLResponse:
    return render(request, "employer.html", section="employer", title=t_for(request)("employer.title"),
                  posting="", posting_title="", report=None)


@dataclass(frozen=True)
class PostingForm:
    posting: str
    title: str
    errors: dict[str, str]


async def _posting_form(request: Request, t: Messages) -> PostingForm:
    """The posting and title of the form (an uploaded file read into them), each problem named
    beside its field."""
    form = await request.form()
    raw, raw_title = form.get("posting"), form.get("title")
    posting = raw if isinstance(raw, str) else ""
    title = " ".join(raw_title.split()) if isinstance(raw_title, str) else ""
    errors: dict[str, str] = {}
    upload = form.get("posting_file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read()
        try:
            posting, file_title = await run_in_threadpool(posting_from_file, data, upload.filename)
            title = title or file_title
        except CompetencyMapError as exc:
            errors["posting_file"] = t("error.file", problem=exc.line_text())
    await form.close()
    if not errors:
        errors = _check(posting, title, t)
    return PostingForm(posting, title, errors)


def _check(posting: str, title: str, t: Messages) -> dict[str, str]:
    errors: dict[str, str] = {}
    if len(title) > MAX_TITLE:
        errors["title"] = t("error.too_long", limit=MAX_TITLE, given=len(title))
        return errors
    try:
        check_text(title, "title", limit=MAX_TITLE, empty_ok=True)
    except CompetencyMapError as exc:
        errors["title"] = t("error.invalid_text", reason=exc.message)
    try:
        check_text(posting, "posting", limit=MAX_TEXT_CHARS)
    except TextTooLong:
        errors["posting"] = t("error.too_long", limit=f"{MAX_TEXT_CHARS:,}", given=f"{len(posting):,}")
    except CompetencyMapError as exc:
        blank = not posting.strip()
        errors["posting"] = t("employer.error.empty") if blank else t("error.invalid_text", reason=exc.message)
    return errors


@router.post("/employer", response_class=HTMLResponse)
async def employer_match(request: Request) -> Response:
    t = t_for(request)
    given = await _posting_form(request, t)
    if not key_ok(request):
        return key_refused(request)
    posting, title = given.posting, given.title
    context: dict[str, Any] = {"section": "employer", "title": t("employer.title"), "posting": posting,
                               "posting_title": title, "report": None, "errors": given.errors}
    if given.errors:
        return render(request, "employer.html", status=422, **context)
    service = service_of(request)
    try:
        report, names = await run_in_threadpool(_match, service, posting, title)
    except CompetencyMapError as exc:
        context["errors"] = {"posting": t("error.engine", problem=exc.line_text())}
        return render(request, "employer.html", status=422, **context)
    thresholds = _thresholds(service, names)
    views = need_views(posting, report, thresholds, report.needs)
    optional = need_views(posting, report, thresholds, list(report.optional_needs))
    titles = {c.credential_id: c.title for c in report.credentials}
    gaps = {n.iri for n in report.uncovered_by_catalog}
    context.update(report=report, needs=views, optional=optional,
                   stack=[(cid, titles.get(cid, str(cid))) for cid in report.stack],
                   uncovered=[v for v in views if v.need.iri in gaps],
                   frameworks={n: service.engine.framework(n).title or n for n in names})
    return render(request, "employer.html", **context)


@router.post("/employer/gaps.csv", response_model=None)
async def employer_gaps(request: Request) -> Response:
    """The needs no credential covers, as CSV: the posting is matched again (the catalog's
    current accepted tags), so the file is what the page would show now."""
    t = t_for(request)
    given = await _posting_form(request, t)
    if not key_ok(request):
        return key_refused(request)
    context: dict[str, Any] = {"section": "employer", "title": t("employer.title"), "posting": given.posting,
                               "posting_title": given.title, "report": None, "errors": given.errors}
    if given.errors:
        return render(request, "employer.html", status=422, **context)
    try:
        report, _ = await run_in_threadpool(_match, service_of(request), given.posting, given.title)
    except CompetencyMapError as exc:
        context["errors"] = {"posting": t("error.engine", problem=exc.line_text())}
        return render(request, "employer.html", status=422, **context)
    body = gaps_csv(given.posting, report)
    return PlainTextResponse(body, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="posting-gaps.csv"',
                                      "Cache-Control": "no-store"})
