"""The web page: server-rendered pages for designers, employers and researchers, and browsing.

`install(app)` adds the pages at `/` (the API stays where it is), their assets under `/static`
and the offline `/docs` and `/redoc`. docs/web.md describes the pages, their security and where
their texts live (`src/competencymap/service/web/messages/`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"


def install(api: FastAPI) -> None:
    """Pages, static assets and the documentation pages on `api`."""
    from competencymap.service.web import browse, catalog_view, designer, employer, home, researcher
    from competencymap.service.web.docs import install_docs

    install_docs(api)
    for module in (home, designer, employer, catalog_view, researcher, browse):
        api.include_router(module.router)
    api.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
