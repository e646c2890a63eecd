"""Guards: the API key on every write (wrong keys slowed per address), the Host check, strict
query strings, the CSRF check, CORS, security headers and the request body size limit.
docs/api.md ("Security model") says who may write and how.

Middleware, outermost first: security headers on every answer; the Host check (DNS rebinding);
strict query strings; CORS for the configured origins; the body limit; the CSRF check on
state-changing methods.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import math
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from urllib.parse import parse_qs, unquote_to_bytes, urlsplit

from fastapi import FastAPI, Request, Security
from fastapi.middleware.cors import CORSMiddleware
from fastapi.security import APIKeyHeader
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from competencymap.service.errors import ApiError, TooLarge
from competencymap.service.options import ServiceOptions

API_KEY_HEADER = "X-API-Key"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
CSRF_TTL_SECONDS = 12 * 3600
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

# Assets only from this service; nothing inline; never framed. The web page is served under this.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}

api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="The service's API key; every POST, PATCH and DELETE needs it when COMPETENCYMAP_API_KEY is set.",
)


def require_api_key(request: Request, key: str | None = Security(api_key_header)) -> None:
    """FastAPI dependency of every state-changing endpoint: 401 unless the configured key (if any)
    is sent; 429 while the client's address must wait after repeated wrong keys."""
    expected = request.app.state.options.api_key
    if not expected:
        return
    if key is None or not key_matches(request, key):
        raise ApiError(
            401,
            "unauthorized",
            f"this endpoint needs the service's API key in the {API_KEY_HEADER} header",
            headers={"WWW-Authenticate": "ApiKey"},
        )


# -- slowing repeated wrong keys -------------------------------------------------------------------


