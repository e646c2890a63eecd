"""What the researcher's page shows of a demand table: one view at a time (competencies, or the
roll-ups: skill groups and Skills for Success skills), its blocks (one per month, occupation and
group-by value, as counted), a page of rows in the order asked for, and one chart per block.

Plain values in, plain values out: `competencymap.service.web.researcher` reads the request and
renders; the table is the job's own (`service.jobs.result_table`), never changed here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from competencymap.service.web.charts import Chart, Item, Texts, bar_chart
from competencymap.workflows.demand.options import LEVEL_COMPETENCY

VIEWS = ("competencies", "rollups")
PAGE_SIZE = 100
TOP = 10  # rows per chart
MAX_CHARTS = 12  # charts drawn at once (pick one block to see any other)
ROW_OWN = ("framework", "level", "iri", "label", "postings", "share", "credentials_supply")
CATALOG_SHARE = "catalog_share"  # computed for the page: credentials_supply / catalog credentials
TAGGED_SHARE = "tagged_share"  # credentials_supply / catalog credentials with accepted tags
NUMBERS = ("postings", "share", "credentials_supply", CATALOG_SHARE, TAGGED_SHARE)


@dataclass(frozen=True)
class Block:
    """One block of the table: the rows counted over the same postings (a month, an occupation,
    a value of each group-by column, or the whole corpus)."""

    index: int
    key: tuple[Any, ...]
    label: str  # "" for the one block of a table not split
    postings: int


@dataclass(frozen=True)
class Supply:
    tagged: int | None  # catalog credentials with accepted tags (what supply counts among)
    catalog: int | None  # catalog credentials in all (None: a table of an older run)


@dataclass
class DemandView:
    view: str
    counts: dict[str, int]  # rows per view
    blocks: list[Block]
    block: Block | None  # the one chosen, None: all
    block_columns: list[str]  # the columns that split the table (shown in it)
    columns: list[str]  # the columns shown, in order
    rows: list[dict[str, Any]]  # this page's rows
    total: int  # rows of the view (and block)
    page: int
    pages: int
    sort: str | None  # None: the table's own order (block, framework, most needed first)
    descending: bool
    charts: list[Chart]
    supply: Supply | None

    @property
    def first(self) -> int:
        """The number of this page's first row among the view's (0: none)."""
        return (self.page - 1) * PAGE_SIZE + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * PAGE_SIZE + len(self.rows)


def in_view(row: dict[str, Any], view: str) -> bool:
    is_competency = row.get("level") == LEVEL_COMPETENCY
    return is_competency if view == "competencies" else not is_competency


def key_columns(columns: Sequence[str]) -> list[str]:
    """The columns whose values tell a row's block (the occupation by its IRI, not its label)."""
    return [c for c in columns if c not in ROW_OWN and c != "occupation_label"]


def shown_block_columns(columns: Sequence[str]) -> list[str]:
    """The block columns a reader sees: the occupation by its label."""
    return [c for c in columns if c not in ROW_OWN and c != "occupation"]


def blocks_of(table: dict[str, Any], t: Texts) -> list[Block]:
    """The table's blocks, in the order of its meta's cells, each with its postings."""
    keys = key_columns(table["columns"])
    occupations = {r.get("occupation"): r.get("occupation_label") for r in table["rows"] if r.get("occupation")}
    out = []
    for i, cell in enumerate(table["meta"].get("cells") or [{"postings": table["meta"].get("postings", 0)}]):
        key = tuple(cell.get(c) for c in keys)
        parts = []
        for column, value in zip(keys, key):
            if column == "occupation":
                parts.append(str(occupations.get(value) or value))
            elif column == "month":
                parts.append(str(value))
            else:
                parts.append(t("block.group", column=column, value=value if value is not None else "–"))
        out.append(Block(i, key, " · ".join(parts), int(cell.get("postings") or 0)))
    return out


def supply_of(meta: dict[str, Any], rows: Sequence[dict[str, Any]]) -> Supply | None:
    if not any(r.get("credentials_supply") is not None for r in rows):
        return None
    return Supply(meta.get("catalog_credentials_with_accepted_tags"), meta.get("catalog_credentials"))


