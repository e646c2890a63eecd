"""Open Badges 3.0 Achievement and CSV exports of catalog credentials."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from competencymap._common.errors import CompetencyMapError
from competencymap.catalog import Catalog, Credential, Tag, read_credentials_file
from competencymap.exports import (
    COLUMNS,
    ExportError,
    credential_to_achievement,
    credential_to_ctdl,
    tags_to_csv,
    target_code,
)
from competencymap.exports.schemas import OPENBADGES_SCHEMA, schema_errors

DATA = Path(__file__).resolve().parents[2] / "data"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
ESCO_IRI = "http://data.europa.eu/esco/skill/"
SFS_IRI = "https://w3id.org/competencymap/sfs/"

# From the OB 3.0 data model (AchievementType and AlignmentTargetType enumerations;
# both are extensible with terms matching EXT).
ACHIEVEMENT_TYPES = {
    "Achievement", "ApprenticeshipCertificate", "Assessment", "Assignment", "AssociateDegree", "Award",
    "Badge", "BachelorDegree", "Certificate", "CertificateOfCompletion", "Certification",
    "CommunityService", "Competency", "Course", "CoCurricular", "Degree", "Diploma", "DoctoralDegree",
    "Fieldwork", "GeneralEducationDevelopment", "JourneymanCertificate", "LearningProgram", "License",
    "Membership", "ProfessionalDoctorate", "QualityAssuranceCredential", "MasterCertificate",
    "MasterDegree", "MicroCredential", "ResearchDoctorate", "SecondarySchoolDiploma",
}
ALIGNMENT_TARGET_TYPES = {
    "ceasn:Competency", "ceterms:Credential", "CFItem", "CFRubric", "CFRubricCriterion",
    "CFRubricCriterionLevel", "CTDL",
}
EXT = re.compile(r"^ext:[A-Za-z0-9.\-_]+$")
# Terms the OB 3.0.3 context defines for an Achievement (its scoped terms plus the global ones).
ACHIEVEMENT_TERMS = {
    "@context", "id", "type", "achievementType", "alignment", "creator", "creditsAvailable", "criteria",
    "description", "endorsement", "endorsementJwt", "fieldOfStudy", "humanCode", "image", "inLanguage", "name",
    "otherIdentifier", "related", "resultDescription", "specialization", "tag", "version",
}
ALIGNMENT_TERMS = {
    "type", "targetCode", "targetDescription", "targetFramework", "targetName", "targetType", "targetUrl",
}


def is_uri(value: object) -> bool:
    if not isinstance(value, str) or any(c.isspace() for c in value):
        return False
    parts = urlsplit(value)
    return bool(parts.scheme) and bool(parts.netloc or parts.path)


def check_achievement(doc: dict) -> None:
    """The OB 3.0 Achievement schema's required fields and enumerations, checked by hand."""
    assert OB_CONTEXT in doc["@context"]
    assert set(doc) <= ACHIEVEMENT_TERMS, set(doc) - ACHIEVEMENT_TERMS
    for required in ("id", "type", "criteria", "description", "name"):
        assert doc.get(required), required
    assert is_uri(doc["id"])
    assert "Achievement" in doc["type"]
    assert isinstance(doc["name"], str) and isinstance(doc["description"], str)
    criteria = doc["criteria"]
    assert isinstance(criteria, dict) and (criteria.get("id") or criteria.get("narrative"))
    if "id" in criteria:
        assert is_uri(criteria["id"])
    assert doc["achievementType"] in ACHIEVEMENT_TYPES or EXT.match(doc["achievementType"])
    creator = doc["creator"]
    assert is_uri(creator["id"]) and "Profile" in creator["type"]
    for alignment in doc.get("alignment", []):
        assert set(alignment) <= ALIGNMENT_TERMS
        assert "Alignment" in alignment["type"]
        assert isinstance(alignment["targetName"], str) and alignment["targetName"]
        assert is_uri(alignment["targetUrl"])
        assert alignment["targetType"] in ALIGNMENT_TARGET_TYPES or EXT.match(alignment["targetType"])
    assert all(isinstance(word, str) for word in doc.get("tag", []))
    json.dumps(doc)  # plain JSON all the way down
    assert schema_errors(doc, OPENBADGES_SCHEMA, "Achievement") == []  # the official OB 3.0 schema


