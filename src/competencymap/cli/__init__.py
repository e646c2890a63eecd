"""The `competencymap` command. Each command group lives in its own module."""

from __future__ import annotations

import importlib
import sys

import click

from competencymap._common.errors import CompetencyMapError


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


# Each command's module is imported only when that command runs (or help lists them), so a
# command never pays for the imports of the others (the catalog's database layer, the server).
COMMANDS = {
    "frameworks": "competencymap.cli.frameworks:frameworks",
    "index": "competencymap.cli.index:index",
    "map": "competencymap.cli.mapping:map_command",
    "search": "competencymap.cli.mapping:search_command",
    "demand": "competencymap.cli.demand:demand",
    "serve": "competencymap.cli.serve:serve",
    "catalog": "competencymap.cli.catalog:catalog",
    "crosswalk": "competencymap.cli.crosswalk:crosswalk_command",
    "model": "competencymap.cli.model:model",
}


class LazyMain(Main):
    """The command group, importing a command's module when the command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyMain)
@click.version_option(package_name="competencymap")
def main() -> None:
    """Map learning outcomes and job postings onto shared competency identifiers."""
