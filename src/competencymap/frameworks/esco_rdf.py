"""Stream an ESCO RDF dump into a :class:`~competencymap.model.framework.Framework`, in one language.

Input: any RDF syntax pyoxigraph reads (Turtle, N-Triples, N-Quads, TriG, RDF/XML...), plain,
gzipped (``.ttl.gz`` ...) or as the only RDF file inside a ``.zip``; :mod:`.rdf_files` opens it.

The dump is read once with pyoxigraph's streaming parser. Each triple is looked up by
predicate in a small table; triples of other predicates are dropped at once, literals
in other languages are dropped at once (language tags are compared exactly, so 'en'
does not take 'en-us'). What is kept goes into small per-subject tables, and the nodes
ESCO hangs text and relations on are resolved after the pass:

* concepts: ``esco:Skill`` (skills), ``esco:Occupation``, skill groups (``esco:SkillGroup``,
  or a concept in the ``skills-hierarchy`` scheme) and ISCO groups (``esco:ISCOGroup``, or a
  ``skos:Concept`` under ``/esco/isco/`` or in the ``isco`` scheme);
* labels: ``skos:prefLabel/altLabel/hiddenLabel`` literals and skos-xl label nodes
  (``skosxl:prefLabel/altLabel/hiddenLabel`` -> ``skosxl:literalForm``), merged;
* ``dct:description`` and ``skos:scopeNote``: a language-tagged literal or an
  ``esco:NodeLiteral`` node (``esco:language`` + ``esco:nodeLiteral``);
* ``esco:skillType`` / ``esco:skillReuseLevel`` IRIs, ``iso-thes:status``, ``skos:broader``,
  ``skos:inScheme``, ``skos:notation`` / ``esco:code``, ``esco:memberOfISCOGroup``;
* relations from any of ``skill esco:isEssentialSkillFor|isOptionalSkillFor X``,
  ``X esco:relatedEssentialSkill|relatedOptionalSkill|hasEssentialSkill|hasOptionalSkill skill``
  and ``esco:AssociationObject`` nodes (``esco:isAssociationFor X``, ``esco:target skill``,
  ``dct:type <relationship-type/essential-skill|optional-skill>``); X an occupation gives an
  occupation-skill relation, X a skill a skill-skill one. Duplicates are merged;
* the version from ``owl:versionInfo`` / ``dct:hasVersion`` of the ESCO concept scheme,
  else from the file name (``esco-v1.1.1.ttl``).

Text is normalised as :mod:`.esco_csv` does it (stripped; label lists de-duplicated and
sorted). Concepts with no preferred label in the language are left out, and so are the
relations and broader links naming them or naming IRIs the dump says nothing about; all
are counted in a logged warning. As in :mod:`.esco_csv`, a *withdrawn* concept is the
exception: one the dump declares (typed as an ESCO concept class, or linked by
``skos:broader`` to a loaded concept) but gives no preferred label in any language. It is
not made into a concept, but the relations naming it are kept (the pillar, hence the
relation type, comes from its class or its broader link). This is how the v1.1.1
release's withdrawn occupation survives a CSV -> RDF export -> RDF load round trip.
"""

from __future__ import annotations

import gzip
import logging
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode

from competencymap._common.errors import FrameworkError
from competencymap.frameworks import esco_vocab as V  # noqa: N812 - the vocabulary reads as V.SKOS_PREF, V.ESCO_SKILL
from competencymap.frameworks.esco_csv import split_labels
from competencymap.frameworks.rdf_files import open_rdf
from competencymap.model.framework import (
    KIND_GROUP,
    KIND_ISCO_GROUP,
    KIND_KNOWLEDGE,
    KIND_OCCUPATION,
    KIND_SKILL,
    KIND_UNTYPED,
    REL_ESSENTIAL,
    REL_OPTIONAL,
    REL_SKILL_ESSENTIAL,
    REL_SKILL_OPTIONAL,
    Competency,
    Framework,
    Occupation,
    Relation,
)

log = logging.getLogger(__name__)

SNIFF_BYTES = 4 << 20  # how much of a file looks_like_esco_rdf reads