def make_credential(**changes: object) -> Credential:
    data = {
        "id": 7,
        "uid": "3f2b8c1e-5d4a-4b6e-9c7d-1a2b3c4d5e6f",
        "title": "Cloud Computing Fundamentals",
        "issuer": "Prairie Crossing Polytechnic",
        "description": "An entry point to public cloud platforms.",
        "learning_outcomes": [
            {"id": 21, "position": 1, "text": "Deploy a virtual machine in a public cloud console"},
            {"id": 22, "position": 2, "text": "Configure access roles, following least privilege"},
        ],
        "duration_hours": 36.0,
        "delivery_mode": "hybrid",
        "credit": "non_credit",
        "assessment_type": "Lab tasks and a quiz",
        "stackability": "Stacks toward a Cloud Operations certificate",
        "endorsing_partners": ["Prairie Digital Skills Council"],
        "url": "https://prairie-crossing.example.org/ce/cloud-fundamentals",
        "language": "en",
        "created_at": datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        "updated_at": datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
    }
    data.update(changes)
    return Credential.model_validate(data)


def make_tag(n: int, **changes: object) -> Tag:
    data = {
        "id": n,
        "credential_id": 7,
        "outcome_id": 21,
        "competency_iri": f"{ESCO_IRI}0b2f{n:04d}-aaaa-bbbb-cccc-1234567890ab",
        "framework": "esco",
        "label": f"skill {n}",
        "score": 0.5,
        "evidence": {},
        "state": "accepted",
        "source": "suggested",
        "decided_by": "ana",
        "decided_at": datetime(2026, 3, 3, 10, 0, tzinfo=UTC),
        "created_at": datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
    }
    data.update(changes)
    return Tag.model_validate(data)


# ---- Open Badges 3.0 -------------------------------------------------------------------


def test_achievement_has_the_required_ob3_structure() -> None:
    tags = [
        make_tag(1, label="use cloud technologies"),
        make_tag(2, outcome_id=None, competency_iri=f"{SFS_IRI}digital", framework="sfs", label="Digital"),
    ]
    doc = credential_to_achievement(make_credential(), tags)
    check_achievement(doc)
    assert doc["achievementType"] == "MicroCredential"
    assert doc["name"] == "Cloud Computing Fundamentals"
    assert doc["id"] == "urn:uuid:3f2b8c1e-5d4a-4b6e-9c7d-1a2b3c4d5e6f"  # the credential's public uid
    assert doc["creator"]["name"] == "Prairie Crossing Polytechnic"
    assert doc["criteria"]["id"] == "https://prairie-crossing.example.org/ce/cloud-fundamentals"
    assert doc["version"] == "2026-03-02T09:30:00+00:00"
    assert doc["inLanguage"] == "en"


def test_alignments_one_per_accepted_competency() -> None:
    esco = make_tag(1, label="use cloud technologies")
    same_on_other_outcome = make_tag(3, outcome_id=22, competency_iri=esco.competency_iri, label=esco.label)
    sfs = make_tag(2, outcome_id=None, competency_iri=f"{SFS_IRI}digital", framework="sfs", label="Digital")
    other = make_tag(4, competency_iri="https://example.org/frameworks/x#S-12", framework="local", label="X")
    doc = credential_to_achievement(make_credential(), [esco, same_on_other_outcome, sfs, other])
    assert doc["alignment"] == [
        {
            "type": ["Alignment"],
            "targetName": "use cloud technologies",
            "targetUrl": esco.competency_iri,
            "targetCode": "0b2f0001-aaaa-bbbb-cccc-1234567890ab",
            "targetFramework": "ESCO",
            "targetType": "ext:ESCOSkill",
        },
        {
            "type": ["Alignment"],
            "targetName": "Digital",
            "targetUrl": f"{SFS_IRI}digital",
            "targetCode": "digital",
            "targetFramework": "Skills for Success",
            "targetType": "ext:SkillsForSuccessSkill",
        },
        {
            "type": ["Alignment"],
            "targetName": "X",
            "targetUrl": "https://example.org/frameworks/x#S-12",
            "targetCode": "S-12",
            "targetFramework": "local",
            "targetType": "ext:SKOSConcept",
        },
    ]
    assert {"use cloud technologies", "Digital", "micro-credential", "hybrid", "non-credit"} <= set(doc["tag"])
    check_achievement(doc)


