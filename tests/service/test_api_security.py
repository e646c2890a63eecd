"""Safe by default (issue 8, item 5): the key on every write, the Host check, the CSRF check
(Origin/Referer, form tokens), security headers, and the text rules on every text field.

In process, on a service that serves no framework (nothing to load), so the checks that stand
before the engine are tested without a model; /map and /match then answer 404 (no framework).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from competencymap._common.config import load_settings
from competencymap.service.app import ServiceOptions, create_app
from competencymap.service.security import CsrfTokens, HostPolicy, host_name

KEY = "s3cret"
CREDENTIAL = {
    "title": "Guarded credential", "issuer": "Example College", "description": "d",
    "learning_outcomes": ["Write SQL queries"], "duration_hours": 3, "delivery_mode": "online",
    "credit": "credit", "assessment_type": "quiz", "stackability": "", "language": "en",
}
POSTING = {"title": "Analyst", "employer": "Example Ltd", "text": "Write SQL queries."}
EVIL = "http://evil.example"


def _client(tmp_path: Path, **options: Any) -> TestClient:
    opts = ServiceOptions(frameworks=(), database_url=f"sqlite:///{tmp_path / 'catalog.sqlite'}", **options)
    return TestClient(create_app(load_settings(home=tmp_path), options=opts), base_url="http://localhost:8000")


@pytest.fixture()
def open_client(tmp_path: Path) -> Iterator[TestClient]:
    with _client(tmp_path) as client:
        yield client


@pytest.fixture()
def keyed(tmp_path: Path) -> Iterator[TestClient]:
    with _client(tmp_path, api_key=KEY) as client:
        yield client


def _unsafe_operations(client: TestClient) -> list[tuple[str, str]]:
    doc = client.get("/openapi.json").json()
    return [(method.upper(), path) for path, ops in doc["paths"].items() for method in ops
            if method in ("post", "put", "patch", "delete")]


def _concrete(path: str) -> str:
    return path.replace("{credential_id}", "1").replace("{tag_id}", "1").replace("{posting_id}", "1")


# -- the key --------------------------------------------------------------------------------------


def test_every_state_changing_operation_needs_the_key(keyed: TestClient) -> None:
    operations = _unsafe_operations(keyed)
    assert ("POST", "/map") in operations and ("POST", "/analytics/demand") in operations
    doc = keyed.get("/openapi.json").json()
    for method, path in operations:
        answer = keyed.request(method, _concrete(path), json={})
        assert answer.status_code == 401, (method, path, answer.text)
        assert {"APIKeyHeader": []} in doc["paths"][path][method.lower()].get("security", []), (method, path)
    assert keyed.get("/credentials").status_code == 200  # reads need no key
    assert keyed.post("/map", json={"text": "SQL"}, headers={"X-API-Key": KEY}).status_code == 404  # past the key


def test_without_a_key_loopback_writes_are_open(open_client: TestClient) -> None:
    assert open_client.get("/health").json()["api_key_required"] is False
    assert open_client.post("/postings", json=POSTING).status_code == 201


# -- the Host check -----------------------------------------------------------------------------


def test_host_header_must_name_this_service(open_client: TestClient) -> None:
    for host in ("localhost:8000", "127.0.0.1:8000", "[::1]:8000"):
        assert open_client.get("/health", headers={"Host": host}).status_code == 200, host
    refused = open_client.get("/health", headers={"Host": "rebind.evil.example:8000"})
    assert refused.status_code == 400 and refused.json()["error"]["type"] == "invalid_host"
    assert open_client.post("/postings", json=POSTING, headers={"Host": "evil.example"}).status_code == 400


def test_host_policy() -> None:
    default = HostPolicy(ServiceOptions())
    assert default.allows("localhost") and default.allows("::1") and not default.allows("example.org")
    bound = HostPolicy(ServiceOptions(bind_host="10.0.0.5"))
    assert bound.allows("10.0.0.5") and not bound.allows("10.0.0.6")
    everywhere = HostPolicy(ServiceOptions(bind_host="0.0.0.0"))
    assert everywhere.allows("10.0.0.6") and not everywhere.allows("rebind.example")  # IP literals only
    named = HostPolicy(ServiceOptions(allowed_hosts=("competencymap.service.example.org", "*.example.net")))
    assert named.allows("competencymap.service.example.org") and named.allows("a.example.net") and not named.allows("localhost")
    assert HostPolicy(ServiceOptions(allowed_hosts=("*",))).allows("anything")
    assert host_name("[::1]:8000") == "::1" and host_name("a.example:80") == "a.example" and host_name("::1") == "::1"


# -- CSRF -----------------------------------------------------------------------------------------


def test_cross_site_form_posts_are_refused(open_client: TestClient) -> None:
    created = open_client.post("/credentials", json=CREDENTIAL).json()
    form = open_client.post(f"/credentials/{created['id']}/suggest-tags", data={"top_k": "3"},
                            headers={"Origin": EVIL})
    assert form.status_code == 403 and form.json()["error"]["type"] == "csrf_failed"
    for headers in ({"Origin": EVIL}, {"Origin": "null"}, {"Referer": f"{EVIL}/page"},
                    {"Sec-Fetch-Site": "cross-site"}):
        answer = open_client.delete(f"/credentials/{created['id']}", headers=headers)
        assert answer.status_code == 403, headers
    assert open_client.get(f"/credentials/{created['id']}", headers={"Origin": EVIL}).status_code == 200  # reads pass
    same = open_client.post("/postings", json=POSTING, headers={"Origin": "http://localhost:8000"})
    assert same.status_code == 201
    by_referer = open_client.post("/postings", json=POSTING, headers={"Referer": "http://localhost:8000/app"})
    assert by_referer.status_code == 201
    assert open_client.post("/postings", json=POSTING, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 201
    assert open_client.delete(f"/credentials/{created['id']}").status_code == 204  # curl: no browser signal


def test_form_tokens(open_client: TestClient) -> None:
    issued = open_client.get("/csrf-token")
    assert issued.headers["cache-control"] == "no-store"
    token = issued.json()["token"]
    with_header = open_client.post("/postings", json=POSTING, headers={"Origin": EVIL, "X-CSRF-Token": token})
    assert with_header.status_code == 201
    forged = open_client.post("/postings", json=POSTING, headers={"Origin": EVIL, "X-CSRF-Token": forge(token)})
    assert forged.status_code == 403
    upload = open_client.post("/analytics/demand/upload", headers={"Origin": EVIL},
                              files={"file": ("p.jsonl", b'{"text": "SQL"}\n')}, data={"csrf_token": token})
    assert upload.status_code != 403  # the form field carries it (then: no framework served)
    no_token = open_client.post("/analytics/demand/upload", headers={"Origin": EVIL},
                                files={"file": ("p.jsonl", b'{"text": "SQL"}\n')})
    assert no_token.status_code == 403
    tokens = CsrfTokens("secret", ttl=10)
    old, _ = tokens.issue(now=1000.0)
    assert tokens.valid(old, now=1005.0) and not tokens.valid(old, now=1011.0)
    assert not CsrfTokens("other").valid(old, now=1005.0) and not tokens.valid("a.b.c")


def test_configured_origins_may_write(tmp_path: Path) -> None:
    with _client(tmp_path, trusted_origins=("https://page.example",), cors_origins=("https://app.example",)) as client:
        for origin in ("https://page.example", "https://app.example"):
            assert client.post("/postings", json=POSTING, headers={"Origin": origin}).status_code == 201
        assert client.post("/postings", json=POSTING, headers={"Origin": EVIL}).status_code == 403


# -- headers ----------------------------------------------------------------------------------------


def test_security_headers_on_every_answer(open_client: TestClient) -> None:
    for answer in (open_client.get("/health"), open_client.get("/credentials/999999"),
                   open_client.post("/postings", json={})):
        csp = answer.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin" and answer.headers["x-frame-options"] == "DENY"
        assert "server" not in answer.headers
    docs = open_client.get("/docs")
    assert docs.status_code == 200 and "'sha256-" in docs.headers["content-security-policy"]


# -- text rules on every text field -----------------------------------------------------------------

BAD_TEXTS = {"surrogate": "Write SQL \ud800 queries", "nul": "Write\x00SQL", "escape": "Write \x1b[31m SQL"}


def _json_bytes(body: dict[str, Any]) -> bytes:
    import json

    return json.dumps(body).encode()  # ASCII escapes: a lone surrogate travels as \\ud800


@pytest.mark.parametrize("kind", sorted(BAD_TEXTS))
def test_unfit_text_is_422_naming_the_field_everywhere(open_client: TestClient, kind: str) -> None:
    bad = BAD_TEXTS[kind]
    created = open_client.post("/credentials", json=CREDENTIAL).json()
    cases = [
        ("POST", "/map", {"text": bad}, "text"),
        ("POST", "/match", {"text": bad}, "text"),
        ("POST", "/postings", {**POSTING, "title": bad}, "title"),
        ("POST", "/postings", {**POSTING, "text": bad}, "text"),
        ("POST", "/postings", {**POSTING, "employer": bad}, "employer"),
        ("POST", "/credentials", {**CREDENTIAL, "title": bad}, "title"),
        ("POST", "/credentials", {**CREDENTIAL, "learning_outcomes": ["ok", bad]}, "learning_outcomes.1"),
        ("POST", "/credentials", {**CREDENTIAL, "description": bad}, "description"),
        ("PATCH", f"/credentials/{created['id']}", {"issuer": bad}, "issuer"),
        ("POST", f"/credentials/{created['id']}/tags", {"competency_iri": "http://x.example/a", "decided_by": bad},
         "decided_by"),
        ("POST", f"/credentials/{created['id']}/tags", {"competency_iri": "http://x.example/a", "decided_by": "me",
                                                       "note": bad}, "note"),
        ("POST", "/analytics/demand", {"postings": [{"text": bad}]}, "postings.0.text"),
        ("POST", "/analytics/demand", {"postings": [{"text": "ok", "title": bad}]}, "postings.0.title"),
    ]
    for method, path, body, field in cases:
        answer = open_client.request(method, path, content=_json_bytes(body), headers={"content-type": "application/json"})
        assert answer.status_code == 422, (path, field, answer.text)
        assert answer.json()["error"]["field"] == field, (path, answer.text)
    assert open_client.get("/search", params={"q": "SQL\x00"}).status_code == 422
    assert open_client.get("/credentials", params={"search": "a\x00"}).json()["error"]["field"] == "search"


def test_over_long_text_is_413_naming_the_field_everywhere(open_client: TestClient) -> None:
    created = open_client.post("/credentials", json=CREDENTIAL).json()
    cases = [
        ("POST", "/map", {"text": "x" * 100_001}, "text"),
        ("POST", "/match", {"text": "x" * 100_001}, "text"),
        ("POST", "/postings", {**POSTING, "text": "x" * 100_001}, "text"),
        ("POST", "/postings", {**POSTING, "title": "x" * 301}, "title"),
        ("POST", "/credentials", {**CREDENTIAL, "learning_outcomes": ["x" * 2001]}, "learning_outcomes.0"),
        ("PATCH", f"/credentials/{created['id']}", {"title": "x" * 301}, "title"),
        ("POST", "/analytics/demand", {"postings": [{"text": "x" * 100_001}]}, "postings.0.text"),
    ]
    for method, path, body, field in cases:
        answer = open_client.request(method, path, json=body)
        assert answer.status_code == 413, (path, answer.text)
        assert answer.json()["error"]["type"] == "payload_too_large" and answer.json()["error"]["field"] == field
    assert open_client.get("/search", params={"q": "x" * 1001}).status_code == 413


def test_contract_details(open_client: TestClient) -> None:
    bad_json = open_client.post("/map", content=b'{"text": "SQL", "top_k": ', headers={"content-type": "application/json"})
    assert bad_json.status_code == 422 and bad_json.json()["error"]["field"] == "body"
    assert open_client.post("/map", json={"text": "SQL", "top_k": "5"}).json()["error"]["field"] == "top_k"
    assert open_client.post("/map", json={"text": "SQL", "top_k": 5.5}).json()["error"]["field"] == "top_k"
    assert open_client.post("/map", json={"text": "SQL", "top_k": 5.0}).status_code == 404  # an integer to JSON Schema
    far = open_client.post("/postings", json={**POSTING, "posted_on": "9999-12-31"})
    assert far.status_code == 422 and far.json()["error"]["field"] == "posted_on"
    assert open_client.post("/postings", json={**POSTING, "posted_on": "2026-01-31"}).status_code == 201
    month = open_client.post("/analytics/demand", json={"postings": [{"text": "SQL", "posted_on": "2026-02-30"}]})
    assert month.status_code == 422 and month.json()["error"]["field"] == "postings.0.posted_on"
    doc = open_client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert schemas["MatchRequest"]["oneOf"] == [{"required": ["text"]}, {"required": ["posting_id"]}]
    assert len(schemas["DemandRequest"]["oneOf"]) == 3
    assert schemas["MapRequest"]["properties"]["text"]["maxLength"] == 100_000
    assert "pattern" in schemas["MapRequest"]["properties"]["text"]
    assert schemas["PostingCreate"]["properties"]["title"]["pattern"].startswith("^")
    assert "413" in doc["paths"]["/map"]["post"]["responses"] and "403" in doc["paths"]["/map"]["post"]["responses"]
    assert "HTTPValidationError" not in schemas


def forge(token: str) -> str:
    """The token with its last character changed (always to another one)."""
    return token[:-1] + ("1" if token.endswith("0") else "0")
