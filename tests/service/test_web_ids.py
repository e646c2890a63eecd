"""Ids in the web page's addresses and forms are checked as the API checks them (1 to 2**63 - 1):
an id out of range or not a number answers the page's readable 404 page, never a 500 (issue 20, item 1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from competencymap._common.config import load_settings
from competencymap.service.app import ServiceOptions, create_app
from competencymap.service.models import MAX_ID, parse_id

ORIGIN = "http://localhost:8000"
BAD_IDS = ("18446744073709551616", str(MAX_ID + 1), "0", "-1", "abc", "1.5", "٣")


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    options = ServiceOptions(frameworks=(), database_url=f"sqlite:///{tmp_path / 'catalog.sqlite'}", seed_catalog=True)
    with TestClient(create_app(load_settings(home=tmp_path), options=options), base_url=ORIGIN,
                    raise_server_exceptions=False) as c:
        c.cookies.set("competencymap_reviewer", "Dana")
        yield c


def _routes(bad: str) -> list[tuple[str, str, dict[str, str]]]:
    """Every web route that takes an id, with `bad` in each id place in turn (1 is a seeded credential)."""
    return [
        ("GET", f"/designer/{bad}", {}),
        ("GET", f"/designer/{bad}/edit", {}),
        ("GET", f"/designer/{bad}/search?q=sql", {}),
        ("POST", f"/designer/{bad}/suggest", {}),
        ("POST", f"/designer/{bad}/edit", {"title": "x"}),
        ("POST", f"/designer/{bad}/tags", {"iri": "x"}),
        ("POST", f"/designer/{bad}/tags/1", {"state": "accepted"}),
        ("POST", f"/designer/1/tags/{bad}", {"state": "accepted"}),
        ("GET", f"/researcher/jobs/{bad}", {}),
        ("GET", f"/catalog/{bad}", {}),
    ]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_every_id_route_answers_a_readable_404(client: TestClient, bad: str) -> None:
    for method, path, form in _routes(bad):
        answer = client.request(method, path, data=form or None, headers={"Origin": ORIGIN})
        assert answer.status_code == 404, (method, path, answer.status_code, answer.text[:300])
        assert answer.headers["content-type"].startswith("text/html"), (method, path)


@pytest.mark.parametrize("bad", BAD_IDS)
def test_ids_in_forms_are_checked_too(client: TestClient, bad: str) -> None:
    back = client.post("/reviewer", data={"reviewer": "", "next": f"/designer/{bad}"}, headers={"Origin": ORIGIN})
    assert back.status_code == 422 and back.headers["content-type"].startswith("text/html"), back.text[:300]
    tag = client.post("/designer/1/tags", data={"iri": "x", "outcome_id": bad}, headers={"Origin": ORIGIN})
    assert tag.status_code == 422 and tag.headers["content-type"].startswith("text/html"), tag.text[:300]


def test_parse_id_is_the_api_rule() -> None:
    assert parse_id("1") == 1 and parse_id(str(MAX_ID)) == MAX_ID
    for bad in (*BAD_IDS, "", " 1", "+1", "01x"):
        assert parse_id(bad) is None, bad
