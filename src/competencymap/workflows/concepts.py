"""One concept (competency or occupation) with everything the frameworks say about it.

`concept_detail` is what `CompetencyMap.concept` returns and what both `competencymap frameworks
show` and `GET /competencies/{iri}` render: labels, description, kind, broader chain, narrower
concepts, skill groups, levels, the occupations that need a competency (essential, optional) or
the skills an occupation needs, skill-skill relations, and cross-framework mappings, stated in a
framework or computed by the crosswalk between the frameworks searched. Lists are complete, in
framework order; the callers cap and sort them.

An IRI that no framework lists as a concept but whose relations name it (ESCO v1.1.1's withdrawn
occupation) is returned with empty labels and ``in_framework=False``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from competencymap._common.errors import CompetencyMapError
from competencymap.model.framework import (
    MAPPING_TYPES,
    REL_ESSENTIAL,
    REL_OPTIONAL,
    REL_SKILL_ESSENTIAL,
    REL_SKILL_OPTIONAL,
    Competency,
    Level,
    Relation,
)
from competencymap.model.graph import FrameworkGraph
from competencymap.retrieval.crosswalk import crosswalk_index

if TYPE_CHECKING:
    from competencymap.engine import CompetencyMap

OCCUPATION_RELATIONS = (REL_ESSENTIAL, REL_OPTIONAL)
SKILL_RELATIONS = (REL_SKILL_ESSENTIAL, REL_SKILL_OPTIONAL)


class UnknownConcept(CompetencyMapError):
    """An IRI that none of the frameworks searched lists or names (HTTP 404)."""


@dataclass(frozen=True)
class ConceptRef:
    """A concept named by another: its label, kind and framework when a searched framework lists it."""

    iri: str
    label: str | None = None
    kind: str | None = None
    framework: str | None = None

    @property
    def in_framework(self) -> bool:
        return self.label is not None


@dataclass(frozen=True)
class Link:
    """A relation to another concept. `direction` is 'outgoing' when this concept is the source;
    `origin` is 'framework' (stated) or 'crosswalk' (computed, with its score)."""

    type: str
    direction: str
    origin: str
    concept: ConceptRef
    score: float | None = None


@dataclass(frozen=True)
class ConceptDetail:
    iri: str
    framework: str  # the framework holding it (or naming it, when not in_framework)
    type: str  # 'competency' or 'occupation'
    in_framework: bool
    kind: str = ""
    status: str = ""
    pref_label: str = ""
    alt_labels: tuple[str, ...] = ()
    hidden_labels: tuple[str, ...] = ()
    description: str = ""
    scope_note: str = ""
    reuse_level: str = ""
    code: str = ""
    schemes: tuple[str, ...] = ()
    isco_group: str = ""
    broader: tuple[ConceptRef, ...] = ()  # the broader chain, nearest first
    narrower: tuple[ConceptRef, ...] = ()
    skill_groups: tuple[ConceptRef, ...] = ()  # every skill group above it, nearest first
    levels: tuple[Level, ...] = ()  # by rank
    essential_for: tuple[ConceptRef, ...] = ()  # occupations needing this competency
    optional_for: tuple[ConceptRef, ...] = ()
    essential_skills: tuple[ConceptRef, ...] = ()  # skills this occupation needs
    optional_skills: tuple[ConceptRef, ...] = ()
    skill_relations: tuple[Link, ...] = ()
    mappings: tuple[Link, ...] = ()
    notes: tuple[str, ...] = ()  # e.g. a crosswalk that could not be computed


@dataclass
class ConceptLookups:
    """What `concept_detail` builds once per set of searched frameworks and keeps (thread-safe)."""

    owners: dict[tuple[str, ...], dict[str, str]] = field(default_factory=dict)
    crosswalks: dict[tuple[str, str], dict[str, list[Relation]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def owner_index(self, engine: CompetencyMap, names: Sequence[str]) -> dict[str, str]:
        """IRI -> the first of `names` listing it."""
        key = tuple(names)
        with self.lock:
            found = self.owners.get(key)
        if found is None:
            found = {}
            for name in names:
                framework = engine.framework(name)
                for iri in [*framework.competencies, *framework.occupations]:
                    found.setdefault(iri, name)
            with self.lock:
                self.owners[key] = found
        return found

    def crosswalk(self, engine: CompetencyMap, source: str, target: str) -> dict[str, list[Relation]]:
        """The engine's crosswalk from `source` to `target` grouped by source IRI, best first."""
        key = (source, target)
        with self.lock:
            found = self.crosswalks.get(key)
        if found is None:
            found = crosswalk_index(engine.crosswalk(source, target))
            with self.lock:
                self.crosswalks[key] = found
        return found


def concept_detail(
    engine: CompetencyMap,
    iri: str,
    framework: str | None = None,
    *,
    within: Sequence[str] | None = None,
    crosswalk: bool = True,
    lookups: ConceptLookups | None = None,
) -> ConceptDetail:
    """Everything the frameworks say about `iri` (see module docs).

    `within`: the frameworks searched and drawn on for references and mappings (default: every
    framework of the store); `framework` looks only there. `crosswalk` adds the computed
    mappings towards the other searched frameworks (it needs their indexes)."""
    names = list(dict.fromkeys(within if within is not None else engine.store.names()))
    if framework is not None:
        engine.framework(framework)  # an unknown name fails here, with the store's message
        if framework not in names:
            names.insert(0, framework)
    lookups = lookups or ConceptLookups()
    owners = lookups.owner_index(engine, names)
    home = framework if framework is not None else owners.get(iri)
    if home is not None and engine.framework(home).concept(iri) is None and not _named(engine, home, iri):
        home = None
    if home is None and framework is None:
        home = next((name for name in names if _named(engine, name, iri)), None)
    if home is None:
        raise UnknownConcept(f"unknown IRI {iri}: not in {', '.join([framework] if framework else names)}")
    return _detail(engine, iri, home, names, owners, lookups, crosswalk)


