"""Researchers: which competencies job postings ask for, how often, and how much the catalog offers.

:func:`demand` reads postings as a stream, maps them in chunks with
``engine.map_many(..., kind="posting")`` and keeps only counters, so a corpus of any size runs in
bounded memory. Each chunk becomes :class:`MappedPosting` records (id, cells, ranked profile
entries) and the counter reads only those: the corpus run (:mod:`competencymap.workflows.demand.corpus`) writes
the same records to Parquet on Dask workers and counts them with the same code, so both paths
give the same table. A posting *needs* the competencies the rule of
:mod:`competencymap.workflows.needs` picks, the rule employer matching uses: the profile entries
at or above the pipeline's calibrated threshold or, when the first framework has none, its best
three; optional (asset-only) entries are left out. A posting counts once per competency.

Roll-ups (``rollup=True``), each counted at most once per posting:

- ``group level N``: the skill groups above each needed competency, read from the framework's
  graph (:mod:`competencymap.model.graph`: direct broader groups, or those of its broader skills, and
  every ancestor group). N is the group's depth from the top of the hierarchy (ESCO: 1 =
  "skills" / "knowledge" / "transversal skills" / "language skills", 4 = the finest groups).
- ``sfs``: the Skills for Success skills a needed competency is linked to by an exactMatch,
  closeMatch or broadMatch relation (the framework's own mappings and
  ``CompetencyMap.crosswalk(framework, "sfs")``; see :data:`SFS_ROLLUP`). A link to a component
  counts for its skill; when ``sfs`` is itself mapped, its components roll up to their skill.

``share`` is postings needing the row's concept divided by the postings in the same cell (month,
occupation and any group-by columns). ``credentials_supply`` (with a catalog) counts credentials by their accepted
tags: for a competency row, a tag that meets the competency under the employer-matching rule
(same, broader or narrower; see :mod:`competencymap.workflows.employer_match`); for a roll-up
row, a tag that is the row's group or skill or rolls up to it the same way the needs do.

By occupation: a posting's occupation is the best match of its title on the occupations view
(``esco-occupations``; one short query per posting), or of its whole text when it has no title.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from competencymap._common.errors import CompetencyMapError
from competencymap._common.halves import run_in_halves
from competencymap._common.text import MAX_TEXT_CHARS
from competencymap.mapping.settings import PipelineConfig
from competencymap.model.framework import Framework, Relation
from competencymap.model.graph import FrameworkGraph
from competencymap.workflows.employer_match import (
    COUNTED,
    CoverageRule,
    Offer,
    catalog_offers,
    coverage_rule,
    tag_holders,
)
from competencymap.workflows.needs import FALLBACK_NEEDS, NEED_TOP_K, STATEMENT_TOP_K, pick_needs

if TYPE_CHECKING:
    from competencymap.catalog import Catalog
    from competencymap.engine import CompetencyMap

LEVEL_COMPETENCY = "competency"
LEVEL_SFS = "sfs"
SFS = "sfs"
OCCUPATIONS = "esco-occupations"
CHUNK = 64  # postings mapped per map_many call
UNKNOWN_MONTH = "unknown"
NO_OCCUPATION = "(none)"
NO_GROUP = "(none)"  # a group-by column a posting has no value for
# The cheaper pipeline for large corpora: statements only, no phrase-level queries. On full ESCO
# (benchmarks/demand.py, 2 cores) it maps ~2.3x the statements per second, and its needs agree
# with the full pipeline's at a mean Jaccard of ~0.65 on the sample postings: a trade-off.
FAST_CONFIG = PipelineConfig(phrases=False)

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])(?:\b|-|T|$)")


def group_level(depth: int) -> str:
    return f"group level {depth}"


def _level_order(level: str) -> tuple[int, int]:
    if level == LEVEL_COMPETENCY:
        return (0, 0)
    if level.startswith("group level "):
        return (1, int(level.rsplit(" ", 1)[1]))
    return (2, 0)


# -- options --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemandOptions:
    """What a demand run maps and how it splits the table (plain values: it travels to workers)."""

    frameworks: tuple[str, ...] = ("esco",)
    by_month: bool = False
    by_occupation: bool = False
    group_by: tuple[str, ...] = ()  # extra posting columns that split the table (region, source, ...)
    rollup: bool = True
    fast: bool = False
    config: PipelineConfig | None = None  # None: FAST_CONFIG with `fast`, else the default pipeline
    top_k: int = NEED_TOP_K
    chunk_size: int = CHUNK
    occupations: str = OCCUPATIONS
    sfs: str = SFS

    def __post_init__(self) -> None:
        object.__setattr__(self, "frameworks", tuple(dict.fromkeys(self.frameworks)))
        object.__setattr__(self, "group_by", tuple(dict.fromkeys(self.group_by)))
        if not self.frameworks:
            raise CompetencyMapError("no framework to map postings onto")

    @property
    def pipeline_config(self) -> PipelineConfig | None:
        return self.config or (FAST_CONFIG if self.fast else None)

    @property
    def pipeline(self) -> str:
        config = self.pipeline_config
        return "fast (phrases off)" if config == FAST_CONFIG else ("custom" if config else "full")

    def mapped_frameworks(self) -> list[str]:
        """The frameworks whose indexes the run needs (with the occupations view when by occupation)."""
        return [*self.frameworks, *([self.occupations] if self.by_occupation else [])]


# -- graphs and roll-ups --------------------------------------------------------------------------


Key = tuple[str, str, str]  # framework, level, iri
Cell = tuple[str | None, str | None, tuple[str, ...]]  # month, occupation, group-by values


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


# -- mapped postings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileEntry:
    """One ranked profile entry of a mapped posting (rank 1 = best, within its framework)."""

    framework: str
    rank: int
    iri: str
    label: str
    score: float
    confident: bool
    optional: bool = False  # named only by lines that call it an asset (never counted as a need)


@dataclass(frozen=True)
class MappedPosting:
    """What the table needs of one mapped posting; also one posting's rows in the per-posting files."""

    posting_id: str
    entries: tuple[ProfileEntry, ...]
    statements: int = 0
    month: str | None = None
    occupation: str | None = None
    occupation_label: str | None = None
    groups: tuple[str, ...] = ()
    source: str | None = None
    line: int | None = None

    @property
    def cell(self) -> Cell:
        return (self.month, self.occupation, self.groups)

    def needs(self, frameworks: Sequence[str], fallback: int = FALLBACK_NEEDS) -> list[ProfileEntry]:
        """The posting's needs under the rule of :mod:`competencymap.workflows.needs`, optional
        (asset-only) entries left out."""
        ranked = sorted(self.entries, key=lambda e: e.rank)
        return pick_needs(ranked, frameworks, fallback=fallback, optional=False)

    def fell_back(self, frameworks: Sequence[str]) -> bool:
        """True when the first framework has no confident entry (its needs are the best few)."""
        return bool(frameworks) and not any(e.confident for e in self.entries if e.framework == frameworks[0])


