"""CASE 1.1: Skills for Success as a CFPackage, checked against 1EdTech's official JSON schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from competencymap._common.config import load_settings
from competencymap.cli import main
from competencymap.exports.case import CaseIndex, CaseNotFound, document_id, framework_to_cfpackage, item_id
from competencymap.exports.schemas import CASE_SCHEMA, DocumentError, check_case_package, schema_errors
from competencymap.frameworks.store import FrameworkStore
from competencymap.model.framework import Relation

SFS = "https://w3id.org/competencymap/sfs/"
ESCO_SKILL = "http://data.europa.eu/esco/skill/0005c151-5b5a-4a66-8aac-60e734beb1ab"
BASE = "https://case.example.org/ims/case/v1p1"


@pytest.fixture(scope="module")
def sfs(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return FrameworkStore(load_settings(home=tmp_path_factory.mktemp("home"))).get("sfs")


def test_skills_for_success_package_validates(sfs) -> None:  # type: ignore[no-untyped-def]
    package = framework_to_cfpackage(sfs)
    assert schema_errors(package, CASE_SCHEMA) == []
    items = package["CFItems"]
    kinds = [i["CFItemType"] for i in items]
    assert (kinds.count("Skill"), kinds.count("Component"), kinds.count("Proficiency level")) == (9, 29, 13)
    types = {t["title"]: t["identifier"] for t in package["CFDefinitions"]["CFItemTypes"]}
    assert all(i["CFItemTypeURI"]["identifier"] == types[i["CFItemType"]] for i in items)
    document = package["CFDocument"]
    assert document["identifier"] == document_id(sfs) and document["uri"] == SFS and document["caseVersion"] == "1.1"
    assert document["officialSourceURL"].startswith("https://www.canada.ca/")
    assert document["licenseURI"]["identifier"] == package["CFDefinitions"]["CFLicenses"][0]["identifier"]
    child = [a for a in package["CFAssociations"] if a["associationType"] == "isChildOf"]
    assert len(child) == 38
    reading, c1 = item_id(SFS + "reading"), item_id(SFS + "reading/c1")
    assert any(a["originNodeURI"]["identifier"] == c1 and a["destinationNodeURI"]["identifier"] == reading
               for a in child)
    assert any(a["originNodeURI"]["identifier"] == reading and a["destinationNodeURI"]["identifier"] == document["identifier"]
               for a in child)
    levels = [a for a in package["CFAssociations"] if a["associationType"] == "hasSkillLevel"]
    assert len(levels) == 13 and {a["sequenceNumber"] for a in levels} == {1, 2, 3, 4, 5}
    item = next(i for i in items if i["identifier"] == c1)
    assert item["uri"] == SFS + "reading/c1" and item["humanCodingScheme"] == "reading.c1"
    assert framework_to_cfpackage(sfs, last_change=None)["CFItems"][0]["identifier"] == items[0]["identifier"]


def test_codes_are_unique_in_the_package(sfs) -> None:  # type: ignore[no-untyped-def]
    items = framework_to_cfpackage(sfs)["CFItems"]
    codes = {item["uri"]: item["humanCodingScheme"] for item in items}
    assert codes[SFS + "digital/c5"] == "digital.c5" and codes[SFS + "adaptability/c5"] == "adaptability.c5"
    assert codes[SFS + "reading/level/2"] == "reading.level.2"
    assert len(set(codes.values())) == len(items)


def test_crosswalk_becomes_associations(sfs) -> None:  # type: ignore[no-untyped-def]
    relations = [Relation(ESCO_SKILL, SFS + "digital", "closeMatch", 0.61),
                 Relation(ESCO_SKILL, SFS + "reading", "relatedMatch", 0.45),
                 Relation(ESCO_SKILL, SFS + "unknown-skill", "closeMatch", 0.9)]  # not in the framework: left out
    package = framework_to_cfpackage(sfs, crosswalk=relations, base_url=BASE)
    assert schema_errors(package, CASE_SCHEMA) == []
    mapped = [a for a in package["CFAssociations"] if a["originNodeURI"]["uri"] == ESCO_SKILL]
    assert [(a["associationType"], a["destinationNodeURI"]["identifier"], a["extensions"]["score"]) for a in mapped] == [
        ("exactMatchOf", item_id(SFS + "digital"), 0.61), ("isRelatedTo", item_id(SFS + "reading"), 0.45)]
    assert mapped[0]["originNodeURI"]["targetType"].startswith("ext:")
    assert mapped[0]["destinationNodeURI"]["targetType"] == "CASE"
    assert "skos:closeMatch, cosine 0.6100" in mapped[0]["notes"]
    assert mapped[0]["uri"] == f"{BASE}/CFAssociations/{mapped[0]['identifier']}"


def test_rest_views_and_unknown_ids(sfs) -> None:  # type: ignore[no-untyped-def]
    package = framework_to_cfpackage(sfs, base_url=BASE)
    index = CaseIndex([package], BASE)
    [document] = index.documents()
    assert document["CFPackageURI"]["uri"] == f"{BASE}/CFPackages/{document_id(sfs)}"
    item = index.item(item_id(SFS + "numeracy"))
    assert item["CFDocumentURI"]["identifier"] == document_id(sfs) and item["uri"] == f"{BASE}/CFItems/{item['identifier']}"
    without = {k: v for k, v in item.items() if k != "CFDocumentURI"}
    assert schema_errors(without, CASE_SCHEMA, "CFPckgItemDType") == []
    links = index.item_associations(item["identifier"])["CFAssociations"]
    assert len(links) == 1 + 4  # child of the document; parent of its four known components
    association = index.association(links[0]["identifier"])
    assert schema_errors({k: v for k, v in association.items() if k != "CFDocumentURI"}, CASE_SCHEMA,
                         "CFPckgAssociationDType") == []
    with pytest.raises(CaseNotFound, match="no CFItem nope"):
        index.item("nope")
    with pytest.raises(CaseNotFound, match="no CFPackage"):
        index.package(item["identifier"])


def test_the_schema_catches_a_broken_package(sfs) -> None:  # type: ignore[no-untyped-def]
    package = framework_to_cfpackage(sfs)
    check_case_package(package)
    broken = copy.deepcopy(package)
    broken["CFAssociations"][0]["associationType"] = "isCousinOf"
    del broken["CFItems"][3]["fullStatement"]
    with pytest.raises(DocumentError, match=r"not a valid CASE 1.1 CFPackage: CFAssociations.0.associationType: .* \(and 1 more\)"):
        check_case_package(broken)


def test_cli_exports_the_package(tmp_path: Path, home: Path) -> None:
    output = tmp_path / "sfs.case.json"
    result = CliRunner().invoke(main, ["frameworks", "export", "sfs", "--format", "case", "--output", str(output)])
    assert result.exit_code == 0, result.output
    package = json.loads(output.read_text())
    assert schema_errors(package, CASE_SCHEMA) == []
    assert "no computed crosswalk from esco" in result.output  # no indexes in this home: said, not silent
    matches = [a for a in package["CFAssociations"] if a["associationType"] in ("exactMatchOf", "isRelatedTo")]
    assert matches  # the authored crosswalk needs no index
    assert {a["extensions"]["mappingJustification"] for a in matches} == {"semapv:ManualMappingCuration"}
    refused = CliRunner().invoke(main, ["frameworks", "export", "sfs", "--format", "xml"])
    assert refused.exit_code != 0