# Predicate codes: the only predicates the pass looks at.
(TYPE, PREF, ALT, HIDDEN, XL_PREF, XL_ALT, XL_HIDDEN, XL_FORM, DESCRIPTION, SCOPE_NOTE, NL_LANGUAGE, NL_TEXT,
 SKILL_TYPE, REUSE_LEVEL, STATUS, BROADER, IN_SCHEME, NOTATION, CODE, MEMBER_OF_ISCO, FOR_ESSENTIAL, FOR_OPTIONAL,
 HAS_ESSENTIAL, HAS_OPTIONAL, AO_FROM, AO_TARGET, AO_TYPE, VERSION) = range(28)
PREDICATES = {
    V.RDF_TYPE: TYPE, V.SKOS_PREF: PREF, V.SKOS_ALT: ALT, V.SKOS_HIDDEN: HIDDEN,
    V.SKOSXL_PREF: XL_PREF, V.SKOSXL_ALT: XL_ALT, V.SKOSXL_HIDDEN: XL_HIDDEN, V.SKOSXL_LITERAL_FORM: XL_FORM,
    V.DCT_DESCRIPTION: DESCRIPTION, V.SKOS_SCOPE_NOTE: SCOPE_NOTE,
    V.ESCO_LANGUAGE: NL_LANGUAGE, V.ESCO_NODE_LITERAL: NL_TEXT,
    V.ESCO_SKILL_TYPE: SKILL_TYPE, V.ESCO_REUSE_LEVEL: REUSE_LEVEL, V.ISO_THES_STATUS: STATUS,
    V.SKOS_BROADER: BROADER, V.SKOS_IN_SCHEME: IN_SCHEME, V.SKOS_NOTATION: NOTATION, V.ESCO_CODE: CODE,
    V.ESCO_MEMBER_OF_ISCO_GROUP: MEMBER_OF_ISCO,
    V.ESCO_IS_ESSENTIAL_FOR: FOR_ESSENTIAL, V.ESCO_IS_OPTIONAL_FOR: FOR_OPTIONAL,
    V.ESCO_RELATED_ESSENTIAL: HAS_ESSENTIAL, V.ESCO_RELATED_OPTIONAL: HAS_OPTIONAL,
    V.ESCO_HAS_ESSENTIAL: HAS_ESSENTIAL, V.ESCO_HAS_OPTIONAL: HAS_OPTIONAL,
    V.ESCO_IS_ASSOCIATION_FOR: AO_FROM, V.ESCO_TARGET: AO_TARGET, V.DCT_TYPE: AO_TYPE,
    V.OWL_VERSION_INFO: VERSION, V.DCT_HAS_VERSION: VERSION,
}

# Class flags.
F_SKILL, F_OCCUPATION, F_GROUP, F_ISCO, F_CONCEPT, F_SCHEME = 1, 2, 4, 8, 16, 32
CLASSES = {
    V.ESCO_SKILL: F_SKILL, V.ESCO_OCCUPATION: F_OCCUPATION, V.ESCO_SKILL_GROUP: F_GROUP,
    V.ESCO_ISCO_GROUP: F_ISCO, V.SKOS_CONCEPT: F_CONCEPT, V.SKOS_CONCEPT_SCHEME: F_SCHEME,
}
RELATIONSHIP_TYPES = {V.RELATIONSHIP_ESSENTIAL: "essential", V.RELATIONSHIP_OPTIONAL: "optional"}
SKILL_KINDS = {"skill": KIND_SKILL, "skill-competence": KIND_SKILL, "knowledge": KIND_KNOWLEDGE}
LABEL_KINDS = ("pref", "alt", "hidden")
KEPT = "kept"  # key of the count of relations naming withdrawn concepts, beside the counts of dropped items
_ISCO_CODE = re.compile(r"/C(\d+)$")
_SYNTAX = re.compile(r"^Parser error at line \d+ (?:between columns (\d+) and \d+|column (\d+)): ")


# -- sniffing -----------------------------------------------------------------------------


