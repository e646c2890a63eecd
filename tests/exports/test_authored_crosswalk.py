"""The authored ESCO -> Skills for Success crosswalk: the shipped SSSOM file, its reader, and its
exports (SSSOM, SKOS, JSON, CASE associations beside the computed ones, CLI and API)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import SKOS, Graph, URIRef

from competencymap._common.config import PROJECT_ROOT, load_settings
from competencymap.cli import main
from competencymap.exports.case import framework_to_cfpackage
from competencymap.exports.schemas import CASE_SCHEMA, schema_errors
from competencymap.exports.sssom import authored_to_sssom_tsv, render_authored
from competencymap.frameworks.sssom import authored_crosswalk_path, expand, read_metadata, read_sssom
from competencymap.frameworks.store import FrameworkStore

SHIPPED = PROJECT_ROOT / "data" / "skills_for_success" / "esco_crosswalk.sssom.tsv"
SFS = "https://w3id.org/competencymap/sfs/"
PREDICATES = {"closeMatch", "broadMatch", "relatedMatch"}


@pytest.fixture(scope="module")
def sfs(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return FrameworkStore(load_settings(home=tmp_path_factory.mktemp("home"))).get("sfs")


def test_the_shipped_crosswalk_is_curated_row_by_row(sfs) -> None:  # type: ignore[no-untyped-def]
    assert authored_crosswalk_path(PROJECT_ROOT / "data", "esco", "sfs") == SHIPPED
    mappings = read_sssom(SHIPPED)
    meta = mappings.metadata
    assert meta["mapping_set_id"] and meta["license"] and meta["creator_id"] and meta["curie_map"]["esco"]
    assert len(mappings.mappings) > 80
    for m in mappings.mappings:
        assert m.subject.startswith("http://data.europa.eu/esco/") and m.subject_label
        assert m.object in sfs.competencies and m.object_label == sfs.competencies[m.object].pref_label
        assert m.predicate in PREDICATES and m.justification == "semapv:ManualMappingCuration"
        assert m.author and m.date and m.comment.endswith(".")  # a justification in a sentence
    pairs = [(m.subject, m.object) for m in mappings.mappings]
    assert len(pairs) == len(set(pairs))
    skills = {sfs.skill_of(m.object) for m in mappings.mappings}
    assert len(skills) == 9  # every Skills for Success skill has evidence somewhere in ESCO


def test_reader_handles_curies_and_the_metadata_block() -> None:
    assert expand("sfs:digital/c5", {"sfs": SFS}) == SFS + "digital/c5"
    assert expand("https://example.org/x", {"https": "nope"}) == "https://example.org/x"
    meta = read_metadata('curie_map:\n  a: "http://a/"\nmapping_set_id: "http://s"\ncreator_id:\n  - http://me\n')
    assert meta == {"curie_map": {"a": "http://a/"}, "mapping_set_id": "http://s", "creator_id": ["http://me"]}


def test_sssom_export_round_trips(tmp_path: Path) -> None:
    mappings = read_sssom(SHIPPED)
    path = tmp_path / "authored.sssom.tsv"
    path.write_text(authored_to_sssom_tsv(mappings), encoding="utf-8")
    again = read_sssom(path)
    assert again.mappings == mappings.mappings and again.metadata == mappings.metadata
    parsers = pytest.importorskip("sssom.parsers")
    from sssom.constants import SchemaValidationType
    from sssom.validators import validate

    for table in (SHIPPED, path):
        msdf = parsers.parse_sssom_table(table)
        assert len(msdf.df) == len(mappings.mappings)
        assert set(msdf.df["mapping_justification"]) == {"semapv:ManualMappingCuration"}
        reports = validate(msdf, [SchemaValidationType.JsonSchema, SchemaValidationType.PrefixMapCompleteness,
                                  SchemaValidationType.StrictCurieFormat], fail_on_error=False)
        assert all(not report.results for report in reports.values()), reports


def test_skos_and_json_exports() -> None:
    mappings = read_sssom(SHIPPED)
    graph = Graph().parse(data=render_authored(mappings, "skos"), format="turtle")
    first = mappings.mappings[0]
    assert (URIRef(first.subject), SKOS[first.predicate], URIRef(first.object)) in graph
    document = json.loads(render_authored(mappings, "json"))
    assert document["count"] == len(mappings.mappings) and document["mappings"][0]["comment"] == first.comment


def test_case_package_carries_authored_beside_computed(sfs) -> None:  # type: ignore[no-untyped-def]
    mappings = read_sssom(SHIPPED)
    package = framework_to_cfpackage(sfs, authored=mappings.mappings)
    assert schema_errors(package, CASE_SCHEMA) == []
    authored = [a for a in package["CFAssociations"]
                if a.get("extensions", {}).get("mappingJustification") == "semapv:ManualMappingCuration"]
    assert len(authored) == len(mappings.mappings)
    ids = [a["identifier"] for a in package["CFAssociations"]]
    assert len(ids) == len(set(ids))
    digital = next(a for a in authored if a["originNodeURI"]["title"] == "working with computers")
    assert digital["associationType"] == "exactMatchOf" and "Digital skill" in digital["notes"]
    assert digital["originNodeURI"]["targetType"] == "ext:ESCOSkill"


def test_cli_writes_the_authored_crosswalk(tmp_path: Path) -> None:
    out = tmp_path / "authored.tsv"
    result = CliRunner().invoke(main, ["crosswalk", "esco", "sfs", "--authored", "--output", str(out),
                                       "--home", str(tmp_path / "home")])
    assert result.exit_code == 0, result.output
    assert read_sssom(out).mappings == read_sssom(SHIPPED).mappings


@pytest.mark.full
def test_every_subject_is_in_the_esco_release(full_app) -> None:  # type: ignore[no-untyped-def]
    esco = full_app.framework("esco")
    for m in read_sssom(SHIPPED).mappings:
        assert m.subject in esco.competencies, m.subject
        assert esco.competencies[m.subject].pref_label == m.subject_label
