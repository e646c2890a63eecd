"""Load any SKOS concept scheme (Turtle, RDF/XML, N-Triples, JSON-LD...) as a Framework.

The file is read once with pyoxigraph's streaming parser; only the triples the SKOS model
needs are kept, and literals only in the requested language, language-less, or English
(the fallback for names). A file may be plain, gzipped, or the single RDF file in a zip
(:mod:`.rdf_files` opens it).

How the RDF becomes a Framework:

- the `skos:ConceptScheme` is the framework: `cm:shortName` (or `dct:identifier`, or a slug
  of its English title) is its id, `dct:title`/`skos:prefLabel` its title,
  `owl:versionInfo`/`dct:hasVersion` its version, `dct:source` and `dct:license` its source
  and licence. A file with several schemes needs `name` to pick one.
- a concept (`skos:Concept`, or anything that is a top concept) belongs to the scheme when it
  says so (`skos:inScheme`, `skos:topConceptOf`, `skos:hasTopConcept`), when it names no scheme
  but hangs below one of the scheme's concepts, or when the file holds one scheme only and the
  concept names none.
- labels (plain and SKOS-XL) are taken in `language`; a concept without a preferred label in
  that language falls back to a language-less one, then English, then any.
- `cm:kind` on a concept gives its kind (default: skill); `skos:notation` its code;
  `skos:scopeNote` and `skos:example` its scope note; `cm:status`, `cm:reuseLevel` are read
  when present. Concepts typed `cm:Occupation` (or of an occupation kind) become Occupations.
- SKOS mapping properties and `cm:Mapping` nodes (`cm:source`, `cm:target`, `cm:relation
  skos:closeMatch`, `cm:score`) become Relations of the framework that owns their source
  concept; `cm:Relation` nodes with a `cm:relationType` literal (the exporter's form) too.
  A plain mapping triple and a node for the same link are one Relation, with the score.
- `cm:ProficiencyLevel` nodes (`cm:levelOf`, `cm:rank`, `skos:prefLabel`, `skos:definition`)
  become Levels.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pyoxigraph as ox

from competencymap._common.errors import FrameworkError
from competencymap.frameworks.names import check_language
from competencymap.frameworks.rdf_files import open_rdf
from competencymap.model import framework as model
from competencymap.model.framework import Competency, Framework, Level, Occupation, Relation

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SKOSXL = "http://www.w3.org/2008/05/skos-xl#"
DCT = "http://purl.org/dc/terms/"
OWL = "http://www.w3.org/2002/07/owl#"
CM = "https://w3id.org/competencymap/vocab#"

RDF_TYPE = RDF + "type"
CONCEPT_SCHEME = SKOS + "ConceptScheme"
CONCEPT = SKOS + "Concept"
PROFICIENCY_LEVEL = CM + "ProficiencyLevel"
MAPPING = CM + "Mapping"
RELATION = CM + "Relation"  # a typed relation node, as frameworks/rdf_export.py writes them
OCCUPATION = CM + "Occupation"
XL_LABEL = SKOSXL + "Label"
TYPES = {CONCEPT_SCHEME, CONCEPT, PROFICIENCY_LEVEL, MAPPING, RELATION, OCCUPATION, XL_LABEL}

LABELS = {"prefLabel", "altLabel", "hiddenLabel"}
MAPPINGS = {SKOS + name: name for name in model.MAPPING_TYPES}
KINDS = {
    model.KIND_SKILL, model.KIND_KNOWLEDGE, model.KIND_UNTYPED, model.KIND_GROUP,
    model.KIND_COMPONENT,
}
OCCUPATION_KINDS = {model.KIND_OCCUPATION, model.KIND_ISCO_GROUP}
KEPT = {
    *(SKOS + name for name in (
        "prefLabel", "altLabel", "hiddenLabel", "definition", "scopeNote", "example", "notation",
        "broader", "narrower", "inScheme", "topConceptOf", "hasTopConcept",
    )),
    *(SKOSXL + name for name in ("prefLabel", "altLabel", "hiddenLabel", "literalForm")),
    *MAPPINGS,
    DCT + "title", DCT + "description", DCT + "source", DCT + "license", DCT + "hasVersion",
    DCT + "identifier", OWL + "versionInfo",
    *(CM + name for name in (
        "shortName", "kind", "levelOf", "rank", "source", "target", "relation", "score",
        "relationType", "status", "reuseLevel", "iscoGroup",
    )),
}
# Predicates whose literals must be in the chosen language; others keep any literal.
TEXTUAL = {
    SKOS + "prefLabel", SKOS + "altLabel", SKOS + "hiddenLabel", SKOS + "definition",
    SKOS + "scopeNote", SKOS + "example", SKOSXL + "literalForm", DCT + "title",
    DCT + "description",
}


class Lit(NamedTuple):
    """A kept literal: its text and language tag ('' when it has none)."""

    value: str
    lang: str = ""


_NONE: dict = {}


def _table() -> defaultdict:
    return defaultdict(lambda: defaultdict(list))


@dataclass
class Graph:
    """What the streaming pass keeps: types, links and literals per subject and predicate."""

    types: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    links: dict[str, dict[str, list[str]]] = field(default_factory=_table)  # IRIs, '_:' blank nodes
    lits: dict[str, dict[str, list[Lit]]] = field(default_factory=_table)
    any_label: dict[str, Lit] = field(default_factory=dict)  # last resort, one per subject
    label_languages: set[str] = field(default_factory=set)
    triples: int = 0

    def nodes(self, subject: str, predicate: str) -> list[str]:
        return self.links.get(subject, _NONE).get(predicate, [])

    def literals(self, subject: str, predicate: str) -> list[Lit]:
        return self.lits.get(subject, _NONE).get(predicate, [])


def load_skos(path: Path, language: str = "en", name: str | None = None) -> Framework:
    """Load the SKOS concept scheme in `path` as a Framework.

    `language` picks the labels and texts; `name` picks the scheme when the file holds
    several and becomes the framework id. Raises FrameworkError on any bad input.
    """
    path = Path(path)
    check_language(language)
    language = language.lower()
    graph = read_graph(path, language)
    where = str(path)
    schemes, concepts = _schemes(graph), _concepts(graph)
    scheme = _pick_scheme(graph, schemes, name, where)
    members = _members(graph, scheme, len(schemes), concepts, where)
    framework_id = _framework_id(graph, scheme, name)
    builder = _Builder(graph, concepts, language, where)
    competencies, occupations = {}, {}
    for iri in sorted(members):
        if builder.is_occupation(iri):
            occupations[iri] = builder.occupation(iri, framework_id)
        else:
            competencies[iri] = builder.competency(iri, framework_id, scheme)
    _check_language(builder, graph, language, where)
    return Framework(
        id=framework_id,
        iri=scheme,
        title=builder.text(scheme, (DCT + "title", SKOS + "prefLabel"), name=True) or framework_id,
        version=_first_literal(graph, scheme, (OWL + "versionInfo", DCT + "hasVersion"), language),
        language=language,
        source=" ".join(sorted(_all_values(graph, scheme, DCT + "source"))),
        licence=" ".join(sorted(_all_values(graph, scheme, DCT + "license"))),
        competencies=competencies,
        occupations=occupations,
        relations=_relations(graph, members, where),
        levels=_levels(graph, builder, members, where),
        languages=tuple(sorted(graph.label_languages)) or (language,),
    )


# -- reading ----------------------------------------------------------------------------


def read_graph(path: Path, language: str) -> Graph:
    """Stream the RDF file at `path` into a Graph, keeping only what SKOS loading needs."""
    graph = Graph()
    with open_rdf(path) as source:
        where = source.display
        try:
            for quad in source.quads():
                _keep(graph, quad, language)
        except SyntaxError as exc:
            raise FrameworkError(_syntax_message(exc), path=where, line=exc.lineno) from None
        except (OSError, EOFError, zipfile.BadZipFile, UnicodeDecodeError, ValueError) as exc:
            raise FrameworkError(f"cannot read RDF: {exc}", path=where) from None
    if graph.triples == 0:
        raise FrameworkError("no RDF triples in the file", path=where)
    return graph


def _syntax_message(exc: SyntaxError) -> str:
    text = exc.msg or str(exc)
    if "LoadDocumentCallback" in text:
        return "malformed RDF: the JSON-LD @context is remote and cannot be fetched; inline it"
    return f"malformed RDF: {text}"


def _term(term: object) -> str | None:
    """A node as a string key: the IRI, or '_:id' for a blank node."""
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    return None


def _matches(lang: str, language: str) -> bool:
    return lang == language or lang.startswith(language + "-")


def _keep(graph: Graph, quad: ox.Quad, language: str) -> None:
    graph.triples += 1
    predicate = quad.predicate.value
    if predicate != RDF_TYPE and predicate not in KEPT:
        return
    subject = _term(quad.subject)
    if subject is None:
        return
    obj = quad.object
    if predicate == RDF_TYPE:
        if isinstance(obj, ox.NamedNode) and obj.value in TYPES:
            graph.types[subject].add(obj.value)
        return
    if isinstance(obj, ox.Literal):
        lang = obj.language or ""
        if predicate in (SKOS + "prefLabel", SKOSXL + "literalForm", DCT + "title"):
            if lang:
                graph.label_languages.add(lang)
            graph.any_label.setdefault(subject, Lit(obj.value, lang))
        if predicate in TEXTUAL and lang and not (_matches(lang, language) or _matches(lang, "en")):
            return
        graph.lits[subject][predicate].append(Lit(obj.value, lang))
    else:
        node = _term(obj)
        if node is not None:
            graph.links[subject][predicate].append(node)


# -- scheme and membership ----------------------------------------------------------------


def _slug(text: str) -> str:
    """'Compétences de cuisine' -> 'competences-de-cuisine'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _schemes(graph: Graph) -> list[str]:
    found = {s for s, types in graph.types.items() if CONCEPT_SCHEME in types}
    for subject, props in graph.links.items():
        if props.get(SKOS + "hasTopConcept"):
            found.add(subject)
        found.update(props.get(SKOS + "topConceptOf", ()))
    return sorted(found)