def looks_like_esco_rdf(path: Path) -> bool:
    """True when ``path`` is an RDF file (by name) whose first few MB use the ESCO ontology."""
    try:
        with open_rdf(Path(path)) as source:
            head = source.head(SNIFF_BYTES)
    except (FrameworkError, OSError, EOFError, zipfile.BadZipFile, gzip.BadGzipFile):
        return False
    return V.ESCO.encode() in head


# -- the streaming pass -------------------------------------------------------------------


@dataclass
class _Tables:
    """What the pass keeps: small per-subject tables, nodes resolved afterwards."""

    flags: dict[str, int] = field(default_factory=dict)
    labels: dict[str, dict[str, list[str]]] = field(default_factory=lambda: {k: {} for k in LABEL_KINDS})
    xl_links: list[tuple[str, str, str]] = field(default_factory=list)  # (label node, concept, kind)
    xl_forms: dict[str, str] = field(default_factory=dict)  # label node -> text in the language
    texts: dict[str, dict[str, list[str]]] = field(default_factory=lambda: {"description": {}, "scope": {}})
    text_links: list[tuple[str, str, str]] = field(default_factory=list)  # (concept, field, node)
    node_ok: dict[str, bool] = field(default_factory=dict)  # NodeLiteral -> in the language?
    node_text: dict[str, str] = field(default_factory=dict)
    values: dict[int, dict[str, str]] = field(default_factory=lambda: {
        SKILL_TYPE: {}, REUSE_LEVEL: {}, STATUS: {}, MEMBER_OF_ISCO: {}, VERSION: {}})
    broader: list[tuple[str, str]] = field(default_factory=list)
    schemes: dict[str, list[str]] = field(default_factory=dict)
    notations: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    raw_relations: list[tuple[str, str, str]] = field(default_factory=list)  # (source, target, strength)
    ao_from: dict[str, str] = field(default_factory=dict)
    ao_target: dict[str, str] = field(default_factory=dict)
    ao_type: dict[str, str] = field(default_factory=dict)
    languages: set[str] = field(default_factory=set)
    pref_any: set[str] = field(default_factory=set)  # subjects with a skos:prefLabel in any language
    triples: int = 0


def _node(term: Any) -> str:
    """A key for an IRI or blank node (blank nodes get a '_:' prefix so they never clash)."""
    return term.value if type(term) is NamedNode else "_:" + term.value


