"""The web page in a real browser: Debian's Chromium driven by Playwright against a real
`competencymap serve` process on a free loopback port (the ESCO slice 'mini' and Skills for
Success, a temporary catalog seeded with the sample credentials).

Each workflow runs end to end: a designer tags a credential (accepts one tag, rejects one, adds
one by search, exports, and the export validates against the Open Badges 3.0 schema); an employer
sees covered and uncovered needs, downloads the uncovered ones as CSV and opens a covering
credential's read-only page; a researcher uploads 50 postings and gets a table; browsing;
bad input beside its field with the typed text kept; keyboard use. axe-core runs on every page
(no serious or critical violation), no page breaks its Content-Security-Policy, and no request
leaves the service (the documentation pages included).

Screenshots go to a temporary folder, or to docs/screenshots/ with COMPETENCYMAP_SCREENSHOTS=1.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from live_server import Server

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.model, pytest.mark.server, pytest.mark.browser, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
SAMPLE_POSTINGS = ROOT / "data" / "postings" / "sample_postings.jsonl"
DESIGNER = "Dana Designer"
OUTCOMES = [
    "Write SQL queries against a PostgreSQL database",
    "Write Python scripts that clean data sets",
    "Communicate findings to a team in plain language",
]
POSTING = ("Junior data analyst\n\nResponsibilities\n- Write SQL queries against our PostgreSQL database\n"
           "- Prepare bread products for the staff café\n- Drive vehicles between our two stores\n"
           "- Use spreadsheets software for reports")  # needs the catalog lacks, whatever else it holds
UI_TIMEOUT = 60_000  # ms: a first mapping on a busy 2-core machine


if not Path(CHROMIUM).is_file():
    pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (make test does it)", allow_module_level=True)


# -- the server --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(built_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("web")
    home = folder / "home"
    shutil.copytree(built_home, home)
    running = Server(home, folder, env={"COMPETENCYMAP_JOB_PARTITION_SIZE": "10",  # a progress bar with steps
                                        "COMPETENCYMAP_JOB_WORKERS": "1"})
    running.start()
    yield running
    running.stop()


# -- the browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


class Watch:
    """What a page did that it must not: requests leaving the service, CSP violations, script errors."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.outside: list[str] = []
        self.console: list[str] = []

    def request(self, route: Any) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("data", "blob") or url.startswith(self.base):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def message(self, message: Any) -> None:
        # An answer of 4xx is logged too ("Failed to load resource"): the pages answer 422 on bad input.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.console.append(message.text)


@pytest.fixture()
def page(browser: Any, server: Server) -> Iterator[Any]:
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900},
                                  accept_downloads=True, locale="en-CA")
    context.add_init_script(path=str(AXE))  # injected by the browser, outside the page's CSP
    watch = Watch(server.url)
    context.route("**/*", watch.request)
    opened = context.new_page()
    opened.set_default_timeout(UI_TIMEOUT)
    opened.on("console", watch.message)
    opened.on("pageerror", lambda error: watch.console.append(f"page error: {error}"))
    opened.watch = watch
    yield opened
    context.close()
    assert watch.outside == [], f"requests left the service: {watch.outside}"