def _named(engine: CompetencyMap, name: str, iri: str) -> bool:
    """True when a non-mapping relation of framework `name` names `iri`."""
    graph = engine.graph(name)
    return any(r.type not in MAPPING_TYPES for r in [*graph.relations_from(iri), *graph.relations_to(iri)])


def _detail(
    engine: CompetencyMap,
    iri: str,
    home: str,
    names: list[str],
    owners: dict[str, str],
    lookups: ConceptLookups,
    crosswalk: bool,
) -> ConceptDetail:
    framework = engine.framework(home)
    graph = engine.graph(home)
    concept = framework.concept(iri)

    def ref(other: str) -> ConceptRef:
        owner = owners.get(other)
        found = engine.framework(owner).concept(other) if owner else framework.concept(other)
        if found is None:
            return ConceptRef(other, framework=None)
        return ConceptRef(other, found.pref_label, found.kind, owner or home)

    is_competency = isinstance(concept, Competency) or (
        concept is None and not graph.relations_from(iri, OCCUPATION_RELATIONS)
    )
    fields: dict[str, object] = {}
    if concept is not None:
        fields = {
            "kind": concept.kind, "status": concept.status, "pref_label": concept.pref_label,
            "alt_labels": tuple(concept.alt_labels), "hidden_labels": tuple(concept.hidden_labels),
            "description": concept.description, "code": concept.code,
        }
        if isinstance(concept, Competency):
            fields.update(scope_note=concept.scope_note, reuse_level=concept.reuse_level, schemes=tuple(concept.schemes))
        else:
            fields["isco_group"] = concept.isco_group
    mappings, notes = _mappings(engine, iri, home, names, ref, lookups, crosswalk and is_competency)
    return ConceptDetail(
        iri=iri,
        framework=home,
        type="competency" if is_competency else "occupation",
        in_framework=concept is not None,
        broader=tuple(ref(c.iri) for c in framework.broader_chain(iri)) if concept is not None else (),
        narrower=tuple(ref(child) for child in graph.children(iri)),
        skill_groups=tuple(ref(group) for group in graph.groups(iri)),
        levels=tuple(sorted((lv for lv in framework.levels if lv.competency == iri), key=lambda lv: lv.rank)),
        essential_for=tuple(ref(r.source) for r in graph.relations_to(iri, [REL_ESSENTIAL])) if is_competency else (),
        optional_for=tuple(ref(r.source) for r in graph.relations_to(iri, [REL_OPTIONAL])) if is_competency else (),
        essential_skills=() if is_competency else tuple(ref(r.target) for r in graph.relations_from(iri, [REL_ESSENTIAL])),
        optional_skills=() if is_competency else tuple(ref(r.target) for r in graph.relations_from(iri, [REL_OPTIONAL])),
        skill_relations=_skill_links(graph, iri, ref) if is_competency else (),
        mappings=mappings,
        notes=notes,
        **fields,  # type: ignore[arg-type]
    )


Ref = Callable[[str], ConceptRef]


def _skill_links(graph: FrameworkGraph, iri: str, ref: Ref) -> tuple[Link, ...]:
    outgoing = [(r, "outgoing") for r in graph.relations_from(iri, SKILL_RELATIONS)]
    incoming = [(r, "incoming") for r in graph.relations_to(iri, SKILL_RELATIONS)]
    return tuple(
        Link(r.type, direction, "framework", ref(r.target if direction == "outgoing" else r.source), r.score)
        for r, direction in [*outgoing, *incoming]
    )


def _mappings(
    engine: CompetencyMap,
    iri: str,
    home: str,
    names: list[str],
    ref: Ref,
    lookups: ConceptLookups,
    crosswalk: bool,
) -> tuple[tuple[Link, ...], tuple[str, ...]]:
    """Stated mapping relations of every searched framework, then computed crosswalk links to
    concepts not already linked."""
    out: list[Link] = []
    seen: set[tuple[str, str, str]] = set()
    for name in names:
        graph = engine.graph(name)
        pairs = [(r, "outgoing", r.target) for r in graph.relations_from(iri, MAPPING_TYPES)]
        pairs += [(r, "incoming", r.source) for r in graph.relations_to(iri, MAPPING_TYPES)]
        for relation, direction, other in pairs:
            key = (relation.type, direction, other)
            if key not in seen:
                seen.add(key)
                out.append(Link(relation.type, direction, "framework", ref(other), relation.score))
    notes: list[str] = []
    if crosswalk:
        linked = {link.concept.iri for link in out}
        for other in names:
            if other == home or other.endswith("-occupations"):
                continue
            try:
                relations = lookups.crosswalk(engine, home, other).get(iri, [])
            except CompetencyMapError as exc:
                notes.append(f"crosswalk {home} -> {other} not used: {exc.line_text()}")
                continue
            for relation in relations:
                if relation.target not in linked:
                    out.append(Link(relation.type, "outgoing", "crosswalk", ref(relation.target), relation.score))
    return tuple(out), tuple(notes)
