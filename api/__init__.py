"""The competencymap HTTP service (FastAPI): a thin layer over `competencymap.core.CompetencyMap`
and the catalog. Build it with :func:`api.app.create_app`; run it with `competencymap serve`
or `python -m api`."""

from api.app import ServiceOptions, create_app

__all__ = ["ServiceOptions", "create_app"]
