"""Standards: CASE 1.1 REST paths, computed crosswalks (SSSOM, SKOS, JSON) and credential import.

* ``/ims/case/v1p1/...``: the served frameworks that CASE suits (Skills for Success, Essential
  Skills) as CASE 1.1 packages, object by object. The Skills for Success package carries the
  computed ESCO crosswalk as CFAssociations when ESCO is served too.
* ``/crosswalks/{source}/{target}``: the computed crosswalk between two served frameworks.
* ``POST /credentials/import``: an Open Badges 3.0 or CTDL credential into the catalog;
  ``POST /credentials/{id}/tags/import``: the tag CSV the export writes, decisions included.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from competencymap.catalog import NotFound
from competencymap.exports.case import CaseIndex, framework_to_cfpackage
from competencymap.exports.readers import apply_tags_csv, parse_ctdl, parse_openbadges, parse_tags_csv, store_credential
from competencymap.exports.schemas import DocumentError
from competencymap.exports.sssom import DEFAULT_CROSSWALKS, build_crosswalk, render, render_authored
from competencymap.model.framework import Relation
from competencymap.service.deps import Service, ServiceDep
from competencymap.service.models import MAX_ID, errors
from competencymap.service.security import require_api_key

router = APIRouter()
write = [Depends(require_api_key)]
CASE_ROOT = "/ims/case/v1p1"
CASE_FRAMEWORKS = ("sfs", "essential-skills")
SourcedId = Annotated[str, Path(max_length=200, description="The object's CASE identifier (a UUID).")]
MEDIA = {"sssom": "text/tab-separated-values; charset=utf-8", "skos": "text/turtle; charset=utf-8"}
SUFFIX = {"sssom": "sssom.tsv", "skos": "ttl", "json": "json"}
_MAX_BASES = 8
_lock = threading.Lock()


# -- CASE 1.1 ------------------------------------------------------------------------------------


def case_index(request: Request, service: Service) -> CaseIndex:
    """The served CASE packages with URIs under this request's base URL (built once per base)."""
    base = str(request.base_url).rstrip("/") + CASE_ROOT
    indexes: dict[str, CaseIndex] = service.cached("standards:case", dict)
    with _lock:
        if base not in indexes:
            if len(indexes) >= _MAX_BASES:
                indexes.clear()
            indexes[base] = CaseIndex(_packages(service, base), base)
        return indexes[base]


def _packages(service: Service, base: str) -> list[dict]:
    packages = []
    for name in service.frameworks:
        if name not in CASE_FRAMEWORKS:
            continue
        framework = service.engine.framework(name)
        relations, source = _crosswalk(service, name)
        authored = _authored(service, name)
        changed = datetime.fromtimestamp(service.engine.store.entry(name).path.stat().st_mtime, UTC)
        packages.append(framework_to_cfpackage(framework, crosswalk=relations, crosswalk_source=source,
                                               authored=authored, base_url=base, last_change=changed))
    return packages


def _crosswalk(service: Service, target: str) -> tuple[list[Relation], Any]:
    source = DEFAULT_CROSSWALKS.get(target)
    if source is None or source not in service.frameworks:
        return [], None
    return service.engine.crosswalk(source, target), service.engine.framework(source)


@router.get(f"{CASE_ROOT}/CFDocuments", tags=["standards"], summary="CASE 1.1: all CFDocuments")
def get_all_cf_documents(request: Request, service: ServiceDep) -> dict[str, Any]:
    return {"CFDocuments": case_index(request, service).documents()}


@router.get(f"{CASE_ROOT}/CFDocuments/{{sourcedId}}", tags=["standards"], summary="CASE 1.1: one CFDocument",
            responses=errors(404))
def get_cf_document(sourcedId: SourcedId, request: Request, service: ServiceDep) -> dict[str, Any]:  # noqa: N803 - CASE 1.1 names the path parameter sourcedId
    return case_index(request, service).document(sourcedId)


@router.get(f"{CASE_ROOT}/CFPackages/{{sourcedId}}", tags=["standards"], summary="CASE 1.1: a whole CFPackage",
            responses=errors(404))
def get_cf_package(sourcedId: SourcedId, request: Request, service: ServiceDep) -> dict[str, Any]:  # noqa: N803 - CASE 1.1 names the path parameter sourcedId
    return case_index(request, service).package(sourcedId)


@router.get(f"{CASE_ROOT}/CFItems/{{sourcedId}}", tags=["standards"], summary="CASE 1.1: one CFItem",
            responses=errors(404))
def get_cf_item(sourcedId: SourcedId, request: Request, service: ServiceDep) -> dict[str, Any]:  # noqa: N803 - CASE 1.1 names the path parameter sourcedId
    return case_index(request, service).item(sourcedId)


@router.get(f"{CASE_ROOT}/CFAssociations/{{sourcedId}}", tags=["standards"], summary="CASE 1.1: one CFAssociation",
            responses=errors(404))
def get_cf_association(sourcedId: SourcedId, request: Request, service: ServiceDep) -> dict[str, Any]:  # noqa: N803 - CASE 1.1 names the path parameter sourcedId
    return case_index(request, service).association(sourcedId)


@router.get(f"{CASE_ROOT}/CFItemAssociations/{{sourcedId}}", tags=["standards"],
            summary="CASE 1.1: a CFItem with every association it takes part in", responses=errors(404))
def get_cf_item_associations(sourcedId: SourcedId, request: Request, service: ServiceDep) -> dict[str, Any]:  # noqa: N803 - CASE 1.1 names the path parameter sourcedId
    return case_index(request, service).item_associations(sourcedId)