def shots_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("COMPETENCYMAP_SCREENSHOTS"):
        folder = ROOT / "docs" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.getbasetemp() / "screenshots"


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = shots_folder(tmp_path_factory)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def check_page(page: Any, shots: Path | None = None, name: str = "") -> None:
    """No serious or critical axe-core violation, no console error (CSP violations show there)."""
    found = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => ({id: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    assert found == [], f"axe-core on {page.url}: {json.dumps(found, indent=1)}"
    errors = [m for m in page.watch.console if "favicon" not in m]
    assert errors == [], f"console errors on {page.url}: {errors}"
    if shots is not None and name:
        page.screenshot(path=str(shots / f"{name}.png"))


def api(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=120)


# -- designer ------------------------------------------------------------------------------------


def _fill_credential(page: Any, title: str, outcomes: str) -> None:
    page.get_by_label("Title").fill(title)
    page.get_by_label("Provider").fill("Harbourfront Institute")
    page.get_by_label("Description").fill("Query and script business data, and explain the results.")
    page.get_by_test_id("outcomes-input").fill(outcomes)
    page.get_by_label("Duration in hours").fill("30")
    page.get_by_label("Assessment").fill("project")


def test_designer_tags_a_credential_and_exports_it(page: Any, server: Server, shots: Path, tmp_path: Path) -> None:
    from competencymap.exports.schemas import OPENBADGES_SCHEMA, schema_errors

    page.goto("/designer")
    check_page(page, shots, "designer")
    page.get_by_role("link", name="New micro-credential").click()
    _fill_credential(page, "Data Queries for Analysts", "\n".join(OUTCOMES))
    check_page(page, shots, "credential-form")
    page.get_by_test_id("save-credential").click()
    page.wait_for_url("**/designer/*")
    credential_id = int(page.url.rsplit("/", 1)[1].split("#")[0])

    page.get_by_test_id("reviewer-input").fill(DESIGNER)
    page.get_by_test_id("reviewer-button").click()
    page.get_by_text(f"Reviewing as {DESIGNER}.").wait_for()

    page.get_by_test_id("suggest-button").click()
    page.get_by_test_id("tag-row").first.wait_for(state="attached")
    assert page.get_by_test_id("tag-row").count() >= 6  # each outcome has tags in both frameworks
    folded = page.get_by_test_id("below-cutoff")
    if folded.count():  # suggestions below the cut-off wait, closed, under their outcome
        assert folded.first.get_attribute("open") is None and "below the confidence cut-off" in folded.first.inner_text()
    rows = page.locator('[data-testid="tag-row"]:visible')
    first = rows.nth(0)
    assert first.get_attribute("data-iri", timeout=1000).startswith("http")
    assert first.locator("mark").count() >= 1  # the outcome span that matched is highlighted
    assert "score" in first.inner_text() and ("confident" in first.inner_text() or "cut-off" in first.inner_text())
    check_page(page)

    accepted_iri = first.get_attribute("data-iri")
    page.evaluate("window.stillHere = true")  # the decisions below replace their row, not the page
    first.get_by_test_id("accept-button").click()
    page.locator(f'[data-testid="tag-row"][data-iri="{accepted_iri}"][data-state="accepted"]').first.wait_for()
    second = rows.nth(1)
    rejected_iri = second.get_attribute("data-iri")
    second.get_by_test_id("reject-button").click()
    page.locator(f'[data-testid="tag-row"][data-iri="{rejected_iri}"][data-state="rejected"]').first.wait_for()
    assert f"Accepted by {DESIGNER}" in page.locator('[data-state="accepted"]').first.inner_text()
    assert page.evaluate("window.stillHere") is True
    assert ", 1 accepted, 1 rejected." in page.locator("#tag-counts").inner_text()  # the counts follow
    page.locator("#review").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "credential-review.png"))
    with api(server) as client:
        left = [t["id"] for t in client.get(f"/credentials/{credential_id}/tags").json()["tags"]
                if t["state"] == "suggested" and t["evidence"].get("confident") is True]
    page.get_by_test_id("accept-confident-button").click()  # every confident one still undecided, one press
    said = page.get_by_test_id("accept-confident-result").inner_text()
    assert said == (f"Accepted {len(left)} confident suggestions." if left else
                    "No confident suggestion was left undecided: nothing changed.")
    assert page.get_by_test_id("accept-confident-button").count() == 0
    assert f", {1 + len(left)} accepted, 1 rejected." in page.locator("#tag-counts").inner_text()

    page.get_by_test_id("tag-search").press_sequentially("spreadsheet", delay=30)  # search as you type
    add = page.get_by_test_id("add-tag-button").first
    add.wait_for()
    assert page.get_by_test_id("result-description").count() >= 1  # each result says what the concept is
    add.click()
    page.wait_for_load_state()

    with api(server) as client:
        tags = client.get(f"/credentials/{credential_id}/tags").json()
    decided = {t["competency_iri"]: t for t in tags["tags"] if t["state"] != "suggested"}
    assert decided[accepted_iri]["state"] == "accepted" and decided[accepted_iri]["decided_by"] == DESIGNER
    assert decided[rejected_iri]["state"] == "rejected" and decided[rejected_iri]["decided_at"]
    assert any(t["source"] == "manual" and t["state"] == "accepted" for t in tags["tags"])  # the searched one

    with page.expect_download() as info:
        page.get_by_test_id("export-openbadges").click()
    path = tmp_path / "achievement.json"
    info.value.save_as(path)
    achievement = json.loads(path.read_text(encoding="utf-8"))
    assert schema_errors(achievement, OPENBADGES_SCHEMA, "Achievement") == []
    targets = {a["targetUrl"] for a in achievement["alignment"]}
    assert accepted_iri in targets and rejected_iri not in targets
    with page.expect_download() as info:
        page.get_by_test_id("export-openbadges-credential").click()
    info.value.save_as(tmp_path / "credential.json")
    assert schema_errors(json.loads((tmp_path / "credential.json").read_text()), OPENBADGES_SCHEMA) == []
    with page.expect_download() as info:
        page.get_by_test_id("export-csv").click()
    info.value.save_as(tmp_path / "tags.csv")
    assert rejected_iri in (tmp_path / "tags.csv").read_text(encoding="utf-8")