@dataclass(frozen=True)
class PostingError:
    """A posting that could not be read or mapped, or whose date was not understood."""

    reason: str
    stage: str  # read | text | date | map
    number: int | None = None  # 1-based position in its input (or partition)
    posting_id: str | None = None
    source: str | None = None
    line: int | None = None
    counted: bool = False  # True: still counted (a bad date counts under 'unknown')

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "line": self.line, "posting_id": self.posting_id, "number": self.number,
                "stage": self.stage, "reason": self.reason, "counted": self.counted}


def mapped_postings(results: Sequence[Any], items: Sequence[dict[str, Any]], ids: Sequence[str],
                    months: Sequence[str | None], jobs: Sequence[tuple[str, str] | None],
                    options: DemandOptions) -> list[MappedPosting]:
    """Mapping results (with the postings' ids, months and occupations) as :class:`MappedPosting`s."""
    out = []
    for result, posting, pid, month, job in zip(results, items, ids, months, jobs):
        ranks: Counter[str] = Counter()
        entries = []
        for match in result.profile:
            ranks[match.framework] += 1
            entries.append(ProfileEntry(match.framework, ranks[match.framework], match.iri, match.label,
                                        float(match.score), bool(match.confident), bool(match.optional)))
        out.append(MappedPosting(
            posting_id=pid, entries=tuple(entries), statements=len(result.statements), month=month,
            occupation=job[0] if job else None, occupation_label=job[1] if job else None,
            groups=posting_groups(posting, options.group_by), source=posting.get("source"), line=posting.get("line"),
        ))
    return out


