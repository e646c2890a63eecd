"""The FastAPI application: options, the per-process service state and `create_app`.

Nothing here holds state at module level. `create_app` returns an application whose
lifespan handler loads the served frameworks and their indexes (building missing indexes
when asked), opens the catalog database (creating its schema on first start, and seeding
the sample credentials into a database created by that start when asked) and keeps all of
it on ``app.state.service``.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool

from competencymap._common.config import Settings, load_settings
from competencymap._common.version import package_version
from competencymap.catalog import Catalog, CatalogError
from competencymap.catalog.db import make_engine, safe_url
from competencymap.catalog.samples import SAMPLE_CREDENTIALS, SAMPLE_TAGS, import_sample_catalog
from competencymap.engine import CompetencyMap
from competencymap.service.deps import Service, get_service
from competencymap.service.methods import MethodCheck
from competencymap.service.models import MAX_ID
from competencymap.service.options import DEFAULT_FRAMEWORKS, MAX_BATCH, MAX_BODY_BYTES, ServiceOptions

__all__ = ["DEFAULT_FRAMEWORKS", "MAX_BATCH", "MAX_BODY_BYTES", "Service", "ServiceOptions", "create_app",
           "get_service", "prepare_engine", "start_service"]

Say = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- start-up ---------------------------------------------------------------------------------


def prepare_engine(engine: CompetencyMap, options: ServiceOptions, say: Say = _stderr) -> None:
    """Load each served framework, its index (built when missing and allowed) and the model."""
    for name in options.frameworks:
        framework = engine.framework(name)
        if options.build_index and engine.index_status(name)["state"] != "ready":
            say(f"building the {name} index ({len(framework.skills()):,} competencies); this runs once")
        engine.index(name, build=options.build_index, progress=options.build_index)
        engine.matcher(name)
    if options.frameworks:
        engine.search("warm up", options.frameworks[0], top_k=1)  # load the model before the first request


def open_catalog(url: str, data: Settings, seed: bool, say: Say = _stderr) -> tuple[Catalog, int]:
    """The catalog at `url`; with `seed`, a database created now gets the sample credentials with
    their reviewed tags (accepted)."""
    new = _database_is_new(url)
    catalog = Catalog(url)
    if not (new and seed):
        return catalog, 0
    path = data.data / SAMPLE_CREDENTIALS
    if not path.is_file():
        say(f"not seeding the catalog: {path} is missing")
        return catalog, 0
    imported = import_sample_catalog(catalog, data.data)
    say(f"seeded the new catalog with {len(imported.credentials)} sample credentials from {path} "
        f"and {len(imported.tags)} reviewed tags from {data.data / SAMPLE_TAGS}")
    return catalog, len(imported.credentials)


def _database_is_new(url: str) -> bool:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return "credentials" not in inspect(connection).get_table_names()
    except DBAPIError as exc:
        raise CatalogError(f"cannot open database {safe_url(url)}: {str(exc.orig).strip()}") from None
    finally:
        engine.dispose()


def start_service(
    settings: Settings, engine: CompetencyMap | None, options: ServiceOptions, say: Say = _stderr
) -> Service:
    """Build the service state: engine ready for the served frameworks, catalog open."""
    engine = engine or CompetencyMap(settings, on_status=say)
    prepare_engine(engine, options, say)
    catalog, seeded = open_catalog(options.database_url or settings.database_url, settings, options.seed_catalog, say)
    return Service(engine=engine, catalog=catalog, options=options, frameworks=list(options.frameworks), seeded=seeded)


# -- the application ----------------------------------------------------------------------------

DESCRIPTION = """\
Map learning outcomes and job postings onto competency IRIs (ESCO, Skills for Success),
tag micro-credentials, match postings against the catalog and tabulate demand.

Limits: every text has a maximum length stated in this document (a text given to `/map`,
`/match` or a posting: 100,000 characters); a longer text answers 413 naming the field. A demand
request may hold at most {max_batch:,} postings (413 beyond); a request body (JSON or upload) at
most {max_body:,} bytes (413). Texts may not hold control characters other than tab, line feed,
carriage return and form feed, nor lone UTF-16 surrogates (422 naming the field). A malformed
body answers 422 naming the field; an unknown id, framework or IRI answers 404. Every error has
the body `{{"error": {{"type": ..., "message": ..., "field": ...}}}}`.