def _scheme_names(graph: Graph, scheme: str) -> set[str]:
    names = {scheme}
    names.update(v.value for v in graph.literals(scheme, CM + "shortName"))
    names.update(v.value for v in graph.literals(scheme, DCT + "identifier"))
    for predicate in (DCT + "title", SKOS + "prefLabel"):
        names.update(_slug(v.value) for v in graph.literals(scheme, predicate))
    return names


def _pick_scheme(graph: Graph, schemes: list[str], name: str | None, where: str) -> str:
    if not schemes:
        raise FrameworkError("not a framework: no skos:ConceptScheme in the file", path=where)
    if len(schemes) == 1:
        return schemes[0]
    listing = "; ".join(f"{_framework_id(graph, s, None)} <{s}>" for s in schemes)
    if name is None:
        raise FrameworkError(f"the file holds {len(schemes)} concept schemes, pick one by name: {listing}", path=where)
    chosen = [s for s in schemes if name in _scheme_names(graph, s)]
    if len(chosen) != 1:
        problem = "matches several" if chosen else "matches none"
        raise FrameworkError(f"scheme name {name!r} {problem} of the schemes: {listing}", path=where)
    return chosen[0]


def _framework_id(graph: Graph, scheme: str, name: str | None) -> str:
    if name and name != scheme:
        return name
    short = graph.literals(scheme, CM + "shortName") or graph.literals(scheme, DCT + "identifier")
    if short:
        return short[0].value
    # The English title, so that the id does not change with the language loaded.
    title = _first_literal(graph, scheme, (DCT + "title", SKOS + "prefLabel"), "en")
    return _slug(title) or _slug(scheme.rstrip("/#").rsplit("/", 1)[-1]) or "framework"