def posting_groups(posting: dict[str, Any], names: Sequence[str]) -> tuple[str, ...]:
    """The posting's values of the group-by columns (from its ``groups`` dict or its own keys)."""
    if not names:
        return ()
    groups = posting.get("groups")
    values: Mapping[str, Any] = groups if isinstance(groups, Mapping) else posting
    out = []
    for name in names:
        value = values.get(name)
        out.append(NO_GROUP if value is None or str(value).strip() == "" else str(value).strip())
    return tuple(out)


def posting_id(posting: dict[str, Any], number: int) -> str:
    """The posting's own id, else '<file>:<line>' for a posting read from a file, else its number."""
    own = posting.get("id")
    if own not in (None, ""):
        return str(own)
    if posting.get("source"):
        return f"{posting['source']}:{posting.get('line') or number}"
    return str(number)


# -- counting -------------------------------------------------------------------------------------


class DemandCounter:
    """Counters only: postings per (cell, framework, level, competency) and per cell.

    Counters of parts of a corpus add up (:meth:`merge`): the corpus run counts each partition
    on a worker and merges the parts."""

    def __init__(self, rollup: Rollup | None = None) -> None:
        self.rollup = rollup
        self.counts: Counter[tuple[Cell, Key]] = Counter()
        self.cells: Counter[Cell] = Counter()
        self.labels: dict[tuple[str, str], str] = {}
        self.occupation_labels: dict[str, str] = {}
        self.postings = 0
        self.statements = 0  # statements mapped (for throughput figures)
        self.fallback = 0  # postings with no confident match in some framework (best few counted)

    def add(self, needs: Sequence[Any], *, month: str | None = None, occupation: tuple[str, str] | None = None,
            groups: tuple[str, ...] = ()) -> None:
        """Count one posting's needs (objects with iri, label, framework; each key once) in its cell."""
        occ = None
        if occupation is not None:
            occ = occupation[0]
            self.occupation_labels.setdefault(occ, occupation[1])
        cell = (month, occ, groups)
        keys: set[Key] = set()
        for need in needs:
            keys.add((need.framework, LEVEL_COMPETENCY, need.iri))
            self.labels.setdefault((need.framework, need.iri), need.label)
            if self.rollup is not None:
                keys |= self.rollup.keys(need.iri)
        for key in keys:
            self.counts[(cell, key)] += 1
        self.cells[cell] += 1
        self.postings += 1

    def add_mapped(self, posting: MappedPosting, frameworks: Sequence[str]) -> None:
        """Count one mapped posting: its needs (see :meth:`MappedPosting.needs`), statements, fallback."""
        occupation = (posting.occupation, posting.occupation_label or NO_OCCUPATION) if posting.occupation is not None else None
        self.add(posting.needs(frameworks), month=posting.month, occupation=occupation, groups=posting.groups)
        self.statements += posting.statements
        self.fallback += posting.fell_back(frameworks)

    def label(self, framework: str, iri: str) -> str:
        found = self.labels.get((framework, iri))
        if found is None and self.rollup is not None:
            found = self.rollup.labels.get((framework, iri))
        return found or iri

    def part(self) -> CounterPart:
        """The counts as plain data (labels of roll-up rows included), to merge elsewhere."""
        labels = dict(self.rollup.labels) if self.rollup is not None else {}
        labels.update(self.labels)
        return CounterPart(dict(self.counts), dict(self.cells), labels, dict(self.occupation_labels),
                           self.postings, self.statements, self.fallback)

    def merge(self, part: CounterPart) -> None:
        self.counts.update(part.counts)
        self.cells.update(part.cells)
        for key, label in part.labels.items():
            self.labels.setdefault(key, label)
        for occupation, label in part.occupation_labels.items():
            self.occupation_labels.setdefault(occupation, label)
        self.postings += part.postings
        self.statements += part.statements
        self.fallback += part.fallback


@dataclass
class CounterPart:
    """A :class:`DemandCounter`'s counts as plain data (what a worker sends back)."""

    counts: dict[tuple[Cell, Key], int]
    cells: dict[Cell, int]
    labels: dict[tuple[str, str], str]
    occupation_labels: dict[str, str]
    postings: int = 0
    statements: int = 0
    fallback: int = 0


# -- supply ---------------------------------------------------------------------------------------


