"""Guards: the API key on write endpoints, CORS, and the request body size limit."""

from __future__ import annotations

import hmac
import ipaddress
import json

from fastapi import FastAPI, Request, Security
from fastapi.middleware.cors import CORSMiddleware
from fastapi.security import APIKeyHeader
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError, TooLarge

API_KEY_HEADER = "X-API-Key"

api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="The service's API key; needed by write endpoints when COMPETENCYMAP_API_KEY is set.",
)


def require_api_key(request: Request, key: str | None = Security(api_key_header)) -> None:
    """FastAPI dependency of write endpoints: 401 unless the configured key (if any) is sent."""
    expected = request.app.state.options.api_key
    if not expected:
        return
    if key is None or not hmac.compare_digest(key.encode(), expected.encode()):
        raise ApiError(
            401,
            "unauthorized",
            f"this endpoint needs the service's API key in the {API_KEY_HEADER} header",
            headers={"WWW-Authenticate": "ApiKey"},
        )


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class BodyLimit:
    """ASGI middleware: 413 for a request body over `max_bytes` (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise TooLarge(self._message())
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except TooLarge:
            if started:
                raise
            await self._refuse(send)

    def _message(self) -> str:
        return f"request body is larger than the limit of {self.max_bytes:,} bytes"

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"error": {"type": "payload_too_large", "message": self._message()}}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def install(app: FastAPI, options: object) -> None:
    """CORS for the configured origins (none: no CORS headers) and the body size limit."""
    app.add_middleware(BodyLimit, max_bytes=int(getattr(options, "max_body_bytes")))
    origins = list(getattr(options, "cors_origins", ()) or ())
    if origins:  # added last: outermost, so refusals carry CORS headers too
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Content-Type", API_KEY_HEADER],
            expose_headers=["Content-Disposition"],
            max_age=600,
        )
