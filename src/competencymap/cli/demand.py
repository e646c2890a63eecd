"""`competencymap demand`: competency demand from files of job postings, on a Dask cluster."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from competencymap._common.errors import CompetencyMapError
from competencymap._common.options import split_list
from competencymap.cli.common import engine_options
from competencymap.cli.options import framework_names
from competencymap.engine import CompetencyMap
from competencymap.workflows.demand.corpus.partitions import DEFAULT_SIZE
from competencymap.workflows.demand.options import DemandOptions
from competencymap.workflows.demand.postings import PostingError, posting_month
from competencymap.workflows.demand.single import demand as demand_table
from competencymap.workflows.demand.table import DemandTable
from competencymap.workflows.postings_io import (
    OUTPUT_FORMATS,
    Columns,
    output_format,
    read_postings,
    scan_postings,
    write_table,
)

TABLE_SUFFIXES = (".csv", ".json", ".parquet", ".pq")
SOME_FAILED = 3  # exit code: the table was made, but some postings could not be read or mapped
ERRORS_SHOWN = 20


@click.command("demand")
@click.argument("inputs", nargs=-1, required=True, metavar="POSTINGS...")
@click.option("--framework", "-f", "frameworks", multiple=True,
              help="Framework(s) to map postings onto (default esco); repeat or comma-separate.")
@click.option("--by-month", is_flag=True, help="One block per month of the posting date (posted_on/date column).")
@click.option("--by-occupation", is_flag=True,
              help="One block per posting's ESCO occupation: the best match of its title (of its text when "
                   "it has none) on esco-occupations, whose index must be built.")
@click.option("--group-by", "group_by", multiple=True, metavar="COLUMN",
              help="Also split the table by these posting columns (e.g. region, source); repeat or comma-separate.")
@click.option("--catalog-db", metavar="URL",
              help="Catalog database for credential supply (default: the settings database, if it exists).")
@click.option("--no-catalog", is_flag=True, help="Leave out credential supply.")
@click.option("--no-rollup", is_flag=True, help="Competencies only: no skill-group or Skills for Success roll-up.")
@click.option("--fast", is_flag=True, help="Cheaper pipeline for large corpora: statements only, no phrases (about twice as fast; "
                   "needs differ somewhat, see benchmarks/results/demand.json).")
@click.option("--format", "fmt", type=click.Choice(OUTPUT_FORMATS),
              help="Table format (default: from an --output file, else csv). With an --output folder, also print the table.")
@click.option("--output", "-o", type=click.Path(path_type=Path),
              help="A table file (.csv, .json, .parquet), or a folder for the whole run: per-posting Parquet files, "
                   "errors, demand.csv/.parquet and a manifest; rerunning into the same folder resumes. Default: stdout.")
@click.option("--top", type=click.IntRange(1), help="Keep the top N rows of each block of the table written or printed.")
@click.option("--text-column", help="Column holding the posting text (default: text, description, ...).")
@click.option("--title-column", help="Column holding the job title (default: title, job_title).")
@click.option("--date-column", help="Column holding the posting date (default: posted_on, date, ...).")
@click.option("--id-column", help="Column holding the posting id (default: id, posting_id; else file:line).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Run on an existing Dask cluster (tcp://HOST:8786) instead of a local one.")
@click.option("--workers", type=click.IntRange(1), help="Local cluster: worker processes (default: one per core).")
@click.option("--threads", type=click.IntRange(1), help="Encoder threads per worker (local default: cores / workers).")
@click.option("--partition-size", type=click.IntRange(1), default=DEFAULT_SIZE, show_default=True,
              help="Rows per partition: the unit of work, of output files and of resuming.")
@click.option("--single-process", is_flag=True,
              help="Map in this process, without Dask and without per-posting files; a row the reader rejects stops "
                   "the run, a posting that cannot be mapped is skipped (exit code 3).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@engine_options
def demand(
    engine: CompetencyMap,
    inputs: tuple[str, ...],
    frameworks: tuple[str, ...],
    by_month: bool,
    by_occupation: bool,
    group_by: tuple[str, ...],
    catalog_db: str | None,
    no_catalog: bool,
    no_rollup: bool,
    fast: bool,
    fmt: str | None,
    output: Path | None,
    top: int | None,
    text_column: str | None,
    title_column: str | None,
    date_column: str | None,
    id_column: str | None,
    scheduler: str | None,
    workers: int | None,
    threads: int | None,
    partition_size: int,
    single_process: bool,
    quiet: bool,
) -> None:
    """Count the competencies POSTINGS ask for, with supply from the catalog.

    POSTINGS are files (.csv, .jsonl or .parquet; CSV and JSONL may be .gz), folders of them or
    glob patterns. By default the postings are mapped on a local Dask cluster, partition by
    partition; a posting that cannot be read or mapped is recorded with its reason (exit code 3
    when any was left out). See docs/corpus.md for clusters (SLURM, Kubernetes).
    """
    folder = output if output is not None and _is_folder(output) else None
    table_file = output if folder is None else None
    fmt = output_format(table_file, fmt) if (folder is None or fmt) else None
    if fmt == "parquet" and table_file is None:
        raise CompetencyMapError("Parquet output needs an output file (--output PATH.parquet)")
    columns = Columns(text_column, title_column, date_column, id_column, tuple(split_list(group_by)))
    options = DemandOptions(frameworks=tuple(framework_names(frameworks)), by_month=by_month,
                            by_occupation=by_occupation, group_by=columns.groups, rollup=not no_rollup, fast=fast)
    if single_process:
        if folder is not None:
            raise CompetencyMapError("--single-process writes no run folder: name an output file, or drop --single-process")
        table = _single_process(engine, inputs, columns, options, catalog_db, no_catalog, quiet)
        left_out = table.errors
    else:
        table, left_out = _on_dask(engine, inputs, columns, options, folder, catalog_db, no_catalog, quiet,
                                   scheduler, workers, threads, partition_size)
    if top is not None:
        table = table.top(top)
    if fmt is not None:
        write_table(table.records(), table.columns(), fmt, table_file, meta=table.meta())
    for note in table.notes:
        click.echo(f"note: {note}", err=True)
    if table.not_read_postings or table.not_read_statements:
        click.echo(f"note: not in a language the model reads, left out of the counts: {table.not_read_postings} "
                   f"posting(s), and {table.not_read_statements} statement(s) of counted postings", err=True)
    if folder is not None and not quiet:
        click.echo(f"{len(table.rows)} rows from {table.postings} postings written to {folder} "
                   "(demand.csv, demand.parquet, postings/, errors.jsonl, manifest.json)", err=True)
    elif table_file is not None and not quiet:
        click.echo(f"{len(table.rows)} rows from {table.postings} postings written to {table_file}", err=True)
    if left_out:
        sys.exit(SOME_FAILED)


def _is_folder(path: Path) -> bool:
    """An --output that is a folder (existing, or named without a table suffix)."""
    return path.is_dir() or path.suffix.lower() not in TABLE_SUFFIXES


def _on_dask(engine: CompetencyMap, inputs: tuple[str, ...], columns: Columns, options: DemandOptions,
             folder: Path | None, catalog_db: str | None, no_catalog: bool, quiet: bool, scheduler: str | None,
             workers: int | None, threads: int | None, partition_size: int) -> tuple[DemandTable, int]:
    from competencymap.workflows.demand.corpus.run import ClusterOptions, CorpusOptions, prepare_corpus, run_corpus

    corpus = CorpusOptions(options, columns, partition_size)
    with _run_folder(folder) as root:
        prepared = prepare_corpus(engine.settings, list(inputs), root, corpus)  # file errors fail here
        offers, in_catalog = _offers(engine, catalog_db, no_catalog)
        cluster = ClusterOptions(scheduler=scheduler, workers=workers, threads=threads)
        result = run_corpus(engine.settings, list(inputs), root, corpus, cluster=cluster, offers=offers,
                            progress=not quiet, say=_say, prepared=prepared, catalog_credentials=in_catalog)
        left_out = result.table.errors
        if left_out:
            _report_errors(result.folder, left_out, temporary=folder is None)
    return result.table, left_out


def _offers(engine: CompetencyMap, catalog_db: str | None, no_catalog: bool) -> tuple[list | None, int | None]:
    """The catalog's credentials with accepted tags and its credentials in all, or None, None without a catalog."""
    from competencymap.workflows.employer_match import catalog_offers

    offers, count = None, None
    catalog = None if no_catalog else _catalog(engine, catalog_db)
    if catalog is not None:
        try:
            offers, count = catalog_offers(catalog), catalog.count_credentials()
        finally:
            catalog.close()
    return offers, count