class Supply:
    """Per competency, the credentials with an accepted tag meeting it (the matching rule of
    :class:`~competencymap.workflows.employer_match.CoverageRule`: same, broader or narrower;
    related links do not count); per roll-up row, the credentials with an accepted tag that is
    the row's concept or rolls up to it."""

    def __init__(self, offers: Sequence[Offer], rule: CoverageRule, rollup: Rollup | None = None) -> None:
        self.credentials = len(offers)
        self.rule = rule
        self.holders = tag_holders(offers)
        self.rolled = _rolled_supply(offers, rollup) if rollup is not None else Counter()
        self._met: dict[str, int] = {}

    def met(self, iri: str) -> int:
        """Credentials with an accepted tag that meets competency `iri` (memoised)."""
        if iri not in self._met:
            tags = [tag for tag, relation in self.rule.met_by(iri).items() if relation in COUNTED]
            self._met[iri] = len({held[0] for tag in tags for held in self.holders.get(tag, ())})
        return self._met[iri]

    def count(self, key: Key) -> int:
        framework, level, iri = key
        return self.met(iri) if level == LEVEL_COMPETENCY else self.rolled[key]


def _rolled_supply(offers: Sequence[Offer], rollup: Rollup) -> Counter[Key]:
    """Per roll-up row, the credentials with an accepted tag that is the row's concept or rolls up to it."""
    out: Counter[Key] = Counter()
    for offer in offers:
        rolled: set[Key] = set()
        for iri, _ in offer.tags:
            rolled |= rollup.keys(iri)
            own = rollup.own_key(iri)
            if own is not None:
                rolled.add(own)
        out.update(rolled)
    return out


@dataclass
class SupplyCounts:
    """Supply for given rows as plain data: key -> credentials, and the credentials counted."""

    counts: dict[Key, int]
    credentials: int

    def count(self, key: Key) -> int:
        return self.counts.get(key, 0)


# -- the context a run counts in ------------------------------------------------------------------


@dataclass
class DemandContext:
    """The roll-up and coverage rule of one run, with notes on what was not available."""

    rollup: Rollup | None
    rule: CoverageRule
    notes: list[str]

    def supply(self, offers: Sequence[Offer]) -> Supply:
        return Supply(offers, self.rule, self.rollup)


def demand_context(engine: CompetencyMap, options: DemandOptions, offers: Sequence[Offer] = (), *,
                   catalog: bool = False) -> DemandContext:
    """The roll-up (skill groups from the framework graphs, SfS links from the crosswalk) and, with
    a catalog, the coverage rule; raises for an unknown framework or a missing index."""
    for name in options.mapped_frameworks():
        engine.matcher(name, options.pipeline_config)  # fail early: unknown framework or missing index
    frameworks = list(options.frameworks)
    notes: list[str] = []
    sfs_fw = _known(engine, options.sfs) if options.rollup else None
    extra = [options.sfs] if sfs_fw is not None and options.sfs not in frameworks else []
    relations: list[Relation]
    rule, relations = CoverageRule([]), []
    if catalog or sfs_fw is not None:
        rule, relations, rule_notes = coverage_rule(engine, frameworks, offers, extra)
        notes += rule_notes
    links = sfs_links(relations, sfs_fw) if sfs_fw is not None else {}
    if sfs_fw is not None and options.sfs not in frameworks and not links:
        notes.append(f"no mapping to {options.sfs!r} available: the Skills for Success roll-up is empty")
    rollup = Rollup([engine.graph(name) for name in frameworks], sfs_fw, links) if options.rollup else None
    if catalog and not offers:
        notes.append("the catalog has no credential with an accepted tag: supply is 0 everywhere")
    return DemandContext(rollup, rule, notes)


def _known(engine: CompetencyMap, name: str) -> Framework | None:
    try:
        return engine.framework(name)
    except CompetencyMapError:
        return None


# -- the table ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemandRow:
    framework: str
    level: str  # 'competency' | 'group level N' | 'sfs'
    iri: str
    label: str
    postings: int
    share: float
    month: str | None = None
    occupation: str | None = None
    occupation_label: str | None = None
    credentials_supply: int | None = None
    groups: tuple[str, ...] = ()  # values of the table's group-by columns


