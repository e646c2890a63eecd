"""The engine on a Dask worker: a worker plugin that holds one `CompetencyMap`, loaded on first
use (in the task's thread, so the worker's event loop keeps answering the scheduler) and kept
for the life of the worker process. A replacement worker gets the plugin again from the
scheduler and loads its own engine."""

from __future__ import annotations

import os
import threading
from dataclasses import fields, replace
from typing import Any

from distributed import WorkerPlugin, get_worker

from competencymap._common.config import Settings, env_int
from competencymap.workflows.demand.options import DemandOptions
from competencymap.workflows.demand.single import DemandContext, demand_context

PLUGIN_NAME = "competencymap-engine"


class EnginePlugin(WorkerPlugin):
    """One `CompetencyMap` per worker for `settings`; `threads` encoder threads when given."""

    name = PLUGIN_NAME

    def __init__(self, settings: Settings, threads: int | None = None) -> None:
        self.settings = settings
        self.threads = threads
        self._engine: Any = None
        self._contexts: dict[tuple[DemandOptions, bool], DemandContext] = {}
        self._lock = threading.RLock()

    def __getstate__(self) -> dict[str, Any]:  # sent to workers without engine or lock
        return {"settings": self.settings, "threads": self.threads}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["settings"], state["threads"])  # type: ignore[misc]

    def setup(self, worker: Any) -> None:
        if self.threads:
            for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ[name] = str(self.threads)

    @property
    def lock(self) -> threading.RLock:
        """Held while the engine maps: its lazily filled caches take one caller at a time."""
        return self._lock

    def engine(self) -> Any:
        """The worker's `CompetencyMap`, created on first call."""
        with self._lock:
            if self._engine is None:
                from competencymap.engine import CompetencyMap

                self._engine = CompetencyMap(self._settings())
            return self._engine

    def _settings(self) -> Settings:
        """The settings with the encoder's threads: the plugin's, else this worker's
        COMPETENCYMAP_THREADS or OMP_NUM_THREADS (a cluster's job script sets them per node)."""
        threads = self.threads or _env_threads()
        if not threads:
            return self.settings
        if "threads" in {f.name for f in fields(self.settings)}:
            return replace(self.settings, threads=threads)
        import torch

        torch.set_num_threads(threads)
        return self.settings

    def context(self, options: DemandOptions, catalog: bool = False) -> DemandContext:
        """The roll-up (and coverage rule) for `options`, built once per worker."""
        with self._lock:
            key = (options, catalog)
            if key not in self._contexts:
                self._contexts[key] = demand_context(self.engine(), options, catalog=catalog)
            return self._contexts[key]


def _env_threads() -> int | None:
    """COMPETENCYMAP_THREADS (a bad value is an error, as everywhere), else a sane OMP_NUM_THREADS."""
    ours = env_int("COMPETENCYMAP_THREADS", 0)
    if ours > 0:
        return ours
    omp = os.environ.get("OMP_NUM_THREADS", "")  # another tool's variable: used only when it reads well
    return int(omp) if omp.isdigit() and int(omp) > 0 else None


def worker_plugin() -> EnginePlugin:
    """The engine plugin of the worker running the current task."""
    plugin = get_worker().plugins.get(PLUGIN_NAME)
    if plugin is None:
        from competencymap._common.errors import CompetencyMapError

        raise CompetencyMapError("this Dask worker has no competencymap engine plugin (register EnginePlugin first)")
    return plugin  # type: ignore[return-value]
