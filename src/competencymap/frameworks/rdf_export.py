"""Write a :class:`~competencymap.model.framework.Framework` as RDF (Turtle, N-Triples or RDF/XML).

ESCO (framework id ``esco``) is written in the ESCO ontology, shaped as the ESCO portal's
dump is, so that ``load_esco_rdf(export)`` equals the framework that was exported:

* skills ``a skos:Concept, esco:MemberConcept, esco:Skill`` with ``esco:skillType``
  (``<http://data.europa.eu/esco/skill-type/skill|knowledge>``, none when untyped) and
  ``esco:skillReuseLevel`` (``<.../skill-reuse-level/cross-sector>`` ...); skill groups
  ``a skos:Concept, esco:SkillGroup``; occupations ``a skos:Concept, esco:MemberConcept,
  esco:Occupation`` with ``esco:memberOfISCOGroup <.../isco/C1234>``; ISCO groups
  ``a skos:Concept`` in the ``isco`` and ``occupations`` schemes, as the dump has them;
* labels twice, as in the dump: ``skos:prefLabel/altLabel/hiddenLabel "..."@lang`` and
  ``skosxl:prefLabel/altLabel/hiddenLabel`` pointing to ``skosxl:Label`` nodes with a
  ``skosxl:literalForm``;
* ``dct:description`` and ``skos:scopeNote`` point to ``esco:NodeLiteral`` nodes
  (``esco:language``, ``esco:nodeLiteral``); ``iso-thes:status``; ``skos:broader``;
  ``skos:inScheme``; ``skos:notation`` for codes;
* every occupation-skill and skill-skill relation three times, as the dump has it:
  ``skill esco:isEssentialSkillFor|isOptionalSkillFor source``, ``source
  esco:relatedEssentialSkill|relatedOptionalSkill skill`` and an ``esco:AssociationObject``
  (``esco:isAssociationFor source``, ``esco:target skill``, ``dct:type
  <http://data.europa.eu/esco/relationship-type/essential-skill|optional-skill>``);
* the version as ``owl:versionInfo`` of the scheme ``<http://data.europa.eu/esco/concept-scheme/skills>``;
* a relation end that is not a concept of the Framework (a withdrawn concept, as v1.1.1's
  one withdrawn occupation) only as ``a esco:Occupation`` (source of an occupation-skill
  relation) or ``a esco:Skill``, with its relation links: no label, status or scheme is
  made up for it. load_esco_rdf keeps the relations of such a concept.

Label, NodeLiteral and association nodes are blank nodes (the dump gives them IRIs under
data.europa.eu; minting such IRIs here would pass them off as ESCO's). What the
Framework does not hold is not written (dct:modified, label roles, esco:targetFramework,
esco:hasAssociation, other languages).

Every other framework is written as SKOS plus a small project vocabulary,
``cm: <https://w3id.org/competencymap/vocab#>``. A reader (frameworks/skos.py) restores
the Framework from:

* the scheme ``<framework.iri> a skos:ConceptScheme`` with ``dct:identifier`` (the id),
  ``dct:title``, ``owl:versionInfo``, ``dct:license``, ``dct:source`` (plain literals,
  each only when set) and ``cm:language`` (the label language);
* each competency ``a skos:Concept`` with ``skos:inScheme <framework.iri>`` (plus one
  ``skos:inScheme`` per entry of ``schemes``), ``skos:prefLabel/altLabel/hiddenLabel``
  (language-tagged), ``skos:definition`` (description), ``skos:scopeNote``,
  ``skos:broader``, ``skos:topConceptOf <framework.iri>`` when it has no broader,
  ``skos:notation`` (code), ``cm:kind`` (e.g. "skill group", "component"), ``cm:status``
  and ``cm:reuseLevel`` (plain literals);
* each occupation ``a skos:Concept, cm:Occupation`` with the same label, definition,
  broader, notation, kind and status properties and ``cm:iscoGroup`` (plain literal);
* a relation whose type is one of model.MAPPING_TYPES as ``source skos:<type> target``;
  when it has a score, and for every other relation type, also (or only) a node
  ``[] a cm:Relation ; cm:source <s> ; cm:target <t> ; cm:relationType "type" ;
  cm:score "0.83"^^xsd:double`` (score only when set). A cm:Relation node and a plain
  ``skos:*Match`` triple with the same source, target and type are one Relation;
* each Level as ``<level.iri> a cm:ProficiencyLevel ; cm:levelOf <competency> ;
  cm:rank "2"^^xsd:integer ; skos:prefLabel "label"@lang ; skos:definition "..."@lang``.

Triples are produced as N-Triples lines (every distinct IRI and language tag is checked
once with pyoxigraph); Turtle and RDF/XML are made from that stream by pyoxigraph's
serializer. Files are written to a temporary name and renamed, so a failed export
leaves no half-written file. An ``out`` ending in ``.gz`` is gzipped.
"""


