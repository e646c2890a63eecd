"""What the researcher's page makes of a demand table (no model, no server): competencies first
and the roll-ups in their own view, blocks (months, occupations, group-by values) to choose, one
chart per block with full labels, supply as a share of the catalog and of the tagged credentials,
sorting and pages."""

from __future__ import annotations

from typing import Any

import pytest

from competencymap.service.web.charts import Item, bar_chart
from competencymap.service.web.demand_view import CATALOG_SHARE, PAGE_SIZE, TAGGED_SHARE, demand_view
from competencymap.service.web.messages import Messages

t = Messages("en")
COLUMNS = ["month", "region", "framework", "level", "iri", "label", "postings", "share", "credentials_supply"]
LONG = "manage the conservation, restoration and interpretation of historic industrial buildings and machinery"


def row(month: str, region: str, framework: str, level: str, label: str, postings: int, block: int,
        supply: int | None) -> dict[str, Any]:
    return {"month": month, "region": region, "framework": framework, "level": level, "iri": f"x:{label}",
            "label": label, "postings": postings, "share": round(postings / block, 4), "credentials_supply": supply}


def table(catalog: int | None = 14, tagged: int = 2) -> dict[str, Any]:
    """Two blocks (January north: 3 postings; February south: 1), in the table's own order."""
    rows = [
        row("2026-01", "north", "esco", "competency", "SQL", 3, 3, 2),
        row("2026-01", "north", "esco", "competency", LONG, 1, 3, 0),
        row("2026-01", "north", "esco", "group level 1", "information skills", 3, 3, 2),
        row("2026-01", "north", "sfs", "sfs", "Digital", 3, 3, 1),
        row("2026-02", "south", "esco", "competency", "bake bread", 1, 1, 0),
        row("2026-02", "south", "esco", "group level 2", "preparing food", 1, 1, 0),
    ]
    meta = {"postings": 4, "frameworks": ["esco", "sfs"], "group_by": ["region"],
            "cells": [{"month": "2026-01", "occupation": None, "region": "north", "postings": 3},
                      {"month": "2026-02", "occupation": None, "region": "south", "postings": 1}],
            "catalog_credentials_with_accepted_tags": tagged, "catalog_credentials": catalog}
    return {"meta": meta, "columns": COLUMNS, "rows": rows}


def test_competencies_come_first_and_roll_ups_have_their_own_view() -> None:
    shown = demand_view(table(), t)
    assert shown.view == "competencies" and shown.counts == {"competencies": 3, "rollups": 3}
    assert [r["label"] for r in shown.rows] == ["SQL", LONG, "bake bread"]  # the table's own order, no groups
    assert shown.sort is None and "level" not in shown.columns
    assert shown.columns[:2] == ["month", "region"] and shown.block_columns == ["month", "region"]
    rollups = demand_view(table(), t, view="rollups")
    assert [r["label"] for r in rollups.rows] == ["information skills", "Digital", "preparing food"]
    assert "level" in rollups.columns and "framework" in rollups.columns
    assert demand_view(table(), t, view="nonsense").view == "competencies"


def test_a_block_is_chosen_and_each_block_has_its_chart() -> None:
    everything = demand_view(table(), t)
    assert [b.label for b in everything.blocks] == ["2026-01 · region: north", "2026-02 · region: south"]
    assert [c.title for c in everything.charts] == ["Top 2 competencies in 2026-01 · region: north (3 postings)",
                                                    "Top 1 competencies in 2026-02 · region: south (1 postings)"]
    february = demand_view(table(), t, block=1)
    assert february.block is not None and february.block.postings == 1
    assert [r["label"] for r in february.rows] == ["bake bread"] and len(february.charts) == 1
    assert demand_view(table(), t, block=7).block is None  # no such block: all of them


def test_supply_is_a_share_of_the_catalog_and_of_the_tagged_credentials() -> None:
    shown = demand_view(table(), t)
    sql = shown.rows[0]
    assert (sql[CATALOG_SHARE], sql[TAGGED_SHARE]) == (round(2 / 14, 4), 1.0)
    assert shown.columns[-3:] == ["credentials_supply", CATALOG_SHARE, TAGGED_SHARE]
    bar = shown.charts[0].bars[0]
    assert bar.supply is not None and bar.supply.width == round(100 * 2 / 14, 1)
    assert bar.supply.text == "2 credentials: 14% of the catalog (2 of 14), 100% of tagged credentials (2 of 2)"
    assert bar.demand.width == 100.0 and bar.demand.text == "100% of postings (3 of 3)"
    older = demand_view(table(catalog=None), t)  # a run that did not record the catalog's size
    assert CATALOG_SHARE not in older.columns and older.rows[0][CATALOG_SHARE] is None
    assert older.charts[0].bars[0].supply.text == "2 credentials: 100% of tagged credentials (2 of 2)"  # type: ignore[union-attr]


def test_chart_labels_are_whole() -> None:
    chart = bar_chart("Top", [Item(LONG, None, 1, 3, None, None, None), Item("B", "/b", 0, 0, 0, 0, 0)], t)
    first, second = chart.bars
    assert first.label == LONG and first.supply is None and first.demand.width == round(100 / 3, 1)
    assert second.demand.width == 0.0 and second.supply is not None and second.supply.width == 0.0


@pytest.mark.parametrize("column, descending, first", [("label", False, "bake bread"), ("label", True, "SQL"),
                                                        ("postings", True, "SQL"), (CATALOG_SHARE, True, "SQL")])
def test_sorting_by_any_shown_column(column: str, descending: bool, first: str) -> None:
    shown = demand_view(table(), t, sort=column, descending=descending)
    assert shown.sort == column and shown.rows[0]["label"] == first
    assert demand_view(table(), t, sort="iri").sort is None  # not shown: the table's own order


def test_rows_come_in_pages() -> None:
    big = table()
    big["rows"] = [row("2026-01", "north", "esco", "competency", f"c{i:03d}", 250 - i, 300, 0) for i in range(250)]
    last = demand_view(big, t, page=3)
    assert (last.pages, last.page, last.first, last.last, len(last.rows)) == (3, 3, 2 * PAGE_SIZE + 1, 250, 50)
    assert demand_view(big, t, page=99).page == 3 and demand_view(big, t, page=0).page == 1


def test_supply_says_when_no_credential_is_tagged() -> None:
    bar = demand_view(table(tagged=0), t).charts[0].bars[0]
    assert bar.supply is not None and bar.supply.text.endswith("no credential has accepted tags yet")
    assert "0% of the catalog" not in bar.supply.text and "14% of the catalog (2 of 14)" in bar.supply.text
