"""Exception handlers: every error answers ``{"error": {"type", "message", ...}}``.

User mistakes get 4xx: a malformed body or an unfit text (control characters, lone surrogates,
blank) 422 naming the field, a text over its length limit and too much input 413 naming the
field, an unknown id, framework or IRI 404, other input the library refuses 400. Problems of the service itself
(no index, database unreachable) get 503; anything unexpected 500 with no internals shown.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

from competencymap._common.errors import (
    CompetencyMapError,
    FrameworkError,
    IndexNotReady,
    InputTextError,
    ModelError,
    TextTooLong,
    UnknownFramework,
)
from competencymap.catalog import CatalogError, InvalidValue, NotFound
from competencymap.exports import ExportError

log = logging.getLogger("api")

# Most specific first: the first class an exception is an instance of decides.
_LIBRARY_ERRORS: list[tuple[type[CompetencyMapError], int, str]] = [
    (NotFound, 404, "not_found"),
    (UnknownFramework, 404, "unknown_framework"),
    (InvalidValue, 422, "invalid_value"),
    (TextTooLong, 413, "payload_too_large"),
    (InputTextError, 422, "invalid_text"),
    (ExportError, 400, "export_error"),
    (IndexNotReady, 503, "index_unavailable"),
    (ModelError, 503, "model_unavailable"),
    (FrameworkError, 503, "framework_unavailable"),
]
BODY_NOT_PARSED = "There was an error parsing the body"  # FastAPI's 400 detail for an undecodable body
TOO_LONG = ("string_too_long", "text_too_long")  # validation errors that answer 413, not 422
_HTTP_TYPES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
}


class ApiError(HTTPException):
    """An error the API itself raises, with its own type name."""

    def __init__(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status, detail=message, headers=headers)
        self.kind = kind


class TooLarge(ApiError):
    """More input than a documented limit allows (413)."""

    def __init__(self, message: str) -> None:
        super().__init__(413, "payload_too_large", message)
        self.extra: dict[str, Any] = {}


class OverLimit(TooLarge):
    """An upload past a named limit (413): the body names it (`limit`) and its value (`maximum`)."""

    def __init__(self, message: str, limit: str, maximum: int) -> None:
        super().__init__(message)
        self.extra = {"limit": limit, "maximum": maximum}


def invalid_field(field: str, message: str, where: str = "body") -> RequestValidationError:
    """A 422 naming `field` for a rule the request model cannot express (raise it)."""
    return RequestValidationError([{"loc": (where, field), "msg": message, "type": "value_error"}])


def error_response(status: int, kind: str, message: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": kind, "message": message}
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def library_status(exc: CompetencyMapError) -> tuple[int, str]:
    """HTTP status and error type of a library error."""
    for cls, status, kind in _LIBRARY_ERRORS:
        if isinstance(exc, cls):
            return status, kind
    if isinstance(exc, CatalogError):
        if isinstance(exc.__cause__, IntegrityError):
            return 409, "conflict"
        return 503, "database_unavailable"
    return 400, "bad_request"


def field_name(loc: tuple[Any, ...] | list[Any]) -> tuple[str, str | None]:
    """('body', 'learning_outcomes', 2) -> ('learning_outcomes.2', 'body')."""
    parts = list(loc)
    where = None
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        where = str(parts.pop(0))
    return ".".join(str(p) for p in parts) or (where or "body"), where


def validation_details(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    details = []
    for error in errors:
        loc = error.get("loc", ())
        if error.get("type") == "json_invalid":  # FastAPI puts the byte offset in loc: not a field
            loc = tuple(part for part in loc if not isinstance(part, int))
        name, where = field_name(loc)
        details.append({"field": name, "in": where, "message": error.get("msg", "invalid"), "type": error.get("type", "")})
    return details


def validation_response(errors: list[dict[str, Any]]) -> JSONResponse:
    details = validation_details(errors) or [{"field": "body", "in": "body", "message": "invalid request", "type": ""}]
    too_long = [d for d in details if d["type"] in TOO_LONG]
    first = too_long[0] if too_long else details[0]
    message = f"{first['field']}: {first['message']}"
    if len(details) > 1:
        message += f" (and {len(details) - 1} more)"
    if too_long:
        return error_response(413, "payload_too_large", message, field=first["field"], details=details)
    return error_response(422, "validation_error", message, field=first["field"], details=details)


async def _on_request_validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
    return validation_response(list(exc.errors()))


async def _on_pydantic_validation(_request: Request, exc: ValidationError) -> JSONResponse:
    return validation_response([dict(e) for e in exc.errors(include_url=False, include_input=False)])


async def _on_library_error(_request: Request, exc: CompetencyMapError) -> JSONResponse:
    status, kind = library_status(exc)
    if status >= 500:
        log.warning("service problem: %s", exc.line_text())
    return error_response(status, kind, exc.line_text(), field=exc.field)


async def _on_http_error(_request: Request, exc: HTTPException) -> JSONResponse:
    if exc.status_code == 400 and exc.detail == BODY_NOT_PARSED:  # e.g. bytes that are not UTF-8
        return validation_response([{"loc": ("body",), "msg": "the body is not valid JSON text", "type": "json_invalid"}])
    kind = getattr(exc, "kind", None) or _HTTP_TYPES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return error_response(exc.status_code, kind, message, headers=getattr(exc, "headers", None),
                          **getattr(exc, "extra", {}))


async def _on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return error_response(500, "internal_error", "internal error; the server log has the details")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_request_validation)  # type: ignore[arg-type]
    app.add_exception_handler(ValidationError, _on_pydantic_validation)  # type: ignore[arg-type]
    app.add_exception_handler(CompetencyMapError, _on_library_error)  # type: ignore[arg-type]  # Starlette types handlers for Exception
    app.add_exception_handler(HTTPException, _on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_unexpected)
