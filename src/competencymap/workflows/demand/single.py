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

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from competencymap._common.errors import CompetencyMapError
from competencymap.mapping.settings import PipelineConfig
from competencymap.model.framework import Framework, Relation
from competencymap.workflows.demand.counting import DemandCounter, Supply
from competencymap.workflows.demand.options import CHUNK, OCCUPATIONS, SFS, DemandOptions
from competencymap.workflows.demand.postings import LANGUAGE_STAGE, MappedPosting, PostingError, map_batch_safely
from competencymap.workflows.demand.rollup import Rollup, sfs_links
from competencymap.workflows.demand.table import DemandTable, build_table
from competencymap.workflows.employer_match import CoverageRule, Offer, catalog_offers, coverage_rule
from competencymap.workflows.needs import NEED_TOP_K

if TYPE_CHECKING:
    from competencymap.catalog import Catalog
    from competencymap.engine import CompetencyMap


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


def _chunks(postings: Iterable[Any], size: int) -> Iterator[list[tuple[int, Any]]]:
    chunk: list[tuple[int, Any]] = []
    for number, posting in enumerate(postings, 1):
        chunk.append((number, posting))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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
    postings at a time. `fast` uses :data:`~competencymap.workflows.demand.options.FAST_CONFIG` unless `config` is given. `progress`
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
    not_read = 0

    def record(error: PostingError) -> None:
        nonlocal not_read
        not_read += error.stage == LANGUAGE_STAGE
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
                       errors=left_out, not_read=not_read,
                       catalog_credentials=catalog.count_credentials() if catalog is not None else None)


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
