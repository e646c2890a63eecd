"""Bar charts drawn on the server as inline SVG: demand (share of postings) against catalog supply
(share of credentials with accepted tags that cover the row). The template only places what is
computed here; colours come from the stylesheet (classes), never from inline styles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 760
LABEL_WIDTH = 280
BAR_LEFT = LABEL_WIDTH + 10
BAR_SPACE = WIDTH - BAR_LEFT - 60
ROW = 30
BAR = 11
TOP = 24
MAX_LABEL = 40


@dataclass(frozen=True)
class Bar:
    label: str  # shortened to fit; `full` is shown as the row's tooltip
    full: str
    y: float
    demand_width: float
    supply_width: float
    demand_text: str
    supply_text: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    bar_left: int
    bar_space: int
    bar_height: int
    ticks: list[tuple[float, str]]  # (x, text)


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1].rstrip() + "…"


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def bar_chart(items: Sequence[tuple[str, float, float]]) -> Chart:
    """(label, demand share, supply share) rows, shares between 0 and 1, drawn on one 0-100% scale."""
    bars = []
    for i, (label, demand, supply) in enumerate(items):
        d, s = min(max(demand, 0.0), 1.0), min(max(supply, 0.0), 1.0)
        bars.append(Bar(_short(label), label, TOP + i * ROW, round(d * BAR_SPACE, 1), round(s * BAR_SPACE, 1),
                        _percent(d), _percent(s)))
    ticks = [(BAR_LEFT + f * BAR_SPACE, _percent(f)) for f in (0.0, 0.25, 0.5, 0.75, 1.0)]
    return Chart(bars, WIDTH, TOP + len(bars) * ROW + 8, BAR_LEFT, BAR_SPACE, BAR, ticks)
