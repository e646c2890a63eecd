"""What every page shares: the templates, the form token, who is reviewing, the API key, errors.

A page is rendered with `render`; a route answering an enhanced request (the page's script sends
``X-Fragment: 1``) renders only the part it replaces. Forms carry the CSRF form token of
`api.security.CsrfTokens` in a hidden field; the script sends the same token in ``X-CSRF-Token``.
When the service has an API key, a person enters it once on ``/key``: it is kept in an HttpOnly,
SameSite=Strict cookie and every write of the page checks it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from competencymap.service.deps import Service, get_service
from competencymap.service.security import API_KEY_HEADER, CSRF_FIELD, KeyWait, key_matches
from competencymap.service.web.messages import AUTONYMS, Messages, choose, languages
from competencymap.service.web.names import localized_names

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True

PERSON_COOKIE = "competencymap_reviewer"
KEY_COOKIE = "competencymap_key"
LANGUAGE_COOKIE = "competencymap_lang"  # the page language the switch chose
NAV = (("designer", "/designer"), ("employer", "/employer"), ("researcher", "/researcher"), ("browse", "/browse"))


def t_for(request: Request) -> Messages:
    """The page's texts: the ``lang`` query parameter, else the language switch's cookie, else the
    browser's Accept-Language (`messages.choose`)."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    return choose(chosen, request.headers.get("accept-language"))


def name_in(request: Request, language: str) -> Callable[[str, str], str]:
    """``name(iri, label)`` for the templates: the competency's name in the page's language where
    its framework has one (Skills for Success in French), else `label`."""
    names = localized_names(get_service(request), language)
    return lambda iri, label: names.get(iri, label)


def is_fragment(request: Request) -> bool:
    """True when the page's script asked for the part of the page it replaces."""
    return request.headers.get("x-fragment") == "1"


def person(request: Request) -> str:
    """Who is reviewing (kept with each decision), from the cookie the reviewer form sets."""
    return unquote(request.cookies.get(PERSON_COOKIE, "")).strip()


def key_needed(request: Request) -> bool:
    return bool(request.app.state.options.api_key)


def key_ok(request: Request) -> bool:
    """The API key, when the service has one: in X-API-Key or the cookie `/key` sets."""
    expected = request.app.state.options.api_key
    if not expected:
        return True
    given = request.headers.get(API_KEY_HEADER) or unquote(request.cookies.get(KEY_COOKIE, ""))
    if not given:
        return False
    try:
        return key_matches(request, given)
    except KeyWait:  # this address sent too many wrong keys: nothing is checked until it has waited
        return False


def csrf_token(request: Request) -> str:
    token, _ = request.app.state.csrf.issue()
    return token


def service_of(request: Request) -> Service:
    return get_service(request)


def render(request: Request, template: str, *, status: int = 200, section: str = "", **context: Any) -> HTMLResponse:
    """A template with what every page needs: texts, token, reviewer, navigation."""
    t = t_for(request)
    values = {
        "t": t,
        "lang": t.language,
        "languages": [(code, AUTONYMS.get(code, code)) for code in languages()],
        "name": name_in(request, t.language),
        "csrf": csrf_token(request),
        "csrf_field": CSRF_FIELD,
        "person": person(request),
        "key_needed": key_needed(request),
        "key_ok": key_ok(request),
        "nav": NAV,
        "section": section,
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "here_any_language": _without_lang(request),
        "errors": {},
        **context,
    }
    response = templates.TemplateResponse(request, template, values, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    if template.startswith("parts/"):
        response.headers["X-Fragment"] = "1"  # the page's script replaces only this part
    return response


def _without_lang(request: Request) -> str:
    """This page's path and query, less a ``lang`` parameter (where the language switch returns)."""
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "lang"])
    return request.url.path + (f"?{query}" if query else "")


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def local_path(value: str | None, default: str = "/") -> str:
    """A redirect target that stays on this site: a path starting with one slash."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def set_cookie(response: Response, name: str, value: str) -> None:
    response.set_cookie(name, quote(value), httponly=True, samesite="strict", path="/", max_age=30 * 24 * 3600)


def not_found(request: Request, message: str) -> HTMLResponse:
    return render(request, "problem.html", status=404, title=t_for(request)("problem.not_found"), message=message)


def key_refused(request: Request) -> HTMLResponse:
    t = t_for(request)
    return render(request, "problem.html", status=401, title=t("key.needed_title"), message=t("key.needed"),
                  link=("/key", t("key.enter")))


# -- validation messages beside their fields -------------------------------------------------------------

_PYDANTIC_KEYS = {
    "missing": "error.required",
    "string_too_short": "error.required",
    "string_too_long": "error.too_long",
    "greater_than": "error.positive",
    "less_than_equal": "error.too_big",
    "float_parsing": "error.number",
    "float_type": "error.number",
    "finite_number": "error.number",
    "literal_error": "error.choice",
    "url_parsing": "error.url",
    "url_scheme": "error.url",
    "too_long": "error.too_many",
}


def field_errors(t: Messages, exc: ValidationError, lines: Mapping[str, int] | None = None) -> dict[str, str]:
    """Pydantic errors as one readable message per form field (the first error of each field).

    An error inside a list (``learning_outcomes.3``) names its line: `lines` gives the line
    number the list's items start at (1 for a textarea)."""
    out: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        if not loc:
            continue
        name = loc[0]
        if name in out:
            continue
        out[name] = _message(t, error, loc, lines or {})
    return out


def _message(t: Messages, error: Mapping[str, Any], loc: list[str], lines: Mapping[str, int]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    key = _PYDANTIC_KEYS.get(kind)
    if kind == "invalid_text":
        text = t("error.invalid_text", reason=ctx.get("reason", error.get("msg", "")))
    elif key == "error.too_long":
        given = error.get("input")
        text = t(key, limit=ctx.get("max_length", "?"), given=len(given) if isinstance(given, str) else "?")
    elif key == "error.too_many":
        text = t(key, limit=ctx.get("max_length", "?"))
    elif key == "error.too_big":
        text = t(key, limit=ctx.get("le", "?"))
    elif key is not None:
        text = t(key)
    else:
        text = str(error.get("msg", "")).removeprefix("Value error, ")
    if len(loc) > 1 and loc[1].isdigit():
        text = t("error.on_line", line=int(loc[1]) + lines.get(loc[0], 1), message=text)
    return text
