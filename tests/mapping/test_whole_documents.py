"""Whole documents read as people write them, on the full ESCO release (marked full): the title and
the company blurb are never mapped, every line is accounted for, and a profile leads with what the
document requires, never with an asset line's skills."""

from __future__ import annotations

from pathlib import Path

import pytest

from competencymap.mapping.lines import account

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.full, pytest.mark.model]
LANGUAGES = ("French", "English")


def read(path: str) -> str:
    return (ROOT / path).read_text(encoding="utf-8")


def test_the_sample_posting_leads_with_what_it_requires(full_app) -> None:
    text = read("examples/job_posting.txt")
    result = full_app.map(text, ["esco"], top_k=50)
    profile = result.profiles["esco"]
    labels = [m.label for m in profile]
    assert not profile[0].optional and "French" not in labels[0]
    optional = [n for n, m in enumerate(profile) if m.optional]
    assert optional and min(optional) > max(n for n, m in enumerate(profile) if not m.optional)
    assert not any("French" in label for label in labels[:10])
    title = text.splitlines()[0]
    assert not any(s.text in title or "Riverside" in s.text for s in result.statements)
    reports = {r.line.text: r for r in account(result)}
    assert reports[title].outcome == "dropped" and reports[title].reason == "title"
    assert len(reports) == len([x for x in text.splitlines() if x.strip()])


def test_a_truck_driver_profile_leads_with_its_duties(full_app) -> None:
    result = full_app.map(read("benchmarks/data/postings/trucking_az.txt"), ["esco"], top_k=10)
    top = result.profiles["esco"]
    assert not any(language in m.label for m in top[:5] for language in LANGUAGES)
    duties = {m.iri for r in result.results if r.statement.role == "duty" for m in r.matches if m.confident}
    assert sum(m.iri in duties for m in top) >= 5


def test_the_sample_credential_title_is_context_not_an_outcome(full_app) -> None:
    text = read("examples/micro_credential.txt")
    result = full_app.map(text, ["esco"], top_k=10)
    assert [s.role for s in result.statements] == ["outcome"] * 5
    assert not any(s.text.startswith("Micro-credential") for s in result.statements)
