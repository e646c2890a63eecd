"""Scored crosswalks as SSSOM TSV, SKOS Turtle and plain JSON.

SSSOM (Simple Standard for Sharing Ontological Mappings): a TSV table whose YAML metadata block
(lines starting with ``#``) holds the prefix map (``curie_map``) and the mapping set's slots
(``mapping_set_id``, ``license``, ``mapping_tool``, sources and versions). Each row is one mapping:
``subject_id`` (a concept of the source framework) ``predicate_id`` (``skos:closeMatch`` or
``skos:relatedMatch``) ``object_id`` (a skill of the target framework), justified by
``semapv:SemanticSimilarityThresholdMatching`` with the cosine as ``confidence`` and
``similarity_score``.

SKOS Turtle: one ``skos:closeMatch``/``skos:relatedMatch`` triple per mapping, each annotated with
an ``owl:Axiom`` carrying the SSSOM confidence and justification, plus the concepts' labels.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import orjson
from rdflib import OWL, RDF, RDFS, SKOS, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS

from competencymap._common.errors import CompetencyMapError
from competencymap._common.version import package_version
from competencymap.exports.schemas import DocumentError
from competencymap.frameworks.sssom import MappingSet
from competencymap.model.framework import Framework, Relation

if TYPE_CHECKING:
    from competencymap.engine import CompetencyMap

SSSOM = Namespace("https://w3id.org/sssom/")
SEMAPV = Namespace("https://w3id.org/semapv/vocab/")
JUSTIFICATION = "semapv:SemanticSimilarityThresholdMatching"
MANUAL = "semapv:ManualMappingCuration"
AUTHORED_COLUMNS = ("subject_id", "subject_label", "predicate_id", "object_id", "object_label",
                    "mapping_justification", "author_id", "mapping_date", "comment")
SET_BASE = "https://w3id.org/competencymap/crosswalks/"
LICENSE = "https://opensource.org/licenses/MIT"
PREDICATES = {"closeMatch", "relatedMatch", "exactMatch", "broadMatch", "narrowMatch"}
COLUMNS = (
    "subject_id",
    "subject_label",
    "predicate_id",
    "object_id",
    "object_label",
    "mapping_justification",
    "confidence",
    "similarity_score",
    "similarity_measure",
)
FORMATS = ("sssom", "skos", "json")
DEFAULT_CROSSWALKS = {"sfs": "esco"}  # target framework -> the framework its computed crosswalk comes from
SIMILARITY = "cosine similarity of sentence embeddings (mean of preferred label and description)"


@dataclass(frozen=True)
class Crosswalk:
    """Scored mappings from `source` concepts to `target` skills, with what describes them."""

    source: Framework
    target: Framework
    relations: Sequence[Relation]
    tool_version: str = "0"
    mapping_date: date | None = None
    model: str = ""

    @property
    def set_id(self) -> str:
        return f"{SET_BASE}{self.source.id}-{self.target.id}"

    def prefixes(self) -> dict[str, str]:
        """CURIE prefix -> namespace for both frameworks' IRIs."""
        return {
            self.source.id: namespace_of([r.source for r in self.relations] or list(self.source.competencies)),
            self.target.id: namespace_of([r.target for r in self.relations] or list(self.target.competencies)),
        }

    def rows(self) -> list[dict]:
        """One dict per mapping, ordered by subject then score (best first)."""
        ordered = sorted(self.relations, key=lambda r: (r.source, -(r.score or 0.0), r.target))
        rows = []
        for relation in ordered:
            if relation.type not in PREDICATES:
                raise DocumentError(f"{relation.type!r} is not a SKOS mapping relation")
            rows.append({
                "subject_id": relation.source,
                "subject_label": _label(self.source, relation.source),
                "predicate_id": f"skos:{relation.type}",
                "object_id": relation.target,
                "object_label": _label(self.target, relation.target),
                "confidence": relation.score,
            })
        return rows


def namespace_of(iris: Sequence[str]) -> str:
    """The longest common namespace (up to a '/' or '#') of a set of IRIs."""
    if not iris:
        raise DocumentError("no IRIs to derive a namespace from")
    first, last = min(iris), max(iris)
    common = first[: next((i for i, (a, b) in enumerate(zip(first, last)) if a != b), min(len(first), len(last)))]
    cut = max(common.rfind("/"), common.rfind("#"))
    if cut < len("http://"):
        raise DocumentError(f"IRIs share no namespace (e.g. {first} and {last})")
    return common[: cut + 1]


def to_sssom_tsv(crosswalk: Crosswalk) -> str:
    """SSSOM TSV: the YAML metadata block, then the header and one row per mapping."""
    prefixes = crosswalk.prefixes()
    buffer = io.StringIO()
    for line in _metadata_lines(crosswalk, prefixes):
        buffer.write(f"#{line}\n")
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in crosswalk.rows():
        score = "" if row["confidence"] is None else repr(float(row["confidence"]))
        writer.writerow([
            _curie(row["subject_id"], prefixes),
            row["subject_label"],
            row["predicate_id"],
            _curie(row["object_id"], prefixes),
            row["object_label"],
            JUSTIFICATION,
            score,
            score,
            SIMILARITY if score else "",
        ])
    return buffer.getvalue()