@contextmanager
def _run_folder(folder: Path | None) -> Iterator[Path]:
    """The named run folder, or a temporary one removed afterwards."""
    if folder is not None:
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="competencymap-demand-") as temporary:
        yield Path(temporary) / "run"


def _report_errors(folder: Path, left_out: int, *, temporary: bool) -> None:
    import orjson

    click.echo(f"note: {left_out} posting(s) could not be read or mapped and are not counted", err=True)
    if not temporary:
        click.echo(f"note: each one is listed with its reason in {folder / 'errors.jsonl'}", err=True)
        return
    lines = [orjson.loads(line) for line in (folder / "errors.jsonl").read_bytes().splitlines() if line]
    _echo_skipped([e for e in lines if not e["counted"]], left_out, " (name an --output folder to keep errors.jsonl)")


def _echo_skipped(errors: list[dict[str, Any]], left_out: int, more: str = "") -> None:
    """The first skipped postings (PostingError dicts) with their reasons, then how many more."""
    shown = errors[:ERRORS_SHOWN]
    for e in shown:
        where = f"{e['source']}:{e['line']}: " if e.get("source") and e.get("line") else ""
        click.echo(f"skipped: {where}{e['reason']}", err=True)
    if left_out > len(shown):
        click.echo(f"skipped: ... and {left_out - len(shown)} more{more}", err=True)


