"""Settings: where data, caches and indexes live and which model embeds text.

Resolved in order: explicit arguments, environment variables, a `competencymap.toml`
file (in the working directory or named by COMPETENCYMAP_CONFIG), then defaults.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from competencymap._common.errors import CompetencyMapError

PROJECT_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_MODEL = "all-MiniLM-L6-v2"
BACKENDS = ("onnx-int8", "onnx", "torch")


def _default_home() -> Path:
    if (PROJECT_ROOT / "indexes").is_dir():
        return PROJECT_ROOT / "indexes"
    return Path.home() / ".cache" / "competencymap"


def _default_data() -> Path:
    return PROJECT_ROOT / "data"


@dataclass(frozen=True)
class Settings:
    """Where things live and which model to use. Every field can be overridden."""

    home: Path = field(default_factory=_default_home)
    data: Path = field(default_factory=_default_data)
    model: str = DEFAULT_MODEL
    language: str = "en"
    device: str = "cpu"
    batch_size: int = 64
    backend: str = "onnx-int8"  # what runs the model: onnx-int8, onnx or torch (embedding.BACKENDS)
    threads: int = 0  # runtime threads; 0 lets the runtime use every core
    models: Path | None = None  # derived model files (ONNX exports); None: <home>/models
    statement_cache: int = 50_000  # statements whose vectors are kept in memory (0: none)

    @property
    def framework_cache(self) -> Path:
        return self.home / "frameworks"

    @property
    def model_cache(self) -> Path:
        """Where derived model files (ONNX exports) live."""
        return self.models or self.home / "models"

    @property
    def database_url(self) -> str:
        return os.environ.get("COMPETENCYMAP_DATABASE_URL", f"sqlite:///{self.home / 'competencymap.sqlite'}")

    def with_(self, **changes: object) -> "Settings":
        """A copy with the given fields changed (None values are ignored)."""
        fields: dict[str, Any] = {k: v for k, v in changes.items() if v is not None}
        return replace(self, **fields)


_ENV = {
    "home": "COMPETENCYMAP_HOME",
    "data": "COMPETENCYMAP_DATA",
    "model": "COMPETENCYMAP_MODEL",
    "language": "COMPETENCYMAP_LANGUAGE",
    "device": "COMPETENCYMAP_DEVICE",
    "batch_size": "COMPETENCYMAP_BATCH_SIZE",
    "backend": "COMPETENCYMAP_BACKEND",
    "threads": "COMPETENCYMAP_THREADS",
    "models": "COMPETENCYMAP_MODELS",
    "statement_cache": "COMPETENCYMAP_STATEMENT_CACHE",
}


def _config_file() -> Path | None:
    named = os.environ.get("COMPETENCYMAP_CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise CompetencyMapError(f"config file not found: {path}")
        return path
    local = Path.cwd() / "competencymap.toml"
    return local if local.is_file() else None


def _coerce(name: str, value: object) -> object:
    if name in ("home", "data", "models"):
        return Path(str(value)).expanduser()
    if name in ("batch_size", "threads", "statement_cache"):
        try:
            number = int(value)  # type: ignore[call-overload]  # any TOML value; int() raises on the wrong ones
        except (TypeError, ValueError):
            raise CompetencyMapError(f"{name} must be a whole number, not {value!r}") from None
        if number < (1 if name == "batch_size" else 0):
            raise CompetencyMapError(f"{name} must be at least {1 if name == 'batch_size' else 0}, not {number}")
        return number
    if name == "backend" and value not in BACKENDS:
        raise CompetencyMapError(f"unknown backend {value!r}: use one of {', '.join(BACKENDS)}")
    return str(value)


def load_settings(**overrides: object) -> Settings:
    """Settings from the config file, then the environment, then explicit overrides."""
    values: dict[str, object] = {}
    path = _config_file()
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise CompetencyMapError(f"config file is not valid TOML: {exc}", path=str(path)) from None
        unknown = set(raw) - set(_ENV)
        if unknown:
            raise CompetencyMapError(f"unknown setting(s): {', '.join(sorted(unknown))}", path=str(path))
        values.update(raw)
    for name, env in _ENV.items():
        if os.environ.get(env):
            values[name] = os.environ[env]
    values.update({k: v for k, v in overrides.items() if v is not None})
    coerced: dict[str, Any] = {k: _coerce(k, v) for k, v in values.items()}
    return Settings(**coerced)