from __future__ import annotations

import gzip
import io
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from pyoxigraph import Literal, NamedNode, RdfFormat, parse, serialize

from competencymap._common.errors import FrameworkError
from competencymap.frameworks import esco_vocab as V  # noqa: N812 - the vocabulary reads as V.SKOS_PREF, V.ESCO_SKILL
from competencymap.model.framework import (
    KIND_GROUP,
    KIND_ISCO_GROUP,
    KIND_KNOWLEDGE,
    KIND_SKILL,
    MAPPING_TYPES,
    REL_ESSENTIAL,
    REL_OPTIONAL,
    REL_SKILL_ESSENTIAL,
    REL_SKILL_OPTIONAL,
    Competency,
    Framework,
    Level,
    Occupation,
    Relation,
)

FORMATS = {
    "turtle": (RdfFormat.TURTLE, ".ttl"),
    "ntriples": (RdfFormat.N_TRIPLES, ".nt"),
    "rdfxml": (RdfFormat.RDF_XML, ".rdf"),
}
XSD_DOUBLE = V.XSD + "double"
XSD_INTEGER = V.XSD + "integer"
ESCO_STRENGTH = {REL_ESSENTIAL: "essential", REL_SKILL_ESSENTIAL: "essential",
                 REL_OPTIONAL: "optional", REL_SKILL_OPTIONAL: "optional"}
SKILL_TYPE_IRIS = {KIND_SKILL: V.SKILL_TYPE_SKILL, KIND_KNOWLEDGE: V.SKILL_TYPE_KNOWLEDGE}
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def _term(iri: str) -> str:
    return f"<{iri}>"


# Predicates and classes, written once.
TYPE = _term(V.RDF_TYPE)
P = {name: _term(iri) for name, iri in vars(V).items() if isinstance(iri, str) and iri.startswith(("http", "https"))}


class _Lines:
    """Builds N-Triples terms; checks each distinct IRI and the language tag once."""

    def __init__(self, language: str) -> None:
        try:
            Literal("x", language=language)
        except ValueError:
            raise FrameworkError(f"not a valid language tag: {language!r}") from None
        self.tag = f"@{language}"
        self.iris: dict[str, str] = {}
        self.count = 0

    def iri(self, value: str) -> str:
        term = self.iris.get(value)
        if term is None:
            try:
                NamedNode(value)
            except ValueError:
                raise FrameworkError(f"not a valid IRI: {value!r}") from None
            term = self.iris[value] = f"<{value}>"
        return term

    def blank(self, prefix: str) -> str:
        """Blank nodes numbered in writing order, so the same framework gives the same file."""
        self.count += 1
        return f"_:{prefix}{self.count}"

    def text(self, value: str) -> str:
        return f'"{value.translate(_ESCAPES)}"{self.tag}'

    @staticmethod
    def plain(value: str) -> str:
        return f'"{value.translate(_ESCAPES)}"'

    @staticmethod
    def typed(value: str, datatype: str) -> str:
        return f'"{value.translate(_ESCAPES)}"^^<{datatype}>'


def _t(subject: str, predicate: str, obj: str) -> str:
    return f"{subject} {predicate} {obj} .\n"


# -- ESCO ---------------------------------------------------------------------------------


def _esco_labels(s: str, concept: Competency | Occupation, w: _Lines, later: list[str]) -> Iterator[str]:
    for plain, xl, labels in (
        (P["SKOS_PREF"], P["SKOSXL_PREF"], (concept.pref_label,)),
        (P["SKOS_ALT"], P["SKOSXL_ALT"], concept.alt_labels),
        (P["SKOS_HIDDEN"], P["SKOSXL_HIDDEN"], concept.hidden_labels),
    ):
        for label in labels:
            text, node = w.text(label), w.blank("l")
            yield _t(s, plain, text)
            yield _t(s, xl, node)
            later.append(_t(node, TYPE, P["SKOSXL_LABEL"]))
            later.append(_t(node, P["SKOSXL_LITERAL_FORM"], text))