def _collect(quads: Iterator[Any], lang: str) -> _Tables:
    t = _Tables()
    predicates, classes = PREDICATES, CLASSES
    flags, labels, languages, pref_any = t.flags, t.labels, t.languages, t.pref_any
    pref, alt, hidden = labels["pref"], labels["alt"], labels["hidden"]
    xl_links, xl_forms, text_links, texts = t.xl_links, t.xl_forms, t.text_links, t.texts
    node_ok, node_text, values = t.node_ok, t.node_text, t.values
    xl_kind = {XL_PREF: "pref", XL_ALT: "alt", XL_HIDDEN: "hidden"}
    plain = {PREF: pref, ALT: alt, HIDDEN: hidden}
    count = 0
    strength: str | None  # an association's strength (None: a relationship type it does not know)
    for quad in quads:
        count += 1
        code = predicates.get(quad.predicate.value)
        if code is None:
            continue
        obj = quad.object
        if code <= HIDDEN:
            if code == TYPE:
                flag = classes.get(obj.value)
                if flag:
                    subject = quad.subject.value
                    flags[subject] = flags.get(subject, 0) | flag
                continue
            if type(obj) is not Literal:
                continue
            tag = obj.language
            if code == PREF and tag:
                languages.add(tag)
                pref_any.add(quad.subject.value)
            if tag == lang or (tag and tag.lower() == lang):
                plain[code].setdefault(quad.subject.value, []).append(obj.value)
        elif code <= XL_HIDDEN:
            xl_links.append((_node(obj), quad.subject.value, xl_kind[code]))
        elif code == XL_FORM:
            tag = obj.language if type(obj) is Literal else None
            if tag:
                languages.add(tag)
                if tag == lang or tag.lower() == lang:
                    xl_forms[_node(quad.subject)] = obj.value
        elif code <= SCOPE_NOTE:
            name = "description" if code == DESCRIPTION else "scope"
            if type(obj) is Literal:
                tag = obj.language
                if tag and tag.lower() == lang:
                    texts[name].setdefault(quad.subject.value, []).append(obj.value)
            else:
                text_links.append((quad.subject.value, name, _node(obj)))
        elif code == NL_LANGUAGE:
            node = _node(quad.subject)
            ok = obj.value.strip().lower() == lang
            node_ok[node] = ok
            if not ok:
                node_text.pop(node, None)
        elif code == NL_TEXT:
            node = _node(quad.subject)
            tag = obj.language if type(obj) is Literal else None
            if tag:
                ok = tag.lower() == lang
                node_ok.setdefault(node, ok)
                if ok:
                    node_text[node] = obj.value
            elif node_ok.get(node) is not False:
                node_text[node] = obj.value
        elif code in values:
            values[code][quad.subject.value] = obj.value
        elif code == BROADER:
            t.broader.append((quad.subject.value, obj.value))
        elif code == IN_SCHEME:
            t.schemes.setdefault(quad.subject.value, []).append(obj.value)
        elif code == NOTATION or code == CODE:
            if type(obj) is Literal:
                rank = 0 if code == NOTATION and obj.datatype.value == V.XSD_STRING else 1 if code == CODE else 2
                t.notations.setdefault(quad.subject.value, []).append((rank, obj.value))
        elif code <= FOR_OPTIONAL:
            strength = "essential" if code == FOR_ESSENTIAL else "optional"
            t.raw_relations.append((obj.value, quad.subject.value, strength))
        elif code <= HAS_OPTIONAL:
            strength = "essential" if code == HAS_ESSENTIAL else "optional"
            t.raw_relations.append((quad.subject.value, obj.value, strength))
        elif code == AO_FROM:
            t.ao_from[_node(quad.subject)] = obj.value
        elif code == AO_TARGET:
            t.ao_target[_node(quad.subject)] = obj.value
        elif code == AO_TYPE:
            strength = RELATIONSHIP_TYPES.get(obj.value)
            if strength:
                t.ao_type[_node(quad.subject)] = strength
    t.triples = count
    return t


def _parse(path: Path, lang: str) -> tuple[_Tables, str]:
    with open_rdf(path) as source:
        display = source.display
        try:
            tables = _collect(source.quads(lenient=True), lang)
        except SyntaxError as exc:
            message = str(exc.args[0]) if exc.args else str(exc)
            column = _SYNTAX.match(message)
            if column:
                message = f"column {column.group(1) or column.group(2)}: {message[column.end():]}"
            raise FrameworkError(f"malformed RDF: {message}", path=display, line=exc.lineno) from None
        except (OSError, EOFError, zipfile.BadZipFile, ValueError) as exc:
            raise FrameworkError(f"cannot read RDF: {exc}", path=display) from None
    return tables, display


# -- building the framework ---------------------------------------------------------------


def _classify(t: _Tables) -> dict[str, str]:
    """Concept IRI -> 'skill' | 'group' | 'occupation' | 'isco'."""
    kinds: dict[str, str] = {}
    for iri, flag in t.flags.items():
        schemes = t.schemes.get(iri, ())
        if flag & F_OCCUPATION:
            kinds[iri] = "occupation"
        elif flag & F_ISCO or (flag & F_CONCEPT and (iri.startswith(V.ISCO_NS) or V.ISCO_SCHEME in schemes)):
            kinds[iri] = "isco"
        elif flag & F_GROUP or (flag & (F_SKILL | F_CONCEPT) and V.SKILLS_HIERARCHY_SCHEME in schemes):
            kinds[iri] = "group"
        elif flag & F_SKILL:
            kinds[iri] = "skill"
    return kinds


