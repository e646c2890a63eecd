"""`competencymap map` and `competencymap search`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import IO, Any

import click
import orjson
from tqdm import tqdm

from competencymap.cli.common import app_options, echo_json, framework_names
from competencymap.core import CompetencyMap
from competencymap.errors import InputTextError
from competencymap.mapping import MAX_TEXT_CHARS, Match, MappingResult
from competencymap.serialize import match_dict, result_dict

BATCH = 32
PROGRESS_FROM = 50  # records; smaller inputs map silently


def read_records(stream: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """JSON lines {"id": ..., "text": ...}, or the whole input as one text when it is not JSON."""
    first = stream.readline()
    if not first.lstrip().startswith("{"):
        text = first + stream.read()
        if not text.strip():
            raise InputTextError("input is empty: give JSON lines {\"id\": ..., \"text\": ...} or plain text", path="stdin")
        yield 1, {"id": "stdin", "text": text}
        return
    for number, line in enumerate([first, *stream], start=1):
        if line.strip():
            yield number, _record(number, line)


def _record(number: int, line: str) -> dict[str, Any]:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InputTextError(f"not valid JSON ({exc.msg})", path="stdin", line=number) from None
    if not isinstance(record, dict):
        raise InputTextError("each line must be a JSON object with \"id\" and \"text\"", path="stdin", line=number)
    text = record.get("text")
    if not isinstance(text, str):
        raise InputTextError("missing \"text\" (a string)", path="stdin", line=number)
    if not text.strip():
        raise InputTextError("\"text\" is empty", path="stdin", line=number)
    if len(text) > MAX_TEXT_CHARS:
        raise InputTextError(f"\"text\" is {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}", path="stdin", line=number)
    record.setdefault("id", str(number))
    return record


@click.command("map")
@click.option("--framework", "-f", "frameworks", multiple=True,
              help="esco, sfs, esco-occupations or a loaded framework's name; repeat for several.")
@click.option("--top-k", default=10, show_default=True, type=click.IntRange(1, 200))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "text"]), default="jsonl", show_default=True)
@click.option("--kind", type=click.Choice(["auto", "outcomes", "posting"]), default="auto", show_default=True,
              help="How to segment the text.")
@click.option("--statements/--no-statements", default=True, show_default=True,
              help="Include statement-level detail under \"statements\" (jsonl).")
@app_options
def map_command(app: CompetencyMap, frameworks: tuple[str, ...], top_k: int, fmt: str, kind: str, statements: bool) -> None:
    """Map texts from stdin (JSON lines or plain text) onto competencies; results on stdout."""
    names = framework_names(frameworks)
    for name in names:
        app.matcher(name)  # fail early on an unknown framework or a missing index
    records = read_records(click.get_text_stream("stdin"))
    bar = None
    batch: list[tuple[int, dict[str, Any]]] = []
    for number, record in records:
        batch.append((number, record))
        if len(batch) >= BATCH:
            bar = bar or _bar(number)
            _flush(app, batch, names, top_k, kind, fmt, statements, bar)
            batch = []
    _flush(app, batch, names, top_k, kind, fmt, statements, bar)
    if bar is not None:
        bar.close()


def _bar(seen: int) -> tqdm | None:
    return tqdm(desc="mapping", unit=" texts", file=sys.stderr) if seen >= BATCH else None


def _flush(app, batch, names, top_k, kind, fmt, statements, bar) -> None:
    if not batch:
        return
    results = app.map_many([record["text"] for _, record in batch], names, top_k=top_k, kind=kind)
    for (_, record), result in zip(batch, results):
        if fmt == "text":
            _print_text(record["id"], result, top_k)
        else:
            out = {"id": record["id"], **result_dict(result, top_k=top_k, statements=statements)}
            click.echo(orjson.dumps(out).decode())
    if bar is not None:
        bar.update(len(batch))


def _print_text(record_id: str, result: MappingResult, top_k: int) -> None:
    click.echo(f"== {record_id}: {len(result.statements)} statements"
               + (f", {len(result.dropped)} boilerplate dropped" if result.dropped else ""))
    for item in result.results:
        click.echo(f"\n  [{item.framework}] {item.statement.text}")
        for match in item.matches[:top_k]:
            click.echo(f"    {_line(match)}")
    click.echo("\n  profile:")
    for match in result.profile[:top_k]:
        click.echo(f"    {_line(match)}")
    click.echo("")


def _line(match: Match) -> str:
    why = "; ".join(f"{e.method}: {e.text[:60]!r}" for e in match.evidence[:2])
    mark = "*" if match.confident else " "
    return f"{match.score:.3f}{mark} {match.label}  <{match.iri}>  ({why})"


@click.command("search")
@click.argument("query")
@click.option("--framework", "-f", "framework", default="esco", show_default=True)
@click.option("--top-k", default=10, show_default=True, type=click.IntRange(1, 200))
@click.option("--json", "as_json", is_flag=True)
@app_options
def search_command(app: CompetencyMap, query: str, framework: str, top_k: int, as_json: bool) -> None:
    """Rank a framework's competencies for a query typed at the terminal."""
    if not query.strip():
        raise InputTextError("query is empty")
    matches = app.search(query, framework, top_k=top_k)
    if as_json:
        echo_json([match_dict(m, evidence=True) for m in matches])
        return
    for rank, match in enumerate(matches, start=1):
        click.echo(f"{rank:>3}. {_line(match)}")
