"""What a demand run counts: :class:`DemandCounter` (postings per cell and row, mergeable across
a corpus's partitions as :class:`CounterPart`) and catalog supply per row (:class:`Supply`,
:class:`SupplyCounts`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from competencymap.workflows.demand.options import LEVEL_COMPETENCY, NO_OCCUPATION, Cell, Key
from competencymap.workflows.demand.postings import MappedPosting
from competencymap.workflows.demand.rollup import Rollup
from competencymap.workflows.employer_match import COUNTED, CoverageRule, Offer, tag_holders

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
        self.not_read = 0  # statements of counted postings left out: in a language the model does not read

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
        self.not_read += posting.not_read

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
                           self.postings, self.statements, self.fallback, self.not_read)

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
        self.not_read += part.not_read


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
    not_read: int = 0


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
