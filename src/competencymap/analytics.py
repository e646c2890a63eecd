"""Researchers: which competencies job postings ask for, how often, and how much the catalog offers.

:func:`demand` reads postings as a stream, maps them in chunks with
``app.map_many(..., kind="posting")`` and keeps only counters, so a corpus of any size runs in
bounded memory. A posting *needs* the competencies :func:`competencymap.matching.needs_from_result`
picks, the same needs employer matching uses: the profile entries at or above the pipeline's
calibrated threshold or, when a framework has none, its best three. A posting counts once per
competency.

Roll-ups (``rollup=True``), each counted at most once per posting:

- ``group level N``: the skill groups above each needed competency. A competency's groups are
  its direct broader skill groups or, when it has none (ESCO skills filed only under a broader
  skill), those of its broader skills; every ancestor group of those counts too. N is the
  group's depth from the top of the hierarchy (ESCO: 1 = "skills" / "knowledge" / "transversal
  skills" / "language skills", 4 = the finest groups).
- ``sfs``: the Skills for Success skills a needed competency is linked to by an exactMatch,
  closeMatch or broadMatch relation (the framework's own mappings and
  ``CompetencyMap.crosswalk(framework, "sfs")``; see :data:`SFS_ROLLUP`). A link to a component
  counts for its skill; when ``sfs`` is itself mapped, its components roll up to their skill.

``share`` is postings needing the row's concept divided by the postings in the same month /
occupation cell. ``credentials_supply`` (with a catalog) counts credentials by their accepted
tags: for a competency row, a tag that meets the competency under the employer-matching rule
(same, broader, narrower, sibling, crosswalk; see :mod:`competencymap.matching`); for a roll-up
row, a tag that is the row's group or skill or rolls up to it the same way the needs do.

By occupation: a posting's occupation is the best match of its title on the occupations view
(``esco-occupations``; one short query per posting), or of its whole text when it has no title.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from competencymap.errors import CompetencyMapError
from competencymap.mapping import MAX_TEXT_CHARS, MappingResult, PipelineConfig
from competencymap.matching import (
    FALLBACK_NEEDS,
    NEED_TOP_K,
    CoverageRule,
    Need,
    Offer,
    catalog_offers,
    coverage_rule,
    needs_from_result,
)
from competencymap.model import KIND_GROUP, Framework, Relation

if TYPE_CHECKING:
    from competencymap.catalog import Catalog
    from competencymap.core import CompetencyMap

LEVEL_COMPETENCY = "competency"
LEVEL_SFS = "sfs"
SFS = "sfs"
OCCUPATIONS = "esco-occupations"
CHUNK = 64  # postings mapped per map_many call
UNKNOWN_MONTH = "unknown"
NO_OCCUPATION = "(none)"
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


# -- hierarchy ------------------------------------------------------------------------------------


class Hierarchy:
    """The skill groups above each competency of one framework, with their depth (memoised)."""

    def __init__(self, framework: Framework) -> None:
        self.framework = framework
        self._groups: dict[str, tuple[str, ...]] = {}
        self._depth: dict[str, int] = {}

    def _concept(self, iri: str):  # noqa: ANN202 - a Competency or None
        return self.framework.competencies.get(iri)

    def is_group(self, iri: str) -> bool:
        concept = self._concept(iri)
        return concept is not None and concept.kind == KIND_GROUP

    def depth(self, group: str) -> int:
        """1 for a top group; one more per broader group link (first broader group)."""
        if group not in self._depth:
            self._depth[group] = 1  # guards against cycles while computing
            concept = self._concept(group)
            parents = [b for b in (concept.broader if concept else ()) if self.is_group(b)]
            self._depth[group] = 1 + self.depth(parents[0]) if parents else 1
        return self._depth[group]

    def groups(self, iri: str) -> tuple[str, ...]:
        """Every skill group above `iri` (see module docs), nearest first."""
        if iri not in self._groups:
            self._groups[iri] = ()  # cycle guard
            self._groups[iri] = tuple(self._collect(iri))
        return self._groups[iri]

    def _collect(self, iri: str) -> list[str]:
        concept = self._concept(iri)
        if concept is None:
            return []
        direct = [b for b in concept.broader if self.is_group(b)]
        if not direct and concept.kind != KIND_GROUP:
            found: list[str] = []
            for parent in concept.broader:
                found += [g for g in self.groups(parent) if g not in found]
            return found
        out: list[str] = []
        for group in direct:
            for g in (group, *self.groups(group)):
                if g not in out:
                    out.append(g)
        return out


# -- roll-ups -------------------------------------------------------------------------------------


Key = tuple[str, str, str]  # framework, level, iri
Cell = tuple[str | None, str | None]  # month, occupation


class Rollup:
    """The roll-up rows a competency counts towards: its skill groups and its SfS skills."""

    def __init__(
        self,
        frameworks: Iterable[Framework],
        sfs: Framework | None = None,
        links: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.hierarchies = [Hierarchy(fw) for fw in frameworks]
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
        for hierarchy in self.hierarchies:
            if hierarchy.is_group(iri):
                return self._group_key(hierarchy, iri)
        if self.sfs is not None and iri in self.sfs.competencies:
            skill = self.sfs.skill_of(iri)
            return self._sfs_key(skill) if skill == iri else None
        return None

    def _keys(self, iri: str) -> set[Key]:
        out: set[Key] = set()
        for hierarchy in self.hierarchies:
            out.update(self._group_key(hierarchy, group) for group in hierarchy.groups(iri))
        if self.sfs is not None:
            targets = (iri,) if iri in self.sfs.competencies else self.links.get(iri, ())
            skills = {self.sfs.skill_of(target) for target in targets}
            out.update(self._sfs_key(skill) for skill in skills if skill is not None)
        return out

    def _group_key(self, hierarchy: Hierarchy, group: str) -> Key:
        key = (hierarchy.framework.id, group_level(hierarchy.depth(group)), group)
        self._label(hierarchy.framework, group)
        return key

    def _sfs_key(self, skill: str) -> Key:
        assert self.sfs is not None
        self._label(self.sfs, skill)
        return (self.sfs.id, LEVEL_SFS, skill)

    def _label(self, framework: Framework, iri: str) -> None:
        if (framework.id, iri) not in self.labels:
            concept = framework.competencies.get(iri)
            self.labels[(framework.id, iri)] = concept.pref_label if concept else iri


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


# -- counting -------------------------------------------------------------------------------------


class DemandCounter:
    """Counters only: postings per (cell, framework, level, competency) and per cell."""

    def __init__(self, rollup: Rollup | None = None) -> None:
        self.rollup = rollup
        self.counts: Counter[tuple[Cell, Key]] = Counter()
        self.cells: Counter[Cell] = Counter()
        self.labels: dict[tuple[str, str], str] = {}
        self.occupation_labels: dict[str, str] = {}
        self.postings = 0
        self.statements = 0  # statements mapped (for throughput figures)
        self.fallback = 0  # postings with no confident match in some framework (best few counted)

    def add(self, needs: Sequence[Need], *, month: str | None = None, occupation: tuple[str, str] | None = None) -> None:
        """Count one posting's needs (each key once) in its month / occupation cell."""
        occ = None
        if occupation is not None:
            occ = occupation[0]
            self.occupation_labels.setdefault(occ, occupation[1])
        cell = (month, occ)
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

    def label(self, framework: str, iri: str) -> str:
        found = self.labels.get((framework, iri))
        if found is None and self.rollup is not None:
            found = self.rollup.labels.get((framework, iri))
        return found or iri


