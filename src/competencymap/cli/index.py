"""`competencymap index ...`: build and inspect the vector indexes."""

from __future__ import annotations

import time

import click

from competencymap.cli.common import echo_json, engine_options
from competencymap.cli.options import framework_names
from competencymap.engine import CompetencyMap


@click.group()
def index() -> None:
    """Build and inspect vector indexes (one per framework and model)."""


@index.command("build")
@click.option("--framework", "-f", "frameworks", multiple=True, help="Framework name(s); default esco.")
@click.option("--force", is_flag=True, help="Re-encode every text instead of reusing unchanged vectors.")
@engine_options
def build_command(engine: CompetencyMap, frameworks: tuple[str, ...], force: bool) -> None:
    """Embed every label and description of the framework(s) and save a FAISS index."""
    for name in framework_names(frameworks):
        framework = engine.framework(name)
        click.echo(f"building the {name} index ({len(framework.skills()):,} competencies, model {engine.encoder.name})", err=True)
        started = time.perf_counter()
        built = engine.build_index(name, progress=True, force=force)
        manifest = built.manifest
        click.echo(
            f"{name}: {manifest['vector_count']:,} vectors for {manifest['competency_count']:,} competencies "
            f"in {time.perf_counter() - started:.1f}s -> {engine.index_folder(name)}"
        )


@index.command("status")
@click.option("--framework", "-f", "frameworks", multiple=True, help="Framework name(s); default all bundled.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifests as JSON.")
@engine_options
def status_command(engine: CompetencyMap, frameworks: tuple[str, ...], as_json: bool) -> None:
    """Show whether each framework's index is built and fits the framework and model."""
    names = framework_names(frameworks) if frameworks else engine.store.names()
    rows = []
    for name in names:
        rows.append(engine.index_status(name))
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo(f"{row['framework']}: {row['state']}" + (f" ({row['detail']})" if row.get("detail") else ""))
