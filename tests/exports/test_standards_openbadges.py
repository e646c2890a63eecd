"""Open Badges 3.0: exports checked against 1EdTech's official JSON schema, and read back."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from competencymap.catalog import Catalog, read_credentials_file
from competencymap.exports import (
    DocumentError,
    credential_to_achievement,
    credential_to_openbadge_credential,
    store_credential,
)
from competencymap.exports.readers import parse_openbadges, read_document
from competencymap.exports.schemas import OPENBADGES_SCHEMA, check_openbadge_credential, schema_errors

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "catalog" / "sample_credentials.json"
PYTHON = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"
SQL = "http://data.europa.eu/esco/skill/598de5b0-5b58-4ea7-8058-a4bc4d18c742"
NUMERACY = "https://w3id.org/competencymap/sfs/numeracy"


@pytest.fixture()
def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    catalog.import_credentials(read_credentials_file(SAMPLE))
    yield catalog
    catalog.close()


def tag_first(catalog: Catalog, credential_id: int) -> None:
    credential = catalog.get_credential(credential_id)
    first, second = credential.learning_outcomes[:2]
    tags = catalog.add_suggested_tags(credential_id, first.id, [
        {"competency_iri": PYTHON, "framework": "esco", "label": "Python (computer programming)", "score": 0.9},
        {"competency_iri": NUMERACY, "framework": "sfs", "label": "Numeracy", "score": 0.6},
    ])
    tags += catalog.add_suggested_tags(credential_id, second.id, [
        {"competency_iri": SQL, "framework": "esco", "label": "SQL", "score": 0.8},
    ])
    for tag in tags[:2]:
        catalog.set_tag_state(tag.id, "accepted", "ana")
    catalog.set_tag_state(tags[2].id, "rejected", "ana")


def test_every_sample_credential_validates_as_achievement_and_credential(catalog: Catalog) -> None:
    tag_first(catalog, 1)
    for credential in catalog.list_credentials():
        accepted = catalog.accepted_competencies(credential.id)
        achievement = credential_to_achievement(credential, accepted)
        assert schema_errors(achievement, OPENBADGES_SCHEMA, "Achievement") == []
        template = credential_to_openbadge_credential(credential, accepted)
        assert schema_errors(template, OPENBADGES_SCHEMA) == []
        assert template["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
        assert template["@context"][0] == "https://www.w3.org/ns/credentials/v2"
        assert "proof" not in template and "id" not in template["credentialSubject"]  # unsigned, no recipient
        assert template["credentialSubject"]["achievement"]["id"] == f"urn:uuid:{credential.uid}"
    aligned = credential_to_achievement(catalog.get_credential(1), catalog.accepted_competencies(1))
    assert [a["targetUrl"] for a in aligned["alignment"]] == [PYTHON, NUMERACY]  # the rejected SQL is left out


def test_the_schema_check_catches_broken_documents(catalog: Catalog) -> None:
    tag_first(catalog, 1)
    good = credential_to_openbadge_credential(catalog.get_credential(1), catalog.accepted_competencies(1))
    check_openbadge_credential(good)
    for breaks, expected in [
        (lambda d: d["credentialSubject"]["achievement"]["alignment"][0].pop("targetUrl"), "targetUrl"),
        (lambda d: d.__setitem__("type", ["VerifiableCredential"]), "type"),
        (lambda d: d["credentialSubject"]["achievement"].__setitem__("achievementType", "Nonsense"), "achievementType"),
        (lambda d: d.__setitem__("validFrom", "yesterday"), "validFrom"),
    ]:
        broken = copy.deepcopy(good)
        breaks(broken)
        with pytest.raises(DocumentError, match=f"not a valid Open Badges 3.0 OpenBadgeCredential: .*{expected}"):
            check_openbadge_credential(broken, path="x.json")


@pytest.mark.parametrize("form", ["achievement", "credential"])
def test_export_import_export_round_trip(catalog: Catalog, form: str) -> None:
    tag_first(catalog, 1)
    export = credential_to_achievement if form == "achievement" else credential_to_openbadge_credential
    original = catalog.get_credential(1)
    first = export(original, catalog.accepted_competencies(1))
    imported = parse_openbadges(json.loads(json.dumps(first)))
    copy_, tags = store_credential(catalog, imported, decided_by="import")
    assert [t.competency_iri for t in tags] == [PYTHON, NUMERACY]
    assert all(t.state == "accepted" and t.outcome_id is None for t in tags)
    assert [t.framework for t in tags] == ["esco", "sfs"]
    assert [o.text for o in copy_.learning_outcomes] == [o.text for o in original.learning_outcomes]
    for field in ("title", "issuer", "description", "duration_hours", "delivery_mode", "credit", "url", "language",
                  "endorsing_partners"):
        assert getattr(copy_, field) == getattr(original, field), field
    second = export(copy_, catalog.accepted_competencies(copy_.id))
    ignore = {"id", "version", "validFrom"}
    if form == "credential":
        first, second = first["credentialSubject"]["achievement"], second["credentialSubject"]["achievement"]
    assert {k: v for k, v in first.items() if k not in ignore} == {k: v for k, v in second.items() if k not in ignore}


def test_a_foreign_achievement_needs_what_ob_cannot_say(tmp_path: Path) -> None:
    doc = {
        "@context": ["https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "https://badges.example.org/achievements/42",
        "type": ["Achievement"],
        "name": "Spreadsheet Basics",
        "description": "Formulas, charts and tidy tables.",
        "criteria": {"narrative": "Complete the three practice workbooks."},
        "creator": {"id": "https://badges.example.org", "type": ["Profile"], "name": "Example Badges"},
        "alignment": [
            {"type": ["Alignment"], "targetName": "use spreadsheets software", "targetFramework": "ESCO",
             "targetUrl": "http://data.europa.eu/esco/skill/1973c966-f236-40c9-b2d4-5d71a89019be"},
        ],
    }
    path = tmp_path / "badge.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(DocumentError, match=r"badge.json: the Open Badges 3.0 document states no duration hours; give --duration-hours"):
        read_document(path)
    defaults = {"duration_hours": 6, "delivery_mode": "online", "credit": "non_credit", "assessment_type": "workbooks"}
    imported = read_document(path, defaults=defaults)
    assert imported.credential.title == "Spreadsheet Basics" and imported.credential.issuer == "Example Badges"
    assert imported.credential.learning_outcomes == []  # a foreign narrative is not split into outcomes
    assert imported.alignments[0].framework == "esco" and imported.alignments[0].label == "use spreadsheets software"


def test_documents_that_are_not_what_they_claim(tmp_path: Path) -> None:
    cases = {
        "notjson.json": ("{not json", r"notjson.json:1: not valid JSON"),
        "ctdl.json": (json.dumps({"@type": "ceterms:MicroCredential"}), r"ctdl.json: not an Open Badges 3.0 document: no 'type'"),
        "nocontext.json": (json.dumps({"type": ["Achievement"], "id": "urn:x", "name": "n", "description": "d",
                                       "criteria": {"narrative": "n"}}), r"@context lacks"),
        "profile.json": (json.dumps({"type": ["Profile"], "id": "urn:x"}), r"not an Open Badges 3.0 Achievement or OpenBadgeCredential"),
        "badschema.json": (json.dumps({"@context": ["https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
                                       "type": ["Achievement"], "id": "urn:x", "name": "n"}),
                           r"not a valid Open Badges 3.0 Achievement: .*'criteria' is a required property"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        fmt = "openbadges" if name == "ctdl.json" else "auto"
        with pytest.raises(DocumentError, match=message):
            read_document(path, format=fmt)
    with pytest.raises(DocumentError, match="unknown import format 'xml'"):
        read_document(tmp_path / "notjson.json", format="xml")


def test_no_two_alignments_share_a_target_code(catalog: Catalog, tmp_path: Path) -> None:
    """Every Skills for Success concept (skills, components: 'c5' under several skills) accepted on
    one credential beside ESCO skills: each alignment's targetCode names one concept only."""
    from competencymap._common.config import load_settings
    from competencymap.exports import credential_to_ctdl
    from competencymap.frameworks.store import FrameworkStore

    sfs = FrameworkStore(load_settings(home=tmp_path / "home")).get("sfs")
    concepts = list(sfs.competencies.values())
    assert sum(1 for c in concepts if c.iri.endswith("/c5")) >= 2  # the case that once collided
    outcome = catalog.get_credential(1).learning_outcomes[0].id
    tags = [{"competency_iri": c.iri, "framework": "sfs", "label": c.pref_label} for c in concepts]
    tags += [{"competency_iri": iri, "framework": "esco", "label": label} for iri, label in ((PYTHON, "Python"), (SQL, "SQL"))]
    for tag in catalog.add_suggested_tags(1, outcome, tags):
        catalog.set_tag_state(tag.id, "accepted", "ana")
    credential, accepted = catalog.get_credential(1), catalog.accepted_competencies(1)

    achievement = credential_to_achievement(credential, accepted)
    codes = {a["targetUrl"]: a["targetCode"] for a in achievement["alignment"]}
    assert len(codes) == len(concepts) + 2 and len(set(codes.values())) == len(codes)
    assert codes["https://w3id.org/competencymap/sfs/digital/c5"] == "digital.c5"
    assert schema_errors(achievement, OPENBADGES_SCHEMA, "Achievement") == []
    assert schema_errors(credential_to_openbadge_credential(credential, accepted), OPENBADGES_SCHEMA) == []
    ctdl = credential_to_ctdl(credential, accepted)["@graph"][0]["ceterms:requires"][0]["ceterms:targetCompetency"]
    notations = [a["ceterms:codedNotation"] for a in ctdl]
    assert len(notations) == len(codes) and len(set(notations)) == len(notations)