def _single_process(engine: CompetencyMap, inputs: tuple[str, ...], columns: Columns, options: DemandOptions,
                    catalog_db: str | None, no_catalog: bool, quiet: bool) -> DemandTable:
    """The whole run in this process: a checking pass over every file (a bad row stops the run here),
    then one streamed pass (a posting that cannot be mapped is skipped and reported)."""
    from competencymap.workflows.demand.corpus.inputs import resolve_inputs

    files = resolve_inputs(list(inputs))
    named: dict[str, Any] = {"text_column": columns.text, "title_column": columns.title, "date_column": columns.date,
             "id_column": columns.id, "group_by": columns.groups}
    total = sum(scan_postings(f.name, check=posting_month if options.by_month else None, **named) for f in files)

    def postings() -> Iterator[dict]:
        for f in files:
            yield from read_postings(f.name, **named)

    skipped: list[PostingError] = []

    def keep(error: PostingError) -> None:
        if not error.counted and len(skipped) < ERRORS_SHOWN:
            skipped.append(error)

    catalog = None if no_catalog else _catalog(engine, catalog_db)
    try:
        table = demand_table(
            engine, postings(), frameworks=options.frameworks, by_month=options.by_month,
            by_occupation=options.by_occupation, catalog=catalog, rollup=options.rollup, progress=not quiet,
            fast=options.fast, total=total, group_by=options.group_by, on_error=keep,
        )
    finally:
        if catalog is not None:
            catalog.close()
    if table.errors:
        click.echo(f"note: {table.errors} posting(s) could not be mapped and are not counted", err=True)
        _echo_skipped([e.to_dict() for e in skipped], table.errors)
    return table


def _catalog(engine: CompetencyMap, url: str | None):
    """The catalog at `url`; by default the settings database, only when it already exists."""
    from competencymap.catalog import Catalog

    named = url is not None
    url = url or engine.settings.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        if named:  # opening it would create an empty catalog: almost surely a wrong path
            raise CompetencyMapError(f"no catalog database at {url}")
        click.echo(f"note: no catalog database at {url}; credential supply left out", err=True)
        return None
    return Catalog(url)


def _say(message: str) -> None:
    """A corpus run's notes, on stderr."""
    click.echo(message, err=True)