class _Resolved:
    """Labels and texts per concept, with the skos-xl and NodeLiteral nodes resolved."""

    def __init__(self, t: _Tables) -> None:
        self.labels = t.labels
        self.xl: dict[str, dict[str, list[str]]] = {k: {} for k in LABEL_KINDS}
        for node, subject, kind in t.xl_links:
            text = t.xl_forms.get(node)
            if text is not None:
                self.xl[kind].setdefault(subject, []).append(text)
        self.texts = t.texts
        for subject, name, node in t.text_links:
            if t.node_ok.get(node) and node in t.node_text:
                self.texts[name].setdefault(subject, []).append(t.node_text[node])

    def pref(self, iri: str) -> str:
        found = {x.strip() for x in self.labels["pref"].get(iri, ())} - {""}
        found = found or {x.strip() for x in self.xl["pref"].get(iri, ())} - {""}
        return min(found) if found else ""

    def others(self, iri: str, kind: str) -> tuple[str, ...]:
        return split_labels("\n".join(self.labels[kind].get(iri, []) + self.xl[kind].get(iri, [])))

    def text(self, iri: str, name: str) -> str:
        found = {x.strip() for x in self.texts[name].get(iri, ())} - {""}
        return min(found) if found else ""


def _code(t: _Tables, iri: str) -> str:
    found = sorted((rank, value.strip()) for rank, value in t.notations.get(iri, ()) if value.strip())
    return found[0][1] if found else ""


def _isco_code(group: str, isco_codes: dict[str, str]) -> str:
    """The ISCO code of an occupation's esco:memberOfISCOGroup: the group's code, else the IRI's 'C1234'."""
    if isco_codes.get(group):
        return isco_codes[group]
    found = _ISCO_CODE.search(group)
    return found.group(1) if found else ""


def _pillar(kind: str) -> str:
    return "skills" if kind in ("skill", "group") else "occupations"


def _withdrawn(t: _Tables, kinds: dict[str, str], pillar: dict[str, str]) -> dict[str, str]:
    """IRI -> pillar of the concepts the dump declares but labels in no language (see module docs)."""
    named = t.pref_any | {subject for _node, subject, kind in t.xl_links if kind == "pref"}
    out = {iri: _pillar(kind) for iri, kind in kinds.items() if iri not in pillar and iri not in named}
    for narrower, wider in t.broader:
        for iri, other in ((narrower, wider), (wider, narrower)):
            if other in pillar and iri not in pillar and iri not in kinds and iri not in named:
                out.setdefault(iri, pillar[other])
    return out


def _build(t: _Tables, kinds: dict[str, str], r: _Resolved) -> tuple[dict[str, Competency], dict[str, Occupation],
                                                                        list[Relation], dict[str, int]]:
    dropped = {"concepts without a label": 0, "broader links": 0, "relations": 0}
    labelled = {}
    for iri in kinds:
        pref = r.pref(iri)
        if pref:
            labelled[iri] = pref
    pillar = {iri: _pillar(kinds[iri]) for iri in labelled}
    withdrawn = _withdrawn(t, kinds, pillar)
    dropped["concepts without a label"] = len(kinds) - len(labelled) - sum(iri in kinds for iri in withdrawn)
    broader: dict[str, set[str]] = {}
    for narrower, wider in t.broader:
        if narrower in pillar and pillar.get(wider) == pillar[narrower]:
            broader.setdefault(narrower, set()).add(wider)
        elif narrower in pillar:
            dropped["broader links"] += 1
    skill_type, reuse, status, isco_of = (t.values[c] for c in (SKILL_TYPE, REUSE_LEVEL, STATUS, MEMBER_OF_ISCO))
    competencies: dict[str, Competency] = {}
    occupations: dict[str, Occupation] = {}
    isco_codes = {iri: _code(t, iri) for iri in labelled if kinds[iri] == "isco"}
    for iri in sorted(labelled):
        kind = kinds[iri]
        common: dict[str, Any] = dict(
            iri=iri, framework=V.ESCO_ID, pref_label=labelled[iri], alt_labels=r.others(iri, "alt"),
            hidden_labels=r.others(iri, "hidden"), description=r.text(iri, "description"),
            broader=tuple(sorted(broader.get(iri, ()))), status=status.get(iri, "").strip() or "released",
        )
        if kind in ("skill", "group"):
            if kind == "group":
                competency_kind = KIND_GROUP
            else:
                competency_kind = SKILL_KINDS.get(V.last_segment(skill_type[iri]), KIND_UNTYPED) \
                    if iri in skill_type else KIND_UNTYPED
            competencies[iri] = Competency(
                kind=competency_kind, reuse_level=V.last_segment(reuse.get(iri, "")), code=_code(t, iri),
                schemes=tuple(sorted(set(t.schemes.get(iri, ())))), scope_note=r.text(iri, "scope"), **common,
            )
        elif kind == "isco":
            occupations[iri] = Occupation(kind=KIND_ISCO_GROUP, code=isco_codes[iri], **common)
        else:
            isco_group = _isco_code(isco_of.get(iri, ""), isco_codes)
            occupations[iri] = Occupation(kind=KIND_OCCUPATION, code=_code(t, iri), isco_group=isco_group, **common)
    relations = _relations(t, pillar, withdrawn, dropped)
    return competencies, occupations, relations, dropped


