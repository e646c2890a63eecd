"""`competencymap serve`: run the HTTP service (FastAPI on uvicorn)."""

from __future__ import annotations

import click

from competencymap._common.errors import CompetencyMapError
from competencymap._common.options import split_list
from competencymap.cli.common import engine_options
from competencymap.engine import CompetencyMap

# Bounds on what a busy or abusive client can make the server hold: connections beyond
# LIMIT_CONCURRENCY answer 503 at once instead of queueing threads and buffers.
LIMIT_CONCURRENCY = 64
BACKLOG = 128
KEEP_ALIVE_SECONDS = 5


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--framework", "-f", "frameworks", multiple=True,
              help="Framework(s) to serve (repeat or comma-separate); default COMPETENCYMAP_FRAMEWORKS or esco,sfs.")
@click.option("--build-index/--no-build-index", default=True, show_default=True,
              help="Build a served framework's missing index at start-up (progress on stderr).")
@click.option("--seed/--no-seed", default=True, show_default=True,
              help="Load the sample credentials into a catalog database created by this start (never into existing data).")
@click.option("--allow-open-writes", is_flag=True,
              help="Listen on a non-loopback address without an API key (COMPETENCYMAP_API_KEY).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]), help="uvicorn log level.")
@engine_options
def serve(
    engine: CompetencyMap,
    host: str,
    port: int,
    frameworks: tuple[str, ...],
    build_index: bool,
    seed: bool,
    allow_open_writes: bool,
    log_level: str,
) -> None:
    """Serve the API: frameworks, mapping, the catalog, matching and analytics.

    Frameworks and their indexes are loaded before the server listens; /health answers
    once they are ready.
    """
    import uvicorn

    from competencymap.service.app import ServiceOptions, create_app, prepare_engine
    from competencymap.service.security import is_loopback

    options = ServiceOptions.from_env(
        frameworks=tuple(split_list(frameworks)) or None, build_index=build_index, seed_catalog=seed, bind_host=host
    )
    if not is_loopback(host) and not options.api_key and not allow_open_writes:
        raise CompetencyMapError(
            f"refusing to listen on {host} without an API key: set COMPETENCYMAP_API_KEY "
            "(or pass --allow-open-writes)"
        )
    prepare_engine(engine, options, say=lambda message: click.echo(message, err=True))
    click.echo(f"serving {', '.join(options.frameworks) or 'no framework'} on http://{host}:{port}", err=True)
    uvicorn.run(create_app(engine.settings, engine=engine, options=options), host=host, port=port, log_level=log_level,
                server_header=False, limit_concurrency=LIMIT_CONCURRENCY, backlog=BACKLOG,
                timeout_keep_alive=KEEP_ALIVE_SECONDS)

