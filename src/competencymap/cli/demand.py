"""`competencymap demand`: competency demand from a file of job postings."""

from __future__ import annotations

from pathlib import Path

import click

from competencymap.analytics import demand as demand_table
from competencymap.analytics import posting_month
from competencymap.cli.common import app_options, framework_names
from competencymap.core import CompetencyMap
from competencymap.errors import CompetencyMapError
from competencymap.postings_io import OUTPUT_FORMATS, output_format, read_postings, scan_postings, write_table


@click.command("demand")
@click.argument("postings", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--framework", "-f", "frameworks", multiple=True,
              help="Framework(s) to map postings onto (default esco); repeat or comma-separate.")
@click.option("--by-month", is_flag=True, help="One block per month of the posting date (posted_on/date column).")
@click.option("--by-occupation", is_flag=True,
              help="One block per posting's ESCO occupation: the best match of its title (of its text when "
                   "it has none) on esco-occupations, whose index must be built.")
@click.option("--catalog-db", metavar="URL",
              help="Catalog database for credential supply (default: the settings database, if it exists).")
@click.option("--no-catalog", is_flag=True, help="Leave out credential supply.")
@click.option("--no-rollup", is_flag=True, help="Competencies only: no skill-group or Skills for Success roll-up.")
@click.option("--fast", is_flag=True, help="Cheaper pipeline for large corpora: statements only, no phrases (about twice as fast; "
                   "needs differ somewhat, see benchmarks/results/demand.json).")
@click.option("--format", "fmt", type=click.Choice(OUTPUT_FORMATS), help="Output format (default: from --output, else csv).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Output file (default stdout; parquet needs a file).")
@click.option("--top", type=click.IntRange(1), help="Keep the top N rows of each month/occupation/framework/level block.")
@click.option("--text-column", help="Column holding the posting text (default: text, description, ...).")
@click.option("--title-column", help="Column holding the job title (default: title, job_title).")
@click.option("--date-column", help="Column holding the posting date (default: posted_on, date, ...).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@app_options
def demand(
    app: CompetencyMap,
    postings: Path,
    frameworks: tuple[str, ...],
    by_month: bool,
    by_occupation: bool,
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
    quiet: bool,
) -> None:
    """Count the competencies POSTINGS (.csv, .jsonl or .parquet) ask for, with supply from the catalog.

    The file is read twice: a quick pass checks every row (a bad row fails at once, naming its
    line) and counts the postings for the progress bar; the second pass maps them in chunks.
    """
    fmt = output_format(output, fmt)
    if fmt == "parquet" and output is None:
        raise CompetencyMapError("Parquet output needs an output file (--output PATH)")
    columns = {"text_column": text_column, "title_column": title_column, "date_column": date_column}
    total = scan_postings(postings, check=posting_month if by_month else None, **columns)
    catalog = None if no_catalog else _catalog(app, catalog_db)
    try:
        table = demand_table(
            app, read_postings(postings, **columns), frameworks=framework_names(frameworks), by_month=by_month,
            by_occupation=by_occupation, catalog=catalog, rollup=not no_rollup, progress=not quiet, fast=fast,
            total=total,
        )
    finally:
        if catalog is not None:
            catalog.close()
    if top is not None:
        table = table.top(top)
    write_table(table.records(), table.columns(), fmt, output, meta=table.meta())
    for note in table.notes:
        click.echo(f"note: {note}", err=True)
    if output is not None and not quiet:
        click.echo(f"{len(table.rows)} rows from {table.postings} postings written to {output}", err=True)


def _catalog(app: CompetencyMap, url: str | None):  # noqa: ANN202 - a Catalog or None
    """The catalog at `url`; by default the settings database, only when it already exists."""
    from competencymap.catalog import Catalog

    named = url is not None
    url = url or app.settings.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        if named:  # opening it would create an empty catalog: almost surely a wrong path
            raise CompetencyMapError(f"no catalog database at {url}")
        click.echo(f"note: no catalog database at {url}; credential supply left out", err=True)
        return None
    return Catalog(url)
