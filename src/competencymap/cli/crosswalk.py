"""`competencymap crosswalk SOURCE TARGET`: the computed crosswalk (or, with --authored, the curated one
that ships under the data folder) as SSSOM TSV, SKOS Turtle or JSON; and the CASE package writer
`frameworks export --format case` uses (it carries both crosswalks)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
import orjson

from competencymap._common.config import Settings
from competencymap._common.errors import CompetencyMapError
from competencymap.cli.common import engine_options
from competencymap.engine import CompetencyMap
from competencymap.exports.case import framework_to_cfpackage
from competencymap.exports.sssom import DEFAULT_CROSSWALKS, FORMATS, build_crosswalk, render, render_authored
from competencymap.frameworks.sssom import authored_crosswalk_path, read_sssom
from competencymap.frameworks.store import FrameworkStore
from competencymap.model.framework import Framework, Relation


@click.command("crosswalk")
@click.argument("source")
@click.argument("target")
@click.option("--format", "fmt", default="sssom", show_default=True,
              help="sssom (TSV with its YAML metadata block), skos (Turtle) or json.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout).")
@click.option("--authored", is_flag=True,
              help="The curated crosswalk from SOURCE groups to TARGET skills and components (no index needed).")
@engine_options
def crosswalk_command(engine: CompetencyMap, source: str, target: str, fmt: str, output: Path | None,
                      authored: bool) -> None:
    """Write the computed crosswalk from SOURCE concepts to TARGET skills (e.g. esco sfs), or with
    --authored the curated one (semapv:ManualMappingCuration, a justification per row).

    The computed one needs both frameworks' indexes (`competencymap index build`)."""
    if fmt not in FORMATS:
        raise CompetencyMapError(f"unknown crosswalk format {fmt!r}; use one of {', '.join(FORMATS)}")
    if authored:
        mappings = engine.authored_crosswalk(source, target)
        if mappings is None:
            raise CompetencyMapError(f"no authored crosswalk from {source!r} to {target!r} ships with the data")
        text, count = render_authored(mappings, fmt), len(mappings.mappings)
    else:
        crosswalk = build_crosswalk(engine, source, target)
        text, count = render(crosswalk, fmt), len(crosswalk.relations)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output} ({count:,} mappings)", err=True)


def write_case_package(
    settings: Settings, store: FrameworkStore, framework: Framework, output: Path, crosswalk_from: str | None
) -> Path:
    """Write `framework` as a CASE 1.1 CFPackage; with a crosswalk source, its authored crosswalk
    (when one ships) and, when its index and this framework's index are built, its computed
    crosswalk are added as CFAssociations."""
    source_name = DEFAULT_CROSSWALKS.get(framework.id) if crosswalk_from is None else crosswalk_from or None
    path = authored_crosswalk_path(settings.data, source_name, framework.id) if source_name else None
    authored = read_sssom(path).mappings if path is not None and path.is_file() else ()
    relations: list[Relation] = []
    source = None
    if source_name:
        engine = CompetencyMap(settings, on_status=lambda message: click.echo(message, err=True))
        missing = [n for n in (source_name, framework.id) if engine.index_status(n)["state"] != "ready"]
        if missing and crosswalk_from is None:
            click.echo(f"note: no computed crosswalk from {source_name} in the package: no ready index for "
                       f"{', '.join(missing)} (`competencymap index build --framework ...`)", err=True)
        else:
            relations = engine.crosswalk(source_name, framework.id)
            source = engine.framework(source_name)
    changed = datetime.fromtimestamp(store.entry(framework.id).path.stat().st_mtime, UTC)
    package = framework_to_cfpackage(framework, crosswalk=relations, crosswalk_source=source, authored=authored,
                                     last_change=changed)
    output.write_bytes(orjson.dumps(package, option=orjson.OPT_INDENT_2) + b"\n")
    return output