class KeyGuesses:
    """Wrong API keys per client address: the first FREE are free; after them each further wrong
    key makes the address wait FIRST_WAIT seconds, doubling up to MAX_WAIT, before any key is
    checked again. A right key forgets the address. At most `max_addresses` are remembered (the
    least recently seen go first), so memory stays bounded whoever sends keys."""

    FREE = 5
    FIRST_WAIT = 1.0
    MAX_WAIT = 300.0

    def __init__(self, max_addresses: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_addresses = max_addresses
        self.clock = clock
        self._seen: OrderedDict[str, tuple[int, float]] = OrderedDict()  # address -> (failures, not before)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def wait(self, address: str) -> float:
        """Seconds `address` must still wait before its next key is checked (0: none)."""
        with self._lock:
            _, not_before = self._seen.get(address, (0, 0.0))
        return max(0.0, not_before - self.clock())

    def failed(self, address: str) -> None:
        with self._lock:
            failures = self._seen.pop(address, (0, 0.0))[0] + 1
            wait = 0.0 if failures <= self.FREE else min(self.MAX_WAIT, self.FIRST_WAIT * 2 ** (failures - self.FREE - 1))
            self._seen[address] = (failures, self.clock() + wait)
            while len(self._seen) > self.max_addresses:
                self._seen.popitem(last=False)

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._seen.pop(address, None)


class KeyWait(ApiError):
    """429: the client's address sent too many wrong keys and must wait (Retry-After) before the next."""

    def __init__(self, seconds: float) -> None:
        self.seconds = max(1, math.ceil(seconds))
        super().__init__(429, "too_many_wrong_keys",
                         f"too many wrong API keys from this address; try again in {self.seconds} s",
                         headers={"Retry-After": str(self.seconds)})


def key_matches(request: Request, given: str) -> bool:
    """Whether `given` is the service's key (compared in constant time); a wrong one counts against
    the client's address. Raises KeyWait, checking nothing, while that address must wait, so a
    waiting address learns nothing, not even that a key is right. Checked once per request."""
    checked = getattr(request.state, "key_checked", None)
    if checked is not None and checked[0] == given:
        return bool(checked[1])
    guesses: KeyGuesses = request.app.state.key_guesses
    address = request.client.host if request.client else ""
    wait = guesses.wait(address)
    if wait > 0:
        raise KeyWait(wait)
    expected = request.app.state.options.api_key or ""
    right = bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
    if right:
        guesses.succeeded(address)
    else:
        guesses.failed(address)
    request.state.key_checked = (given, right)
    return right


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


# -- the Host check --------------------------------------------------------------------------------


class HostPolicy:
    """Which Host names this service answers to.

    Configured names (`allowed_hosts`, `*.example.org` for subdomains, `*` for any), else
    localhost, 127.0.0.1, ::1 and the address `serve` binds. Bound to every address (0.0.0.0,
    ::), an IP address given as the Host is accepted too: a DNS-rebinding page sends a name.
    """

    def __init__(self, options: ServiceOptions) -> None:
        names = list(options.allowed_hosts)
        self.any = "*" in names
        self.ip_literals = False
        if not names:
            names = list(LOOPBACK_NAMES)
            if options.bind_host:
                if _is_unspecified(options.bind_host):
                    self.ip_literals = True
                else:
                    names.append(options.bind_host)
        self.exact = {n.strip("[]").lower() for n in names if not n.startswith("*")}
        self.suffixes = tuple(n[1:].lower() for n in names if n.startswith("*."))

    def allows(self, host: str) -> bool:
        if self.any:
            return True
        name = host.lower()
        if name in self.exact or any(name.endswith(s) for s in self.suffixes):
            return True
        return self.ip_literals and _is_ip(name)


_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")
_PORT = re.compile(r"[0-9]{1,5}")


def parse_host(header: str) -> str | None:
    """The host a Host header names, lower-cased: `name[:port]` or `[IPv6][:port]`; None for
    anything else (user info, a bad port, spaces, paths, bare IPv6, a name that is no DNS name)."""
    value = header.lower()
    if value.startswith("["):
        inside, bracket, rest = value[1:].partition("]")
        if not bracket or not _valid_port(rest):
            return None
        try:
            return str(ipaddress.IPv6Address(inside))
        except ValueError:
            return None
    name, colon, port = value.partition(":")
    if colon and not _valid_port(":" + port):
        return None
    name = name[:-1] if name.endswith(".") else name
    if _is_ip(name):
        return name
    labels = name.split(".")
    if not name or len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return name


def _valid_port(rest: str) -> bool:
    """'' (no port) or ':' and 1 to 65535."""
    if not rest:
        return True
    port = rest[1:]
    return rest[0] == ":" and bool(_PORT.fullmatch(port)) and 1 <= int(port) <= 65535


def host_name(header: str) -> str:
    """'example.org:8000' -> 'example.org'; '[::1]:8000' -> '::1'."""
    value = header.strip()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class HostCheck:
    """ASGI middleware: 400 for a request whose Host header names no allowed host."""

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = _header(scope, b"host") or ""
        name = parse_host(host)
        if name is None or not self.policy.allows(name):
            await _refuse(send, 400, "invalid_host",
                          f"this service does not answer to the host {host[:200]!r}; "
                          "configure it in COMPETENCYMAP_ALLOWED_HOSTS")
            return
        await self.app(scope, receive, send)


# -- strict query strings --------------------------------------------------------------------------


class StrictQuery:
    """ASGI middleware: 400 naming the parameter for a query string whose names or values are not
    UTF-8 once percent-decoded (the frameworks would silently replace the bad bytes)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            bad = undecodable_parameter(scope.get("query_string", b""))
            if bad is not None:
                await _refuse(send, 400, "bad_request", f"{bad}: the query string is not UTF-8 text", field=bad)
                return
        await self.app(scope, receive, send)


def undecodable_parameter(query: bytes) -> str | None:
    """The first parameter of `query` whose name or value is not UTF-8 once percent-decoded: its
    name, decoded when it can be, else as sent; None when every part decodes."""
    for pair in query.split(b"&"):
        raw_name, _, raw_value = pair.partition(b"=")
        try:
            name = unquote_to_bytes(raw_name.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return raw_name.decode("latin-1")[:100]
        try:
            unquote_to_bytes(raw_value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return name[:100]
    return None


# -- CSRF ------------------------------------------------------------------------------------------


class CsrfTokens:
    """Signed, expiring form tokens: `<expiry>.<nonce>.<hmac>` (HMAC-SHA256 with the service secret).

    Only a page that can read this service's answers can hold one (same origin, or a CORS
    origin), so a state-changing request that carries a valid token is not cross-site.
    """

    def __init__(self, secret: str | None, ttl: int = CSRF_TTL_SECONDS) -> None:
        self.key = secret.encode() if secret else secrets.token_bytes(32)
        self.ttl = ttl

    def issue(self, now: float | None = None) -> tuple[str, int]:
        expiry = int((now or time.time()) + self.ttl)
        body = f"{expiry}.{secrets.token_hex(16)}"
        return f"{body}.{self._sign(body)}", expiry

    def valid(self, token: str | None, now: float | None = None) -> bool:
        if not token or len(token) > 200 or token.count(".") != 2:
            return False
        body, _, signature = token.rpartition(".")
        if not hmac.compare_digest(signature, self._sign(body)):
            return False
        expiry = body.split(".", 1)[0]
        return expiry.isdigit() and int(expiry) >= (now or time.time())

    def _sign(self, body: str) -> str:
        return hmac.new(self.key, body.encode(), hashlib.sha256).hexdigest()


def origin_of(url: str) -> str | None:
    """'https://a.example:8443/x?y' -> 'https://a.example:8443'; None for anything else."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