def test_designer_bad_input_stays_in_the_form(page: Any, tmp_path: Path) -> None:
    page.goto("/designer/new")
    _fill_credential(page, "Kept title", "")
    page.get_by_test_id("save-credential").click()
    outcomes = page.get_by_test_id("outcomes-input")
    assert outcomes.get_attribute("aria-invalid") == "true"
    assert "at least one learning outcome" in page.locator("#error-learning_outcomes").inner_text()
    assert page.get_by_label("Title").input_value() == "Kept title"
    assert outcomes.get_attribute("aria-describedby").split()[-1] == "error-learning_outcomes"
    check_page(page)

    long_outcome = "Write SQL " * 250
    outcomes.fill(f"Write SQL queries\n{long_outcome}")
    bad_file = tmp_path / "outcomes.txt"
    bad_file.write_text("Bake bread\n", encoding="utf-8")
    page.get_by_label("Or import learning outcomes from a CSV file").set_input_files(str(bad_file))
    page.get_by_test_id("save-credential").click()
    assert "Line 2: Too long" in page.locator("#error-learning_outcomes").inner_text()
    assert "not a CSV file" in page.locator("#error-outcomes_file").inner_text()
    assert outcomes.input_value().startswith("Write SQL queries\nWrite SQL")  # nothing lost
    check_page(page)

    csv_file = tmp_path / "outcomes.csv"
    csv_file.write_text("learning_outcome,hours\nBake bread products,10\nDrive delivery vehicles,5\n", encoding="utf-8")
    outcomes.fill("Write SQL queries")
    page.get_by_label("Or import learning outcomes from a CSV file").set_input_files(str(csv_file))
    page.get_by_test_id("save-credential").click()
    page.wait_for_url("**/designer/*")
    headings = page.locator("#review h3").all_inner_texts()
    assert [h.split(":", 1)[1].strip() for h in headings] == ["Write SQL queries", "Bake bread products",
                                                               "Drive delivery vehicles"]


def test_keyboard_only_review(page: Any, server: Server) -> None:
    with api(server) as client:
        created = client.post("/credentials", json={
            "title": "Keyboard credential", "issuer": "Example College", "description": "d",
            "learning_outcomes": ["Write SQL queries"], "duration_hours": 3, "delivery_mode": "online",
            "credit": "credit", "assessment_type": "quiz"}).json()
        assert client.post(f"/credentials/{created['id']}/suggest-tags", json={"top_k": 2}).status_code == 200
    page.goto(f"/designer/{created['id']}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")  # skip to the content
    page.get_by_test_id("reviewer-input").focus()
    page.keyboard.type(DESIGNER)
    page.keyboard.press("Enter")  # submits the reviewer form
    page.get_by_text(f"Reviewing as {DESIGNER}.").wait_for()
    for _ in range(60):  # Tab to the first accept button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.testid") == "accept-button":
            break
    else:
        pytest.fail("no accept button reached with Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")  # focus is visible
    page.keyboard.press("Enter")
    page.locator('[data-testid="tag-row"][data-state="accepted"]').first.wait_for()
    assert page.evaluate("document.activeElement.dataset.testid") == "accept-button"  # focus kept in place


