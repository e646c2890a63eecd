"""`ServiceOptions`: what the service serves and how it guards itself (from COMPETENCYMAP_* variables)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from competencymap._common.errors import CompetencyMapError

DEFAULT_FRAMEWORKS = ("esco", "sfs")
MAX_BODY_BYTES = 10 * 1024 * 1024  # a whole request: JSON body or multipart upload
MAX_BATCH = 1000  # postings (or posting ids) in one demand request
COVERAGE_CACHE = 8  # catalog coverage indexes kept (one per set of requested frameworks)
WORKER_THREADS = 16  # threads running route code at once (AnyIO default 40); each costs stacks and malloc arenas


def _flag(name: str, value: str) -> bool:
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise CompetencyMapError(f"{name} must be true or false, not {value!r}")


def _names(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))


def _positive(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise CompetencyMapError(f"{name} must be a positive whole number, not {value!r}")
    return number


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
        "worker_threads": "COMPETENCYMAP_WORKER_THREADS",
    }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServiceOptions:
        """Options from the environment, then explicit overrides (None values are ignored)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        if "COMPETENCYMAP_FRAMEWORKS" in env:
            values["frameworks"] = _names(env["COMPETENCYMAP_FRAMEWORKS"])
        for name in ("api_key", "csrf_secret"):
            if env.get(cls._ENV[name], "").strip():
                values[name] = env[cls._ENV[name]].strip()
        for name in ("cors_origins", "trusted_origins", "allowed_hosts"):
            if env.get(cls._ENV[name], "").strip():
                values[name] = _names(env[cls._ENV[name]])
        for name in ("build_index", "seed_catalog"):
            if cls._ENV[name] in env:
                values[name] = _flag(cls._ENV[name], env[cls._ENV[name]])
        if env.get("COMPETENCYMAP_MAX_UPLOAD_BYTES", "").strip():
            values["max_body_bytes"] = _positive("COMPETENCYMAP_MAX_UPLOAD_BYTES", env["COMPETENCYMAP_MAX_UPLOAD_BYTES"])
        if env.get("COMPETENCYMAP_WORKER_THREADS", "").strip():
            values["worker_threads"] = _positive("COMPETENCYMAP_WORKER_THREADS", env["COMPETENCYMAP_WORKER_THREADS"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("frameworks", "cors_origins", "trusted_origins", "allowed_hosts"):
            if isinstance(values.get(name), list):
                values[name] = tuple(values[name])
        return cls(**values)

    def with_(self, **changes: Any) -> ServiceOptions:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