def with_shares(row: dict[str, Any], supply: Supply | None) -> dict[str, Any]:
    """The row with its supply as shares of the catalog and of the tagged credentials (None when unknown)."""
    count = row.get("credentials_supply")
    out = dict(row)
    for name, whole in ((CATALOG_SHARE, supply.catalog if supply else None),
                        (TAGGED_SHARE, supply.tagged if supply else None)):
        out[name] = round(count / whole, 4) if count is not None and whole else None
    return out


def sorted_rows(rows: list[dict[str, Any]], column: str | None, descending: bool) -> list[dict[str, Any]]:
    """By `column` (empty values last, text ignoring case), ties in the table's order; None: as they are."""
    if column is None:
        return rows
    present = [r for r in rows if r.get(column) is not None]
    absent = [r for r in rows if r.get(column) is None]

    def key(row: dict[str, Any]) -> Any:
        value = row[column]
        return value.casefold() if isinstance(value, str) else value

    return sorted(present, key=key, reverse=descending) + absent


def shown_columns(table: dict[str, Any], view: str, supply: Supply | None) -> list[str]:
    frameworks = table["meta"].get("frameworks") or []
    out = shown_block_columns(table["columns"])
    out += ["framework"] if len(frameworks) > 1 or view == "rollups" else []
    out += ["level"] if view == "rollups" else []
    out += ["label", "postings", "share"]
    if supply is not None:
        out += ["credentials_supply", *([CATALOG_SHARE] if supply.catalog is not None else []), TAGGED_SHARE]
    return out


def chart_items(rows: Sequence[dict[str, Any]], block: Block, supply: Supply | None) -> list[Item]:
    best = sorted(rows, key=lambda r: (-(r.get("postings") or 0), str(r.get("label") or "").casefold()))[:TOP]
    return [Item(f"{r.get('label') or r.get('iri')} ({r.get('framework')})", competency_href(r),
                 int(r.get("postings") or 0), block.postings, r.get("credentials_supply"),
                 supply.tagged if supply else None, supply.catalog if supply else None) for r in best]


def competency_href(row: dict[str, Any]) -> str | None:
    iri = row.get("iri")
    return f"/browse/competency?iri={quote(str(iri), safe='')}" if iri else None


def demand_view(table: dict[str, Any], t: Texts, *, view: str = "competencies", block: int | None = None,
                sort: str | None = None, descending: bool = True, page: int = 1) -> DemandView:
    """The page's view of `table`; an unknown view, block, column or page falls back to the default."""
    view = view if view in VIEWS else VIEWS[0]
    supply = supply_of(table["meta"], table["rows"])
    keys = key_columns(table["columns"])
    blocks = blocks_of(table, t)
    chosen = blocks[block] if block is not None and 0 <= block < len(blocks) and len(blocks) > 1 else None
    counts = {name: sum(1 for r in table["rows"] if in_view(r, name)) for name in VIEWS}
    rows = [with_shares(r, supply) for r in table["rows"] if in_view(r, view)]
    if chosen is not None:
        rows = [r for r in rows if tuple(r.get(c) for c in keys) == chosen.key]
    columns = shown_columns(table, view, supply)
    sort = sort if sort in columns else None
    ordered = sorted_rows(rows, sort, descending)
    pages = max(1, -(-len(ordered) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    charted = [chosen] if chosen is not None else blocks[:MAX_CHARTS]
    title = "chart.top_title" if view == "competencies" else "chart.rollup_title"
    charts = []
    for b in charted:
        mine = [r for r in rows if tuple(r.get(c) for c in keys) == b.key]
        heading = t(title, n=min(TOP, len(mine)))
        if b.label:
            heading = t("chart.in_block", title=heading, block=b.label, postings=b.postings)
        charts.append(bar_chart(heading, chart_items(mine, b, supply), t))
    return DemandView(view, counts, blocks, chosen, shown_block_columns(table["columns"]), columns,
                      ordered[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], len(ordered), page, pages, sort, descending,
                      charts, supply)