def test_components_of_two_skills_get_two_codes() -> None:
    """digital/c5 and adaptability/c5 are both a fifth component: their codes must still differ."""
    tags = [
        make_tag(1, competency_iri=f"{SFS_IRI}digital/c5", framework="sfs", label="Apply safe and responsible practices online"),
        make_tag(2, competency_iri=f"{SFS_IRI}adaptability/c5", framework="sfs", label="Plan and prioritize"),
        make_tag(3, competency_iri=f"{SFS_IRI}reading", framework="sfs", label="Reading"),
    ]
    badge = credential_to_achievement(make_credential(), tags)
    assert [a["targetCode"] for a in badge["alignment"]] == ["digital.c5", "adaptability.c5", "reading"]
    check_achievement(badge)
    ctdl = credential_to_ctdl(make_credential(), tags)
    alignments = ctdl["@graph"][0]["ceterms:requires"][0]["ceterms:targetCompetency"]
    assert [a["ceterms:codedNotation"] for a in alignments] == ["digital.c5", "adaptability.c5", "reading"]


def test_framework_display_names_can_be_overridden() -> None:
    doc = credential_to_achievement(make_credential(), [make_tag(1)], framework_names={"esco": "ESCO v1.1.1"})
    assert doc["alignment"][0]["targetFramework"] == "ESCO v1.1.1"


def test_no_accepted_tags_means_no_alignment_key() -> None:
    doc = credential_to_achievement(make_credential(), [])
    assert "alignment" not in doc
    check_achievement(doc)


def test_criteria_narrative_states_outcomes_assessment_and_setting() -> None:
    narrative = credential_to_achievement(make_credential(), [])["criteria"]["narrative"]
    assert "1. Deploy a virtual machine in a public cloud console\n2. Configure access roles" in narrative
    assert "Assessment: Lab tasks and a quiz." in narrative
    assert "About 36 hours of learning, delivered hybrid (online and in person); non-credit." in narrative
    assert "Pathways: Stacks toward a Cloud Operations certificate." in narrative
    assert "Endorsed by: Prairie Digital Skills Council." in narrative


def test_ids_are_stable_and_distinct() -> None:
    first = credential_to_achievement(make_credential(), [])
    assert credential_to_achievement(make_credential(), []) == first
    other = credential_to_achievement(make_credential(id=8, uid="0c9d8e7f-6a5b-4c3d-8e1f-2a3b4c5d6e7f"), [])
    assert other["id"] != first["id"] and other["creator"]["id"] == first["creator"]["id"]


def test_issuer_url_names_the_issuer_and_the_achievement() -> None:
    doc = credential_to_achievement(make_credential(url=None), [], issuer_url="https://prairie.example.org/")
    assert doc["id"] == "https://prairie.example.org/achievements/7"
    assert doc["creator"]["id"] == "https://prairie.example.org"
    assert "id" not in doc["criteria"]
    check_achievement(doc)
    for bad in ("prairie.example.org", "ftp://prairie.example.org", "https://"):
        with pytest.raises(ExportError):
            credential_to_achievement(make_credential(), [], issuer_url=bad)


def test_only_accepted_tags_of_the_credential_are_exported() -> None:
    assert issubclass(ExportError, CompetencyMapError)
    with pytest.raises(ExportError, match="suggested"):
        credential_to_achievement(make_credential(), [make_tag(1, state="suggested")])
    with pytest.raises(ExportError, match="belongs to credential 99"):
        credential_to_achievement(make_credential(), [make_tag(1, credential_id=99)])


