"""`competencymap frameworks ...`: list, load, stats, show, export."""

from __future__ import annotations

import click


@click.group()
def frameworks() -> None:
    """Load and inspect competency frameworks."""
