"""The `competencymap` command. Each command group lives in its own module."""

from __future__ import annotations

import sys

import click

from competencymap.errors import CompetencyMapError


class Main(click.Group):
    """Turns a CompetencyMapError into one readable line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except CompetencyMapError as exc:
            click.echo(f"error: {exc.line_text()}", err=True)
            sys.exit(1)
        except BrokenPipeError:
            sys.exit(0)


@click.group(cls=Main)
@click.version_option(package_name="competencymap")
def main() -> None:
    """Map learning outcomes and job postings onto shared competency identifiers."""


def _register() -> None:
    from competencymap.cli import catalog as catalog_cli
    from competencymap.cli import crosswalk as crosswalk_cli
    from competencymap.cli import demand as demand_cli
    from competencymap.cli import frameworks as frameworks_cli
    from competencymap.cli import index as index_cli
    from competencymap.cli import mapping as mapping_cli
    from competencymap.cli import serve as serve_cli

    main.add_command(frameworks_cli.frameworks)
    main.add_command(index_cli.index)
    main.add_command(mapping_cli.map_command)
    main.add_command(mapping_cli.search_command)
    main.add_command(demand_cli.demand)
    main.add_command(serve_cli.serve)
    main.add_command(catalog_cli.catalog)
    main.add_command(crosswalk_cli.crosswalk_command)


_register()
