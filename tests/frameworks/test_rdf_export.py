"""RDF export: ESCO round trips through load_esco_rdf; other frameworks as SKOS + cm vocabulary."""

from __future__ import annotations

import dataclasses
import gzip
from pathlib import Path

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, parse

from competencymap._common.config import PROJECT_ROOT
from competencymap._common.errors import FrameworkError
from competencymap.frameworks.esco_csv import load_esco_csv
from competencymap.frameworks.esco_rdf import load_esco_rdf, looks_like_esco_rdf
from competencymap.frameworks.esco_vocab import CM, SKOS
from competencymap.frameworks.rdf_export import export_framework
from competencymap.model.framework import (
    KIND_COMPONENT,
    KIND_GROUP,
    KIND_OCCUPATION,
    KIND_SKILL,
    REL_ESSENTIAL,
    REL_OPTIONAL,
    Competency,
    Framework,
    Level,
    Occupation,
    Relation,
)

DATA = Path(__file__).resolve().parents[1] / "data"
EX = "http://example.org/demo/"
ESCO_MODEL = "http://data.europa.eu/esco/model#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@pytest.fixture(scope="module")
def excerpt():
    framework = load_esco_csv(DATA / "esco_excerpt_csv")
    framework.version = "1.1.1"
    return framework


def _same(a: Framework, b: Framework) -> None:
    assert a.competencies == b.competencies
    assert a.occupations == b.occupations
    assert a.relations == b.relations
    assert (a.version, a.language, a.iri, a.licence) == (b.version, b.language, b.iri, b.licence)


# -- ESCO ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt, name", [("turtle", "esco.ttl"), ("ntriples", "esco.nt"), ("rdfxml", "esco.rdf"),
                                       ("turtle", "esco.ttl.gz")])
def test_esco_round_trip(tmp_path, excerpt, fmt, name):
    out = export_framework(excerpt, tmp_path / name, format=fmt)
    assert out == tmp_path / name and looks_like_esco_rdf(out)
    _same(load_esco_rdf(out), excerpt)
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left


def test_esco_export_is_shaped_like_the_dump(tmp_path, excerpt):
    text = export_framework(excerpt, tmp_path / "esco.ttl").read_text(encoding="utf-8")
    assert "@prefix esco: <http://data.europa.eu/esco/model#>" in text
    for needle in ("esco:Skill", "esco:SkillGroup", "esco:Occupation", "skosxl:literalForm", "esco:NodeLiteral",
                   "esco:isEssentialSkillFor", "esco:relatedOptionalSkill", "esco:AssociationObject",
                   "<http://data.europa.eu/esco/relationship-type/optional-skill>",
                   "<http://data.europa.eu/esco/skill-type/knowledge>",
                   "<http://data.europa.eu/esco/skill-reuse-level/cross-sector>",
                   'owl:versionInfo "1.1.1"', "esco:memberOfISCOGroup <http://data.europa.eu/esco/isco/C7312>"):
        assert needle in text, needle


WITHDRAWN = "http://data.europa.eu/esco/occupation/a9e54177-a185-404d-b6e6-15663d31137e"
GUITAR_TYPES = "http://data.europa.eu/esco/skill/827aedbf-ab78-43f7-86e3-62d99a449a02"


def test_esco_round_trip_keeps_relations_of_a_withdrawn_occupation(tmp_path, excerpt):
    """A relation whose occupation is not in the framework (as v1.1.1's withdrawn one) comes back,
    and nothing is made up for the occupation: only its class and relation links are written."""
    relations = sorted([*excerpt.relations, Relation(WITHDRAWN, GUITAR_TYPES, REL_ESSENTIAL)],
                       key=lambda r: (r.source, r.target, r.type))
    framework = dataclasses.replace(excerpt, relations=relations)
    out = export_framework(framework, tmp_path / "esco.nt", format="ntriples")
    _same(load_esco_rdf(out), framework)
    about = {(p, o) for s, p, o in _graph(out, RdfFormat.N_TRIPLES) if s == _n(WITHDRAWN)}
    assert about == {(_n(RDF_TYPE), _n(ESCO_MODEL + "Occupation")),
                     (_n(ESCO_MODEL + "relatedEssentialSkill"), _n(GUITAR_TYPES))}