@dataclass
class DemandTable:
    """Competencies by number of postings that need them, best first within each cell and level."""

    rows: list[DemandRow]
    postings: int
    frameworks: list[str]
    by_month: bool = False
    by_occupation: bool = False
    rollup: bool = True
    pipeline: str = "full"
    cells: dict[Cell, int] = field(default_factory=dict)
    supply_credentials: int | None = None  # credentials with accepted tags, when a catalog was given
    notes: list[str] = field(default_factory=list)
    statements: int = 0  # statements mapped across all postings
    fallback: int = 0  # postings whose needs in some framework are the best few, none being confident
    group_by: list[str] = field(default_factory=list)
    errors: int = 0  # postings left out because they could not be read or mapped

    def columns(self) -> list[str]:
        out = ["month"] if self.by_month else []
        out += ["occupation", "occupation_label"] if self.by_occupation else []
        out += list(self.group_by)
        return out + ["framework", "level", "iri", "label", "postings", "share", "credentials_supply"]

    def records(self) -> list[dict[str, Any]]:
        columns = self.columns()
        out = []
        for row in self.rows:
            record = {c: getattr(row, c) for c in columns if c not in self.group_by}
            record.update(zip(self.group_by, row.groups))
            out.append({c: record.get(c) for c in columns})
        return out

    def top(self, n: int) -> DemandTable:
        """The first `n` rows of each (month, occupation, groups, framework, level) block."""
        seen: Counter[tuple[Any, ...]] = Counter()
        kept = []
        for row in self.rows:
            block = (row.month, row.occupation, row.groups, row.framework, row.level)
            seen[block] += 1
            if seen[block] <= n:
                kept.append(row)
        return replace(self, rows=kept)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"meta": ..., "columns": [...], "rows": [{column: value}, ...]}``."""
        return {"meta": self.meta(), "columns": self.columns(), "rows": self.records()}

    def meta(self) -> dict[str, Any]:
        meta = {
            "postings": self.postings,
            "statements": self.statements,
            "frameworks": self.frameworks,
            "by_month": self.by_month,
            "by_occupation": self.by_occupation,
            "rollup": self.rollup,
            "pipeline": self.pipeline,
            "needs": f"confident profile entries per framework, or the best {FALLBACK_NEEDS} when none is "
                     "confident (as in employer matching); a posting counts once per competency and once per "
                     "roll-up group",
            "postings_without_confident_need": self.fallback,
            "share": "postings needing the row's competency / postings in the same month and occupation"
                     + (" and " + ", ".join(self.group_by) if self.group_by else ""),
            "supply": None if self.supply_credentials is None else
                      "catalog credentials with an accepted tag meeting the competency (same, broader or narrower, "
                      "as in employer matching; siblings and crosswalk links do not count); for a roll-up row: an "
                      "accepted tag that is the row's group or skill or rolls up to it",
            "catalog_credentials_with_accepted_tags": self.supply_credentials,
            "cells": [self._cell(cell, n) for cell, n in sorted(self.cells.items(), key=_cell_order)],
            "notes": self.notes,
        }
        if self.group_by:
            meta["group_by"] = list(self.group_by)
        if self.errors:
            meta["postings_with_errors"] = self.errors
        return meta

    def _cell(self, cell: Cell, postings: int) -> dict[str, Any]:
        month, occupation, groups = cell
        return {"month": month, "occupation": occupation, **dict(zip(self.group_by, groups)), "postings": postings}


def _cell_order(item: tuple[Cell, int]) -> tuple[str, str, tuple[str, ...]]:
    (month, occupation, groups), _ = item
    return (month or "", occupation or "", groups)


def build_table(
    counter: DemandCounter,
    *,
    frameworks: Sequence[str],
    by_month: bool,
    by_occupation: bool,
    supply: Supply | SupplyCounts | None = None,
    pipeline: str = "full",
    notes: Sequence[str] = (),
    group_by: Sequence[str] = (),
    errors: int = 0,
    rollup: bool | None = None,
) -> DemandTable:
    """The table of a counter; `rollup` says whether roll-ups were counted (default: the counter has a roll-up)."""
    rows = []
    for (cell, (framework, level, iri)), count in counter.counts.items():
        month, occupation, groups = cell
        rows.append(
            DemandRow(
                framework=framework,
                level=level,
                iri=iri,
                label=counter.label(framework, iri),
                postings=count,
                share=round(count / counter.cells[cell], 4),
                month=month,
                occupation=occupation,
                occupation_label=counter.occupation_labels.get(occupation) if occupation is not None else None,
                credentials_supply=supply.count((framework, level, iri)) if supply is not None else None,
                groups=groups,
            )
        )
    rows.sort(key=lambda r: (r.month or "", r.occupation_label or "", r.occupation or "", r.groups,
                             _level_order(r.level), r.framework, -r.postings, r.label, r.iri))
    return DemandTable(
        rows=rows,
        postings=counter.postings,
        frameworks=list(frameworks),
        by_month=by_month,
        by_occupation=by_occupation,
        rollup=counter.rollup is not None if rollup is None else rollup,
        pipeline=pipeline,
        cells=dict(counter.cells),
        supply_credentials=supply.credentials if supply is not None else None,
        notes=list(notes),
        statements=counter.statements,
        fallback=counter.fallback,
        group_by=list(group_by),
        errors=errors,
    )


def table_keys(counter: DemandCounter) -> list[Key]:
    """The distinct (framework, level, iri) rows a counter holds (what supply is needed for)."""
    return list(dict.fromkeys(key for _, key in counter.counts))


# -- postings -------------------------------------------------------------------------------------


def as_posting(posting: Any, number: int) -> dict[str, Any]:
    """A posting as a dict: a mapping as it is, or an object's ``text``, ``title``, ``posted_on``
    (a catalog :class:`~competencymap.catalog.Posting`, an API model)."""
    if isinstance(posting, Mapping):
        return posting  # type: ignore[return-value]
    if hasattr(posting, "text"):
        return {key: getattr(posting, key, None) for key in ("text", "title", "posted_on", "id")}
    raise CompetencyMapError(f"posting {number} is not a mapping with a 'text' field")


def posting_text(posting: dict[str, Any], number: int) -> str:
    """The posting's text; a missing, empty or too long text is an error naming file and line."""
    text = posting.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _error(posting, number, "has no text")
    if len(text) > MAX_TEXT_CHARS:
        raise _error(posting, number, f"text is {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}")
    return text


