"""The sample catalog's reviewed tags (data/catalog/sample_tags.json): real ESCO and Skills for
Success concepts under their preferred labels, paired with the sample outcomes, stated provenance,
and stored as accepted tags decided by the sample reviewer when the samples are imported."""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import RDF, SKOS

from competencymap._common.errors import CompetencyMapError
from competencymap.catalog import Catalog, read_credentials_file
from competencymap.catalog.samples import (
    SAMPLE_CREDENTIALS,
    SAMPLE_TAGS,
    import_sample_catalog,
    pair_reviewed_tags,
    read_reviewed_tags,
)

DATA = Path(__file__).resolve().parents[2] / "data"
ESCO_ZIP = DATA / "esco" / "esco-v1.1.1-classification-en-csv.zip"
SFS_TTL = DATA / "skills_for_success" / "skills_for_success.ttl"


def _esco_labels() -> dict[str, str]:
    with zipfile.ZipFile(ESCO_ZIP) as archive:
        name = next(n for n in archive.namelist() if n.endswith("skills_en.csv"))
        with archive.open(name) as handle:
            rows = csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8"))
            return {r["conceptUri"]: r["preferredLabel"].strip() for r in rows}


def _sfs_labels() -> dict[str, str]:
    graph = rdflib.Graph().parse(SFS_TTL)
    return {str(s): str(label) for s in graph.subjects(RDF.type, SKOS.Concept)
            for label in graph.objects(s, SKOS.prefLabel) if getattr(label, "language", None) == "en"}


@pytest.fixture()
def catalog(tmp_path: Path) -> Catalog:
    return Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")


def test_every_reviewed_tag_is_a_real_concept_under_its_preferred_label() -> None:
    reviewed = read_reviewed_tags(DATA / SAMPLE_TAGS)
    known = {"esco": _esco_labels(), "sfs": _sfs_labels()}
    tags = [t for c in reviewed.credentials for o in c.outcomes for t in o.tags]
    assert len(tags) >= 60 and {t.framework for t in tags} == {"esco", "sfs"}
    for tag in tags:
        assert known[tag.framework].get(tag.iri) == tag.label, (tag.framework, tag.iri, tag.label)


def test_every_sample_outcome_is_reviewed_and_the_provenance_is_stated() -> None:
    credentials = read_credentials_file(DATA / SAMPLE_CREDENTIALS)
    reviewed = read_reviewed_tags(DATA / SAMPLE_TAGS)
    batches = pair_reviewed_tags(credentials, reviewed)
    for credential, batch in zip(credentials, batches):
        assert [position for position, tags in batch if tags] == list(range(1, len(credential.learning_outcomes) + 1))
    assert reviewed.provenance.lower().startswith("reviewed by hand for the sample catalog, " + reviewed.reviewed_on.isoformat())
    assert "not generated" in reviewed.provenance.lower() or "no tag was generated" in reviewed.provenance.lower()
    readme = (DATA / "catalog" / "README.md").read_text(encoding="utf-8")
    assert "sample_tags.json" in readme and "reviewed by hand for the sample catalog" in readme.lower()


def test_importing_the_samples_stores_the_reviewed_tags_as_accepted(catalog: Catalog) -> None:
    imported = import_sample_catalog(catalog, DATA)
    reviewed = read_reviewed_tags(DATA / SAMPLE_TAGS)
    expected = {(c.title, o.position, t.iri) for c in reviewed.credentials for o in c.outcomes for t in o.tags}
    stored = set()
    for credential in imported.credentials:
        positions = {o.id: o.position for o in credential.learning_outcomes}
        tags = catalog.list_tags(credential.id)
        assert tags and all(t.state == "accepted" and t.source == "manual" for t in tags), credential.title
        assert {t.decided_by for t in tags} == {reviewed.reviewed_by}
        assert all(t.decided_at is not None and "reviewed by hand" in t.evidence["note"].lower() for t in tags)
        stored |= {(credential.title, positions[t.outcome_id], t.competency_iri) for t in tags if t.outcome_id}
    assert stored == expected and len(imported.tags) == len(expected)
    assert len(catalog.accepted_snapshot().credentials) == len(imported.credentials) == 12


def test_without_a_tags_file_the_samples_import_untagged(catalog: Catalog, tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "catalog").mkdir(parents=True)
    shutil.copy(DATA / SAMPLE_CREDENTIALS, data / SAMPLE_CREDENTIALS)
    imported = import_sample_catalog(catalog, data)
    assert len(imported.credentials) == 12 and imported.tags == [] and catalog.accepted_snapshot().credentials == []


def _broken(tmp_path: Path, change: str) -> Path:
    data = tmp_path / "data"
    (data / "catalog").mkdir(parents=True)
    shutil.copy(DATA / SAMPLE_CREDENTIALS, data / SAMPLE_CREDENTIALS)
    doc = json.loads((DATA / SAMPLE_TAGS).read_text(encoding="utf-8"))
    first = doc["credentials"][0]
    if change == "title":
        first["title"] = "No Such Credential"
    elif change == "text":
        first["outcomes"][0]["outcome"] = "Something else"
    elif change == "position":
        first["outcomes"][0]["position"] = 99
    elif change == "field":
        first["outcomes"][0]["tags"][0].pop("iri")
    (data / SAMPLE_TAGS).write_text(json.dumps(doc), encoding="utf-8")
    return data


@pytest.mark.parametrize(("change", "message"), [
    ("title", "credential 'No Such Credential': no credential has this title"),
    ("text", "credential 'Data Analytics with Python': outcome 1: the text differs"),
    ("position", "credential 'Data Analytics with Python': outcome 99: the credential has 6 outcomes"),
    ("field", "credentials.0.outcomes.0.tags.0.iri: Field required"),
])
def test_a_tags_file_that_does_not_fit_is_refused_before_anything_is_written(
    catalog: Catalog, tmp_path: Path, change: str, message: str
) -> None:
    data = _broken(tmp_path, change)
    with pytest.raises(CompetencyMapError, match=message) as info:
        import_sample_catalog(catalog, data)
    assert str(data / SAMPLE_TAGS) in str(info.value)
    assert catalog.count_credentials() == 0
