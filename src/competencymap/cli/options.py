"""Options every command group shares, and how their values are read. Light: importing it loads
no model, so `competencymap --help` and the catalog commands start fast."""

from __future__ import annotations

from pathlib import Path

import click

from competencymap._common.options import split_list

HOME = click.option("--home", type=click.Path(file_okay=False, path_type=Path),
                    help="Folder for caches, indexes and the default SQLite catalog (default: COMPETENCYMAP_HOME "
                         "or indexes/).")
DATA = click.option("--data", type=click.Path(file_okay=False, path_type=Path),
                    help="Folder of the bundled data (default: COMPETENCYMAP_DATA or data/).")


def framework_names(values: tuple[str, ...]) -> list[str]:
    """`--framework esco --framework sfs` and `--framework esco,sfs` both work."""
    return split_list(values) or ["esco"]