def _concepts(graph: Graph) -> set[str]:
    found = {s for s, types in graph.types.items() if CONCEPT in types}
    for subject, props in graph.links.items():
        if props.get(SKOS + "topConceptOf"):
            found.add(subject)
        found.update(props.get(SKOS + "hasTopConcept", ()))
    return found


def _members(graph: Graph, scheme: str, scheme_count: int, concepts: set[str], where: str) -> set[str]:
    named: dict[str, set[str]] = {c: _schemes_of(graph, c) for c in concepts}
    for top in graph.nodes(scheme, SKOS + "hasTopConcept"):
        named.setdefault(top, set()).add(scheme)
    members = {c for c, schemes in named.items() if scheme in schemes}
    unplaced = {c for c, schemes in named.items() if not schemes}
    if scheme_count == 1:
        members |= unplaced
    else:
        members |= _reachable(graph, members, unplaced)
    if not members:
        raise FrameworkError(f"not a framework: the scheme <{scheme}> has no concepts", path=where)
    return members


def _schemes_of(graph: Graph, concept: str) -> set[str]:
    return set(graph.nodes(concept, SKOS + "inScheme")) | set(graph.nodes(concept, SKOS + "topConceptOf"))


def _reachable(graph: Graph, members: set[str], candidates: set[str]) -> set[str]:
    """Candidates linked below the members by broader/narrower, transitively."""
    children: dict[str, set[str]] = defaultdict(set)
    for c in candidates:
        for parent in graph.nodes(c, SKOS + "broader"):
            children[parent].add(c)
    for parent in members | candidates:
        children[parent].update(n for n in graph.nodes(parent, SKOS + "narrower") if n in candidates)
    found: set[str] = set()
    todo = list(members)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child in candidates and child not in found:
                found.add(child)
                todo.append(child)
    return found


