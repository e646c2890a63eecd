"""CTDL JSON-LD: the terms Credential Engine uses, valid JSON-LD, read back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF

from competencymap.catalog import Catalog, read_credentials_file
from competencymap.exports import DocumentError, credential_to_ctdl, store_credential
from competencymap.exports.ctdl import CTDL_CONTEXT, iso_hours
from competencymap.exports.readers import parse_ctdl, read_document

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "catalog" / "sample_credentials.json"
CETERMS = Namespace("https://purl.org/ctdl/terms/")
PYTHON = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"
NUMERACY = "https://w3id.org/competencymap/sfs/numeracy"
# The part of the CTDL JSON-LD context (https://credreg.net/ctdl/schema/context/json) these
# documents use: the namespaces and the language-map terms. Given inline so rdflib reads the
# documents without a network.
LANGUAGE_TERMS = ("name", "description", "targetNodeName", "frameworkName", "keyword", "condition")
TEST_CONTEXT = {
    "ceterms": "https://purl.org/ctdl/terms/",
    "credentialStat": "https://purl.org/ctdl/vocabs/credentialStat/",
    "deliveryType": "https://purl.org/ctdl/vocabs/deliveryType/",
    **{f"ceterms:{term}": {"@container": "@language"} for term in LANGUAGE_TERMS},
    **{f"ceterms:{term}": {"@type": "@id"} for term in ("targetNode", "framework", "ownedBy", "offeredBy",
                                                       "recognizedBy", "subjectWebpage")},
}


@pytest.fixture()
def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    catalog.import_credentials(read_credentials_file(SAMPLE))
    credential = catalog.get_credential(1)
    tags = catalog.add_suggested_tags(credential.id, credential.learning_outcomes[0].id, [
        {"competency_iri": PYTHON, "framework": "esco", "label": "Python (computer programming)", "score": 0.9},
        {"competency_iri": NUMERACY, "framework": "sfs", "label": "Numeracy", "score": 0.6},
    ])
    for tag in tags:
        catalog.set_tag_state(tag.id, "accepted", "ana")
    yield catalog
    catalog.close()


def as_graph(doc: dict) -> Graph:
    local = {"@context": TEST_CONTEXT, "@graph": doc["@graph"]}  # the graph's own name left out: default graph
    return Graph().parse(data=json.dumps(local), format="json-ld")


def test_credential_uses_the_ctdl_terms(catalog: Catalog) -> None:
    credential = catalog.get_credential(1)
    doc = credential_to_ctdl(credential, catalog.accepted_competencies(1))
    assert doc["@context"] == CTDL_CONTEXT
    node, owner, *partners = doc["@graph"]
    assert node["@type"] == "ceterms:MicroCredential"
    assert node["ceterms:ctid"] == f"ce-{credential.uid}"
    assert node["@id"] == f"https://credentialengineregistry.org/resources/ce-{credential.uid}"
    assert node["ceterms:name"] == {"en": credential.title}
    assert node["ceterms:ownedBy"] == [owner["@id"]] and owner["@type"] == "ceterms:CredentialOrganization"
    assert owner["ceterms:name"] == {"en": credential.issuer}
    assert node["ceterms:estimatedDuration"][0]["ceterms:exactDuration"] == "PT42H"
    assert node["ceterms:learningDeliveryType"][0]["ceterms:targetNode"] == "deliveryType:OnlineOnly"
    assert node["ceterms:isNonCredit"] is True
    assert [p["ceterms:name"] for p in partners] == [{"en": "Harbourfront Tech Employers Network"}]
    [requires] = node["ceterms:requires"]
    assert requires["@type"] == "ceterms:ConditionProfile"
    assert requires["ceterms:condition"]["en"] == [o.text for o in credential.learning_outcomes]
    assert requires["ceterms:targetCompetency"] == [
        {
            "@type": "ceterms:CredentialAlignmentObject",
            "ceterms:targetNode": PYTHON,
            "ceterms:targetNodeName": {"en": "Python (computer programming)"},
            "ceterms:codedNotation": "ccd0a1d9-afda-43d9-b901-96344886e14d",
            "ceterms:frameworkName": {"en": "ESCO"},
            "ceterms:framework": "http://data.europa.eu/esco/concept-scheme/skills",
        },
        {
            "@type": "ceterms:CredentialAlignmentObject",
            "ceterms:targetNode": NUMERACY,
            "ceterms:targetNodeName": {"en": "Numeracy"},
            "ceterms:codedNotation": "numeracy",
            "ceterms:frameworkName": {"en": "Skills for Success"},
            "ceterms:framework": "https://w3id.org/competencymap/sfs/",
        },
    ]


def test_the_document_is_json_ld_with_the_expected_triples(catalog: Catalog) -> None:
    credential = catalog.get_credential(1)
    graph = as_graph(credential_to_ctdl(credential, catalog.accepted_competencies(1)))
    subject = URIRef(f"https://credentialengineregistry.org/resources/ce-{credential.uid}")
    assert (subject, RDF.type, CETERMS.MicroCredential) in graph
    assert (subject, CETERMS.name, Literal(credential.title, lang="en")) in graph
    targets = {
        graph.value(alignment, CETERMS.targetNode)
        for profile in graph.objects(subject, CETERMS.requires)
        for alignment in graph.objects(profile, CETERMS.targetCompetency)
    }
    assert targets == {URIRef(PYTHON), URIRef(NUMERACY)}
    owner = graph.value(subject, CETERMS.ownedBy)
    assert (owner, CETERMS.name, Literal(credential.issuer, lang="en")) in graph


def test_every_sample_credential_round_trips(catalog: Catalog) -> None:
    for original in catalog.list_credentials():
        first = credential_to_ctdl(original, catalog.accepted_competencies(original.id))
        copy_, _tags = store_credential(catalog, parse_ctdl(json.loads(json.dumps(first))), decided_by="import")
        second = credential_to_ctdl(copy_, catalog.accepted_competencies(copy_.id))
        strip = lambda node: {k: v for k, v in node.items() if k not in ("@id", "ceterms:ctid")}  # noqa: E731 - a one-line view used in the asserts below
        assert strip(first["@graph"][0]) == strip(second["@graph"][0]), original.title
        assert first["@graph"][1:] == second["@graph"][1:]
        assert [o.text for o in copy_.learning_outcomes] == [o.text for o in original.learning_outcomes]


def test_a_registry_style_node_without_our_conventions(tmp_path: Path) -> None:
    node = {
        "@context": "https://credreg.net/ctdl/schema/context/json",
        "@id": "https://credentialengineregistry.org/resources/ce-6a1a4a6f-70c4-4d2e-9a1d-0f8a2ebc3b8e",
        "@type": "ceterms:Certificate",
        "ceterms:ctid": "ce-6a1a4a6f-70c4-4d2e-9a1d-0f8a2ebc3b8e",
        "ceterms:name": {"en-US": "Welding Fundamentals"},
        "ceterms:description": {"en-US": "Shielded metal arc welding in flat and horizontal positions."},
        "ceterms:inLanguage": ["en-US"],
        "ceterms:ownedBy": [{"@type": "ceterms:CredentialOrganization", "ceterms:name": {"en-US": "Example Tech"}}],
        "ceterms:estimatedDuration": [{"@type": "ceterms:DurationProfile", "ceterms:exactDuration": "PT90H30M"}],
        "ceterms:learningDeliveryType": [{"ceterms:targetNode": "deliveryType:InPerson"}],
        "ceterms:requires": [{"@type": "ceterms:ConditionProfile", "ceterms:description": {"en-US": "Pass the test."},
                              "ceterms:targetCompetency": [
                                  {"ceterms:targetNode": "https://example.org/competencies/w1",
                                   "ceterms:targetNodeName": {"en-US": "Strike an arc"},
                                   "ceterms:frameworkName": {"en-US": "Example Welding Framework"}},
                                  {"ceterms:targetNodeName": {"en-US": "no IRI"}}]}],
    }
    path = tmp_path / "weld.json"
    path.write_text(json.dumps(node))
    with pytest.raises(DocumentError, match="weld.json: the CTDL document states no assessment type; give --assessment"):
        read_document(path)
    imported = read_document(path, defaults={"assessment_type": "practical test"})
    credential = imported.credential
    assert (credential.title, credential.issuer, credential.duration_hours) == ("Welding Fundamentals", "Example Tech", 90.5)
    assert (credential.delivery_mode, credential.credit, credential.language) == ("in_person", "credit", "en")
    assert [(t.competency_iri, t.framework, t.label) for t in imported.alignments] == [
        ("https://example.org/competencies/w1", "example-welding-framework", "Strike an arc")]
    assert imported.notes == ["targetCompetency #2: no target IRI; not kept"]


def test_not_ctdl(tmp_path: Path) -> None:
    path = tmp_path / "org.json"
    path.write_text(json.dumps({"@graph": [{"@type": "ceterms:CredentialOrganization", "@id": "_:a"}]}))
    with pytest.raises(DocumentError, match=r"org.json: not a CTDL credential: no ceterms credential class"):
        read_document(path)
    path.write_text(json.dumps({"@type": "ceterms:Badge", "ceterms:name": "B", "ceterms:description": "d",
                                "ceterms:estimatedDuration": [{"ceterms:exactDuration": "P6W"}]}))
    with pytest.raises(DocumentError, match="states no issuer"):
        read_document(path, format="ctdl")
    with pytest.raises(DocumentError, match="states no duration hours; give --duration-hours"):
        read_document(path, format="ctdl", defaults={"issuer": "X"})


def test_iso_hours() -> None:
    assert [iso_hours(h) for h in (42, 1.5, 0.25, 36.0)] == ["PT42H", "PT1H30M", "PT15M", "PT36H"]