def _relations(t: _Tables, pillar: dict[str, str], withdrawn: dict[str, str],
               dropped: dict[str, int]) -> list[Relation]:
    raw = set(t.raw_relations)
    for node, strength in t.ao_type.items():
        source, target = t.ao_from.get(node), t.ao_target.get(node)
        if source and target:
            raw.add((source, target, strength))
    types = {("occupations", "essential"): REL_ESSENTIAL, ("occupations", "optional"): REL_OPTIONAL,
             ("skills", "essential"): REL_SKILL_ESSENTIAL, ("skills", "optional"): REL_SKILL_OPTIONAL}
    found = set()
    kept = 0
    for source, target, strength in raw:
        side = pillar.get(source) or withdrawn.get(source, "")
        if not side or (pillar.get(target) or withdrawn.get(target)) != "skills":
            dropped["relations"] += 1
            continue
        row = (source, target, types[side, strength])
        if row not in found and (source not in pillar or target not in pillar):
            kept += 1
        found.add(row)
    dropped[KEPT] = kept
    return [Relation(*row) for row in sorted(found)]


def _version(t: _Tables, path: Path) -> str:
    """The ESCO concept scheme's version (without a leading 'v'), else the one in the file name."""
    versions = t.values[VERSION]
    for iri in [V.ESCO_SKILLS_SCHEME] + sorted(i for i in versions if i.startswith(V.SCHEME_NS)):
        value = versions.get(iri, "").strip()
        if value:
            return value[1:] if value[:1] in "vV" and value[1:2].isdigit() else value
    return V.version_in_name(path.name)


def load_esco_rdf(path: Path, language: str = "en", *, version: str | None = None) -> Framework:
    """Load an ESCO RDF dump (any pyoxigraph format, plain, .gz or in a .zip) in one language.

    ``version`` overrides the version read from the dump or its file name.
    """
    path = Path(path)
    lang = (language or "").strip().lower()
    if not lang:
        raise FrameworkError("no language given", path=str(path))
    tables, display = _parse(path, lang)
    if tables.triples == 0:
        raise FrameworkError("no RDF triples in the file", path=display)
    if not any(flag & F_SKILL for flag in tables.flags.values()):
        raise FrameworkError("not an ESCO dump: no concept is typed esco:Skill", path=display)
    if lang not in {tag.lower() for tag in tables.languages}:
        have = ", ".join(sorted({tag.lower() for tag in tables.languages})[:40]) or "none"
        raise FrameworkError(f"no labels in language {lang!r} (labels found in: {have})", path=display)
    kinds = _classify(tables)
    competencies, occupations, relations, dropped = _build(tables, kinds, _Resolved(tables))
    kept = dropped.pop(KEPT, 0)
    if kept:
        log.info("%s: kept %d relation(s) naming a withdrawn concept (declared in the dump, labelled in no "
                 "language)", display, kept)
    if any(dropped.values()):
        log.warning("%s: left out %s", display, ", ".join(f"{n} {what}" for what, n in dropped.items() if n))
    return Framework(
        id=V.ESCO_ID,
        iri=V.ESCO_IRI,
        title=V.ESCO_TITLE,
        version=version if version is not None else _version(tables, path),
        language=lang,
        source=path.name,
        licence=V.ESCO_LICENCE,
        competencies=competencies,
        occupations=occupations,
        relations=relations,
        languages=(lang,),
    )
