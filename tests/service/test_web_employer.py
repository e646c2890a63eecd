"""The employer's pages on a fresh install (the sample catalog seeded with its reviewed tags, the
ESCO slice 'mini' and Skills for Success, the bundled model): a sample posting is covered, only
credentials that cover something are listed as covering, credentials link to their read-only
page, and the needs no credential covers download as CSV."""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from competencymap._common.config import load_settings
from competencymap.catalog import read_catalog_postings
from competencymap.service.app import ServiceOptions, create_app
from competencymap.workflows.employer_gaps import COLUMNS

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "http://localhost:8000"
POSTING = next(p for p in read_catalog_postings(ROOT / "data" / "postings" / "sample_postings.jsonl")
               if p.title == "Junior Data Analyst")

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def client(built_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("employer")
    shutil.copytree(built_home, folder / "home")
    options = ServiceOptions(frameworks=("mini", "sfs"), database_url=f"sqlite:///{folder / 'catalog.sqlite'}",
                             seed_catalog=True)
    with TestClient(create_app(load_settings(home=folder / "home"), options=options), base_url=ORIGIN) as c:
        yield c


# The sample posting with a duty no sample credential teaches, so the catalog leaves a gap.
WITH_GAP = POSTING.text.rstrip() + "\n- Prepare bread products for the staff canteen every morning\n"


def _match(client: TestClient, text: str) -> str:
    answer = client.post("/employer", data={"posting": text, "title": POSTING.title}, headers={"Origin": ORIGIN})
    assert answer.status_code == 200, answer.text[:500]
    return answer.text


@pytest.fixture(scope="module")
def matched(client: TestClient) -> str:
    return _match(client, POSTING.text)


def _covering_shares(page: str) -> list[str]:
    rows = re.findall(r'<tr data-testid="covering-credential"><td><a href="([^"]+)">[^<]*</a></td><td>([^<]*)</td>', page)
    assert rows, "the page lists the credentials that cover some needs"
    assert all(href.startswith("/catalog/") for href, _ in rows)
    return [share for _, share in rows]


def test_a_sample_posting_is_covered_on_a_fresh_install(matched: str) -> None:
    assert 'data-testid="covered-need"' in matched
    covered = re.findall(r'data-testid="covered-need" data-iri="([^"]+)"', matched)
    assert "http://data.europa.eu/esco/skill/598de5b0-5b58-4ea7-8058-a4bc4d18c742" in covered  # SQL
    assert ">Data Analytics with Python</a>" in matched


def test_no_credential_is_listed_as_covering_zero_percent(matched: str) -> None:
    shares = _covering_shares(matched)
    assert all(share != "0%" for share in shares), shares
    listed = re.search(r"Credentials that cover some needs \((\d+)\)", matched)
    assert listed is not None and int(listed.group(1)) == len(shares)


def test_credentials_link_to_the_read_only_page_not_the_designers(matched: str) -> None:
    assert "/designer/" not in matched.split('id="match-result"', 1)[1]
    assert re.search(r'href="/catalog/\d+"', matched)


def test_the_read_only_credential_page(client: TestClient) -> None:
    tags = client.get("/credentials/1/tags", params={"state": "accepted"}).json()["tags"]
    assert tags and {t["decided_by"] for t in tags} == {"sample catalog reviewer"}
    page = client.get("/catalog/1")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = html.unescape(page.text)
    credential = client.get("/credentials/1").json()
    assert credential["title"] in text and credential["issuer"] in text
    assert all(o["text"] in text for o in credential["learning_outcomes"])
    shown = re.findall(r'data-testid="accepted-tag" data-iri="([^"]+)"', page.text)
    assert sorted(shown) == sorted(t["competency_iri"] for t in tags)
    assert all(t["label"] in text for t in tags)
    engine = client.app.state.service.engine  # type: ignore[attr-defined]
    sql = engine.framework("mini").concept("http://data.europa.eu/esco/skill/598de5b0-5b58-4ea7-8058-a4bc4d18c742")
    assert " ".join(sql.description.split())[:120] in text  # the competency's description, from the framework
    for control in ("accept-button", "reject-button", "<form method=\"post\"", "/designer/1"):
        assert control not in page.text, control
    assert client.get("/catalog/999").status_code == 404


def _gaps_on_page(page: str) -> list[str]:
    return re.findall(r'data-testid="uncovered-need" data-iri="([^"]+)"', page)


def test_the_gaps_download_as_csv(client: TestClient) -> None:
    page = _match(client, WITH_GAP)
    assert 'action="/employer/gaps.csv"' in page and "No credential covers this" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    sent = re.search(r'<input type="hidden" name="posting" value="([^"]*)"', page).group(1)  # type: ignore[union-attr]
    assert html.unescape(sent) == WITH_GAP  # the result's form sends the posting that was matched
    answer = client.post("/employer/gaps.csv", data={"posting": WITH_GAP, "title": POSTING.title, "csrf_token": token})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert tuple(rows[0]) == COLUMNS
    assert [r[1] for r in rows[1:]] == _gaps_on_page(page) != []
    by_label = {r[0]: r for r in rows[1:]}
    assert by_label["prepare bread products"][5] == "'- Prepare bread products for the staff canteen every morning"
    lines = [line.strip() for line in WITH_GAP.splitlines()]
    for label, _, framework, score, number, line in rows[1:]:
        assert label and framework in ("mini", "sfs") and float(score) > 0
        if number:
            assert lines[int(number) - 1] == line.removeprefix("'")  # the posting line, formula-escaped


def test_the_gaps_download_refuses_bad_input_readably(client: TestClient) -> None:
    empty = client.post("/employer/gaps.csv", data={"posting": "  "}, headers={"Origin": ORIGIN})
    assert empty.status_code == 422 and empty.headers["content-type"].startswith("text/html")
    assert "Paste the posting&#39;s text or upload a file." in empty.text
    foreign = client.post("/employer/gaps.csv", data={"posting": POSTING.text}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403


LINES_POSTING = """Junior Data Analyst

Northwind Analytics is a consulting firm serving retailers across Ontario.

What you'll do:
- Write SQL queries to analyse sales data
- Water the office plants on Fridays

Experience with Python is an asset.
"""


def _line_rows(page: str) -> list[tuple[str, str, str, str, str]]:
    """(role, outcome, line, role shown, outcome shown) of each row of 'What became of each line'."""
    rows = re.findall(r'<tr data-testid="posting-line" data-role="([^"]+)" data-outcome="([^"]+)"[^>]*>\s*'
                      r'<td[^>]*>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>', page, re.S)
    return [(role, outcome, html.unescape(text), shown, html.unescape(re.sub(r"<[^>]+>", "", said)).strip())
            for role, outcome, text, shown, said in rows]


def test_the_page_says_what_became_of_each_line(client: TestClient) -> None:
    page = _match(client, LINES_POSTING)
    assert "What became of each line (6)" in page
    rows = _line_rows(page)
    assert [r[2] for r in rows] == [line.strip() for line in LINES_POSTING.splitlines() if line.strip()]
    title, company, heading, duty, chore, asset = rows
    assert title[:2] == ("title", "dropped") and title[4] == "dropped: title"
    assert company[:2] == ("company", "dropped") and company[4] == "dropped: company"
    assert heading[:2] == ("heading", "dropped")
    assert duty[0] == "duty" and duty[1] in ("mapped", "no_match")
    assert duty[4].startswith("Need:" if duty[1] == "mapped" else "no confident match; best candidates:")
    assert len(duty[4].split(":", 1)[1].strip()) > 0, "the duty's needs (or candidates) are named"
    assert chore[:2] == ("duty", "no_match")  # nothing of the slice fits: its best candidates are named
    assert chore[4].startswith("no confident match; best candidates:") and len(chore[4].split(";")) >= 1 + 3
    assert asset[:2] == ("asset", "asset") and asset[4].startswith("asset (optional need)")
    muted = re.findall(r'data-outcome="([^"]+)" class="muted"', page)
    assert muted == ["dropped", "dropped", "dropped"]


def test_the_lines_are_named_in_french(client: TestClient) -> None:
    answer = client.post("/employer?lang=fr", data={"posting": LINES_POSTING, "title": POSTING.title},
                         headers={"Origin": ORIGIN})
    assert answer.status_code == 200, answer.text[:500]
    rows = _line_rows(answer.text)
    assert (rows[1][3], rows[1][4]) == ("entreprise", "écartée : entreprise")
    assert "Ce que devient chaque ligne (6)" in answer.text
    assert rows[4][4].startswith("aucune correspondance sûre; meilleures candidates :")