# -- concepts -----------------------------------------------------------------------------


class _Builder:
    """Turns kept triples about one subject into labels and texts in the chosen language."""

    def __init__(self, graph: Graph, concepts: set[str], language: str, where: str) -> None:
        self.graph = graph
        self.language = language
        self.where = where
        self.concepts = concepts
        self.narrower_of: dict[str, list[str]] = defaultdict(list)  # child -> parents
        for parent, props in graph.links.items():
            for child in props.get(SKOS + "narrower", ()):
                self.narrower_of[child].append(parent)
        self.in_language = 0  # concepts whose preferred label is in the chosen language
        self.tagged = 0  # concepts whose labels carry language tags at all

    def literals(self, subject: str, local: str) -> list[Lit]:
        """Plain and SKOS-XL literals of a label property, or plain ones of any other."""
        found = list(self.graph.literals(subject, SKOS + local))
        if local in LABELS:
            for label in self.graph.nodes(subject, SKOSXL + local):
                found += self.graph.literals(label, SKOSXL + "literalForm")
        return found

    def pick(self, literals: Iterable[Lit]) -> list[str]:
        """Texts in the chosen language, else language-less ones; duplicates removed."""
        literals = list(literals)
        chosen = [v.value for v in literals if _matches(v.lang, self.language)]
        if not chosen:
            chosen = [v.value for v in literals if not v.lang]
        return list(dict.fromkeys(chosen))

    def text(self, subject: str, predicates: tuple[str, ...], name: bool = False) -> str:
        for predicate in predicates:
            literals = self.graph.literals(subject, predicate)
            picked = self.pick(literals) or (self.pick_fallback(literals) if name else [])
            if picked:
                return picked[0]
        return ""

    @staticmethod
    def pick_fallback(literals: list[Lit]) -> list[str]:
        return [v.value for v in literals if _matches(v.lang, "en")]

    def pref_label(self, subject: str) -> str:
        literals = self.literals(subject, "prefLabel")
        if any(v.lang for v in literals):
            self.tagged += 1
        in_language = list(dict.fromkeys(v.value for v in literals if _matches(v.lang, self.language)))
        if len(in_language) > 1:
            shown = ", ".join(repr(v) for v in in_language[:3])
            raise FrameworkError(
                f"concept <{subject}> has {len(in_language)} different skos:prefLabel in {self.language!r}: {shown}",
                path=self.where,
            )
        if in_language:
            self.in_language += 1
            return in_language[0]
        fallback = self.pick(literals) or self.pick_fallback(literals)
        if fallback:
            return fallback[0]
        last = self.graph.any_label.get(subject)
        for label in self.graph.nodes(subject, SKOSXL + "prefLabel"):
            last = last or self.graph.any_label.get(label)
        if last is None:
            raise FrameworkError(f"concept <{subject}> has no skos:prefLabel", path=self.where)
        return last.value

    def competency(self, iri: str, framework_id: str, scheme: str) -> Competency:
        pref = self.pref_label(iri)
        alt = [v for v in self.pick(self.literals(iri, "altLabel")) if v != pref]
        hidden = self.pick(self.literals(iri, "hiddenLabel"))
        notes = self.pick(self.literals(iri, "scopeNote"))
        notes += [f"Example: {v}" for v in self.pick(self.literals(iri, "example"))]
        notation = self.graph.literals(iri, SKOS + "notation")
        return Competency(
            iri=iri,
            framework=framework_id,
            kind=self.kind(iri),
            pref_label=pref,
            alt_labels=tuple(alt),
            hidden_labels=tuple(hidden),
            description=self.text(iri, (SKOS + "definition", DCT + "description")),
            broader=self.broader(iri),
            status=self.plain(iri, "status") or "released",
            reuse_level=self.plain(iri, "reuseLevel"),
            code=notation[0].value if notation else "",
            schemes=tuple(sorted(_schemes_of(self.graph, iri) | {scheme})),
            scope_note=" ".join(notes),
        )

    def is_occupation(self, iri: str) -> bool:
        return OCCUPATION in self.graph.types.get(iri, ()) or self.plain(iri, "kind") in OCCUPATION_KINDS

    def occupation(self, iri: str, framework_id: str) -> Occupation:
        pref = self.pref_label(iri)
        notation = self.graph.literals(iri, SKOS + "notation")
        return Occupation(
            iri=iri,
            framework=framework_id,
            pref_label=pref,
            kind=self.plain(iri, "kind") or model.KIND_OCCUPATION,
            code=notation[0].value if notation else "",
            isco_group=self.plain(iri, "iscoGroup"),
            alt_labels=tuple(v for v in self.pick(self.literals(iri, "altLabel")) if v != pref),
            hidden_labels=tuple(self.pick(self.literals(iri, "hiddenLabel"))),
            description=self.text(iri, (SKOS + "definition", DCT + "description")),
            broader=self.broader(iri),
            status=self.plain(iri, "status") or "released",
        )

    def plain(self, iri: str, local: str) -> str:
        """The first literal of a cm: property, or ''."""
        values = self.graph.literals(iri, CM + local)
        return values[0].value if values else ""

    def kind(self, iri: str) -> str:
        kinds = [v.value for v in self.graph.literals(iri, CM + "kind")]
        if not kinds:
            return model.KIND_SKILL
        if kinds[0] not in KINDS:
            known = ", ".join(sorted(KINDS))
            raise FrameworkError(f"concept <{iri}> has unknown cm:kind {kinds[0]!r}: expected one of {known}", path=self.where)
        return kinds[0]

    def broader(self, iri: str) -> tuple[str, ...]:
        parents = self.graph.nodes(iri, SKOS + "broader") + self.narrower_of.get(iri, [])
        for parent in parents:
            if parent not in self.concepts:
                raise FrameworkError(
                    f"concept <{iri}> has skos:broader <{parent}>, which is not a concept in the file",
                    path=self.where,
                )
        return tuple(dict.fromkeys(parents))


