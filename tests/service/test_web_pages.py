"""The web page in process (no browser, no model): every text in the messages file, no inline
script or style, the service's security on the pages (CSP, CSRF, Host, the API key), the offline
documentation pages, readable errors beside their fields, and the small helpers."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from competencymap._common.config import load_settings
from competencymap._common.errors import CompetencyMapError
from competencymap.service.app import ServiceOptions, create_app
from competencymap.service.web.designer import read_outcomes_csv
from competencymap.service.web.messages import FOLDER, Messages, messages_for
from competencymap.service.web.review import highlight

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "competencymap" / "service" / "web"
ORIGIN = "http://localhost:8000"
KEY = "s3cret"
FORM = {"title": "Web credential", "issuer": "Example College", "description": "About data.",
        "learning_outcomes": "Write SQL queries\nExplain results to managers", "duration_hours": "12",
        "delivery_mode": "online", "credit": "credit", "assessment_type": "project", "url": "", "language": "en"}
PAGES = ["/", "/designer", "/designer/new", "/designer/1", "/designer/1/edit", "/employer", "/catalog/1", "/researcher",
         "/browse", "/key"]


def _client(tmp_path: Path, **options: Any) -> TestClient:
    opts = ServiceOptions(frameworks=(), database_url=f"sqlite:///{tmp_path / 'catalog.sqlite'}", seed_catalog=True,
                          **options)
    return TestClient(create_app(load_settings(home=tmp_path), options=opts), base_url=ORIGIN)


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    with _client(tmp_path) as c:
        yield c


@pytest.fixture()
def keyed(tmp_path: Path) -> Iterator[TestClient]:
    with _client(tmp_path, api_key=KEY) as c:
        yield c


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page's forms carry the form token"
    return found.group(1)


def _errors(page: str) -> dict[str, str]:
    found = re.findall(r'class="field-error" id="error-([\w-]+)"[^>]*>([^<]*)<', page)
    return {name: html.unescape(text) for name, text in found}


# -- texts ----------------------------------------------------------------------------------------


def _keys_used() -> set[str]:
    pattern = re.compile(r"""\bt\(\s*["']([a-z][a-z_]*(?:\.[A-Za-z_-]+)+)["']""")
    found: set[str] = set()
    for path in [*WEB.glob("templates/**/*.html"), *WEB.glob("*.py")]:
        found |= set(pattern.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_text_shown_is_in_the_english_messages() -> None:
    english = json.loads((FOLDER / "en.json").read_text(encoding="utf-8"))
    used = _keys_used()
    assert len(used) > 150
    assert sorted(used - set(english)) == []
    for prefix, names in {"tag.state.": ("suggested", "accepted", "rejected"), "relation.": ("same", "broader",
                          "narrower", "sibling", "crosswalk"), "job.state.": ("queued", "running", "complete",
                          "failed", "interrupted"), "export.": ("openbadges", "openbadges-credential", "ctdl", "csv")}.items():
        assert all(prefix + name in english for name in names)  # keys the templates build from values
    t = Messages("en")
    assert t("error.too_long", limit=300, given=400) == "Too long: at most 300 characters (400 given)."
    assert messages_for("fr-CA,fr;q=0.9,en;q=0.5").language == "fr"
    assert messages_for("de-DE,de;q=0.9").language == "en"  # no German file: English
    with pytest.raises(KeyError):
        t("no.such.key")


def test_templates_have_no_inline_script_or_style() -> None:
    for path in WEB.glob("templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert not re.search(r"\sstyle=|<style|\son[a-z]+=", text), path


# -- pages and security ---------------------------------------------------------------------------


def test_pages_answer_under_the_strict_policy(client: TestClient) -> None:
    for path in PAGES:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text[:500])
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "style-src 'self';" in csp and "'unsafe-inline'" not in csp
        assert answer.headers["x-frame-options"] == "DENY" and answer.headers["cache-control"] == "no-store"
        assert "<html lang=\"en\">" in answer.text and "/static/app.js" in answer.text
    for asset in ("/static/app.css", "/static/app.js", "/static/favicon.svg"):
        assert client.get(asset).status_code == 200
    assert client.get("/openapi.json").json()["paths"].keys().isdisjoint({"/designer", "/employer", "/"})


def test_documentation_pages_use_only_local_assets(client: TestClient) -> None:
    for path, asset in (("/docs", "/static/vendor/swagger-ui/swagger-ui-bundle.js"),
                        ("/redoc", "/static/vendor/redoc/redoc.standalone.js")):
        answer = client.get(path)
        assert answer.status_code == 200 and asset in answer.text
        assert not re.search(r"https?://", answer.text.replace("http-equiv", "")), path  # no CDN, no fonts
        csp = answer.headers["content-security-policy"]
        assert "https:" not in csp and "frame-ancestors 'none'" in csp
        assert client.get(asset).status_code == 200
    assert "'sha256-" in client.get("/docs").headers["content-security-policy"]  # its one inline start-up script
    for licence in ("swagger-ui/LICENSE", "redoc/LICENSE"):
        assert client.get(f"/static/vendor/{licence}").status_code == 200


def test_a_credential_is_created_and_bad_input_stays_in_the_form(client: TestClient) -> None:
    page = client.get("/designer/new").text
    bad = {**FORM, "title": "", "learning_outcomes": "Write SQL queries\n" + "x" * 2100, "duration_hours": "soon",
           "csrf_token": _token(page)}
    answer = client.post("/designer/new", data=bad, headers={"Origin": ORIGIN})
    assert answer.status_code == 422
    errors = _errors(answer.text)
    assert errors["title"] == "This field is required."
    assert errors["learning_outcomes"] == "Line 2: Too long: at most 2000 characters (2100 given)."
    assert errors["duration_hours"].startswith("Enter a number")
    assert "x" * 2100 in answer.text and 'aria-invalid="true"' in answer.text  # nothing lost, marked invalid

    empty = client.post("/designer/new", data={**FORM, "learning_outcomes": "  \n"}, headers={"Origin": ORIGIN})
    assert _errors(empty.text)["learning_outcomes"].startswith("List at least one learning outcome")

    files = {"outcomes_file": ("outcomes.csv", b"outcome\nBake bread products\n", "text/csv")}
    made = client.post("/designer/new", data=FORM, files=files, headers={"Origin": ORIGIN}, follow_redirects=False)
    assert made.status_code == 303
    credential_id = int(made.headers["location"].rsplit("/", 1)[1])
    stored = client.get(f"/credentials/{credential_id}").json()
    assert [o["text"] for o in stored["learning_outcomes"]] == ["Write SQL queries", "Explain results to managers",
                                                                "Bake bread products"]
    assert stored["issuer"] == "Example College" and stored["duration_hours"] == 12


def test_decisions_need_a_reviewer_and_keep_who(client: TestClient) -> None:
    tag = client.post("/credentials/1/tags", json={"competency_iri": "https://w3id.org/competencymap/sfs/writing",
                                                   "outcome_id": 1, "decided_by": "api"})
    assert tag.status_code in (404, 422)  # no framework served here: a hand-made tag needs one
    answer = client.post("/reviewer", data={"reviewer": "", "next": "/designer/1"}, headers={"Origin": ORIGIN})
    assert answer.status_code == 422 and "Enter your name first" in answer.text
    answer = client.post("/reviewer", data={"reviewer": "Dana  Designer", "next": "https://evil.example/"},
                         headers={"Origin": ORIGIN}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/designer"  # never off the site
    assert "Reviewing as Dana Designer." in client.get("/designer/1").text
    suggest = client.post("/designer/1/suggest", headers={"Origin": ORIGIN, "X-Fragment": "1"})
    assert suggest.status_code == 422 and "could not be mapped" in suggest.text and suggest.headers["x-fragment"] == "1"


def test_a_cross_site_form_is_refused_and_the_form_token_passes(client: TestClient) -> None:
    evil = client.post("/designer/new", data=FORM, headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403 and evil.json()["error"]["type"] == "csrf_failed"
    token = _token(client.get("/designer/new").text)
    with_token = client.post("/designer/new", data={**FORM, "csrf_token": token},
                             headers={"Origin": "http://evil.example"}, follow_redirects=False)
    assert with_token.status_code == 303
    assert client.get("/", headers={"Host": "rebind.example"}).status_code == 400


def test_with_an_api_key_the_page_asks_for_it(keyed: TestClient) -> None:
    before = keyed.get("/credentials").json()["total"]
    refused = keyed.post("/designer/new", data=FORM, headers={"Origin": ORIGIN})
    assert refused.status_code == 401 and "needs its API key" in refused.text
    assert keyed.post("/employer", data={"posting": "Write SQL"}, headers={"Origin": ORIGIN}).status_code == 401
    assert keyed.post("/employer/gaps.csv", data={"posting": "Write SQL"}, headers={"Origin": ORIGIN}).status_code == 401
    assert "Enter the API key" in keyed.get("/designer").text
    wrong = keyed.post("/key", data={"api_key": "guess", "next": "/designer"}, headers={"Origin": ORIGIN})
    assert wrong.status_code == 401 and _errors(wrong.text)["api_key"] == "This is not the service's API key."
    right = keyed.post("/key", data={"api_key": KEY, "next": "/designer"}, headers={"Origin": ORIGIN},
                       follow_redirects=False)
    assert right.status_code == 303 and "httponly" in right.headers["set-cookie"].lower()
    assert "samesite=strict" in right.headers["set-cookie"].lower()
    made = keyed.post("/designer/new", data=FORM, headers={"Origin": ORIGIN}, follow_redirects=False)
    assert made.status_code == 303 and keyed.get("/credentials").json()["total"] == before + 1
    assert keyed.post("/credentials", json={}).status_code == 401  # the API itself still wants the header


def test_unknown_things_are_readable_404_pages(client: TestClient) -> None:
    for path in ("/designer/999", "/researcher/jobs/" + "0" * 32, "/researcher/jobs/nope", "/browse/competency?iri=x"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html"), path
    upload = client.post("/researcher", files={"postings_file": ("notes.txt", b"x")}, headers={"Origin": ORIGIN})
    assert upload.status_code == 422 and "not a postings file" in _errors(upload.text)["postings_file"]
    none = client.post("/researcher", data={"by_month": "on"}, headers={"Origin": ORIGIN})
    assert _errors(none.text)["postings_file"] == "Choose a postings file first." and "checked" in none.text
    posting = client.post("/employer", files={"posting_file": ("posting.pdf", b"%PDF")}, headers={"Origin": ORIGIN})
    assert "not a posting" in _errors(posting.text)["posting_file"]
    empty = client.post("/employer", data={"posting": " "}, headers={"Origin": ORIGIN})
    assert _errors(empty.text)["posting"] == "Paste the posting's text or upload a file."


# -- the designer's review -----------------------------------------------------------------------


def _suggested(client: TestClient, credential_id: int, outcome_id: int, *confident: bool) -> list[int]:
    catalog = client.app.state.service.catalog  # type: ignore[attr-defined]
    tags = [{"competency_iri": f"https://example.org/skill/{outcome_id}-{n}", "framework": "esco",
             "label": f"skill {n}", "score": 1.0 - n / 10, "evidence": {"confident": sure}}
            for n, sure in enumerate(confident)]
    return [t.id for t in catalog.add_suggested_tags(credential_id, outcome_id, tags)]


def test_accept_every_confident_suggestion_with_one_press(client: TestClient) -> None:
    credential = client.get("/credentials/1").json()
    outcomes = [o["id"] for o in credential["learning_outcomes"]]
    reviewed = client.get("/credentials/1/tags").json()["counts"]["accepted"]  # the sample's reviewed tags
    _suggested(client, 1, outcomes[0], True, True, False)
    _suggested(client, 1, outcomes[1], True, False)
    page = client.get("/designer/1").text
    assert 'data-testid="accept-confident-button"' in page
    assert page.count('data-testid="below-cutoff"') == 2 and "1 more suggestions below the confidence cut-off" in page

    nobody = client.post("/designer/1/accept-confident", headers={"Origin": ORIGIN, "X-Fragment": "1"})
    assert nobody.status_code == 422 and "Enter your name first" in nobody.text
    client.post("/reviewer", data={"reviewer": "Dana", "next": "/designer/1"}, headers={"Origin": ORIGIN})
    done = client.post("/designer/1/accept-confident", headers={"Origin": ORIGIN}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/designer/1?accepted=3#review"
    after = client.get(done.headers["location"]).text
    assert "Accepted 3 confident suggestions." in after and 'data-testid="accept-confident-button"' not in after
    tags = client.get("/credentials/1/tags").json()
    assert tags["counts"] == {"suggested": 2, "accepted": reviewed + 3, "rejected": 0}
    assert sum(t["decided_by"] == "Dana" for t in tags["tags"] if t["state"] == "accepted") == 3
    again = client.post("/designer/1/accept-confident", headers={"Origin": ORIGIN, "X-Fragment": "1"})
    assert again.status_code == 200 and again.headers["x-fragment"] == "1"
    assert "No confident suggestion was left undecided" in again.text  # idempotent, and says so
    assert client.get("/credentials/1/tags").json()["counts"]["accepted"] == reviewed + 3


def test_saving_reworded_outcomes_says_what_their_tags_became(client: TestClient) -> None:
    credential = client.get("/credentials/1").json()
    texts = [o["text"] for o in credential["learning_outcomes"]]
    first, second = (o["id"] for o in credential["learning_outcomes"][:2])
    catalog = client.app.state.service.catalog  # type: ignore[attr-defined]
    reviewed = [sum(t.outcome_id == o for t in catalog.list_tags(1, state="accepted")) for o in (first, second)]
    kept, deleted = reviewed[0] + 2, reviewed[1] + 1  # the sample's reviewed tags and these
    for tag_id in _suggested(client, 1, first, True, False) + _suggested(client, 1, second, True):
        catalog.set_tag_state(tag_id, "accepted", "Dana")
    assert "keeps its accepted and rejected tags" in client.get("/designer/1/edit").text  # the rule, before saving

    form = {**FORM, "title": credential["title"], "learning_outcomes": "\n".join(["Reworded: " + texts[0], *texts[2:]]),
            "csrf_token": _token(client.get("/designer/1/edit").text)}
    saved = client.post("/designer/1/edit", data=form, headers={"Origin": ORIGIN}, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/designer/1?reworded=1&kept={kept}&removed=1&deleted_accepted={deleted}"
    page = client.get(saved.headers["location"]).text
    assert f"Reworded outcomes: 1. Their accepted and rejected tags were kept ({kept})" in html.unescape(page)
    assert f"Removed outcomes: 1. Their decided tags were deleted with them: {deleted} accepted, 0 rejected." in page
    assert 'class="notice warning"' in page
    assert page.count('data-testid="tag-carried"') == kept and html.escape(texts[0]) in page  # the earlier wording
    assert "edit-notice" not in client.get("/designer/1?reworded=x&kept=99999999").text  # only plain counts are shown


def test_the_tag_search_shows_each_concept_description(built_home: Path, tmp_path: Path) -> None:
    import shutil

    home = tmp_path / "home"
    shutil.copytree(built_home, home)
    opts = ServiceOptions(frameworks=("mini",), database_url=f"sqlite:///{tmp_path / 'catalog.sqlite'}",
                          seed_catalog=True)
    with TestClient(create_app(load_settings(home=home), options=opts), base_url=ORIGIN) as engine_client:
        found = engine_client.get("/designer/1/search", params={"q": "SQL", "framework": "mini"})
        assert found.status_code == 200 and 'data-testid="add-tag-button"' in found.text
        descriptions = re.findall(r'data-testid="result-description">([^<]+)<', found.text)
        assert descriptions and all(len(d) <= 200 for d in descriptions)
        engine = engine_client.app.state.service.engine  # type: ignore[attr-defined]
        first_iri = re.search(r'name="iri" value="([^"]+)"', found.text).group(1)  # type: ignore[union-attr]
        expected = " ".join(engine.framework("mini").concept(html.unescape(first_iri)).description.split())
        assert html.unescape(descriptions[0]).rstrip(".").rstrip("…")[:150] == expected[:150]


# -- helpers --------------------------------------------------------------------------------------


def test_outcomes_from_csv() -> None:
    assert read_outcomes_csv(b"\xef\xbb\xbfLearning_Outcome,x\nA,1\n\nB,2\n", "o.csv") == ["A", "B"]
    assert read_outcomes_csv(b"Write SQL\nBake bread\n", "o.csv") == ["Write SQL", "Bake bread"]  # no header
    for data, name, message in ((b"a", "o.txt", "not a CSV"), (b"\xff\xfe", "o.csv", "not UTF-8"), (b"\n", "o.csv", "no outcome")):
        with pytest.raises(CompetencyMapError, match=message) as caught:
            read_outcomes_csv(data, name)
        assert caught.value.path == name


def test_highlight_marks_the_spans() -> None:
    segments = highlight("Write SQL queries", [(6, 9)])
    assert [(s.text, s.marked) for s in segments] == [("Write ", False), ("SQL", True), (" queries", False)]
    assert [s.marked for s in highlight("abc", [(0, 1), (1, 3)])] == [True]
    assert highlight("", [(0, 4)]) == []
