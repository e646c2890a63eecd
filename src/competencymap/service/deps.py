"""What routes depend on: the per-process `Service` and `get_service` (FastAPI dependency).

Routes import from here, never from `competencymap.service.app`, which builds the application around them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request

from competencymap._common.errors import UnknownFramework
from competencymap._common.lru import LRU
from competencymap.catalog import Catalog
from competencymap.engine import CompetencyMap
from competencymap.mapping.results import MappingResult
from competencymap.model.framework import Framework
from competencymap.service.batching import MapBatcher
from competencymap.service.options import ServiceOptions
from competencymap.workflows.concepts import ConceptLookups
from competencymap.workflows.employer_match import CatalogCoverage, catalog_coverage


@dataclass
class Service:
    """Everything one running service holds: the engine, the catalog and what it serves."""

    engine: CompetencyMap
    catalog: Catalog
    options: ServiceOptions
    frameworks: list[str]
    started_at: float = field(default_factory=time.time)
    seeded: int = 0
    # Concurrent /map requests are joined into shared engine calls (the engine itself is safe
    # for concurrent callers: other routes call it directly, so none waits for another).
    batcher: MapBatcher | None = None
    cache: dict[str, Any] = field(default_factory=dict)  # per-framework lookups built on first use
    cache_lock: threading.RLock = field(default_factory=threading.RLock)
    # Catalog coverage indexes by requested frameworks, valid for one catalog version.
    coverages: LRU[CatalogCoverage] = field(init=False)
    concept_lookups: ConceptLookups = field(default_factory=ConceptLookups)  # owner and crosswalk lookups for /competencies

    def __post_init__(self) -> None:
        self.coverages = LRU(max(1, self.options.coverage_cache))

    def check_frameworks(self, names: Sequence[str] | None) -> list[str]:
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

    def coverage(self, frameworks: Sequence[str]) -> CatalogCoverage:
        """The catalog's coverage index for needs in `frameworks`: reused while the catalog
        version is unchanged (every tag or credential write changes it), rebuilt otherwise."""
        key = tuple(frameworks)
        version = self.catalog.catalog_version()
        found = self.coverages.get(key)
        if found is not None and found.version == version:
            return found
        built = catalog_coverage(self.engine, self.catalog, key)
        with self.cache_lock:  # replace only an older build than this one
            current = self.coverages.get(key)
            if current is None or current.version < built.version:
                self.coverages.put(key, built)
        return built

    def map(self, text: str, frameworks: Sequence[str], *, top_k: int, kind: str) -> MappingResult:
        """Map one text, sharing the engine call with the requests that arrive meanwhile."""
        with self.cache_lock:
            if self.batcher is None:
                self.batcher = MapBatcher(self.engine)
        return self.batcher.map(text, frameworks, top_k=top_k, kind=kind)

    def close(self) -> None:
        if self.batcher is not None:
            self.batcher.close()
        self.catalog.close()


def get_service(request: Request) -> Service:
    """FastAPI dependency: the running service of this application."""
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]

