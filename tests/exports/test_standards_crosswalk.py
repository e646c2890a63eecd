"""Computed crosswalks as SSSOM (validated with sssom-py) and SKOS, in CASE, the CLI and the API.

The crosswalk is computed for real from the ESCO slice 'mini' (conftest `built_home`) to Skills
for Success, whose index is built into a copy of that home. The full ESCO -> Skills for Success
crosswalk is checked behind `@pytest.mark.full` when the repository's indexes are built.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from fastapi.testclient import TestClient
from rdflib import SKOS, Graph, Namespace

from competencymap._common.config import PROJECT_ROOT, load_settings
from competencymap.cli import main
from competencymap.engine import CompetencyMap
from competencymap.exports.case import framework_to_cfpackage
from competencymap.exports.schemas import CASE_SCHEMA, OPENBADGES_SCHEMA, schema_errors
from competencymap.exports.sssom import Crosswalk, build_crosswalk, to_skos_turtle, to_sssom_tsv
from competencymap.service.app import ServiceOptions, create_app

sssom_parsers = pytest.importorskip("sssom.parsers")
from sssom.constants import SchemaValidationType, _get_sssom_schema_object  # noqa: E402
from sssom.validators import validate  # noqa: E402

SSSOM_NS = Namespace("https://w3id.org/sssom/")
SFS = "https://w3id.org/competencymap/sfs/"


@pytest.fixture(scope="module")
def home(built_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[override]
    folder = tmp_path_factory.mktemp("xwalk") / "home"
    shutil.copytree(built_home, folder)
    CompetencyMap(load_settings(home=folder)).build_index("sfs")
    return folder


@pytest.fixture(scope="module")
def app(home: Path) -> CompetencyMap:
    return CompetencyMap(load_settings(home=home))


@pytest.fixture(scope="module")
def crosswalk(app: CompetencyMap) -> Crosswalk:
    return build_crosswalk(app, "mini", "sfs")


def check_sssom(path: Path, relations: int) -> None:
    """sssom-py reads the file; its JSON-schema, prefix-map and CURIE checks find nothing."""
    msdf = sssom_parsers.parse_sssom_table(path)
    assert len(msdf.df) == relations
    reports = validate(msdf, [SchemaValidationType.JsonSchema, SchemaValidationType.PrefixMapCompleteness,
                              SchemaValidationType.StrictCurieFormat], fail_on_error=False)
    assert all(not report.results for report in reports.values()), reports
    header = yaml.safe_load("\n".join(line[1:] for line in path.read_text().splitlines() if line.startswith("#")))
    slots = _get_sssom_schema_object().mapping_set_slots
    assert set(header) <= set(slots), set(header) - set(slots)  # only standard metadata slots
    assert header["mapping_tool"] == "competencymap" and header["license"]
    assert set(msdf.df["predicate_id"]) <= {"skos:closeMatch", "skos:relatedMatch"}
    assert set(msdf.df["mapping_justification"]) == {"semapv:SemanticSimilarityThresholdMatching"}


def test_crosswalk_as_sssom(crosswalk: Crosswalk, tmp_path: Path) -> None:
    assert len(crosswalk.relations) > 20  # a good part of the ~150-skill slice reaches a Skills for Success skill
    path = tmp_path / "mini-sfs.sssom.tsv"
    path.write_text(to_sssom_tsv(crosswalk))
    check_sssom(path, len(crosswalk.relations))
    msdf = sssom_parsers.parse_sssom_table(path)
    scores = sorted(round(float(c), 4) for c in msdf.df["confidence"])
    assert scores == sorted(r.score for r in crosswalk.relations)
    assert all((r.type == "closeMatch") == (r.score >= 0.55) for r in crosswalk.relations)


def test_crosswalk_as_skos(crosswalk: Crosswalk) -> None:
    graph = Graph().parse(data=to_skos_turtle(crosswalk), format="turtle")
    links = list(graph.triples((None, SKOS.closeMatch, None))) + list(graph.triples((None, SKOS.relatedMatch, None)))
    assert len(links) == len(crosswalk.relations)
    assert all(str(o).startswith(SFS) for _s, _p, o in links)
    confidences = sorted(round(float(v), 4) for v in graph.objects(None, SSSOM_NS.confidence))
    assert confidences == sorted(r.score for r in crosswalk.relations)


def test_case_package_carries_the_crosswalk(app: CompetencyMap, crosswalk: Crosswalk) -> None:
    package = framework_to_cfpackage(app.framework("sfs"), crosswalk=crosswalk.relations,
                                     crosswalk_source=app.framework("mini"))
    assert schema_errors(package, CASE_SCHEMA) == []
    mapped = [a for a in package["CFAssociations"] if a["associationType"] in ("exactMatchOf", "isRelatedTo")]
    assert len(mapped) == len(crosswalk.relations)
    close = sum(r.type == "closeMatch" for r in crosswalk.relations)
    assert sum(a["associationType"] == "exactMatchOf" for a in mapped) == close


def test_cli_crosswalk_and_case_export(home: Path, tmp_path: Path, crosswalk: Crosswalk) -> None:
    runner = CliRunner()
    out = tmp_path / "x.sssom.tsv"
    result = runner.invoke(main, ["crosswalk", "mini", "sfs", "--format", "sssom", "--output", str(out), "--home", str(home)])
    assert result.exit_code == 0, result.output
    check_sssom(out, len(crosswalk.relations))
    result = runner.invoke(main, ["crosswalk", "mini", "sfs", "--format", "skos", "--home", str(home)])
    assert result.exit_code == 0 and "skos:closeMatch" in result.output
    result = runner.invoke(main, ["crosswalk", "mini", "sfs", "--format", "xml", "--home", str(home)])
    assert result.exit_code == 1 and "error: unknown crosswalk format 'xml'" in result.output
    package_path = tmp_path / "sfs.case.json"
    result = runner.invoke(main, ["frameworks", "--home", str(home), "export", "sfs", "--format", "case",
                                  "--crosswalk-from", "mini", "--output", str(package_path)])
    assert result.exit_code == 0, result.output
    package = json.loads(package_path.read_text())
    assert schema_errors(package, CASE_SCHEMA) == []
    assert sum(a["associationType"] in ("exactMatchOf", "isRelatedTo") for a in package["CFAssociations"]) == len(crosswalk.relations)


def test_cli_catalog_suggest(home: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    runner = CliRunner()
    from competencymap.catalog import Catalog, read_credentials_file

    with Catalog(db) as catalog:
        catalog.import_credentials(read_credentials_file(PROJECT_ROOT / "data" / "catalog" / "sample_credentials.json"))
    result = runner.invoke(main, ["catalog", "--home", str(home), "--database", db, "suggest", "1",
                                  "--framework", "mini", "--framework", "sfs", "--top-k", "3"])
    assert result.exit_code == 0, result.output
    with Catalog(db) as catalog:
        tags = catalog.list_tags(1)
    assert tags and {t.framework for t in tags} <= {"mini", "sfs"} and all(t.state == "suggested" for t in tags)
    assert any("SQL" in t.label or "Python" in t.label for t in tags)


@pytest.fixture(scope="module")
def client(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("standards-api")
    options = ServiceOptions(frameworks=("mini", "sfs"), database_url=f"sqlite:///{folder / 'c.sqlite'}",
                             seed_catalog=True)
    with TestClient(create_app(load_settings(home=home), options=options), base_url="http://localhost") as test_client:
        yield test_client


def test_api_case_paths(client: TestClient) -> None:
    documents = client.get("/ims/case/v1p1/CFDocuments")
    assert documents.status_code == 200
    [document] = documents.json()["CFDocuments"]
    assert document["title"] == "Skills for Success"
    package = client.get(document["CFPackageURI"]["uri"].replace("http://localhost", "")).json()
    assert schema_errors(package, CASE_SCHEMA) == []
    item = package["CFItems"][0]
    got = client.get(f"/ims/case/v1p1/CFItems/{item['identifier']}").json()
    assert got["CFDocumentURI"]["identifier"] == document["identifier"] and got["uri"] == item["uri"]
    association = package["CFAssociations"][0]
    assert client.get(f"/ims/case/v1p1/CFAssociations/{association['identifier']}").json()["identifier"] == association["identifier"]
    missing = client.get("/ims/case/v1p1/CFItems/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and "no CFItem" in missing.json()["error"]["message"]


def test_api_crosswalk_route(client: TestClient, crosswalk: Crosswalk, tmp_path: Path) -> None:
    sssom = client.get("/crosswalks/mini/sfs", params={"format": "sssom"})
    assert sssom.status_code == 200 and sssom.headers["content-type"].startswith("text/tab-separated-values")
    (tmp_path / "competencymap.service.sssom.tsv").write_text(sssom.text)
    check_sssom(tmp_path / "competencymap.service.sssom.tsv", len(crosswalk.relations))
    as_json = client.get("/crosswalks/mini/sfs", params={"format": "json"}).json()
    assert as_json["count"] == len(crosswalk.relations)
    assert client.get("/crosswalks/mini/sfs", params={"format": "skos"}).headers["content-type"].startswith("text/turtle")
    assert client.get("/crosswalks/mini/sfs", params={"format": "xml"}).status_code == 422
    assert client.get("/crosswalks/esco/sfs").status_code == 404  # not served here


def test_api_export_and_import(client: TestClient) -> None:
    credential = client.get("/credentials/1").json()
    outcome = credential["learning_outcomes"][0]["id"]
    added = client.post("/credentials/1/tags", json={"competency_iri": f"{SFS}numeracy", "framework": "sfs",
                                                      "outcome_id": outcome, "decided_by": "Dana"})
    assert added.status_code == 201, added.text
    accepted = sorted({t["competency_iri"] for t in client.get("/credentials/1/tags", params={"state": "accepted"}).json()["tags"]})
    assert f"{SFS}numeracy" in accepted  # beside the sample catalog's reviewed tags
    template = client.get("/credentials/1/export", params={"format": "openbadges-credential"}).json()
    assert schema_errors(template, OPENBADGES_SCHEMA) == []
    ctdl = client.get("/credentials/1/export", params={"format": "ctdl"})
    assert ctdl.headers["content-type"].startswith("application/ld+json")
    assert client.get("/credentials/1/export", params={"format": "pdf"}).status_code == 422
    for document in (template, ctdl.json()):
        imported = client.post("/credentials/import", json=document)
        assert imported.status_code == 201, imported.text
        body = imported.json()
        assert body["credential"]["title"] == credential["title"]
        assert sorted({t["competency_iri"] for t in body["tags"]}) == accepted  # one alignment per competency
    refused = client.post("/credentials/import", json={"type": ["Achievement"], "name": "x"})
    assert refused.status_code == 400 and "@context lacks" in refused.json()["error"]["message"]
    csv_text = client.get("/credentials/1/export", params={"format": "csv"}).text
    applied = client.post("/credentials/1/tags/import", content=csv_text.replace(",accepted,", ",rejected,"),
                          headers={"Content-Type": "text/csv"})
    assert applied.status_code == 200, applied.text
    assert {t["state"] for t in applied.json()["tags"]} == {"rejected"}
    bad = client.post("/credentials/1/tags/import", content="a,b\n", headers={"Content-Type": "text/csv"})
    assert bad.status_code == 400 and "not a competencymap tag CSV" in bad.json()["error"]["message"]


@pytest.mark.full
def test_full_esco_to_sfs_crosswalk(tmp_path: Path) -> None:
    settings = load_settings(home=PROJECT_ROOT / "indexes")
    app = CompetencyMap(settings)
    if any(app.index_status(name)["state"] != "ready" for name in ("esco", "sfs")):
        pytest.skip("the full ESCO and Skills for Success indexes are not built under indexes/")
    crosswalk = build_crosswalk(app, "esco", "sfs")
    path = tmp_path / "esco-sfs.sssom.tsv"
    path.write_text(to_sssom_tsv(crosswalk))
    check_sssom(path, len(crosswalk.relations))
    package = framework_to_cfpackage(app.framework("sfs"), crosswalk=crosswalk.relations,
                                     crosswalk_source=app.framework("esco"))
    assert schema_errors(package, CASE_SCHEMA) == []