def _esco_text(s: str, predicate: str, text: str, language: str, w: _Lines, later: list[str]) -> Iterator[str]:
    if not text:
        return
    node = w.blank("n")
    yield _t(s, predicate, node)
    later.append(_t(node, TYPE, P["ESCO_NODE_LITERAL_CLASS"]))
    later.append(_t(node, P["ESCO_LANGUAGE"], w.typed(language, V.XSD_LANGUAGE)))
    later.append(_t(node, P["ESCO_NODE_LITERAL"], w.plain(text)))


def _esco_common(s: str, concept: Competency | Occupation, code: str, language: str, w: _Lines,
                 later: list[str]) -> Iterator[str]:
    yield from _esco_labels(s, concept, w, later)
    yield from _esco_text(s, P["DCT_DESCRIPTION"], concept.description, language, w, later)
    yield _t(s, P["ISO_THES_STATUS"], w.plain(concept.status))
    for broader in concept.broader:
        yield _t(s, P["SKOS_BROADER"], w.iri(broader))
    if code:
        yield _t(s, P["SKOS_NOTATION"], w.plain(code))


def _esco_relation_links(s: str, outgoing: list[Relation], incoming: list[Relation], w: _Lines) -> Iterator[str]:
    for rel in outgoing:
        essential = ESCO_STRENGTH[rel.type] == "essential"
        yield _t(s, P["ESCO_RELATED_ESSENTIAL" if essential else "ESCO_RELATED_OPTIONAL"], w.iri(rel.target))
    for rel in incoming:
        essential = ESCO_STRENGTH[rel.type] == "essential"
        yield _t(s, P["ESCO_IS_ESSENTIAL_FOR" if essential else "ESCO_IS_OPTIONAL_FOR"], w.iri(rel.source))


def _esco_competency(c: Competency, language: str, w: _Lines, links: tuple[list, list],
                     later: list[str]) -> Iterator[str]:
    s = w.iri(c.iri)
    yield _t(s, TYPE, P["SKOS_CONCEPT"])
    if c.kind == KIND_GROUP:
        yield _t(s, TYPE, P["ESCO_SKILL_GROUP"])
    else:
        yield _t(s, TYPE, P["ESCO_MEMBER_CONCEPT"])
        yield _t(s, TYPE, P["ESCO_SKILL"])
    if c.kind in SKILL_TYPE_IRIS:
        yield _t(s, P["ESCO_SKILL_TYPE"], w.iri(SKILL_TYPE_IRIS[c.kind]))
    if c.reuse_level:
        yield _t(s, P["ESCO_REUSE_LEVEL"], w.iri(V.REUSE_LEVEL_NS + c.reuse_level))
    yield from _esco_common(s, c, c.code, language, w, later)
    yield from _esco_text(s, P["SKOS_SCOPE_NOTE"], c.scope_note, language, w, later)
    for scheme in c.schemes:
        yield _t(s, P["SKOS_IN_SCHEME"], w.iri(scheme))
    yield from _esco_relation_links(s, *links, w)


def _esco_occupation(o: Occupation, language: str, w: _Lines, links: tuple[list, list],
                     later: list[str]) -> Iterator[str]:
    s = w.iri(o.iri)
    yield _t(s, TYPE, P["SKOS_CONCEPT"])
    if o.kind == KIND_ISCO_GROUP:
        yield _t(s, P["SKOS_IN_SCHEME"], P["ISCO_SCHEME"])
    else:
        yield _t(s, TYPE, P["ESCO_MEMBER_CONCEPT"])
        yield _t(s, TYPE, P["ESCO_OCCUPATION"])
        if o.isco_group:
            yield _t(s, P["ESCO_MEMBER_OF_ISCO_GROUP"], w.iri(f"{V.ISCO_NS}C{o.isco_group}"))
    yield _t(s, P["SKOS_IN_SCHEME"], P["OCCUPATIONS_SCHEME"])
    yield from _esco_common(s, o, o.code, language, w, later)
    yield from _esco_relation_links(s, *links, w)


def _association(rel: Relation, w: _Lines) -> Iterator[str]:
    node = w.blank("a")
    essential = ESCO_STRENGTH[rel.type] == "essential"
    yield _t(node, TYPE, P["ESCO_ASSOCIATION_OBJECT"])
    yield _t(node, P["ESCO_IS_ASSOCIATION_FOR"], w.iri(rel.source))
    yield _t(node, P["ESCO_TARGET"], w.iri(rel.target))
    yield _t(node, P["DCT_TYPE"], P["RELATIONSHIP_ESSENTIAL" if essential else "RELATIONSHIP_OPTIONAL"])


