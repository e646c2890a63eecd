"""`/docs` (Swagger UI) and `/redoc` (ReDoc) from assets this service serves itself, so they work
offline. FastAPI writes the pages; each keeps one inline start-up script, which its CSP allows
by hash, and the inline styles these two viewers set; everything else comes from 'self'."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

from competencymap.service.security import inline_script_hashes

VENDOR = "/static/vendor"
SWAGGER_JS = f"{VENDOR}/swagger-ui/swagger-ui-bundle.js"
SWAGGER_CSS = f"{VENDOR}/swagger-ui/swagger-ui.css"
FAVICON = f"{VENDOR}/swagger-ui/favicon-32x32.png"
REDOC_JS = f"{VENDOR}/redoc/redoc.standalone.js"


def docs_csp(html: str) -> str:
    """Only this service's assets, the page's own inline scripts by hash, inline styles (both
    viewers set them), images from 'self' and data: URLs, ReDoc's search worker from blob:."""
    scripts = " ".join(["'self'", *inline_script_hashes(html)])
    return (f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; font-src 'self'; "
            "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _page(page: HTMLResponse) -> HTMLResponse:
    html = bytes(page.body).decode()
    return HTMLResponse(html, headers={"Content-Security-Policy": docs_csp(html)})


def install_docs(api: FastAPI) -> None:
    @api.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return _page(get_swagger_ui_html(
            openapi_url="/openapi.json", title=f"{api.title} - Swagger UI", swagger_js_url=SWAGGER_JS,
            swagger_css_url=SWAGGER_CSS, swagger_favicon_url=FAVICON, oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_ui_parameters={"validatorUrl": None}))

    @api.get("/docs/oauth2-redirect", include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        return _page(get_swagger_ui_oauth2_redirect_html())

    @api.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return _page(get_redoc_html(openapi_url="/openapi.json", title=f"{api.title} - ReDoc", redoc_js_url=REDOC_JS,
                                    redoc_favicon_url=FAVICON, with_google_fonts=False))