def posting_month(posting: dict[str, Any], number: int) -> str:
    """'YYYY-MM' from the posting's date (posted_on, date or month); 'unknown' when it has none."""
    value = next((posting.get(k) for k in ("posted_on", "date", "month") if posting.get(k) not in (None, "")), None)
    if value is None:
        return UNKNOWN_MONTH
    if isinstance(value, (date, datetime)):
        return f"{value.year:04d}-{value.month:02d}"
    match = _MONTH.match(str(value).strip())
    if not match:
        raise _error(posting, number, f"date {value!r} is not an ISO date (YYYY-MM-DD or YYYY-MM)")
    return f"{match.group(1)}-{match.group(2)}"


def _error(posting: dict[str, Any], number: int, problem: str) -> CompetencyMapError:
    """'<file>:<line>: posting has no text', or 'posting 3 has no text' for postings given in memory."""
    if posting.get("source"):
        return CompetencyMapError(f"posting {problem}", path=str(posting["source"]), line=posting.get("line") or number)
    return CompetencyMapError(f"posting {number} {problem}")


def _chunks(postings: Iterable[Any], size: int) -> Iterator[list[tuple[int, Any]]]:
    chunk: list[tuple[int, Any]] = []
    for number, posting in enumerate(postings, 1):
        chunk.append((number, posting))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _title(posting: dict[str, Any]) -> str:
    title = posting.get("title")
    return title.strip()[:MAX_TEXT_CHARS] if isinstance(title, str) else ""


def posting_occupations(
    engine: CompetencyMap, postings: Sequence[dict[str, Any]], texts: Sequence[str], occupations: str,
    config: PipelineConfig | None = None,
) -> list[tuple[str, str]]:
    """(IRI, label) of each posting's occupation: the best match of its title, or of its text
    (mapped as a posting) when it has no title; ('', '(none)') when nothing matches."""
    titles = [_title(p) for p in postings]
    best: list[tuple[str, str] | None] = [None] * len(postings)
    with_title = [i for i, t in enumerate(titles) if t]
    if with_title:
        ranked = engine.matcher(occupations, config).rank([titles[i] for i in with_title], top_k=1)
        for i, matches in zip(with_title, ranked):
            best[i] = (matches[0].iri, matches[0].label) if matches else None
    untitled = [i for i, t in enumerate(titles) if not t]
    if untitled:
        mapped = engine.map_many([texts[i] for i in untitled], [occupations], top_k=1, kind="posting", config=config)
        for i, result in zip(untitled, mapped):
            best[i] = (result.profile[0].iri, result.profile[0].label) if result.profile else None
    return [b if b is not None else ("", NO_OCCUPATION) for b in best]


