"""The demand table: :class:`DemandRow` and :class:`DemandTable` (rows in a fixed order, JSON
form with its meta), built from a counter and optional supply by :func:`build_table`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from competencymap.workflows.demand.counting import DemandCounter, Supply, SupplyCounts
from competencymap.workflows.demand.options import LEVEL_COMPETENCY, Cell, Key
from competencymap.workflows.needs import FALLBACK_NEEDS


def _level_order(level: str) -> tuple[int, int]:
    """Where a level's rows go within a cell: competencies, then groups by depth, then SfS skills."""
    if level == LEVEL_COMPETENCY:
        return (0, 0)
    if level.startswith("group level "):
        return (1, int(level.rsplit(" ", 1)[1]))
    return (2, 0)


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
    catalog_credentials: int | None = None  # credentials in the catalog, tagged or not (when known)
    notes: list[str] = field(default_factory=list)
    statements: int = 0  # statements mapped across all postings
    fallback: int = 0  # postings whose needs in some framework are the best few, none being confident
    group_by: list[str] = field(default_factory=list)
    errors: int = 0  # postings left out because they could not be read or mapped
    not_read_postings: int = 0  # postings left out (among `errors`): none of their text in a language the model reads
    not_read_statements: int = 0  # statements of counted postings left out for their language

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
            "catalog_credentials": self.catalog_credentials,
            "cells": [self._cell(cell, n) for cell, n in sorted(self.cells.items(), key=_cell_order)],
            "notes": self.notes,
        }
        meta["not_read"] = {
            "postings": self.not_read_postings, "statements": self.not_read_statements,
            "rule": "text in a language the model does not read (French with the bundled English model) is never "
                    "mapped: such statements are left out, and a posting with nothing else is not counted",
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
    not_read: int = 0,
    catalog_credentials: int | None = None,
) -> DemandTable:
    """The table of a counter; `rollup` says whether roll-ups were counted (default: the counter has a roll-up);
    `not_read` postings were left out for their language (they are among `errors`); `catalog_credentials`: the
    catalog's credentials in all, tagged or not (supply is counted over the tagged)."""
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
        catalog_credentials=catalog_credentials if supply is not None else None,
        notes=list(notes),
        statements=counter.statements,
        fallback=counter.fallback,
        group_by=list(group_by),
        errors=errors,
        not_read_postings=not_read,
        not_read_statements=counter.not_read,
    )


def table_keys(counter: DemandCounter) -> list[Key]:
    """The distinct (framework, level, iri) rows a counter holds (what supply is needed for)."""
    return list(dict.fromkeys(key for _, key in counter.counts))
