"""The rules users read, on the full ESCO release and real texts (marked full: CI runs them on the
indexes it builds): needs of a nursing posting, optional asset lines, calibrated confidence,
Skills for Success senses, and coverage an employer can trust."""

from __future__ import annotations

from pathlib import Path

import pytest

from competencymap.catalog import Catalog, read_credentials_file
from competencymap.workflows.employer_match import match_posting
from competencymap.workflows.tagging import suggest_tags

ROOT = Path(__file__).resolve().parents[2]
NURSING = (ROOT / "benchmarks" / "data" / "postings" / "nursing_rpn.txt").read_text(encoding="utf-8")
pytestmark = [pytest.mark.full, pytest.mark.model]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The sample catalog (no tag accepted yet)."""
    folder = tmp_path_factory.mktemp("quality")
    found = Catalog(f"sqlite:///{folder / 'catalog.sqlite'}")
    found.import_credentials(read_credentials_file(ROOT / "data" / "catalog" / "sample_credentials.json"))
    return found


def test_nursing_posting_needs_reflect_its_duties(full_app) -> None:
    report = match_posting(full_app, Catalog("sqlite://"), NURSING, frameworks=["esco"], title=NURSING.splitlines()[0])
    labels = [n.label for n in report.needs]
    assert "administer prescribed medication" in labels[:5]
    assert any("vital signs" in label or "patients signs" in label for label in labels[:5])
    assert "supervise medical residents" not in labels  # long-term-care residents are not medical residents
    assert not any("tourism" in label for label in labels)
    assert [n.score for n in report.needs] == sorted((n.score for n in report.needs), reverse=True)
    assert [n.label for n in report.optional_needs] == ["French"]  # "French is an asset": apart, one entry
    assert "French" not in labels


def test_one_line_becomes_one_need_with_its_near_duplicates_related(full_app) -> None:
    from competencymap.workflows.employer_match import needs_from_result

    result = full_app.map("Load and unload freight at customer docks", ["esco"], top_k=10, kind="posting")
    needs = needs_from_result(result, ["esco"])
    assert 1 <= len(needs) <= 4  # (before these rules: 20 near-duplicate cargo entries)
    assert any(n.related for n in needs)
    profile = result.profiles["esco"]  # the near duplicates stay in the profile, grouped under their need
    shown = {m.iri for m in profile}
    assert [m.iri for m in profile] == [m.iri for m in result.results[0].matches]
    grouped = [m for m in profile if m.grouped_under]
    assert grouped and all(m.grouped_under in shown for m in grouped)
    related = {n.iri: n.related for n in needs}
    under_needs = [m for m in grouped if m.grouped_under in related]
    assert under_needs and all(m.iri in related[m.grouped_under] for m in under_needs)


def test_a_generic_one_word_hit_is_never_confident_by_itself(full_app) -> None:
    text = "Clean and transform raw datasets using spreadsheet functions and Python pandas"
    ranked = full_app.map(text, ["esco"], top_k=10, kind="outcomes").profiles["esco"]
    cleaning = next(m for m in ranked if m.label == "conduct cleaning tasks")
    assert not cleaning.confident and cleaning.signals["exact"] > 0
    assert ranked[0].label != "conduct cleaning tasks"


def test_skills_for_success_take_no_wrong_sense_through_the_crosswalk(full_app) -> None:
    for text in ("Query our PostgreSQL warehouse", "Keep customer and route data accurate"):
        sfs = full_app.map(text, ["esco", "sfs"], top_k=5, kind="posting").profiles["sfs"]
        for match in sfs:
            for evidence in match.evidence:
                assert evidence.method != "crosswalk" or "warehous" not in evidence.text
        assert not any(m.label == "Keep going" and m.confident for m in sfs)


def test_an_unrelated_credential_covers_nothing_of_the_nursing_posting(full_app, catalog: Catalog) -> None:
    credential = next(c for c in catalog.list_credentials(limit=100) if c.title == "Data Analytics with Python")
    suggested = suggest_tags(full_app, [o.text for o in credential.learning_outcomes], frameworks=["esco", "sfs"],
                                      top_k=5, context=credential.title)
    catalog.add_suggestions(credential.id, [(o.id, tags) for o, tags in zip(credential.learning_outcomes, suggested)])
    for tag in catalog.list_tags(credential.id):
        catalog.set_tag_state(tag.id, "accepted", "test")
    report = match_posting(full_app, catalog, NURSING, frameworks=["esco", "sfs"], title=NURSING.splitlines()[0])
    mine = [c for c in report.credentials if c.credential_id == credential.id]
    assert not mine or mine[0].coverage <= 0.05  # crosswalk and sibling links are shown as related only
