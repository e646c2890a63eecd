"""`ServiceOptions`: what the service serves and how it guards itself (from COMPETENCYMAP_* variables)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from competencymap._common.config import env_bool, env_int, env_list, env_value

DEFAULT_FRAMEWORKS = ("esco", "sfs")
MAX_BODY_BYTES = 10 * 1024 * 1024  # a whole request: JSON body or multipart upload
MAX_BATCH = 1000  # postings (or posting ids) in one demand request
MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024  # what an uploaded postings file may inflate to (gzip)
BODY_TIMEOUT = 60  # seconds a request body may go without a chunk arriving (408 then)
COVERAGE_CACHE = 8  # catalog coverage indexes kept (one per set of requested frameworks)
WORKER_THREADS = 16  # threads running route code at once (AnyIO default 40); each costs stacks and malloc arenas


@dataclass(frozen=True)
class ServiceOptions:
    """What the service serves and how it guards itself. `from_env` reads COMPETENCYMAP_* variables."""

    frameworks: tuple[str, ...] = DEFAULT_FRAMEWORKS  # loaded at start; the only ones requests may name
    api_key: str | None = None  # when set, every POST/PATCH/DELETE needs it in the X-API-Key header
    cors_origins: tuple[str, ...] = ()  # browser origins allowed to call the API (and to write)
    trusted_origins: tuple[str, ...] = ()  # further origins whose pages may write (CSRF check), no CORS
    allowed_hosts: tuple[str, ...] = ()  # Host names served; () = localhost, 127.0.0.1, ::1 and bind_host
    bind_host: str | None = None  # the address `serve` listens on (added to the allowed hosts)
    csrf_secret: str | None = None  # signs form tokens; None: a random secret per process
    build_index: bool = False  # build a served framework's missing index at start-up
    seed_catalog: bool = False  # load the sample credentials into a database created by this start
    database_url: str | None = None  # None: Settings.database_url (SQLite under home)
    max_body_bytes: int = MAX_BODY_BYTES
    max_upload_decompressed_bytes: int = MAX_DECOMPRESSED_BYTES
    body_timeout: int = BODY_TIMEOUT
    max_batch: int = MAX_BATCH
    coverage_cache: int = COVERAGE_CACHE
    worker_threads: int = WORKER_THREADS

    _ENV = {
        "frameworks": "COMPETENCYMAP_FRAMEWORKS",
        "api_key": "COMPETENCYMAP_API_KEY",
        "cors_origins": "COMPETENCYMAP_CORS_ORIGINS",
        "trusted_origins": "COMPETENCYMAP_TRUSTED_ORIGINS",
        "allowed_hosts": "COMPETENCYMAP_ALLOWED_HOSTS",
        "csrf_secret": "COMPETENCYMAP_CSRF_SECRET",
        "build_index": "COMPETENCYMAP_BUILD_INDEX",
        "seed_catalog": "COMPETENCYMAP_SEED_CATALOG",
        "max_body_bytes": "COMPETENCYMAP_MAX_UPLOAD_BYTES",
        "max_upload_decompressed_bytes": "COMPETENCYMAP_MAX_UPLOAD_DECOMPRESSED_BYTES",
        "body_timeout": "COMPETENCYMAP_BODY_TIMEOUT",
        "worker_threads": "COMPETENCYMAP_WORKER_THREADS",
    }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServiceOptions:
        """Options from the environment, then explicit overrides (None values are ignored)."""
        values: dict[str, Any] = {}
        for name in ("frameworks", "cors_origins", "trusted_origins", "allowed_hosts"):
            values[name] = tuple(env_list(cls._ENV[name], getattr(cls, name), environ=environ))
        for name in ("api_key", "csrf_secret"):
            values[name] = env_value(cls._ENV[name], environ)
        for name in ("build_index", "seed_catalog"):
            values[name] = env_bool(cls._ENV[name], getattr(cls, name), environ=environ)
        for name in ("max_body_bytes", "max_upload_decompressed_bytes", "body_timeout", "worker_threads"):
            values[name] = env_int(cls._ENV[name], getattr(cls, name), minimum=1, environ=environ)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("frameworks", "cors_origins", "trusted_origins", "allowed_hosts"):
            if isinstance(values.get(name), list):
                values[name] = tuple(values[name])
        return cls(**values)

    def with_(self, **changes: Any) -> ServiceOptions:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