def _esco_lines(framework: Framework) -> Iterator[str]:
    language, w = framework.language, _Lines(framework.language)
    scheme = w.iri(framework.iri)
    yield _t(scheme, TYPE, P["SKOS_CONCEPT_SCHEME"])
    if framework.version:
        yield _t(scheme, P["OWL_VERSION_INFO"], w.plain(framework.version))
    esco_relations = [r for r in framework.relations if r.type in ESCO_STRENGTH]
    outgoing: dict[str, list[Relation]] = defaultdict(list)
    incoming: dict[str, list[Relation]] = defaultdict(list)
    for rel in esco_relations:
        outgoing[rel.source].append(rel)
        incoming[rel.target].append(rel)
    for c in framework.competencies.values():
        later: list[str] = []
        yield from _esco_competency(c, language, w, (outgoing.get(c.iri, []), incoming.get(c.iri, [])), later)
        yield from later
    for o in framework.occupations.values():
        later = []
        yield from _esco_occupation(o, language, w, (outgoing.get(o.iri, []), incoming.get(o.iri, [])), later)
        yield from later
    for iri, esco_class in _withdrawn_ends(framework, esco_relations).items():
        s = w.iri(iri)
        yield _t(s, TYPE, P[esco_class])
        yield from _esco_relation_links(s, outgoing.get(iri, []), incoming.get(iri, []), w)
    for rel in esco_relations:
        yield from _association(rel, w)
    yield from _relation_lines([r for r in framework.relations if r.type not in ESCO_STRENGTH], w)
    yield from _level_lines(framework.levels, w)


def _withdrawn_ends(framework: Framework, relations: list[Relation]) -> dict[str, str]:
    """Relation ends that are not concepts of the framework -> the ESCO class their relations give them."""
    out: dict[str, str] = {}
    known = framework.competencies.keys() | framework.occupations.keys()
    for rel in relations:
        if rel.source not in known:
            out.setdefault(rel.source, "ESCO_OCCUPATION" if rel.type in (REL_ESSENTIAL, REL_OPTIONAL) else "ESCO_SKILL")
        if rel.target not in known:
            out.setdefault(rel.target, "ESCO_SKILL")
    return dict(sorted(out.items()))


# -- SKOS + project vocabulary ------------------------------------------------------------


def _skos_concept(s: str, concept: Competency | Occupation, scheme: str, code: str, w: _Lines) -> Iterator[str]:
    yield _t(s, TYPE, P["SKOS_CONCEPT"])
    yield _t(s, P["SKOS_IN_SCHEME"], scheme)
    yield _t(s, P["SKOS_PREF"], w.text(concept.pref_label))
    for label in concept.alt_labels:
        yield _t(s, P["SKOS_ALT"], w.text(label))
    for label in concept.hidden_labels:
        yield _t(s, P["SKOS_HIDDEN"], w.text(label))
    if concept.description:
        yield _t(s, P["SKOS_DEFINITION"], w.text(concept.description))
    for broader in concept.broader:
        yield _t(s, P["SKOS_BROADER"], w.iri(broader))
    if code:
        yield _t(s, P["SKOS_NOTATION"], w.plain(code))
    yield _t(s, P["CM_KIND"], w.plain(concept.kind))
    yield _t(s, P["CM_STATUS"], w.plain(concept.status))


def _skos_competency(c: Competency, scheme: str, w: _Lines) -> Iterator[str]:
    s = w.iri(c.iri)
    yield from _skos_concept(s, c, scheme, c.code, w)
    for other in c.schemes:
        if w.iri(other) != scheme:
            yield _t(s, P["SKOS_IN_SCHEME"], w.iri(other))
    if not c.broader:
        yield _t(s, P["SKOS_TOP_CONCEPT_OF"], scheme)
    if c.scope_note:
        yield _t(s, P["SKOS_SCOPE_NOTE"], w.text(c.scope_note))
    if c.reuse_level:
        yield _t(s, P["CM_REUSE_LEVEL"], w.plain(c.reuse_level))


def _skos_occupation(o: Occupation, scheme: str, w: _Lines) -> Iterator[str]:
    s = w.iri(o.iri)
    yield from _skos_concept(s, o, scheme, o.code, w)
    yield _t(s, TYPE, P["CM_OCCUPATION"])
    if o.isco_group:
        yield _t(s, P["CM_ISCO_GROUP"], w.plain(o.isco_group))