def to_skos_turtle(crosswalk: Crosswalk) -> str:
    """SKOS mapping triples with an owl:Axiom per mapping carrying its confidence."""
    graph, mapping_set = _mapping_graph(crosswalk.prefixes(), crosswalk.set_id, _title(crosswalk), LICENSE)
    for row in crosswalk.rows():
        axiom = _add_mapping(graph, mapping_set, row, (crosswalk.source.language, crosswalk.target.language),
                             SEMAPV.SemanticSimilarityThresholdMatching)
        if row["confidence"] is not None:
            graph.add((axiom, SSSOM.confidence, Literal(float(row["confidence"]), datatype=XSD.double)))
    return graph.serialize(format="turtle")


def _mapping_graph(prefixes: dict[str, str], set_id: str, title: str, license_iri: str | None) -> tuple[Graph, URIRef]:
    """An RDF graph with the mapping set described and the usual prefixes bound; the set's node."""
    graph = Graph()
    for prefix, namespace in prefixes.items():
        graph.bind(prefix, Namespace(namespace))
    graph.bind("skos", SKOS)
    graph.bind("sssom", SSSOM)
    graph.bind("semapv", SEMAPV)
    graph.bind("dcterms", DCTERMS)
    mapping_set = URIRef(set_id)
    graph.add((mapping_set, RDF.type, SSSOM.MappingSet))
    graph.add((mapping_set, DCTERMS.title, Literal(title)))
    if license_iri:
        graph.add((mapping_set, DCTERMS.license, URIRef(license_iri)))
    return graph, mapping_set


def _add_mapping(graph: Graph, mapping_set: URIRef, row: dict, languages: tuple[str, str], justification: URIRef) -> BNode:
    """One SSSOM row (full IRIs) as a SKOS mapping triple, both labels and its owl:Axiom (returned,
    for the caller's own annotations)."""
    subject, obj = URIRef(row["subject_id"]), URIRef(row["object_id"])
    predicate: URIRef = SKOS[row["predicate_id"].removeprefix("skos:")]
    graph.add((subject, predicate, obj))
    graph.add((subject, SKOS.prefLabel, Literal(row["subject_label"], lang=languages[0])))
    graph.add((obj, SKOS.prefLabel, Literal(row["object_label"], lang=languages[1])))
    axiom = BNode()
    graph.add((axiom, RDF.type, OWL.Axiom))
    graph.add((axiom, OWL.annotatedSource, subject))
    graph.add((axiom, OWL.annotatedProperty, predicate))
    graph.add((axiom, OWL.annotatedTarget, obj))
    graph.add((axiom, SSSOM.mapping_justification, justification))
    graph.add((axiom, DCTERMS.isPartOf, mapping_set))
    return axiom


def to_json(crosswalk: Crosswalk) -> dict:
    """The crosswalk as plain JSON: set metadata and one object per mapping (full IRIs)."""
    return {
        "mapping_set_id": crosswalk.set_id,
        "source": crosswalk.source.id,
        "target": crosswalk.target.id,
        "mapping_justification": JUSTIFICATION,
        "count": len(crosswalk.relations),
        "mappings": crosswalk.rows(),
    }


def _metadata_lines(crosswalk: Crosswalk, prefixes: dict[str, str]) -> list[str]:
    source, target = crosswalk.source, crosswalk.target
    lines = ["curie_map:"]
    for prefix, namespace in {**prefixes, "skos": str(SKOS), "semapv": str(SEMAPV)}.items():
        lines.append(f"  {prefix}: {_yaml(namespace)}")
    fields = {
        "mapping_set_id": crosswalk.set_id,
        "mapping_set_title": _title(crosswalk),
        "mapping_set_description": (
            f"Computed, not curated: each {source.title} concept's best {target.title} skill by "
            f"embedding cosine (closeMatch from 0.55, relatedMatch from 0.40); see docs/design.md note 7."
        ),
        "license": LICENSE,
        "mapping_tool": "competencymap",
        "mapping_tool_version": crosswalk.tool_version,
        "subject_source": source.iri,
        "subject_source_version": source.version,
        "object_source": target.iri,
        "object_source_version": target.version,
        "mapping_date": (crosswalk.mapping_date or date.today()).isoformat(),
    }
    if crosswalk.model:
        fields["comment"] = f"embedding model: {crosswalk.model}"
    for key in ("subject_source", "object_source"):
        if not str(fields[key]).startswith(("http://", "https://")):  # SSSOM reads any other IRI as a CURIE
            fields[key] = ""
    for key, value in fields.items():
        if value:
            lines.append(f"{key}: {_yaml(str(value))}")
    return lines