def _authored(service: Service, target: str) -> tuple:
    """The curated mappings onto `target` from its default crosswalk source, when one ships."""
    source = DEFAULT_CROSSWALKS.get(target)
    mappings = service.engine.authored_crosswalk(source, target) if source else None
    return mappings.mappings if mappings is not None else ()


# -- crosswalks --------------------------------------------------------------------------------------


@router.get(
    "/crosswalks/{source}/{target}", tags=["standards"],
    summary="The computed crosswalk between two served frameworks",
    responses={
        200: {"description": "`sssom`: SSSOM TSV with its YAML metadata block; `skos`: SKOS Turtle; `json`.",
              "content": {"text/tab-separated-values": {"schema": {"type": "string"}},
                          "text/turtle": {"schema": {"type": "string"}},
                          "application/json": {"schema": {"type": "object"}}}},
        **errors(404, 422, 503),
    },
)
def get_crosswalk(
    source: Annotated[str, Path(max_length=50, description="Served framework whose concepts are mapped (e.g. esco).")],
    target: Annotated[str, Path(max_length=50, description="Served framework whose skills they map to (e.g. sfs).")],
    service: ServiceDep,
    format: Annotated[Literal["sssom", "skos", "json"], Query(description="sssom, skos or json.")] = "sssom",
    authored: Annotated[bool, Query(description="The curated crosswalk (source groups to target skills "
                                                "and components, a justification per row) instead.")] = False,
) -> Response:
    """Every source concept's best target skill by embedding cosine (closeMatch from 0.55,
    relatedMatch from 0.40), as scored SKOS mapping relations; with `authored`, the curated
    crosswalk that scoring uses (semapv:ManualMappingCuration)."""
    service.check_frameworks([source, target])

    def build() -> str:
        if authored:
            mappings = service.engine.authored_crosswalk(source, target)
            if mappings is None:
                raise NotFound(f"no authored crosswalk from {source!r} to {target!r}")
            return render_authored(mappings, format)
        return render(build_crosswalk(service.engine, source, target), format)

    kind = "authored" if authored else "computed"
    text = service.cached(f"standards:crosswalk:{source}:{target}:{format}:{kind}", build)
    if format == "json":
        return Response(text, media_type="application/json")
    filename = f"{source}-{target}.{SUFFIX[format]}"
    return Response(text, media_type=MEDIA[format], headers={"Content-Disposition": f'inline; filename="{filename}"'})


# -- import ----------------------------------------------------------------------------------------


@router.post(
    "/credentials/import", status_code=201, dependencies=write, tags=["catalog"],
    summary="Import a credential given as Open Badges 3.0 or CTDL JSON", responses=errors(400, 401, 413, 422),
)
def import_credential(
    service: ServiceDep,
    document: Annotated[dict[str, Any], Body(description="An OB 3.0 Achievement or OpenBadgeCredential, or CTDL JSON-LD.")],
    format: Annotated[Literal["auto", "openbadges", "ctdl"], Query(description="The document's standard.")] = "auto",
    issuer: Annotated[str | None, Query(max_length=300, description="When the document names none.")] = None,
    duration_hours: Annotated[float | None, Query(gt=0, le=100_000, description="When not stated.")] = None,
    delivery_mode: Annotated[Literal["online", "in_person", "hybrid"] | None, Query(description="When not stated.")] = None,
    credit: Annotated[Literal["credit", "non_credit"] | None, Query(description="When not stated.")] = None,
    assessment: Annotated[str | None, Query(max_length=300, description="When not stated.")] = None,
    decided_by: Annotated[str, Query(min_length=1, max_length=200, description="Recorded on the imported tags.")] = "import",
) -> JSONResponse:
    """Alignments become accepted credential-level tags; the outcomes can then be tagged."""
    defaults = {"issuer": issuer, "duration_hours": duration_hours, "delivery_mode": delivery_mode,
                "credit": credit, "assessment_type": assessment}
    kind = format if format != "auto" else _detect(document)
    reader = parse_openbadges if kind == "openbadges" else parse_ctdl
    imported = reader(document, path="body", defaults=defaults)
    credential, tags = store_credential(service.catalog, imported, decided_by=decided_by)
    return JSONResponse(
        {"format": imported.format, "notes": imported.notes, "credential": credential.model_dump(mode="json"),
         "tags": [t.model_dump(mode="json") for t in tags]},
        status_code=201,
    )


def _detect(document: dict[str, Any]) -> str:
    kind = document.get("@type")
    if "@graph" in document or (isinstance(kind, str) and kind.startswith("ceterms:")):
        return "ctdl"
    if "type" in document:
        return "openbadges"
    raise DocumentError("neither Open Badges 3.0 (no 'type') nor CTDL (no ceterms '@type' or '@graph')", path="body")


@router.post(
    "/credentials/{credential_id}/tags/import", dependencies=write, tags=["catalog"],
    summary="Apply a tag CSV (as the CSV export writes it) to a credential", responses=errors(400, 401, 404, 413),
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def import_tags_csv(
    credential_id: Annotated[int, Path(ge=1, le=MAX_ID, description="Credential id.")], request: Request, service: ServiceDep,
    decided_by: Annotated[str, Query(min_length=1, max_length=200, description="For rows that name no one.")] = "csv import",
) -> dict[str, Any]:
    """Each row's competency is tagged on the outcome at its position (the text must match) and
    gets the row's state; rows are checked before anything is written."""
    try:
        text = (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentError("the CSV is not UTF-8 text", path="body") from None
    rows = parse_tags_csv(text, path="body")
    tags = await run_in_threadpool(apply_tags_csv, service.catalog, rows, decided_by=decided_by, path="body",
                                   credential_id=credential_id)
    return {"credential_id": credential_id, "applied": len(tags), "tags": [t.model_dump(mode="json") for t in tags]}

