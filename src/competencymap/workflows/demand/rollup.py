"""The roll-up rows a needed competency also counts towards: the skill groups above it in its
framework's graph, and the Skills for Success skills its crosswalk links reach (see :mod:`competencymap.workflows.demand.single`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from competencymap.model.framework import Framework, Relation
from competencymap.model.graph import FrameworkGraph
from competencymap.workflows.demand.options import LEVEL_SFS, Key, group_level


def _as_graph(framework: Framework | FrameworkGraph) -> FrameworkGraph:
    return framework if isinstance(framework, FrameworkGraph) else FrameworkGraph(framework)


class Rollup:
    """The roll-up rows a competency counts towards: its skill groups and its SfS skills."""

    def __init__(
        self,
        frameworks: Iterable[Framework | FrameworkGraph],
        sfs: Framework | None = None,
        links: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.graphs = [_as_graph(fw) for fw in frameworks]
        self.sfs = sfs
        self.links = links or {}
        self.labels: dict[tuple[str, str], str] = {}
        self._memo: dict[str, frozenset[Key]] = {}

    def keys(self, iri: str) -> frozenset[Key]:
        """Roll-up keys of a competency (of any of the frameworks), memoised."""
        if iri not in self._memo:
            self._memo[iri] = frozenset(self._keys(iri))
        return self._memo[iri]

    def own_key(self, iri: str) -> Key | None:
        """The roll-up key of a concept that is itself a roll-up row (a group, an SfS skill)."""
        for graph in self.graphs:
            if graph.is_group(iri):
                return self._group_key(graph, iri)
        if self.sfs is not None and iri in self.sfs.competencies:
            skill = self.sfs.skill_of(iri)
            return self._sfs_key(skill) if skill == iri else None
        return None

    def _keys(self, iri: str) -> set[Key]:
        """Its groups below the top level (level 1 is "skills" / "knowledge": every posting has
        them) and the SfS skills its crosswalk links reach. SfS rows are always derived this one
        way, from the other frameworks' needs through the crosswalk, whether or not SfS itself is
        mapped (direct SfS needs are competency rows of their own)."""
        out: set[Key] = set()
        for graph in self.graphs:
            out.update(self._group_key(graph, group) for group in graph.groups(iri) if graph.depth(group) > 1)
        if self.sfs is not None and iri not in self.sfs.competencies:
            skills = {self.sfs.skill_of(target) for target in self.links.get(iri, ())}
            out.update(self._sfs_key(skill) for skill in skills if skill is not None)
        return out

    def _group_key(self, graph: FrameworkGraph, group: str) -> Key:
        if (graph.id, group) not in self.labels:
            self.labels[(graph.id, group)] = graph.label(group)
        return (graph.id, group_level(graph.depth(group)), group)

    def _sfs_key(self, skill: str) -> Key:
        assert self.sfs is not None
        if (self.sfs.id, skill) not in self.labels:
            concept = self.sfs.competencies.get(skill)
            self.labels[(self.sfs.id, skill)] = concept.pref_label if concept else skill
        return (self.sfs.id, LEVEL_SFS, skill)


# Mapping relations that roll a competency up to a Skills for Success skill, seen from the
# competency: the same concept, a close one, or the SfS skill being broader. relatedMatch is
# left out: the computed crosswalk's related links are loose (e.g. a programming language to
# Numeracy) and would inflate the SfS counts.
SFS_ROLLUP = ("exactMatch", "closeMatch", "broadMatch")
_INVERSE = {"exactMatch": "exactMatch", "closeMatch": "closeMatch", "broadMatch": "narrowMatch",
            "narrowMatch": "broadMatch", "relatedMatch": "relatedMatch"}


def sfs_links(relations: Iterable[Relation], sfs: Framework, types: Sequence[str] = SFS_ROLLUP) -> dict[str, tuple[str, ...]]:
    """Competency IRI -> Skills for Success concepts it rolls up to, from mapping relations
    of the given types (read from the competency's side, whichever way a relation is stored)."""
    links: dict[str, list[str]] = {}
    for r in relations:
        if r.source not in sfs.competencies and r.target in sfs.competencies and r.type in types:
            other, target = r.source, r.target
        elif r.target not in sfs.competencies and r.source in sfs.competencies and _INVERSE.get(r.type) in types:
            other, target = r.target, r.source
        else:
            continue
        if target not in links.setdefault(other, []):
            links[other].append(target)
    return {k: tuple(v) for k, v in links.items()}