def test_french_round_trip(tmp_path):
    french = load_esco_rdf(DATA / "esco_excerpt.ttl", language="fr")
    out = export_framework(french, tmp_path, format="ntriples")
    assert out == tmp_path / "esco.nt"
    assert '"types de guitares"@fr' in out.read_text(encoding="utf-8")
    _same(load_esco_rdf(out, language="fr"), french)


def test_export_is_deterministic(tmp_path, excerpt):
    first = export_framework(excerpt, tmp_path / "a.nt", format="ntriples").read_bytes()
    assert export_framework(excerpt, tmp_path / "b.nt", format="ntriples").read_bytes() == first


def test_unknown_format(tmp_path, excerpt):
    with pytest.raises(FrameworkError, match="unknown RDF format 'json'"):
        export_framework(excerpt, tmp_path / "x.json", format="json")


def test_bad_iri_is_an_error_and_leaves_no_file(tmp_path, excerpt):
    broken = dataclasses.replace(excerpt, relations=[Relation("not an iri", "x", "closeMatch")])
    with pytest.raises(FrameworkError, match="not a valid IRI: 'not an iri'"):
        export_framework(broken, tmp_path / "broken.ttl")
    assert list(tmp_path.iterdir()) == []


# -- SKOS ---------------------------------------------------------------------------------


def _demo() -> Framework:
    group = Competency(EX + "g", "demo", KIND_GROUP, "Thinking", code="G1")
    skill = Competency(EX + "s", "demo", KIND_SKILL, "Problem solving", alt_labels=("solving problems",),
                       hidden_labels=("problm solving",), description='Finding "good" answers.\nOften.',
                       broader=(EX + "g",), reuse_level="transversal", schemes=(EX + "extra",),
                       scope_note="Not maths.")
    part = Competency(EX + "c", "demo", KIND_COMPONENT, "Defining the problem", broader=(EX + "s",),
                      status="draft")
    job = Occupation(EX + "o", "demo", "Analyst", KIND_OCCUPATION, code="A1", isco_group="2511")
    return Framework(
        id="demo", iri=EX + "scheme", title="Demo skills", version="2", language="en", source="demo.csv",
        licence="CC BY 4.0", competencies={c.iri: c for c in (group, skill, part)}, occupations={job.iri: job},
        relations=[Relation(EX + "s", "http://data.europa.eu/esco/skill/x", "exactMatch"),
                   Relation(EX + "s", "http://data.europa.eu/esco/skill/y", "closeMatch", 0.83),
                   Relation(EX + "o", EX + "s", "essential")],
        levels=[Level(EX + "s/level/2", EX + "s", 2, "Level 2", "Works alone.")],
    )


def _graph(path: Path, fmt: RdfFormat = RdfFormat.TURTLE) -> set[tuple]:
    return {(q.subject, q.predicate, q.object) for q in parse(path=str(path), format=fmt)}


def _n(iri: str) -> NamedNode:
    return NamedNode(iri)


def _objects(graph: set[tuple], subject, predicate: str) -> set:
    return {o for s, p, o in graph if s == subject and p == _n(predicate)}