def test_the_review_works_without_javascript(browser: Any, server: Server) -> None:
    with api(server) as client:
        created = client.post("/credentials", json={
            "title": "No script credential", "issuer": "Example College", "description": "d",
            "learning_outcomes": ["Drive delivery vehicles"], "duration_hours": 3, "delivery_mode": "online",
            "credit": "credit", "assessment_type": "quiz"}).json()
    context = browser.new_context(base_url=server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"/designer/{created['id']}")
        page.get_by_test_id("reviewer-input").fill(DESIGNER)
        page.get_by_test_id("reviewer-button").click()
        page.get_by_test_id("suggest-button").click()  # a plain form post, then the page again
        for summary in page.locator("details.below-cutoff > summary").all():
            summary.click()  # open the suggestions below the cut-off (a plain <details>: no script needed)
        row = page.locator('[data-testid="tag-row"]:visible').first
        iri = row.get_attribute("data-iri")
        row.get_by_test_id("reject-button").click()
        assert page.locator(f'[data-testid="tag-row"][data-iri="{iri}"]').first.get_attribute("data-state") == "rejected"
        page.get_by_test_id("tag-search").fill("bread")
        page.get_by_test_id("tag-search").press("Enter")  # the search form is a plain GET
        assert page.get_by_test_id("add-tag-button").count() >= 1
    finally:
        context.close()


def test_the_accessibility_check_finds_violations(page: Any) -> None:
    page.goto("/static/vendor/README.md")  # any page of the service, then a broken document in it
    page.set_content("<html><body><img src='/static/favicon.svg'><input type='text'></body></html>")
    with pytest.raises(AssertionError, match="image-alt|label"):
        check_page(page)


# -- employer ------------------------------------------------------------------------------------


def test_employer_sees_covered_and_uncovered_needs(page: Any, server: Server, shots: Path, tmp_path: Path) -> None:
    with api(server) as client:
        credential = client.post("/credentials", json={
            "title": "SQL for Analysts", "issuer": "Example College", "description": "Databases.",
            "learning_outcomes": ["Write SQL queries against a PostgreSQL database"], "duration_hours": 12,
            "delivery_mode": "online", "credit": "non_credit", "assessment_type": "project"}).json()
        tags = client.post(f"/credentials/{credential['id']}/suggest-tags",
                           json={"top_k": 3, "frameworks": ["mini"]}).json()["tags"]
        for tag in tags:
            client.patch(f"/credentials/{credential['id']}/tags/{tag['id']}",
                         json={"state": "accepted", "decided_by": DESIGNER})
    page.goto("/employer")
    check_page(page, shots, "employer")
    page.get_by_test_id("match-button").click()  # nothing pasted: a message beside the field
    assert "Paste the posting" in page.locator("#error-posting").inner_text()
    page.get_by_test_id("posting-input").fill(POSTING)
    page.get_by_test_id("match-button").click()
    page.get_by_test_id("covered-need").first.wait_for()
    page.wait_for_load_state()  # the whole answer parsed, not only its first rows
    assert page.get_by_test_id("uncovered-need").count() >= 1
    by_ours = page.get_by_test_id("covered-need").filter(has=page.get_by_role("link", name="SQL for Analysts"))
    assert by_ours.count() >= 1  # each covering credential links to its page
    assert page.get_by_test_id("stack").get_by_role("link").count() >= 1  # each links to its credential
    assert page.get_by_test_id("posting-input").input_value() == POSTING  # the text stays
    page.locator("#match-result").scroll_into_view_if_needed()
    check_page(page, shots, "employer-match")
    with page.expect_download() as info:  # the needs no credential covers, as CSV
        page.get_by_test_id("gaps-download").get_by_role("button").click()
    gaps = tmp_path / "gaps.csv"
    info.value.save_as(gaps)
    rows = list(csv.reader(io.StringIO(gaps.read_text(encoding="utf-8"))))
    assert rows[0] == ["label", "iri", "framework", "score", "line_number", "line"]
    assert [r[1] for r in rows[1:]] == [page.get_by_test_id("uncovered-need").nth(n).get_attribute("data-iri")
                                        for n in range(page.get_by_test_id("uncovered-need").count())]

    wrong = tmp_path / "posting.pdf"
    wrong.write_bytes(b"%PDF-1.4")
    page.get_by_label("Or upload the posting").set_input_files(str(wrong))
    page.get_by_test_id("match-button").click()
    assert "not a posting" in page.locator("#error-posting_file").inner_text()

    page.get_by_test_id("posting-input").fill(POSTING)  # a covering credential's link: its read-only page
    page.get_by_label("Or upload the posting").set_input_files([])
    page.get_by_test_id("match-button").click()
    by_ours = page.get_by_test_id("covered-need").filter(has=page.get_by_role("link", name="SQL for Analysts"))
    by_ours.first.get_by_role("link", name="SQL for Analysts").first.click()
    page.wait_for_url(f"**/catalog/{credential['id']}")
    assert page.get_by_test_id("accepted-tag").count() == len(tags)
    assert page.get_by_test_id("accept-button").count() == 0 and page.locator("form[method=post]").count() == 0
    check_page(page, shots, "catalog-credential")