def _check_language(builder: _Builder, graph: Graph, language: str, where: str) -> None:
    if builder.in_language == 0 and builder.tagged > 0:
        found = ", ".join(sorted(graph.label_languages)) or "none"
        raise FrameworkError(f"unknown language {language!r}: no concept has a label in it (found: {found})", path=where)


# -- relations and levels -----------------------------------------------------------------


def _relations(graph: Graph, members: set[str], where: str) -> list[Relation]:
    found: dict[tuple[str, str, str], float | None] = {}
    for source in members:
        for predicate, kind in MAPPINGS.items():
            for target in graph.nodes(source, predicate):
                found.setdefault((source, target, kind), None)
    for node, types in graph.types.items():
        if MAPPING in types or RELATION in types:
            key, score = _mapping_node(graph, node, where)
            if key[0] in members:
                found[key] = score
    return [Relation(s, t, kind, score) for (s, t, kind), score in sorted(found.items())]


def _mapping_node(graph: Graph, node: str, where: str) -> tuple[tuple[str, str, str], float | None]:
    def one(local: str) -> str:
        values = graph.nodes(node, CM + local)
        if len(values) != 1:
            raise FrameworkError(f"a cm:Mapping node needs exactly one cm:{local}, found {len(values)}", path=where)
        return values[0]

    source, target = one("source"), one("target")
    typed = graph.literals(node, CM + "relationType")
    if RELATION in graph.types.get(node, ()) and typed:
        kind = typed[0].value
    else:
        relation = one("relation")
        if relation not in MAPPINGS:
            raise FrameworkError(f"cm:Mapping from <{source}> has cm:relation <{relation}>, not a SKOS mapping property", path=where)
        kind = MAPPINGS[relation]
    scores = graph.literals(node, CM + "score")
    score = None
    if scores:
        try:
            score = float(scores[0].value)
        except ValueError:
            raise FrameworkError(f"cm:Mapping from <{source}> has a score that is not a number: {scores[0].value!r}", path=where) from None
    return (source, target, kind), score