def test_target_codes() -> None:
    assert target_code(f"{ESCO_IRI}ccd0a1d9-afda-43d9-b901-96344886e14d") == "ccd0a1d9-afda-43d9-b901-96344886e14d"
    assert target_code(f"{SFS_IRI}reading/") == "reading"
    assert target_code("https://example.org/scheme#C7") == "C7"
    assert target_code("urn:isbn:0451450523") == "0451450523"
    assert target_code("https://example.org/") == "https://example.org/"


def test_sample_catalog_exports_end_to_end(tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    stored = catalog.import_credentials(read_credentials_file(DATA / "catalog" / "sample_credentials.json"))
    for credential in stored:
        first = credential.learning_outcomes[0]
        tags = catalog.add_suggested_tags(
            credential.id,
            first.id,
            [
                {"competency_iri": f"{ESCO_IRI}s{credential.id}", "framework": "esco", "label": "a", "score": 0.8},
                {"competency_iri": f"{SFS_IRI}numeracy", "framework": "sfs", "label": "Numeracy", "score": 0.4},
            ],
        )
        catalog.set_tag_state(tags[0].id, "accepted", "designer")
        catalog.set_tag_state(tags[1].id, "rejected", "designer")
        doc = credential_to_achievement(credential, catalog.accepted_competencies(credential.id))
        check_achievement(doc)
        assert [a["targetUrl"] for a in doc["alignment"]] == [f"{ESCO_IRI}s{credential.id}"]
        rows = list(csv.DictReader(io.StringIO(tags_to_csv(credential, catalog.list_tags(credential.id)))))
        assert {r["state"] for r in rows} == {"accepted", "rejected"}
    catalog.close()


# ---- CSV ------------------------------------------------------------------------------------


def test_csv_columns_and_values() -> None:
    credential = make_credential(title='Cloud, "Fundamentals"')
    tags = [
        make_tag(1, outcome_id=22, score=0.123456789, label="use cloud technologies"),
        make_tag(2, outcome_id=None, state="suggested", decided_by=None, decided_at=None, score=None,
                 framework="sfs", competency_iri=f"{SFS_IRI}digital", label="Digital"),
    ]
    text = tags_to_csv(credential, tags)
    assert text.splitlines()[0] == ",".join(COLUMNS)
    assert text.endswith("\r\n")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0] == {
        "credential_id": "7",
        "credential_title": 'Cloud, "Fundamentals"',
        "outcome_position": "2",
        "outcome_text": "Configure access roles, following least privilege",
        "framework": "esco",
        "competency_iri": tags[0].competency_iri,
        "label": "use cloud technologies",
        "score": "0.123456789",
        "state": "accepted",
        "decided_by": "ana",
        "decided_at": "2026-03-03T10:00:00+00:00",
    }
    assert rows[1]["outcome_position"] == "" and rows[1]["outcome_text"] == ""
    assert rows[1]["score"] == "" and rows[1]["decided_by"] == "" and rows[1]["decided_at"] == ""
    assert float(rows[0]["score"]) == tags[0].score


def test_csv_without_tags_is_just_the_header() -> None:
    assert tags_to_csv(make_credential(), []) == ",".join(COLUMNS) + "\r\n"


def test_csv_keeps_multiline_text_and_defuses_formulas() -> None:
    credential = make_credential(
        title="=HYPERLINK(\"http://evil\")",
        learning_outcomes=[{"id": 21, "position": 1, "text": "Line one\nline two"}],
    )
    rows = list(csv.DictReader(io.StringIO(tags_to_csv(credential, [make_tag(1, label="+cmd")]))))
    assert rows[0]["credential_title"] == "'=HYPERLINK(\"http://evil\")"
    assert rows[0]["label"] == "'+cmd"
    assert rows[0]["outcome_text"] == "Line one\nline two"


def test_csv_refuses_tags_that_do_not_fit_the_credential() -> None:
    with pytest.raises(ExportError, match="belongs to credential 99"):
        tags_to_csv(make_credential(), [make_tag(1, credential_id=99)])
    with pytest.raises(ExportError, match="outcome 555"):
        tags_to_csv(make_credential(), [make_tag(1, outcome_id=555)])
