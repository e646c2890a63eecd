"""The FastAPI application: options, the per-process service state and `create_app`.

Nothing here holds state at module level. `create_app` returns an application whose
lifespan handler loads the served frameworks and their indexes (building missing indexes
when asked), opens the catalog database (creating its schema on first start, and seeding
the sample credentials into a database created by that start when asked) and keeps all of
it on ``app.state.service``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool

from competencymap.catalog import Catalog, CatalogError, read_credentials_file
from competencymap.catalog.db import make_engine, safe_url
from competencymap.config import Settings, load_settings
from competencymap.core import CompetencyMap
from competencymap.errors import CompetencyMapError, UnknownFramework
from competencymap.model import Framework

DEFAULT_FRAMEWORKS = ("esco", "sfs")
MAX_BODY_BYTES = 10 * 1024 * 1024  # a whole request: JSON body or multipart upload
MAX_BATCH = 1000  # postings (or posting ids) in one demand request
SAMPLE_CREDENTIALS = "catalog/sample_credentials.json"  # relative to settings.data

Say = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _flag(name: str, value: str) -> bool:
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise CompetencyMapError(f"{name} must be true or false, not {value!r}")


def _names(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))


@dataclass(frozen=True)
class ServiceOptions:
    """What the service serves and how it guards itself. `from_env` reads COMPETENCYMAP_* variables."""

    frameworks: tuple[str, ...] = DEFAULT_FRAMEWORKS  # loaded at start; the only ones requests may name
    api_key: str | None = None  # when set, write endpoints need it in the X-API-Key header
    cors_origins: tuple[str, ...] = ()  # browser origins allowed to call the API
    build_index: bool = False  # build a served framework's missing index at start-up
    seed_catalog: bool = False  # load the sample credentials into a database created by this start
    database_url: str | None = None  # None: Settings.database_url (SQLite under home)
    max_body_bytes: int = MAX_BODY_BYTES
    max_batch: int = MAX_BATCH

    _ENV = {
        "frameworks": "COMPETENCYMAP_FRAMEWORKS",
        "api_key": "COMPETENCYMAP_API_KEY",
        "cors_origins": "COMPETENCYMAP_CORS_ORIGINS",
        "build_index": "COMPETENCYMAP_BUILD_INDEX",
        "seed_catalog": "COMPETENCYMAP_SEED_CATALOG",
        "max_body_bytes": "COMPETENCYMAP_MAX_UPLOAD_BYTES",
    }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServiceOptions:
        """Options from the environment, then explicit overrides (None values are ignored)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        if "COMPETENCYMAP_FRAMEWORKS" in env:
            values["frameworks"] = _names(env["COMPETENCYMAP_FRAMEWORKS"])
        if env.get("COMPETENCYMAP_API_KEY", "").strip():
            values["api_key"] = env["COMPETENCYMAP_API_KEY"].strip()
        if env.get("COMPETENCYMAP_CORS_ORIGINS", "").strip():
            values["cors_origins"] = _names(env["COMPETENCYMAP_CORS_ORIGINS"])
        for name in ("build_index", "seed_catalog"):
            if cls._ENV[name] in env:
                values[name] = _flag(cls._ENV[name], env[cls._ENV[name]])
        if env.get("COMPETENCYMAP_MAX_UPLOAD_BYTES", "").strip():
            values["max_body_bytes"] = _positive("COMPETENCYMAP_MAX_UPLOAD_BYTES", env["COMPETENCYMAP_MAX_UPLOAD_BYTES"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        if isinstance(values.get("frameworks"), list):
            values["frameworks"] = tuple(values["frameworks"])
        return cls(**values)

    def with_(self, **changes: Any) -> ServiceOptions:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _positive(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise CompetencyMapError(f"{name} must be a positive whole number, not {value!r}")
    return number


@dataclass
class Service:
    """Everything one running service holds: the engine, the catalog and what it serves."""

    engine: CompetencyMap
    catalog: Catalog
    options: ServiceOptions
    frameworks: list[str]
    started_at: float = field(default_factory=time.time)
    seeded: int = 0
    # The engine (model, FAISS, BM25) is used by one request at a time: the CPU is shared anyway
    # and its lazily filled caches are not meant for concurrent writers.
    engine_lock: threading.Lock = field(default_factory=threading.Lock)
    cache: dict[str, Any] = field(default_factory=dict)  # per-framework lookups built on first use
    cache_lock: threading.RLock = field(default_factory=threading.RLock)

    def check_frameworks(self, names: list[str] | None) -> list[str]:
        """The served frameworks a request names (default: all served); 404 for any other name."""
        if not names:
            if not self.frameworks:
                raise UnknownFramework("this service serves no framework; start it with --framework NAME")
            return list(self.frameworks)
        wanted = list(dict.fromkeys(names))
        for name in wanted:
            if name not in self.frameworks:
                served = ", ".join(self.frameworks) or "none"
                raise UnknownFramework(f"framework {name!r} is not served here; served: {served}")
        return wanted

    def framework(self, name: str) -> Framework:
        self.check_frameworks([name])
        return self.engine.framework(name)

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        """A value computed once per service (e.g. a reverse index of a framework's relations)."""
        with self.cache_lock:
            if key not in self.cache:
                self.cache[key] = build()
            return self.cache[key]

    def close(self) -> None:
        self.catalog.close()


def get_service(request: Request) -> Service:
    """FastAPI dependency: the running service of this application."""
    return request.app.state.service


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
    """The catalog at `url`; with `seed`, a database created now gets the sample credentials."""
    new = _database_is_new(url)
    catalog = Catalog(url)
    if not (new and seed):
        return catalog, 0
    path = data.data / SAMPLE_CREDENTIALS
    if not path.is_file():
        say(f"not seeding the catalog: {path} is missing")
        return catalog, 0
    stored = catalog.import_credentials(read_credentials_file(path))
    say(f"seeded the new catalog with {len(stored)} sample credentials from {path}")
    return catalog, len(stored)


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

Limits: a text given to `/map`, `/match` or a posting analysed by `/analytics/demand` may hold
at most 100,000 characters, and a demand request at most {max_batch:,} postings (413 beyond);
a request body (JSON or upload) may hold at most {max_body:,} bytes (413). A malformed body
answers 422 naming the field; an unknown id, framework or IRI answers 404. Every error has the
body `{{"error": {{"type": ..., "message": ...}}}}`.

Write endpoints (POST/PATCH/DELETE on `/credentials` and `/postings`) need the `X-API-Key`
header when the service has an API key (`COMPETENCYMAP_API_KEY`).
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
    app: CompetencyMap | None = None,
    options: ServiceOptions | None = None,
) -> FastAPI:
    """The HTTP service for `settings` (or `app.settings`); `options` default to the environment.

    Pass an existing `CompetencyMap` as `app` to share its loaded frameworks and indexes.
    """
    options = options or ServiceOptions.from_env()
    settings = settings or (app.settings if app is not None else load_settings())

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        service = await run_in_threadpool(start_service, settings, app, options)
        api.state.service = service
        try:
            yield
        finally:
            service.close()

    api = FastAPI(
        title="competencymap",
        version=service_version(),
        description=DESCRIPTION.format(max_batch=options.max_batch, max_body=options.max_body_bytes),
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    api.state.options = options
    api.state.settings = settings

    from api import errors, security
    from api.routes import analytics, catalog, frameworks, mapping, matching, postings, service

    errors.install(api)
    security.install(api, options)
    for module in (service, frameworks, mapping, catalog, postings, matching, analytics):
        api.include_router(module.router)
    return api


def service_version() -> str:
    try:
        from importlib.metadata import version

        return version("competencymap")
    except Exception:  # not installed as a distribution
        return "0"
