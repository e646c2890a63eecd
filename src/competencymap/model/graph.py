"""One graph per framework: children, skill groups with their depth, relations by IRI, occupation links.

Built once from a :class:`~competencymap.model.framework.Framework` (``CompetencyMap.graph(name)`` keeps it
on the engine) and never changed afterwards, so threads can share it. Analytics rolls needs up
with it, employer matching reads its children for the coverage rule, and the API's competency
detail reads its relations and occupation links.

Skill groups above a competency: its direct broader skill groups or, when it has none (ESCO
skills filed only under a broader skill), those of its broader skills; every ancestor group of
those counts too, nearest first. A group's depth is 1 at the top of the hierarchy and one more
per broader-group link (the first broader group), e.g. ESCO: 1 = "skills" / "knowledge" /
"transversal skills" / "language skills", 4 = the finest groups.
"""

from __future__ import annotations

from collections.abc import Iterable

from competencymap.model.framework import (
    KIND_GROUP,
    REL_ESSENTIAL,
    REL_OPTIONAL,
    Competency,
    Framework,
    Occupation,
    Relation,
)

OCCUPATION_TYPES = (REL_ESSENTIAL, REL_OPTIONAL)


class FrameworkGraph:
    """Read-only lookups over one framework's hierarchy and relations (see module docs)."""

    def __init__(self, framework: Framework) -> None:
        self.framework = framework
        self._children = _children(framework)
        self._outgoing: dict[str, list[Relation]] = {}
        self._incoming: dict[str, list[Relation]] = {}
        for relation in framework.relations:
            self._outgoing.setdefault(relation.source, []).append(relation)
            self._incoming.setdefault(relation.target, []).append(relation)
        self._depth: dict[str, int] = {}
        for iri, concept in framework.competencies.items():
            if concept.kind == KIND_GROUP:
                self._group_depth(iri)
        self._groups: dict[str, tuple[str, ...]] = {}
        for iri in framework.competencies:
            self._groups_of(iri)

    # -- concepts and hierarchy ------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self.framework.id

    def concept(self, iri: str) -> Competency | Occupation | None:
        return self.framework.concept(iri)

    def __contains__(self, iri: object) -> bool:
        return isinstance(iri, str) and iri in self.framework.competencies

    def label(self, iri: str) -> str:
        """The concept's preferred label, or the IRI itself when the framework has no such concept."""
        concept = self.concept(iri)
        return concept.pref_label if concept is not None else iri

    def is_group(self, iri: str) -> bool:
        concept = self.framework.competencies.get(iri)
        return concept is not None and concept.kind == KIND_GROUP

    def parents(self, iri: str) -> tuple[str, ...]:
        """Direct broader concepts (competencies or occupations), as the framework lists them."""
        concept = self.concept(iri)
        return concept.broader if concept is not None else ()

    def children(self, iri: str) -> tuple[str, ...]:
        """Concepts whose direct broader concept is `iri`, in framework order."""
        return self._children.get(iri, ())

    def groups(self, iri: str) -> tuple[str, ...]:
        """Every skill group above `iri` (see module docs), nearest first; () for an unknown IRI."""
        return self._groups.get(iri, ())

    def depth(self, group: str) -> int:
        """Depth of a skill group: 1 at the top; 1 for an IRI that is not a group of this framework."""
        return self._depth.get(group, 1)

    # -- relations -------------------------------------------------------------------------------

    def relations_from(self, iri: str, types: Iterable[str] | None = None) -> list[Relation]:
        """Relations whose source is `iri` (of the given types, when given), in framework order."""
        return _typed(self._outgoing.get(iri, []), types)

    def relations_to(self, iri: str, types: Iterable[str] | None = None) -> list[Relation]:
        """Relations whose target is `iri` (of the given types, when given), in framework order."""
        return _typed(self._incoming.get(iri, []), types)

    def occupations_of(self, skill: str) -> list[Relation]:
        """Occupation-skill relations (essential, optional) that name `skill` as the target."""
        return self.relations_to(skill, OCCUPATION_TYPES)

    def skills_of(self, occupation: str) -> list[Relation]:
        """Occupation-skill relations (essential, optional) of an occupation."""
        return self.relations_from(occupation, OCCUPATION_TYPES)

    # -- building --------------------------------------------------------------------------------

    def _group_depth(self, group: str) -> int:
        if group not in self._depth:
            self._depth[group] = 1  # guards against cycles while computing
            parents = [b for b in self.parents(group) if self.is_group(b)]
            self._depth[group] = 1 + self._group_depth(parents[0]) if parents else 1
        return self._depth[group]

    def _groups_of(self, iri: str) -> tuple[str, ...]:
        if iri not in self._groups:
            self._groups[iri] = ()  # cycle guard
            self._groups[iri] = tuple(self._collect(iri))
        return self._groups[iri]

    def _collect(self, iri: str) -> list[str]:
        concept = self.framework.competencies.get(iri)
        if concept is None:
            return []
        direct = [b for b in concept.broader if self.is_group(b)]
        out: list[str] = []
        if not direct and concept.kind != KIND_GROUP:
            for parent in concept.broader:
                out += [g for g in self._groups_of(parent) if g not in out]
            return out
        for group in direct:
            for g in (group, *self._groups_of(group)):
                if g not in out:
                    out.append(g)
        return out


def _children(framework: Framework) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    concepts: list[Competency | Occupation] = [*framework.competencies.values(), *framework.occupations.values()]
    for concept in concepts:
        for parent in concept.broader:
            found.setdefault(parent, []).append(concept.iri)
    return {k: tuple(v) for k, v in found.items()}


def _typed(relations: list[Relation], types: Iterable[str] | None) -> list[Relation]:
    if types is None:
        return list(relations)
    wanted = set(types)
    return [r for r in relations if r.type in wanted]