def test_skos_export(tmp_path):
    out = export_framework(_demo(), tmp_path, format="turtle")
    assert out.name == "demo.ttl" and not looks_like_esco_rdf(out)
    g = _graph(out)
    scheme, skill, part, job = _n(EX + "scheme"), _n(EX + "s"), _n(EX + "c"), _n(EX + "o")
    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    assert _objects(g, scheme, rdf_type) == {_n(SKOS + "ConceptScheme")}
    assert _objects(g, scheme, "http://purl.org/dc/terms/identifier") == {Literal("demo")}
    assert _objects(g, scheme, "http://www.w3.org/2002/07/owl#versionInfo") == {Literal("2")}
    assert _objects(g, scheme, CM + "language") == {Literal("en")}
    assert _objects(g, skill, SKOS + "prefLabel") == {Literal("Problem solving", language="en")}
    assert _objects(g, skill, SKOS + "altLabel") == {Literal("solving problems", language="en")}
    assert _objects(g, skill, SKOS + "hiddenLabel") == {Literal("problm solving", language="en")}
    assert _objects(g, skill, SKOS + "definition") == {Literal('Finding "good" answers.\nOften.', language="en")}
    assert _objects(g, skill, SKOS + "scopeNote") == {Literal("Not maths.", language="en")}
    assert _objects(g, skill, SKOS + "broader") == {_n(EX + "g")}
    assert _objects(g, skill, SKOS + "inScheme") == {scheme, _n(EX + "extra")}
    assert _objects(g, skill, CM + "kind") == {Literal("skill/competence")}
    assert _objects(g, skill, CM + "reuseLevel") == {Literal("transversal")}
    assert _objects(g, _n(EX + "g"), SKOS + "topConceptOf") == {scheme}
    assert _objects(g, _n(EX + "g"), SKOS + "notation") == {Literal("G1")}
    assert _objects(g, part, CM + "kind") == {Literal("component")}
    assert _objects(g, part, CM + "status") == {Literal("draft")}
    assert _n(CM + "Occupation") in _objects(g, job, rdf_type)
    assert _objects(g, job, CM + "iscoGroup") == {Literal("2511")}
    assert _objects(g, skill, SKOS + "exactMatch") == {_n("http://data.europa.eu/esco/skill/x")}
    assert _objects(g, skill, SKOS + "closeMatch") == {_n("http://data.europa.eu/esco/skill/y")}


def test_skos_export_scores_and_levels(tmp_path):
    g = _graph(export_framework(_demo(), tmp_path / "demo.nt", format="ntriples"), RdfFormat.N_TRIPLES)
    nodes = {s for s, p, o in g if o == _n(CM + "Relation")}
    assert len(nodes) == 2 and all(isinstance(node, BlankNode) for node in nodes)
    by_type = {next(iter(_objects(g, n, CM + "relationType"))).value: n for n in nodes}
    scored = by_type["closeMatch"]
    assert _objects(g, scored, CM + "source") == {_n(EX + "s")}
    assert _objects(g, scored, CM + "target") == {_n("http://data.europa.eu/esco/skill/y")}
    assert _objects(g, scored, CM + "score") == {Literal("0.83", datatype=_n("http://www.w3.org/2001/XMLSchema#double"))}
    assert _objects(g, by_type["essential"], CM + "score") == set()
    level = _n(EX + "s/level/2")
    assert _objects(g, level, CM + "levelOf") == {_n(EX + "s")}
    assert _objects(g, level, CM + "rank") == {Literal("2", datatype=_n("http://www.w3.org/2001/XMLSchema#integer"))}
    assert _objects(g, level, SKOS + "prefLabel") == {Literal("Level 2", language="en")}
    assert _objects(g, level, SKOS + "definition") == {Literal("Works alone.", language="en")}


def test_skos_export_as_rdfxml(tmp_path):
    turtle = _graph(export_framework(_demo(), tmp_path / "demo.ttl"))
    xml = export_framework(_demo(), tmp_path / "demo.rdf", format="rdfxml")
    assert len(_graph(xml, RdfFormat.RDF_XML)) == len(turtle)


def test_gzip_output(tmp_path):
    out = export_framework(_demo(), tmp_path / "demo.nt.gz", format="ntriples")
    assert gzip.decompress(out.read_bytes()).startswith(b"<http://example.org/demo/scheme>")


# -- the full release ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def release():
    return load_esco_csv(PROJECT_ROOT / "data" / "esco")


@pytest.mark.full
@pytest.mark.parametrize("fmt, name", [("ntriples", "esco.nt"), ("turtle", "esco.ttl")])
def test_full_release_round_trip(tmp_path, release, fmt, name):
    out = export_framework(release, tmp_path / name, format=fmt)
    again = load_esco_rdf(out)
    assert again.stats() == release.stats()
    by_type = again.stats()["relations_by_type"]
    assert by_type[REL_ESSENTIAL] + by_type[REL_OPTIONAL] == 123_855  # with the withdrawn occupation's 67
    _same(again, release)
    assert again.version == "1.1.1"