# -- supply ---------------------------------------------------------------------------------------


class Supply:
    """Per competency, the credentials whose accepted tags meet it (the matching rule); per
    roll-up row, the credentials with an accepted tag that is the row's concept or rolls up to it."""

    def __init__(self, offers: Sequence[Offer], rule: CoverageRule, rollup: Rollup | None = None) -> None:
        self.credentials = len(offers)
        self.met: Counter[str] = Counter()
        self.rolled: Counter[Key] = Counter()
        for offer in offers:
            met: set[str] = set()
            rolled: set[Key] = set()
            for iri, _ in offer.tags:
                met |= rule.covers(iri).keys()
                if rollup is not None:
                    rolled |= rollup.keys(iri)
                    own = rollup.own_key(iri)
                    if own is not None:
                        rolled.add(own)
            self.met.update(met)
            self.rolled.update(rolled)

    def count(self, key: Key) -> int:
        framework, level, iri = key
        return self.met[iri] if level == LEVEL_COMPETENCY else self.rolled[key]


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

    def columns(self) -> list[str]:
        out = ["month"] if self.by_month else []
        out += ["occupation", "occupation_label"] if self.by_occupation else []
        return out + ["framework", "level", "iri", "label", "postings", "share", "credentials_supply"]

    def records(self) -> list[dict[str, Any]]:
        columns = self.columns()
        return [{c: getattr(row, c) for c in columns} for row in self.rows]

    def top(self, n: int) -> DemandTable:
        """The first `n` rows of each (month, occupation, framework, level) block."""
        seen: Counter[tuple[Any, ...]] = Counter()
        kept = []
        for row in self.rows:
            block = (row.month, row.occupation, row.framework, row.level)
            seen[block] += 1
            if seen[block] <= n:
                kept.append(row)
        return DemandTable(**{**self.__dict__, "rows": kept})

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"meta": ..., "columns": [...], "rows": [{column: value}, ...]}``."""
        return {"meta": self.meta(), "columns": self.columns(), "rows": self.records()}

    def meta(self) -> dict[str, Any]:
        return {
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
            "share": "postings needing the row's competency / postings in the same month and occupation",
            "supply": None if self.supply_credentials is None else
                      "catalog credentials with an accepted tag meeting the competency (same, broader, narrower, "
                      "sibling under a skill, crosswalk); for a group: an accepted tag in the group",
            "catalog_credentials_with_accepted_tags": self.supply_credentials,
            "cells": [{"month": m, "occupation": o, "postings": n} for (m, o), n in sorted(self.cells.items(), key=_cell_order)],
            "notes": self.notes,
        }


def _cell_order(item: tuple[Cell, int]) -> tuple[str, str]:
    (month, occupation), _ = item
    return (month or "", occupation or "")


def build_table(
    counter: DemandCounter,
    *,
    frameworks: Sequence[str],
    by_month: bool,
    by_occupation: bool,
    supply: Supply | None = None,
    pipeline: str = "full",
    notes: Sequence[str] = (),
) -> DemandTable:
    rows = []
    for (cell, (framework, level, iri)), count in counter.counts.items():
        month, occupation = cell
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
            )
        )
    rows.sort(key=lambda r: (r.month or "", r.occupation_label or "", r.occupation or "", _level_order(r.level),
                             r.framework, -r.postings, r.label, r.iri))
    return DemandTable(
        rows=rows,
        postings=counter.postings,
        frameworks=list(frameworks),
        by_month=by_month,
        by_occupation=by_occupation,
        rollup=counter.rollup is not None,
        pipeline=pipeline,
        cells=dict(counter.cells),
        supply_credentials=supply.credentials if supply is not None else None,
        notes=list(notes),
        statements=counter.statements,
        fallback=counter.fallback,
    )


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


def _chunks(postings: Iterable[Any], size: int) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    chunk: list[tuple[int, dict[str, Any]]] = []
    for number, posting in enumerate(postings, 1):
        chunk.append((number, as_posting(posting, number)))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _title(posting: dict[str, Any]) -> str:
    title = posting.get("title")
    return title.strip()[:MAX_TEXT_CHARS] if isinstance(title, str) else ""


def posting_occupations(
    app: CompetencyMap, postings: Sequence[dict[str, Any]], texts: Sequence[str], occupations: str,
    config: PipelineConfig | None = None,
) -> list[tuple[str, str]]:
    """(IRI, label) of each posting's occupation: the best match of its title, or of its text
    (mapped as a posting) when it has no title; ('', '(none)') when nothing matches."""
    titles = [_title(p) for p in postings]
    best: list[tuple[str, str] | None] = [None] * len(postings)
    with_title = [i for i, t in enumerate(titles) if t]
    if with_title:
        ranked = app.matcher(occupations, config).rank([titles[i] for i in with_title], top_k=1)
        for i, matches in zip(with_title, ranked):
            best[i] = (matches[0].iri, matches[0].label) if matches else None
    untitled = [i for i, t in enumerate(titles) if not t]
    if untitled:
        mapped = app.map_many([texts[i] for i in untitled], [occupations], top_k=1, kind="posting", config=config)
        for i, result in zip(untitled, mapped):
            best[i] = (result.profile[0].iri, result.profile[0].label) if result.profile else None
    return [b if b is not None else ("", NO_OCCUPATION) for b in best]


# -- demand -------------------------------------------------------------------------------------


def _known(app: CompetencyMap, name: str) -> Framework | None:
    try:
        return app.framework(name)
    except CompetencyMapError:
        return None


def demand(
    app: CompetencyMap,
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
) -> DemandTable:
    """Count the competencies postings need; roll them up; set them against catalog supply.

    `postings` yields dicts (or objects) with ``text`` and optionally ``title``, ``posted_on``
    (or ``date``), ``source`` and ``line`` (see :mod:`competencymap.postings_io`); it is read
    once, `chunk_size` postings at a time. `fast` uses :data:`FAST_CONFIG` unless `config` is
    given. `progress` draws a bar on stderr (`total` postings when known). Raises
    :class:`CompetencyMapError` for a posting without text, a bad date (with `by_month`), an
    unknown framework, a missing index, or no postings at all.
    """
    frameworks = list(dict.fromkeys(frameworks))
    if not frameworks:
        raise CompetencyMapError("no framework to map postings onto")
    config = config or (FAST_CONFIG if fast else None)
    pipeline = "fast (phrases off)" if config == FAST_CONFIG else ("custom" if config else "full")
    loaded = {name: app.framework(name) for name in frameworks}
    for name in [*frameworks, *([occupations] if by_occupation else [])]:
        app.matcher(name, config)  # fail early: unknown framework or missing index
    notes: list[str] = []
    sfs_fw = _known(app, sfs) if rollup else None
    offers = catalog_offers(catalog) if catalog is not None else []
    extra = [sfs] if sfs_fw is not None and sfs not in frameworks else []
    rule, relations = CoverageRule([]), []
    if catalog is not None or sfs_fw is not None:
        rule, relations, rule_notes = coverage_rule(app, frameworks, offers, extra)
        notes += rule_notes
    links = sfs_links(relations, sfs_fw) if sfs_fw is not None else {}
    if sfs_fw is not None and sfs not in frameworks and not links:
        notes.append(f"no mapping to {sfs!r} available: the Skills for Success roll-up is empty")
    roll = Rollup(loaded.values(), sfs_fw, links) if rollup else None
    counter = DemandCounter(roll)
    run = _Run(frameworks, by_month, by_occupation, config, top_k, occupations)
    _count(app, postings, counter, run, chunk_size=chunk_size, progress=progress, total=total)
    if counter.postings == 0:
        raise CompetencyMapError("no postings to analyse")
    supply = Supply(offers, rule, roll) if catalog is not None else None
    if catalog is not None and not offers:
        notes.append("the catalog has no credential with an accepted tag: supply is 0 everywhere")
    return build_table(counter, frameworks=frameworks, by_month=by_month, by_occupation=by_occupation,
                       supply=supply, pipeline=pipeline, notes=notes)


@dataclass(frozen=True)
class _Run:
    frameworks: list[str]
    by_month: bool
    by_occupation: bool
    config: PipelineConfig | None
    top_k: int
    occupations: str


def _count(
    app: CompetencyMap,
    postings: Iterable[Any],
    counter: DemandCounter,
    run: _Run,
    *,
    chunk_size: int,
    progress: bool,
    total: int | None,
) -> None:
    """Map the postings chunk by chunk and count their needs; nothing else is kept."""
    from tqdm import tqdm

    bar = tqdm(total=total, unit=" postings", file=sys.stderr, disable=not progress, delay=1.0, mininterval=1.0)
    try:
        for chunk in _chunks(postings, max(1, chunk_size)):
            items = [p for _, p in chunk]
            texts = [posting_text(p, n) for n, p in chunk]
            months = [posting_month(p, n) if run.by_month else None for n, p in chunk]
            results = app.map_many(texts, run.frameworks, top_k=run.top_k, kind="posting", config=run.config)
            jobs: list[tuple[str, str] | None] = [None] * len(chunk)
            if run.by_occupation:
                jobs = list(posting_occupations(app, items, texts, run.occupations, run.config))
            for result, month, job in zip(results, months, jobs):
                counter.add(needs_from_result(result, run.frameworks), month=month, occupation=job)
                counter.statements += len(result.statements)
                counter.fallback += _fell_back(result, run.frameworks)
            bar.update(len(chunk))
    finally:
        bar.close()


def _fell_back(result: MappingResult, frameworks: Sequence[str]) -> bool:
    """True when some framework's profile has no confident entry (its needs are the best few)."""
    return any(not any(m.confident for m in result.profile if m.framework == name) for name in frameworks)