def _title(crosswalk: Crosswalk) -> str:
    return f"{crosswalk.source.title} to {crosswalk.target.title} crosswalk (computed)"


def _yaml(value: str) -> str:
    """A YAML scalar: quoted, with backslashes and quotes escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _curie(iri: str, prefixes: dict[str, str]) -> str:
    for prefix, namespace in prefixes.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    raise DocumentError(f"IRI {iri} is in none of the namespaces {sorted(prefixes.values())}")


def _label(framework: Framework, iri: str) -> str:
    concept = framework.concept(iri)
    return concept.pref_label if concept is not None else ""


def _local(iri: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in iri.rsplit("/", 1)[-1])


def build_crosswalk(engine: CompetencyMap, source: str, target: str) -> Crosswalk:
    """The engine's computed crosswalk with what SSSOM needs to describe it."""
    return Crosswalk(
        source=engine.framework(source),
        target=engine.framework(target),
        relations=engine.crosswalk(source, target),
        tool_version=package_version(),
        model=engine.encoder.name,
    )


def render(crosswalk: Crosswalk, fmt: str) -> str:
    """The crosswalk in one of FORMATS, as text."""
    if fmt == "sssom":
        return to_sssom_tsv(crosswalk)
    if fmt == "skos":
        return to_skos_turtle(crosswalk)
    if fmt == "json":
        return orjson.dumps(to_json(crosswalk), option=orjson.OPT_INDENT_2).decode() + "\n"
    raise CompetencyMapError(f"unknown crosswalk format {fmt!r}; use one of {', '.join(FORMATS)}")


# -- the authored crosswalk ------------------------------------------------------------------------


def authored_rows(mappings: MappingSet) -> list[dict]:
    """One dict per curated mapping (full IRIs), in file order."""
    return [{"subject_id": m.subject, "subject_label": m.subject_label, "predicate_id": f"skos:{m.predicate}",
             "object_id": m.object, "object_label": m.object_label, "mapping_justification": m.justification,
             "author_id": m.author, "mapping_date": m.date, "comment": m.comment} for m in mappings.mappings]


def authored_to_sssom_tsv(mappings: MappingSet) -> str:
    """The authored set as SSSOM TSV: its metadata block (curie_map first) and its rows as CURIEs."""
    prefixes = dict(mappings.metadata.get("curie_map") or {})
    buffer = io.StringIO()
    buffer.write("#curie_map:\n")
    for prefix, namespace in prefixes.items():
        buffer.write(f"#  {prefix}: {_yaml(namespace)}\n")
    for key, value in mappings.metadata.items():
        if key == "curie_map" or value is None:
            continue
        if isinstance(value, list):
            buffer.write(f"#{key}:\n" + "".join(f"#  - {_yaml(str(item))}\n" for item in value))
        else:
            buffer.write(f"#{key}: {_yaml(str(value))}\n")
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(AUTHORED_COLUMNS)
    by_length = sorted(prefixes.items(), key=lambda item: -len(item[1]))  # the most specific namespace first
    namespaces = {p: n for p, n in by_length if p not in ("skos", "semapv")}
    for row in authored_rows(mappings):
        row = {**row, "subject_id": _curie(row["subject_id"], namespaces), "object_id": _curie(row["object_id"], namespaces)}
        writer.writerow([row[column] for column in AUTHORED_COLUMNS])
    return buffer.getvalue()


def authored_to_skos_turtle(mappings: MappingSet) -> str:
    """SKOS mapping triples, each with an owl:Axiom carrying its justification, author and comment."""
    license_iri = mappings.metadata.get("license")
    graph, mapping_set = _mapping_graph({}, mappings.set_id, str(mappings.metadata.get("mapping_set_title", "")),
                                        str(license_iri) if license_iri else None)
    for row in authored_rows(mappings):
        axiom = _add_mapping(graph, mapping_set, row, ("en", "en"), SEMAPV.ManualMappingCuration)
        if row["author_id"]:
            graph.add((axiom, DCTERMS.creator, URIRef(row["author_id"])))
        if row["comment"]:
            graph.add((axiom, RDFS.comment, Literal(row["comment"], lang="en")))
    return graph.serialize(format="turtle")


def render_authored(mappings: MappingSet, fmt: str) -> str:
    """The authored crosswalk in one of FORMATS, as text."""
    if fmt == "sssom":
        return authored_to_sssom_tsv(mappings)
    if fmt == "skos":
        return authored_to_skos_turtle(mappings)
    if fmt == "json":
        document = {"mapping_set_id": mappings.set_id, "mapping_justification": MANUAL,
                    "metadata": {k: v for k, v in mappings.metadata.items() if k != "curie_map"},
                    "count": len(mappings.mappings), "mappings": authored_rows(mappings)}
        return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n"
    raise CompetencyMapError(f"unknown crosswalk format {fmt!r}; use one of {', '.join(FORMATS)}")
