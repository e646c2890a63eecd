"""The start page, the page language switch and the API key form (shown only when the service has a key)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from competencymap.service.security import KeyWait, key_matches
from competencymap.service.web.messages import AUTONYMS, known, languages
from competencymap.service.web.pages import (
    KEY_COOKIE,
    LANGUAGE_COOKIE,
    local_path,
    redirect,
    render,
    service_of,
    set_cookie,
    t_for,
)

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    service = service_of(request)
    frameworks = [(n, service.engine.framework(n).title or n) for n in service.frameworks]
    return render(request, "home.html", section="home", title=t_for(request)("home.title"), frameworks=frameworks,
                  credentials=service.catalog.count_credentials())


@router.get("/language", response_class=HTMLResponse)
def choose_language(request: Request, lang: str = "", next: str = "/") -> Response:
    """The language switch: keep the chosen page language in a cookie and go back to the page."""
    if not known(lang):
        t = t_for(request)
        offered = ", ".join(f"{code} ({AUTONYMS.get(code, code)})" for code in languages())
        return render(request, "problem.html", status=400, title=t("language.unknown_title"),
                      message=t("language.unknown", given=lang, offered=offered))
    response = redirect(local_path(next))
    set_cookie(response, LANGUAGE_COOKIE, lang)
    return response


@router.get("/key", response_class=HTMLResponse)
def key_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "key.html", section="key", title=t_for(request)("key.title"), next=local_path(next))


@router.post("/key", response_class=HTMLResponse)
async def key_submit(request: Request) -> Response:
    t = t_for(request)
    form = await request.form()
    given = form.get("api_key")
    back = local_path(form.get("next") if isinstance(form.get("next"), str) else None)  # type: ignore[arg-type]
    expected = request.app.state.options.api_key or ""
    if not isinstance(given, str):
        given = ""
    try:
        right = bool(given) and bool(expected) and key_matches(request, given)
    except KeyWait as wait:
        answer = render(request, "key.html", status=429, section="key", title=t("key.title"), next=back,
                        errors={"api_key": t("key.wait", seconds=wait.seconds)})
        answer.headers["Retry-After"] = str(wait.seconds)
        return answer
    if not right:
        return render(request, "key.html", status=401, section="key", title=t("key.title"), next=back,
                      errors={"api_key": t("key.wrong")})
    response = redirect(back)
    set_cookie(response, KEY_COOKIE, given)
    return response