# -- mapping a batch ------------------------------------------------------------------------------


def _map(engine: CompetencyMap, items: Sequence[dict[str, Any]], texts: Sequence[str], ids: Sequence[str],
         months: Sequence[str | None], options: DemandOptions) -> list[MappedPosting]:
    config = options.pipeline_config
    results = engine.map_many(texts, list(options.frameworks), top_k=options.top_k, kind="posting", config=config,
                           statement_top_k=min(options.top_k, STATEMENT_TOP_K))
    jobs: list[tuple[str, str] | None] = [None] * len(items)
    if options.by_occupation:
        jobs = list(posting_occupations(engine, items, texts, options.occupations, config))
    return mapped_postings(results, items, ids, months, jobs, options)


def map_batch_safely(
    engine: CompetencyMap, batch: Sequence[tuple[int, Any]], options: DemandOptions
) -> tuple[list[MappedPosting], list[PostingError]]:
    """Map numbered postings (dicts or objects, see :func:`as_posting`), recording each one that
    cannot be mapped instead of failing.

    A posting that is not a mapping or object with text, or has no usable text, is an error at
    once; a date that is not ISO (with by_month) is recorded and the posting counted under
    'unknown'. When a mapping call fails, the batch is split in halves until the failing
    postings stand alone, so a bad posting never takes good ones with it."""
    errors: list[PostingError] = []
    ready: list[tuple[int, dict[str, Any], str, str, str | None]] = []
    for number, item in batch:
        try:
            posting = as_posting(item, number)
        except CompetencyMapError as exc:
            errors.append(PostingError(exc.message, "text", number=number, posting_id=str(number)))
            continue
        pid = posting_id(posting, number)
        where: dict[str, Any] = {"number": number, "posting_id": pid, "source": posting.get("source"), "line": posting.get("line")}
        try:
            text = posting_text(posting, number)
        except CompetencyMapError as exc:
            errors.append(PostingError(exc.message, "text", **where))
            continue
        month = None
        if options.by_month:
            try:
                month = posting_month(posting, number)
            except CompetencyMapError as exc:
                month = UNKNOWN_MONTH
                errors.append(PostingError(exc.message + "; counted under 'unknown'", "date", counted=True, **where))
        ready.append((number, posting, pid, text, month))
    mapped: list[MappedPosting] = []
    _bisect(engine, ready, options, mapped, errors)  # keeps the postings' order
    return mapped, errors


def _bisect(engine: CompetencyMap, ready: list[tuple[int, dict[str, Any], str, str, str | None]], options: DemandOptions,
            mapped: list[MappedPosting], errors: list[PostingError]) -> None:
    def run(part: Sequence[tuple[int, dict[str, Any], str, str, str | None]]) -> list[MappedPosting]:
        return _map(engine, [r[1] for r in part], [r[3] for r in part], [r[2] for r in part], [r[4] for r in part], options)

    for (number, posting, pid, _, _), outcome in zip(ready, run_in_halves(ready, run)):
        if isinstance(outcome, Exception):  # one posting's failure is recorded, whatever it was
            reason = outcome.line_text() if isinstance(outcome, CompetencyMapError) else f"{type(outcome).__name__}: {outcome}"
            errors.append(PostingError(reason, "map", number=number, posting_id=pid, source=posting.get("source"),
                                       line=posting.get("line")))
        else:
            mapped.append(outcome)


# -- demand -------------------------------------------------------------------------------------