Every POST, PATCH and DELETE needs the `X-API-Key` header when the service has an API key
(`COMPETENCYMAP_API_KEY`). A state-changing request sent by a browser page must come from this
service's own origin or a configured one, or carry the form token of `GET /csrf-token`
(403 `csrf_failed` otherwise). The Host header must name this service (400 `invalid_host`).
"""

TAGS = [
    {"name": "frameworks", "description": "Served frameworks, competency details and search."},
    {"name": "mapping", "description": "Map free text onto competencies."},
    {"name": "catalog", "description": "Micro-credentials and their competency tags (for designers)."},
    {"name": "postings", "description": "Stored job postings (for employers)."},
    {"name": "matching", "description": "Match a posting against the catalog."},
    {"name": "analytics", "description": "Competency demand across postings."},
    {"name": "service", "description": "Health of the service."},
]


def create_app(
    settings: Settings | None = None,
    *,
    engine: CompetencyMap | None = None,
    options: ServiceOptions | None = None,
) -> FastAPI:
    """The HTTP service for `settings` (or `engine.settings`); `options` default to the environment.

    Pass an existing `CompetencyMap` as `engine` to share its loaded frameworks and indexes.
    """
    options = options or ServiceOptions.from_env()
    settings = settings or (engine.settings if engine is not None else load_settings())

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        # Route code runs in AnyIO's worker threads (40 by default); fewer bound memory under load.
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = options.worker_threads
        service = await run_in_threadpool(start_service, settings, engine, options)
        api.state.service = service
        try:
            yield
        finally:
            service.close()

    api = FastAPI(
        title="competencymap",
        version=package_version(),
        description=DESCRIPTION.format(max_batch=options.max_batch, max_body=options.max_body_bytes),
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    api.state.options = options
    api.state.settings = settings

    from competencymap.service import errors, security
    from competencymap.service.routes import analytics, catalog, frameworks, mapping, matching, postings, service

    api.state.csrf = security.CsrfTokens(options.csrf_secret)
    errors.install(api)
    api.add_middleware(MethodCheck)  # innermost: after the guards, before routing
    security.install(api, options, api.state.csrf)
    for module in (service, frameworks, mapping, catalog, postings, matching, analytics):
        api.include_router(module.router)
    for name in ("standards", "jobs"):  # routes other modules add when present
        _include_optional(api, name)
    from competencymap.service.web import install as install_web

    install_web(api)  # the web page at /, its assets under /static, and offline /docs and /redoc
    _install_openapi(api)
    return api


def _install_openapi(api: FastAPI) -> None:
    """The document as FastAPI makes it, with the one error body this service answers: FastAPI's
    default 422 model (HTTPValidationError) replaced by ErrorResponse on every operation."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            doc = get_openapi(title=api.title, version=api.version, description=api.description,
                              routes=api.routes, tags=api.openapi_tags)
            keyed = bool(api.state.options.api_key)
            _replace_default_errors(doc, keyed)
            if not keyed:
                _drop_security(doc)
            _integer_bounds(doc)
            api.openapi_schema = doc
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]


def _drop_security(doc: dict[str, Any]) -> None:
    """A service without an API key asks for none: the document says so (no security requirement)."""
    doc.get("components", {}).pop("securitySchemes", None)
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            operation.pop("security", None)
            operation.get("responses", {}).pop("401", None)


BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _integer_bounds(node: Any) -> None:
    """Whole-number bounds written as integers. FastAPI's document model holds bounds as floats,
    so 2**63 - 1 (the largest id) would read 9.223372036854776e18, which is 2**63: one too many."""
    if isinstance(node, list):
        for item in node:
            _integer_bounds(item)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in BOUNDS and isinstance(value, float) and value.is_integer():
            node[key] = MAX_ID if value >= MAX_ID else int(value)
        else:
            _integer_bounds(value)


def _replace_default_errors(doc: dict[str, Any], keyed: bool = True) -> None:
    from competencymap.service.models import ErrorResponse

    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    if "ErrorResponse" not in schemas:
        from pydantic.json_schema import models_json_schema

        _, defs = models_json_schema([(ErrorResponse, "serialization")], ref_template="#/components/schemas/{model}")
        schemas.update(defs.get("$defs", {}))
    default = "#/components/schemas/HTTPValidationError"
    for operations in doc.get("paths", {}).values():
        for method, operation in operations.items():
            _add_guard_statuses(method, operation, keyed)
            answer = operation.get("responses", {}).get("422")
            content = (answer or {}).get("content", {}).get("application/json", {})
            if content.get("schema", {}).get("$ref") == default:
                content["schema"] = {"$ref": "#/components/schemas/ErrorResponse"}
                answer["description"] = "Malformed body or parameter; `error.field` names it."
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)


GUARD_STATUSES = {
    400: "A query string that is not UTF-8 text once percent-decoded; `error.field` names the parameter.",
    401: "Missing or wrong X-API-Key (only when the service has an API key).",
    403: "A browser request from another site without the form token (CSRF check).",
    413: "More input than the documented limit: a text over its maxLength (`error.field` names it), or too large a body.",
    422: "Malformed body or parameter; `error.field` names it.",
    429: "Too many wrong API keys from this address: wait for Retry-After seconds before the next try.",
}


def _add_guard_statuses(method: str, operation: dict[str, Any], keyed: bool = True) -> None:
    """The statuses the middleware and the text rules answer, on every operation they apply to."""
    responses = operation.setdefault("responses", {})
    takes_input = bool(operation.get("requestBody") or operation.get("parameters"))
    writes = method in ("post", "put", "patch", "delete")
    wanted = [400] + ([413, 422] if takes_input else []) + ([403] if writes else []) + ([401, 429] if writes and keyed else [])
    for status in wanted:
        responses.setdefault(str(status), {
            "description": GUARD_STATUSES[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
        })


def _include_optional(api: FastAPI, name: str) -> None:
    import importlib.util

    if importlib.util.find_spec(f"competencymap.service.routes.{name}") is None:
        return
    module = importlib.import_module(f"competencymap.service.routes.{name}")
    router = getattr(module, "router", None)
    if router is not None:
        api.include_router(router)
