"""The frameworks a user can name: the bundled ones and those they registered.

`FrameworkStore` resolves a name to its source, loads it through the JSON cache and
keeps loaded frameworks for the life of the store object. User frameworks are
recorded in `<home>/frameworks/registry.json` as name -> {path, language}.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from competencymap import frameworks as loading
from competencymap._common.config import Settings
from competencymap._common.errors import FrameworkError, UnknownFramework
from competencymap.frameworks import cache
from competencymap.frameworks.names import check_language, check_name
from competencymap.model.framework import Framework

# Bundled frameworks: name -> source path relative to settings.data.
BUNDLED: dict[str, str] = {
    "esco": "esco",
    "sfs": "skills_for_success/skills_for_success.ttl",
    "essential-skills": "skills_for_success/essential_skills.ttl",
}
REGISTRY_FILE = "registry.json"


@dataclass(frozen=True)
class Entry:
    """Where a named framework comes from."""

    name: str
    path: Path
    language: str | None  # None: use the store's language
    bundled: bool


class FrameworkStore:
    """Bundled and user frameworks, loaded on demand through the cache."""

    def __init__(self, settings: Settings, *, on_load: Callable[[str], None] | None = None) -> None:
        """`on_load`, when given, is called with a one-line message before a slow load."""
        self.settings = settings
        self.on_load = on_load
        self._loaded: dict[tuple[str, str], Framework] = {}
        self._lock = threading.RLock()  # one load of a framework at a time, even from threads

    # -- names and sources ----------------------------------------------------------------

    @property
    def registry_path(self) -> Path:
        return self.settings.framework_cache / REGISTRY_FILE

    def names(self) -> list[str]:
        """Bundled names first, then registered user frameworks in registration order."""
        return list(BUNDLED) + [n for n in self._registry() if n not in BUNDLED]

    def entry(self, name: str) -> Entry:
        """Where `name` comes from; UnknownFramework when it is not known."""
        if name in BUNDLED:
            return Entry(name, self.settings.data / BUNDLED[name], None, True)
        registered = self._registry().get(name)
        if registered is None:
            raise UnknownFramework(
                f"unknown framework {name!r}; known: {', '.join(self.names())}"
            )
        return Entry(name, Path(registered["path"]), registered.get("language"), False)

    def cache_folder(self, name: str, language: str) -> Path:
        return self.settings.framework_cache / f"{name}-{language}"

    # -- loading --------------------------------------------------------------------------

    def get(self, name: str, *, language: str | None = None) -> Framework:
        """The framework called `name`, from memory, the cache or its source."""
        entry = self.entry(name)
        language = _language(language or entry.language or self.settings.language)
        key = (name, language)
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = self._load(entry.path, name, language)
            return self._loaded[key]

    def fingerprint(self, name: str, *, language: str | None = None) -> str | None:
        """sha256 of the cached, normalized framework: it changes exactly when its content does
        (None when the framework is unknown or not cached). Derived caches key on it."""
        if name not in self.names():
            return None
        entry = self.entry(name)
        manifest = self._fresh_manifest(entry, _language(language or entry.language or self.settings.language))
        value = manifest.get("framework_sha256") if manifest else None
        return value if isinstance(value, str) else None

    def add(self, path: Path, *, language: str | None = None, name: str | None = None) -> Framework:
        """Load a user framework, cache it and register it under its name.

        The name defaults to the id the loader gives (for a CSV, its file name). A
        bundled name is refused; an existing name is replaced only from the same path.
        """
        with self._lock:
            language = _language(language or self.settings.language)
            return self._add(Path(path).expanduser().resolve(), language, name)

    def _add(self, path: Path, language: str, name: str | None) -> Framework:
        bundled = self._bundled_name_of(path)
        if bundled is not None and name in (None, bundled):
            return self.get(bundled, language=language)
        if name is not None:
            check_name(name)
            self._check_can_register(name, path)
        sources = loading.source_files(path) if path.exists() else []
        framework = self._cached(name, language, sources) if name else None
        if framework is None:
            framework = self._load_source(path, name, language)
            check_name(framework.id)
            self._check_can_register(framework.id, path)
            cache.save_cached(framework, self.cache_folder(framework.id, language), sources)
        registry = self._registry()
        registry[framework.id] = {"path": str(path), "language": language}
        self._write_registry(registry)
        self._loaded[(framework.id, language)] = framework
        return framework

    def is_cached(self, name: str, *, language: str | None = None) -> bool:
        """True when a fresh cache of `name` exists (sources checked cheaply where possible)."""
        entry = self.entry(name)
        language = _language(language or entry.language or self.settings.language)
        return self._fresh_manifest(entry, language) is not None

    def _load(self, path: Path, name: str, language: str) -> Framework:
        """Load from a fresh cache if there is one, else from source, then cache it."""
        if not path.exists():
            raise FrameworkError("no such file or folder", path=str(path))
        sources = loading.source_files(path)
        framework = self._cached(name, language, sources)
        if framework is None:
            framework = self._load_source(path, name, language)
            cache.save_cached(framework, self.cache_folder(name, language), sources)
        return framework

    def _cached(self, name: str, language: str, sources: list[Path]) -> Framework | None:
        if not sources:
            return None
        return cache.load_cached(self.cache_folder(name, language), sources)

    def _load_source(self, path: Path, name: str | None, language: str) -> Framework:
        check_language(language)
        loading.framework_kind(path, language)  # fail fast, before saying anything
        if self.on_load is not None:
            self.on_load(f"loading {name or path.name} ({language}) from {path} ...")
        return loading.load_framework(path, language=language, name=name)

    def _bundled_name_of(self, path: Path) -> str | None:
        for bundled, relative in BUNDLED.items():
            if (self.settings.data / relative).resolve() == path:
                return bundled
        return None

    def _check_can_register(self, name: str, path: Path) -> None:
        if name in BUNDLED:
            raise FrameworkError(
                f"{name!r} is a bundled framework name; choose another with --name", path=str(path)
            )
        registered = self._registry().get(name)
        if registered is not None and Path(registered["path"]) != path:
            raise FrameworkError(
                f"a framework named {name!r} is already registered from {registered['path']}; "
                "choose another name",
                path=str(path),
            )

    # -- description ----------------------------------------------------------------------

    def describe(self) -> list[dict]:
        """One dict per framework: name, title, version, language, source, licence, cached, counts.

        Uses frameworks already loaded or a fresh cache manifest; a framework that is
        neither is listed with cached False and no counts (nothing is loaded here).
        """
        out = []
        for name in self.names():
            entry = self.entry(name)
            language = _language(entry.language or self.settings.language)
            row = {
                "name": name,
                "bundled": entry.bundled,
                "title": None,
                "version": None,
                "language": language,
                "path": str(entry.path),
                "source": None,
                "licence": None,
                "cached": False,
                "available": entry.path.exists(),
                "counts": None,
            }
            manifest = self._fresh_manifest(entry, language)
            if manifest is not None:
                row["cached"] = True
                for field in ("title", "version", "source", "licence", "counts"):
                    row[field] = manifest.get(field)
            loaded = self._loaded.get((name, language))
            if loaded is not None:
                row.update(
                    title=loaded.title,
                    version=loaded.version,
                    source=loaded.source,
                    licence=loaded.licence,
                    counts=loaded.stats(),
                )
            out.append(row)
        return out

    def _fresh_manifest(self, entry: Entry, language: str) -> dict | None:
        if not entry.path.exists():
            return None
        manifest = cache.read_manifest(self.cache_folder(entry.name, language))
        if manifest is None:
            return None
        if not cache.manifest_is_fresh(manifest, loading.source_files(entry.path)):
            return None
        return manifest

    # -- registry file --------------------------------------------------------------------

    def _registry(self) -> dict[str, dict]:
        path = self.registry_path
        if not path.exists():
            return {}
        try:
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise FrameworkError(f"unreadable framework registry ({exc})", path=str(path)) from None
        if not isinstance(data, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("path"), str) for v in data.values()
        ):
            raise FrameworkError("malformed framework registry", path=str(path))
        return data

    def _write_registry(self, registry: dict[str, dict]) -> None:
        path = self.registry_path
        path.parent.mkdir(parents=True, exist_ok=True)
        cache.write_atomic(path, orjson.dumps(registry, option=orjson.OPT_INDENT_2))


def _language(language: str) -> str:
    """A checked, lower-case language code."""
    check_language(language)
    return language.lower()