def demand(
    engine: CompetencyMap,
    postings: Iterable[Any],
    *,
    frameworks: Sequence[str] = ("esco",),
    by_month: bool = False,
    by_occupation: bool = False,
    catalog: Catalog | None = None,
    rollup: bool = True,
    progress: bool = False,
    fast: bool = False,
    config: PipelineConfig | None = None,
    top_k: int = NEED_TOP_K,
    chunk_size: int = CHUNK,
    occupations: str = OCCUPATIONS,
    sfs: str = SFS,
    total: int | None = None,
    group_by: Sequence[str] = (),
    on_error: Callable[[PostingError], None] | None = None,
) -> DemandTable:
    """Count the competencies postings need; roll them up; set them against catalog supply.

    In this process (the corpus run, :func:`competencymap.workflows.demand.corpus.run.run_corpus`, spreads the same
    work over Dask workers). `postings` yields dicts (or objects) with ``text`` and optionally
    ``title``, ``posted_on`` (or ``date``), ``id``, ``source`` and ``line`` (see
    :mod:`competencymap.workflows.postings_io`), and the `group_by` keys; it is read once, `chunk_size`
    postings at a time. `fast` uses :data:`FAST_CONFIG` unless `config` is given. `progress`
    draws a bar on stderr (`total` postings when known).

    Bad postings are recorded and skipped, as in the corpus run (this used to raise at the first
    one): a posting that is not a mapping with text, has no usable text or cannot be mapped is
    left out and counted in the table's ``errors`` (``postings_with_errors`` in its meta); a
    date that is not ISO (with `by_month`) is counted under 'unknown'. Each one is passed to
    `on_error` as a :class:`PostingError` with its reason. An error raised while reading
    `postings` itself still propagates. Raises :class:`CompetencyMapError` for an unknown
    framework, a missing index, no postings at all, or postings none of which could be counted
    (naming the first one's problem).
    """
    options = DemandOptions(frameworks=tuple(frameworks), by_month=by_month, by_occupation=by_occupation,
                            group_by=tuple(group_by), rollup=rollup, fast=fast, config=config, top_k=top_k,
                            chunk_size=max(1, chunk_size), occupations=occupations, sfs=sfs)
    for name in options.frameworks:
        engine.framework(name)
    offers = catalog_offers(catalog) if catalog is not None else []
    context = demand_context(engine, options, offers, catalog=catalog is not None)
    counter = DemandCounter(context.rollup)
    first: list[PostingError] = []

    def record(error: PostingError) -> None:
        if not first and not error.counted:
            first.append(error)
        if on_error is not None:
            on_error(error)

    left_out = count_postings(engine, postings, counter, options, progress=progress, total=total, on_error=record)
    if counter.postings == 0:
        raise nothing_counted(first[0], left_out) if first else CompetencyMapError("no postings to analyse")
    supply = context.supply(offers) if catalog is not None else None
    return build_table(counter, frameworks=options.frameworks, by_month=by_month, by_occupation=by_occupation,
                       supply=supply, pipeline=options.pipeline, notes=context.notes, group_by=options.group_by,
                       errors=left_out)


def nothing_counted(first: PostingError, left_out: int) -> CompetencyMapError:
    """The error of a run whose postings were all left out, naming the first one's problem (and
    its file and line when it was read from a file)."""
    more = f" (and {left_out - 1} more left out)" if left_out > 1 else ""
    return CompetencyMapError(f"no posting could be analysed: {first.reason}{more}", path=first.source,
                              line=first.line or (first.number if first.source else None))


def count_postings(
    engine: CompetencyMap,
    postings: Iterable[Any],
    counter: DemandCounter,
    options: DemandOptions,
    *,
    progress: bool = False,
    total: int | None = None,
    on_mapped: Callable[[list[MappedPosting]], None] | None = None,
    on_error: Callable[[PostingError], None] | None = None,
) -> int:
    """Map the postings chunk by chunk and count them; nothing else is kept (unless `on_mapped`).
    Bad postings are recorded (:func:`map_batch_safely`) and passed to `on_error`; returns the
    number left out (not counted)."""
    from tqdm import tqdm

    left_out = 0
    bar = tqdm(total=total, unit=" postings", file=sys.stderr, disable=not progress, delay=1.0, mininterval=1.0)
    try:
        for chunk in _chunks(postings, options.chunk_size):
            mapped, errors = map_batch_safely(engine, chunk, options)
            for posting in mapped:
                counter.add_mapped(posting, options.frameworks)
            for error in errors:
                left_out += not error.counted
                if on_error is not None:
                    on_error(error)
            if on_mapped is not None:
                on_mapped(mapped)
            bar.update(len(chunk))
    finally:
        bar.close()
    return left_out
