"""405 Method Not Allowed with the right `Allow` header, before routing.

Starlette answers 405 with the methods of the first route whose path matches, so `/credentials`
(GET and POST are two routes) said `Allow: POST` to a PUT; and a method no route of a fixed path
takes could fall through to a route with a parameter (GET `/jobs/demand` reached GET
`/jobs/{job_id}` and answered 422). Here the resource at a path is every matching route with
the fewest path parameters, and the 405 lists all their methods.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi.routing import iter_route_contexts
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Mount, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass(frozen=True)
class Resource:
    """One route's path as a pattern and the methods it takes (None: a mounted app, any method)."""

    pattern: re.Pattern[str]
    methods: frozenset[str] | None
    parameters: int  # how many path parameters: fewer is more specific


def resources(routes: Sequence[BaseRoute]) -> list[Resource]:
    """Every route of the application, included routers flattened, as `Resource`s."""
    out = []
    for context in iter_route_contexts(routes):
        route = context.original_route
        path = str(context.path or getattr(route, "path", ""))
        if isinstance(route, Mount):
            out.append(Resource(compile_path(path + "/{path:path}")[0], None, 1))
            continue
        pattern, _, convertors = compile_path(path)
        methods = frozenset(context.methods) if context.methods is not None else None
        out.append(Resource(pattern, methods, len(convertors)))
    return out


def allowed_methods(table: list[Resource], path: str) -> set[str] | None:
    """The methods the most specific routes matching `path` take (those with the fewest path
    parameters: `/jobs/demand` before `/jobs/{job_id}`); None when no route's path matches or a
    mounted app (static files) or a route of any method serves it: the router answers then."""
    matching = [r for r in table if r.pattern.match(path) is not None]
    if not matching or any(r.methods is None for r in matching):
        return None
    fewest = min(r.parameters for r in matching)
    return {m for r in matching if r.parameters == fewest for m in r.methods or ()}


class MethodCheck:
    """ASGI middleware: 405 with `Allow` listing every method the path takes, for any other method."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.table: list[Resource] | None = None  # the routes, read on the first request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "app" not in scope:
            await self.app(scope, receive, send)
            return
        if self.table is None:
            self.table = resources(scope["app"].router.routes)
        allowed = allowed_methods(self.table, get_route_path(scope))
        if allowed is None or scope["method"] in allowed:
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": {"type": "method_not_allowed",
                                     "message": f"{scope['method']} is not allowed here; allowed: "
                                                f"{', '.join(sorted(allowed))}"}}).encode()
        await send({"type": "http.response.start", "status": 405, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"allow", ", ".join(sorted(allowed)).encode())]})
        await send({"type": "http.response.body", "body": body})
