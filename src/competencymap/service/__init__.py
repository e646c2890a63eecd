"""The competencymap HTTP service (FastAPI): a thin layer over `competencymap.engine.CompetencyMap`
and the catalog. Build it with :func:`competencymap.service.app.create_app`; run it with `competencymap serve`."""

from competencymap.service.app import ServiceOptions, create_app

__all__ = ["ServiceOptions", "create_app"]
