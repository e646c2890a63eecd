"""Bar charts of demand against supply, drawn as HTML lists with one small inline SVG per bar.

Labels are text that wraps (never cut short), each value is written in words under its bar, and
a chart is as wide as the column it sits in (a phone's too): nothing is clipped. A bar's length
is an SVG attribute on a 0-100 viewBox and its colour comes from the stylesheet (a class): the
page's Content-Security-Policy allows no inline style."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

Texts = Callable[..., str]  # the page's messages: t(key, **values)


@dataclass(frozen=True)
class Measure:
    width: float  # the bar's length: 0 to 100 (percent of the chart's width)
    text: str  # the value in words


@dataclass(frozen=True)
class Bar:
    label: str  # in full
    href: str | None
    demand: Measure
    supply: Measure | None  # None: no catalog was counted


@dataclass(frozen=True)
class Item:
    """One row to draw: its label and link, postings needing it of those in its block, and the
    credentials covering it of those tagged and of the whole catalog (None: not counted)."""

    label: str
    href: str | None
    postings: int
    block_postings: int
    credentials: int | None
    tagged: int | None
    catalog: int | None


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]


def _share(part: int, whole: int | None) -> float | None:
    return min(max(part / whole, 0.0), 1.0) if whole else None


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _supply(item: Item, t: Texts) -> Measure | None:
    if item.credentials is None:
        return None
    of_catalog, of_tagged = _share(item.credentials, item.catalog), _share(item.credentials, item.tagged)
    if not item.tagged:
        text = t("chart.supply_none_tagged", count=item.credentials, catalog_percent=_percent(of_catalog),
                 catalog=item.catalog if item.catalog is not None else "?")
    elif item.catalog is None:  # a table of an older run: supply of the tagged credentials only
        text = t("chart.supply_tagged", count=item.credentials, tagged_percent=_percent(of_tagged),
                 tagged=item.tagged or 0)
    else:
        text = t("chart.supply_value", count=item.credentials, catalog_percent=_percent(of_catalog),
                 catalog=item.catalog, tagged_percent=_percent(of_tagged), tagged=item.tagged or 0)
    shown = of_catalog if item.catalog is not None else of_tagged
    return Measure(round(100 * (shown or 0.0), 1), text)


def bar_chart(title: str, items: Sequence[Item], t: Texts) -> Chart:
    """A chart of `items` in the order given: demand as a share of the block's postings, supply
    as a share of the catalog (of the tagged credentials when the catalog's size is unknown)."""
    bars = []
    for item in items:
        demand = _share(item.postings, item.block_postings) or 0.0
        text = t("chart.demand_value", percent=_percent(demand), count=item.postings, total=item.block_postings)
        bars.append(Bar(item.label, item.href, Measure(round(100 * demand, 1), text), _supply(item, t)))
    return Chart(title, bars)