def _relation_lines(relations: Iterable[Relation], w: _Lines) -> Iterator[str]:
    for rel in relations:
        if rel.type in MAPPING_TYPES:
            yield _t(w.iri(rel.source), w.iri(V.SKOS + rel.type), w.iri(rel.target))
            if rel.score is None:
                continue
        node = w.blank("r")
        yield _t(node, TYPE, P["CM_RELATION"])
        yield _t(node, P["CM_SOURCE"], w.iri(rel.source))
        yield _t(node, P["CM_TARGET"], w.iri(rel.target))
        yield _t(node, P["CM_RELATION_TYPE"], w.plain(rel.type))
        if rel.score is not None:
            yield _t(node, P["CM_SCORE"], w.typed(repr(float(rel.score)), XSD_DOUBLE))


def _level_lines(levels: Iterable[Level], w: _Lines) -> Iterator[str]:
    for level in levels:
        s = w.iri(level.iri)
        yield _t(s, TYPE, P["CM_PROFICIENCY_LEVEL"])
        yield _t(s, P["CM_LEVEL_OF"], w.iri(level.competency))
        yield _t(s, P["CM_RANK"], w.typed(str(int(level.rank)), XSD_INTEGER))
        yield _t(s, P["SKOS_PREF"], w.text(level.label))
        if level.description:
            yield _t(s, P["SKOS_DEFINITION"], w.text(level.description))


def _skos_lines(framework: Framework) -> Iterator[str]:
    w = _Lines(framework.language)
    scheme = w.iri(framework.iri)
    yield _t(scheme, TYPE, P["SKOS_CONCEPT_SCHEME"])
    yield _t(scheme, P["DCT_IDENTIFIER"], w.plain(framework.id))
    for name, value in (("DCT_TITLE", framework.title), ("OWL_VERSION_INFO", framework.version),
                        ("DCT_LICENSE", framework.licence), ("DCT_SOURCE", framework.source),
                        ("CM_LANGUAGE", framework.language)):
        if value:
            yield _t(scheme, P[name], w.plain(value))
    for c in framework.competencies.values():
        yield from _skos_competency(c, scheme, w)
    for o in framework.occupations.values():
        yield from _skos_occupation(o, scheme, w)
    yield from _relation_lines(framework.relations, w)
    yield from _level_lines(framework.levels, w)


# -- writing ------------------------------------------------------------------------------


class _LineStream(io.RawIOBase):
    """A readable byte stream over an iterator of text lines (feeds pyoxigraph's parser)."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: memoryview) -> int:  # type: ignore[override]
        size = len(target)
        while len(self.buffer) < size:
            chunk = "".join(line for _, line in zip(range(4096), self.lines))
            if not chunk:
                break
            self.buffer += chunk.encode("utf-8")
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        target[: len(data)] = data
        return len(data)


def _write(lines: Iterator[str], raw: IO[bytes], rdf_format: RdfFormat, prefixes: dict[str, str]) -> None:
    if rdf_format == RdfFormat.N_TRIPLES:
        writer = io.TextIOWrapper(raw, encoding="utf-8", newline="\n", write_through=False)
        writer.writelines(lines)
        writer.flush()
        writer.detach()
        return
    triples = parse(input=io.BufferedReader(_LineStream(lines), 1 << 20), format=RdfFormat.N_TRIPLES)
    serialize(triples, raw, rdf_format, prefixes=prefixes)


def export_framework(framework: Framework, out: Path, format: str = "turtle") -> Path:
    """Write ``framework`` to ``out`` (a file, or a folder to hold ``<id>.<ext>``); returns the file."""
    if format not in FORMATS:
        raise FrameworkError(f"unknown RDF format {format!r} (choose {', '.join(FORMATS)})")
    rdf_format, suffix = FORMATS[format]
    out = Path(out)
    if out.is_dir():
        out = out / f"{framework.id}{suffix}"
    out.parent.mkdir(parents=True, exist_ok=True)
    if framework.id == V.ESCO_ID:
        lines, prefixes = _esco_lines(framework), {**V.PREFIXES, "cm": V.CM}
    else:  # no esco: prefix, so that the file is not taken for an ESCO dump
        lines, prefixes = _skos_lines(framework), {k: V.PREFIXES[k] for k in ("skos", "dct", "owl", "xsd", "rdf")}
        prefixes["cm"] = V.CM
    handle, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(handle, "wb") as raw:
            if out.name.lower().endswith(".gz"):
                with gzip.open(raw, "wb", compresslevel=6) as zipped:
                    _write(lines, zipped, rdf_format, prefixes)  # type: ignore[arg-type]
            else:
                _write(lines, raw, rdf_format, prefixes)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, out)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return out