class CsrfCheck:
    """ASGI middleware: a state-changing request from a browser page must come from this
    service's own origin or a configured one, or carry a valid form token.

    A request passes when (1) it carries a valid token in the X-CSRF-Token header or the
    `csrf_token` field of a form body; or (2) its Origin (or, without Origin, its Referer) is the
    service's own (scheme and the checked Host) or configured; or (3) it carries no browser
    signal at all (no Origin, Referer or Sec-Fetch-Site header: curl, scripts, the CLI).
    Everything else is refused with 403 `csrf_failed`: e.g. a form posted from another site.
    """

    def __init__(self, app: ASGIApp, tokens: CsrfTokens, origins: Iterable[str]) -> None:
        self.app = app
        self.tokens = tokens
        self.origins = {o.rstrip("/").lower() for o in origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        verdict = self._verdict(scope)
        if verdict is None:
            await self.app(scope, receive, send)
            return
        content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if content_type in FORM_TYPES:  # a form may carry the token as a field
            body, replay = await _buffer(receive)
            if self.tokens.valid(await _form_token(scope, body, content_type)):
                await self.app(scope, replay, send)
                return
        await _refuse(send, 403, "csrf_failed", verdict)

    def _verdict(self, scope: Scope) -> str | None:
        """None when the request may pass without a form field; otherwise why it may not."""
        if self.tokens.valid(_header(scope, CSRF_HEADER.lower().encode())):
            return None
        origin = _header(scope, b"origin")
        referer = _header(scope, b"referer")
        fetch_site = _header(scope, b"sec-fetch-site")
        if origin is None and referer is None:
            if fetch_site in (None, "same-origin", "none"):
                return None
            return f"a {fetch_site} request without Origin may not change anything here"
        claimed = origin_of(origin) if origin is not None else origin_of(referer or "")
        if claimed is not None and claimed in self._allowed(scope):
            return None
        shown = origin if origin is not None else claimed or "an unknown origin"
        return (f"requests from {shown} may not change anything here: send the page's form token "
                f"({CSRF_HEADER} header or {CSRF_FIELD} field) or configure the origin "
                "in COMPETENCYMAP_TRUSTED_ORIGINS")

    def _allowed(self, scope: Scope) -> set[str]:
        host = (_header(scope, b"host") or "").lower()
        scheme = scope.get("scheme", "http")
        return self.origins | {f"{scheme}://{host}"}


async def _buffer(receive: Receive) -> tuple[bytes, Receive]:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


async def _form_token(scope: Scope, body: bytes, content_type: str) -> str | None:
    if content_type == "application/x-www-form-urlencoded":
        values = parse_qs(body.decode("latin-1"), max_num_fields=1000).get(CSRF_FIELD)
        return values[0] if values else None
    from starlette.requests import Request as StarletteRequest

    async def once() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await StarletteRequest(scope, once).form(max_files=100, max_fields=1000)
    except Exception:  # noqa: BLE001 - a malformed form (any parser error) carries no token
        return None
    try:
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    finally:
        await form.close()


# -- headers ---------------------------------------------------------------------------------------


class SecurityHeaders:
    """ASGI middleware: the security headers on every answer (a route may set its own CSP)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


# -- the body limit --------------------------------------------------------------------------------


class BodyTimeout(ApiError):
    """A request body that stopped arriving (408)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(408, "request_timeout", f"no part of the request body arrived for {seconds:g} seconds; "
                                                 "send the body without pausing")


class BodyLimit:
    """ASGI middleware: 413 for a request body over `max_bytes` (declared or streamed); 408 when
    `timeout` seconds pass with no chunk of a body that has not fully arrived (a stalled upload
    no longer holds its socket). Once the body is in, the app waits for the client as it likes."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _refuse(send, 413, "payload_too_large", self._message(), close=True)
            return
        seen = 0
        started = False
        arrived = False  # the whole body

        async def counted_receive() -> Message:
            nonlocal seen, arrived
            message = await (receive() if arrived else self._next_chunk(receive))
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise TooLarge(self._message())
            arrived = arrived or not message.get("more_body", False)
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
            await _refuse(send, 413, "payload_too_large", self._message(), close=True)
        except BodyTimeout as exc:
            if started:
                raise
            await _refuse(send, 408, exc.kind, str(exc.detail), close=True)

    async def _next_chunk(self, receive: Receive) -> Message:
        if self.timeout is None:
            return await receive()
        try:
            return await asyncio.wait_for(receive(), self.timeout)
        except TimeoutError:
            raise BodyTimeout(self.timeout) from None

    def _message(self) -> str:
        return f"request body is larger than the limit of {self.max_bytes:,} bytes"


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


async def _refuse(send: Send, status: int, kind: str, message: str, *, close: bool = False,
                  field: str | None = None) -> None:
    error = {"type": kind, "message": message} | ({"field": field} if field is not None else {})
    body = json.dumps({"error": error}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def install(app: FastAPI, options: ServiceOptions, tokens: CsrfTokens) -> None:
    """The middleware stack (see module docs). `add_middleware` wraps: the last added is outermost."""
    app.add_middleware(CsrfCheck, tokens=tokens, origins=[*options.cors_origins, *options.trusted_origins])
    app.add_middleware(BodyLimit, max_bytes=options.max_body_bytes,  # outside CSRF: bounds what it buffers
                       timeout=options.body_timeout)
    if options.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(options.cors_origins),
            allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Content-Type", API_KEY_HEADER, CSRF_HEADER],
            expose_headers=["Content-Disposition"],
            max_age=600,
        )
    app.add_middleware(StrictQuery)
    app.add_middleware(HostCheck, policy=HostPolicy(options))
    app.state.key_guesses = KeyGuesses()
    app.add_middleware(SecurityHeaders)


_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def inline_script_hashes(html: str) -> list[str]:
    """CSP source expressions ('sha256-...') for the inline scripts of a page."""
    import base64

    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _SCRIPT.findall(html)
    ]
