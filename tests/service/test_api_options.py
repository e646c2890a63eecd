"""Service options and guards that need no model: API key, CORS, body limit, the serve command.

These run the application in process on a service that serves no framework (nothing to load);
the flows against a real server process are in test_api.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from competencymap._common.config import load_settings
from competencymap._common.errors import CompetencyMapError
from competencymap.cli import main
from competencymap.service.app import ServiceOptions, create_app
from competencymap.service.security import is_loopback

ORIGIN = "https://designer.example"
CREDENTIAL = {
    "title": "Guarded credential", "issuer": "Example College", "description": "d",
    "learning_outcomes": ["Write SQL queries"], "duration_hours": 3, "delivery_mode": "online",
    "credit": "credit", "assessment_type": "quiz", "stackability": "", "language": "en",
}


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    options = ServiceOptions(
        frameworks=(), api_key="s3cret", cors_origins=(ORIGIN,), max_body_bytes=4096,
        database_url=f"sqlite:///{tmp_path / 'catalog.sqlite'}", seed_catalog=True,
    )
    app = create_app(load_settings(home=tmp_path), options=options)
    with TestClient(app, base_url="http://localhost") as test_client:
        yield test_client


def test_api_key_guards_writes_only(client: TestClient) -> None:
    assert client.get("/health").json()["api_key_required"] is True
    refused = client.post("/credentials", json=CREDENTIAL)
    assert refused.status_code == 401 and refused.json()["error"]["type"] == "unauthorized"
    assert refused.headers["www-authenticate"] == "ApiKey"
    assert client.post("/credentials", json=CREDENTIAL, headers={"X-API-Key": "wrong"}).status_code == 401
    created = client.post("/credentials", json=CREDENTIAL, headers={"X-API-Key": "s3cret"})
    assert created.status_code == 201
    cid = created.json()["id"]
    assert client.get(f"/credentials/{cid}").status_code == 200  # reads need no key
    assert client.delete(f"/credentials/{cid}").status_code == 401
    assert client.delete(f"/credentials/{cid}", headers={"X-API-Key": "s3cret"}).status_code == 204
    assert client.post("/postings", json={"title": "t", "employer": "e", "text": "x"}).status_code == 401


def test_cors_for_configured_origins(client: TestClient) -> None:
    preflight = client.options("/credentials", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "X-API-Key"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "x-api-key" in preflight.headers["access-control-allow-headers"].lower()
    other = client.get("/health", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in other.headers


def test_body_limit_and_unserved_framework(client: TestClient) -> None:
    big = client.post("/map", content=b"{" + b" " * 5000 + b"}", headers={"content-type": "application/json"})
    assert big.status_code == 413 and "4,096 bytes" in big.json()["error"]["message"]
    unserved = client.post("/map", json={"text": "SQL"}, headers={"X-API-Key": "s3cret"})
    assert unserved.status_code == 404 and "serves no framework" in unserved.json()["error"]["message"]


def test_seeded_once(client: TestClient) -> None:
    assert client.get("/credentials", params={"limit": 1}).json()["total"] == 12


def test_options_from_environment() -> None:
    options = ServiceOptions.from_env({
        "COMPETENCYMAP_FRAMEWORKS": "esco, sfs,esco", "COMPETENCYMAP_API_KEY": " k ",
        "COMPETENCYMAP_CORS_ORIGINS": "https://a.example,https://b.example", "COMPETENCYMAP_BUILD_INDEX": "yes",
        "COMPETENCYMAP_MAX_UPLOAD_BYTES": "2048",
    })
    assert options.frameworks == ("esco", "sfs") and options.api_key == "k" and options.build_index is True
    assert options.cors_origins == ("https://a.example", "https://b.example") and options.max_body_bytes == 2048
    hosts = ServiceOptions.from_env({"COMPETENCYMAP_ALLOWED_HOSTS": "competencymap.service.example.org, *.example.net",
                                     "COMPETENCYMAP_TRUSTED_ORIGINS": "https://page.example", "COMPETENCYMAP_CSRF_SECRET": "x"})
    assert hosts.allowed_hosts == ("competencymap.service.example.org", "*.example.net") and hosts.trusted_origins == ("https://page.example",)
    assert hosts.csrf_secret == "x"
    assert ServiceOptions.from_env({}).api_key is None and ServiceOptions.from_env({}).cors_origins == ()
    with pytest.raises(CompetencyMapError, match="COMPETENCYMAP_SEED_CATALOG"):
        ServiceOptions.from_env({"COMPETENCYMAP_SEED_CATALOG": "maybe"})
    with pytest.raises(CompetencyMapError, match="positive"):
        ServiceOptions.from_env({"COMPETENCYMAP_MAX_UPLOAD_BYTES": "-1"})


def test_serve_refuses_open_writes_off_loopback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("COMPETENCYMAP_API_KEY", raising=False)
    monkeypatch.setenv("COMPETENCYMAP_HOME", str(tmp_path))
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--framework", "sfs"])
    assert result.exit_code == 1 and "without an API key" in result.output
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")
