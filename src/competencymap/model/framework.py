"""The competency model: one set of types for every framework.

Every loader (ESCO CSV, ESCO RDF, Skills for Success, any SKOS scheme) produces a
:class:`Framework`; everything downstream (index, mapping, matching, analytics,
exports) reads only these types. A competency's IRI is the shared identifier
everywhere in the project.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

# Competency kinds. ESCO's esco:skillType values keep ESCO's own names.
KIND_SKILL = "skill/competence"
KIND_KNOWLEDGE = "knowledge"
KIND_UNTYPED = "skill"  # an ESCO skill whose skillType is empty in the release
KIND_GROUP = "skill group"  # ESCO skill groups, hierarchy nodes of any framework
KIND_COMPONENT = "component"  # a part of a skill (Skills for Success components)

# Occupation kinds.
KIND_OCCUPATION = "occupation"
KIND_ISCO_GROUP = "isco group"

# Relation types. Occupation-skill: source is the occupation, target the skill.
REL_ESSENTIAL = "essential"
REL_OPTIONAL = "optional"
# Skill-skill (ESCO skillSkillRelations): source is the original skill.
REL_SKILL_ESSENTIAL = "skill-essential"
REL_SKILL_OPTIONAL = "skill-optional"
# Cross-framework SKOS mapping relations (source and target in different schemes).
MAPPING_TYPES = ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")


@dataclass(frozen=True, slots=True)
class Competency:
    """A skill, a knowledge concept, a skill group or a component, in one framework."""

    iri: str
    framework: str
    kind: str
    pref_label: str
    alt_labels: tuple[str, ...] = ()
    hidden_labels: tuple[str, ...] = ()
    description: str = ""
    broader: tuple[str, ...] = ()
    status: str = "released"
    reuse_level: str = ""  # ESCO: transversal, cross-sector, sector-specific, occupation-specific
    code: str = ""  # a notation where the framework has one (ESCO skill groups)
    schemes: tuple[str, ...] = ()  # concept schemes (ESCO collections) the concept is in
    scope_note: str = ""

    @property
    def is_group(self) -> bool:
        return self.kind == KIND_GROUP

    def texts(self, *, hidden: bool = False) -> list[tuple[str, str]]:
        """The texts that represent this competency: (field, text) pairs.

        With `hidden`, hidden labels follow the alternative labels as field 'hidden_label'.
        """
        out = [("pref_label", self.pref_label)]
        out += [("alt_label", label) for label in self.alt_labels if label != self.pref_label]
        if hidden:
            out += [("hidden_label", label) for label in self.hidden_labels if label != self.pref_label]
        if self.description:
            out.append(("description", self.description))
        return out


@dataclass(frozen=True, slots=True)
class Occupation:
    """An ESCO occupation or ISCO group."""

    iri: str
    framework: str
    pref_label: str
    kind: str = KIND_OCCUPATION
    code: str = ""
    isco_group: str = ""  # ISCO-08 code of the unit group (occupations only)
    alt_labels: tuple[str, ...] = ()
    hidden_labels: tuple[str, ...] = ()
    description: str = ""
    broader: tuple[str, ...] = ()
    status: str = "released"


@dataclass(frozen=True, slots=True)
class Relation:
    """A typed, directed link between two concepts, optionally scored."""

    source: str
    target: str
    type: str
    score: float | None = None


@dataclass(frozen=True, slots=True)
class Level:
    """A proficiency level of a competency (Skills for Success)."""

    iri: str
    competency: str
    rank: int
    label: str
    description: str = ""


@dataclass(slots=True)
class Framework:
    """A concept scheme with its competencies, occupations and relations."""

    id: str  # short name used on the command line: esco, sfs, essential-skills, ...
    iri: str
    title: str
    version: str = ""
    language: str = "en"
    source: str = ""
    licence: str = ""
    competencies: dict[str, Competency] = field(default_factory=dict)
    occupations: dict[str, Occupation] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)
    levels: list[Level] = field(default_factory=list)
    languages: tuple[str, ...] = ("en",)

    def skills(self) -> list[Competency]:
        """Competencies that are not hierarchy groups: the candidates for mapping."""
        return [c for c in self.competencies.values() if not c.is_group]

    def concept(self, iri: str) -> Competency | Occupation | None:
        return self.competencies.get(iri) or self.occupations.get(iri)

    def skill_of(self, iri: str) -> str | None:
        """The skill a competency belongs to: a component's broader skill, else the competency
        itself; None when the framework has no such competency."""
        concept = self.competencies.get(iri)
        if concept is None:
            return None
        if concept.kind == KIND_COMPONENT and concept.broader:
            return concept.broader[0]
        return iri

    def broader_chain(self, iri: str) -> list[Competency | Occupation]:
        """Ancestors of a concept, nearest first, following the first broader link."""
        chain: list[Competency | Occupation] = []
        seen = {iri}
        node = self.concept(iri)
        while node is not None and node.broader:
            parent_iri = node.broader[0]
            if parent_iri in seen:
                break
            seen.add(parent_iri)
            node = self.concept(parent_iri)
            if node is not None:
                chain.append(node)
        return chain

    def stats(self) -> dict:
        """Counts per kind and relation type, as `frameworks stats` reports them."""
        kinds = Counter(c.kind for c in self.competencies.values())
        occ_kinds = Counter(o.kind for o in self.occupations.values())
        rel_types = Counter(r.type for r in self.relations)
        broader = sum(len(c.broader) for c in self.competencies.values())
        broader += sum(len(o.broader) for o in self.occupations.values())
        return {
            "id": self.id,
            "iri": self.iri,
            "title": self.title,
            "version": self.version,
            "language": self.language,
            "languages": list(self.languages),
            "competencies": len(self.competencies) - kinds.get(KIND_GROUP, 0),
            "competencies_by_kind": dict(sorted(kinds.items())),
            "skill_groups": kinds.get(KIND_GROUP, 0),
            "occupations": occ_kinds.get(KIND_OCCUPATION, 0),
            "occupations_by_kind": dict(sorted(occ_kinds.items())),
            "relations": len(self.relations),
            "relations_by_type": dict(sorted(rel_types.items())),
            "broader_links": broader,
            "alt_labels": sum(len(c.alt_labels) for c in self.competencies.values()),
            "levels": len(self.levels),
        }