def _levels(graph: Graph, builder: _Builder, members: set[str], where: str) -> list[Level]:
    levels = []
    for node, types in graph.types.items():
        if PROFICIENCY_LEVEL not in types:
            continue
        owners = graph.nodes(node, CM + "levelOf")
        if len(owners) != 1:
            raise FrameworkError(f"proficiency level <{node}> needs exactly one cm:levelOf, found {len(owners)}", path=where)
        if owners[0] not in members:
            continue
        label = builder.text(node, (SKOS + "prefLabel",), name=True)
        if not label:
            raise FrameworkError(f"proficiency level <{node}> has no skos:prefLabel", path=where)
        levels.append(Level(
            iri=node,
            competency=owners[0],
            rank=_rank(graph, node, where),
            label=label,
            description=builder.text(node, (SKOS + "definition",)),
        ))
    return sorted(levels, key=lambda level: (level.competency, level.rank, level.iri))


def _rank(graph: Graph, node: str, where: str) -> int:
    ranks = graph.literals(node, CM + "rank")
    try:
        return int(ranks[0].value)
    except (IndexError, ValueError):
        raise FrameworkError(f"proficiency level <{node}> needs a whole-number cm:rank", path=where) from None


# -- small helpers --------------------------------------------------------------------------


def _first_literal(graph: Graph, subject: str, predicates: tuple[str, ...], language: str) -> str:
    """The first literal of the first predicate that has one, preferring `language`, then English."""
    for predicate in predicates:
        literals = graph.literals(subject, predicate)
        for wanted in (language, "en", "", None):
            for value in literals:
                if wanted is None or _matches(value.lang, wanted):
                    return value.value
    return ""


def _all_values(graph: Graph, subject: str, predicate: str) -> set[str]:
    return {v.value for v in graph.literals(subject, predicate)} | set(graph.nodes(subject, predicate))