# -- researcher ----------------------------------------------------------------------------------


PHONE = {"width": 390, "height": 844}


def overflow(page: Any) -> dict[str, Any]:
    """What sticks out at the page's width: the document's own width, and every chart label,
    value and title that is cut (wider than its box) or reaches past the viewport's edges."""
    return page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const cut = [];
            for (const el of document.querySelectorAll(
                    'figure.chart figcaption, details.chart-block > summary, .bar-label, .bar-value')) {
                if (!el.getClientRects().length) continue;  // in a closed block
                const box = el.getBoundingClientRect();
                if (el.scrollWidth > el.clientWidth + 1 || box.left < 0 || box.right > width + 1) {
                    cut.push(el.textContent.trim().slice(0, 80));
                }
            }
            return {scroll: document.documentElement.scrollWidth, width, cut,
                    labels: document.querySelectorAll('figure.chart .bar-label').length};
        }"""
    )


def column(page: Any, heading: str) -> list[str]:
    """The texts of the demand table's column under `heading`."""
    table = page.get_by_test_id("demand-table")
    index = table.locator("thead th").all_inner_texts().index(heading) + 1
    return table.locator(f"tbody tr td:nth-child({index})").all_inner_texts()


def test_researcher_uploads_50_postings_and_gets_a_table(page: Any, shots: Path, tmp_path: Path) -> None:
    samples = [json.loads(line) for line in SAMPLE_POSTINGS.read_text(encoding="utf-8").splitlines() if line.strip()]
    postings = [{**samples[i % len(samples)], "id": f"p{i}", "region": ("east", "west")[i % 2]} for i in range(50)]
    path = tmp_path / "postings.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in postings) + '{"title": "no text"}\n', encoding="utf-8")
    wrong = tmp_path / "postings.txt"
    wrong.write_text("not postings", encoding="utf-8")

    page.goto("/researcher")
    check_page(page, shots, "researcher")
    page.get_by_test_id("demand-upload").set_input_files(str(wrong))
    page.get_by_test_id("demand-start").click()
    assert "not a postings file" in page.locator("#error-postings_file").inner_text()
    check_page(page)

    page.get_by_test_id("demand-upload").set_input_files(str(path))
    page.get_by_test_id("demand-group-by").fill("region")
    page.get_by_test_id("demand-start").click()
    page.wait_for_url("**/researcher/jobs/*")
    assert page.locator("progress#job-progress").count() == 1
    assert page.get_by_test_id("job-progress-text").inner_text().endswith("of 50 postings mapped")  # never "?"
    table = page.get_by_test_id("demand-table")
    table.wait_for(timeout=180_000)  # the page reloads itself when the job completes
    page.wait_for_load_state()
    assert page.get_by_test_id("job-progress-text").inner_text() == "50 of 50 postings mapped"
    assert "50 postings" in page.locator("#result-title").inner_text()
    assert "Each row is one competency" in page.get_by_test_id("demand-caption").inner_text()
    assert "region" in page.get_by_test_id("demand-caption").inner_text()
    supply = page.get_by_test_id("demand-supply").inner_text()
    assert re.search(r"the catalog holds \d+ credentials, \d+ of them with accepted tags", supply), supply
    errors = page.get_by_test_id("demand-errors")
    assert "(1)" in errors.locator("h2").inner_text() and errors.locator("tbody td").first.inner_text() == "51"
    assert table.locator("tbody tr").count() > 5
    headers = table.locator("thead th").all_inner_texts()
    assert headers[0] == "region" and "Level" not in headers  # competencies only: no skill groups mixed in
    assert "Share of the catalog" in headers and "Share of tagged credentials" in headers
    assert page.get_by_test_id("demand-chart").count() == 2  # one per region
    assert page.locator("figure.chart svg rect.bar-demand").count() >= 2
    check_page(page, shots, "researcher-result")

    page.get_by_test_id("view-rollups").click()
    levels = column(page, "Level")
    assert levels and all(level.startswith(("Skill group", "Skills for Success")) for level in levels)
    page.get_by_test_id("view-competencies").click()

    page.get_by_test_id("demand-table").get_by_role("link", name="Competency", exact=True).click()  # sort by label
    labels = column(page, "Competency ▼")
    assert labels[:5] == sorted(labels[:5], key=str.casefold, reverse=True)
    with page.expect_download() as info:
        page.get_by_test_id("demand-csv").click()
    info.value.save_as(tmp_path / "demand.csv")
    header = (tmp_path / "demand.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "credentials_supply" in header and "region" in header

    page.set_viewport_size(PHONE)  # a phone: nothing wider than the screen, every label whole
    page.reload()
    for summary in page.locator("details.chart-block:not([open]) > summary").all():
        summary.click()
    found = overflow(page)
    assert found["scroll"] <= found["width"] == PHONE["width"], found
    assert found["labels"] >= 2 and found["cut"] == [], found
    check_page(page, shots, "researcher-result-phone")


# -- browsing, the start page and the API's own pages --------------------------------------------


def test_browse_a_framework_and_a_competency(page: Any, shots: Path) -> None:
    page.goto("/")
    check_page(page, shots, "home")
    page.get_by_role("link", name="Browse competencies").first.click()
    page.get_by_test_id("browse-query").press_sequentially("PostgreSQL", delay=30)
    result = page.locator("#browse-results a", has_text="PostgreSQL").first
    result.wait_for()
    check_page(page, shots, "browse")
    result.click()
    page.get_by_role("heading", name="PostgreSQL", level=1).wait_for()
    for heading in ("Broader concepts", "Occupations that need it", "Crosswalk and mapping links"):
        assert page.get_by_role("heading", name=heading).count() == 1
    assert "Other labels" in page.locator("dl.facts").inner_text()
    check_page(page, shots, "competency")
    for path in ("/key", "/designer/1/edit", "/designer/999999", "/browse/competency?iri=urn:nothing"):
        page.goto(path)
        check_page(page)


def test_api_documentation_works_offline(page: Any) -> None:
    page.goto("/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "competencymap" in page.locator(".swagger-ui .info .title").inner_text()
    page.goto("/redoc")
    page.locator("redoc h1, [role='main'] h1, h1").first.wait_for()
    assert "competencymap" in page.locator("h1").first.inner_text()
    # no request left the service (checked by the fixture); these two pages are third-party viewers,
    # so only their script errors are checked, not axe-core
    errors = [m for m in page.watch.console if "favicon" not in m and "logo" not in m]
    assert errors == []
