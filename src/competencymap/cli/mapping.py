"""`competencymap map` and `competencymap search`.

`map` reads JSON lines `{"id", "text"[, "title"]}` (or one plain text; a record's title is its
context) and writes one line per input record, in input order: its id and the body `POST /map`
answers (`mapping.serialize.result_dict`: frameworks, statements, profile, dropped, lines). A bad record (not JSON, no `text`, empty, over-long or unmappable text) becomes
`{"id": ..., "line": N, "error": "..."}` in its place, with one `error:` line on stderr naming
it; every other record is still mapped. Exit status: 0 when every record mapped, 3 when some
failed; with `--fail-fast` the run stops at the first bad record (exit 1).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

import click
import orjson
from tqdm import tqdm

from competencymap._common.errors import CompetencyMapError, InputTextError
from competencymap._common.halves import run_in_halves
from competencymap._common.text import check_text
from competencymap.cli.common import echo_json, engine_options
from competencymap.cli.options import framework_names
from competencymap.engine import CompetencyMap
from competencymap.mapping.lines import DROPPED, account
from competencymap.mapping.results import MappingResult, Match
from competencymap.mapping.serialize import match_dict, result_dict

BATCH = 32  # records mapped together (their statements share encoder batches)
PROGRESS_FROM = BATCH  # records; smaller inputs map silently
EXIT_SOME_FAILED = 3


@dataclass(frozen=True)
class Record:
    """One input record: a text to map, or the reason it cannot be mapped."""

    line: int
    id: Any
    text: str | None = None
    error: str | None = None
    context: str | None = None  # the record's "title" (or "context"): its theme supports fitting matches


def read_records(stream: IO[str]) -> Iterator[Record]:
    """JSON lines {"id": ..., "text": ...}, or the whole input as one text when it is not JSON."""
    first = stream.readline()
    if not first.lstrip().startswith("{"):
        text = first + stream.read()
        if not text.strip():
            raise InputTextError("input is empty: give JSON lines {\"id\": ..., \"text\": ...} or plain text", path="stdin")
        yield _checked(1, "stdin", text)
        return
    for number, line in enumerate([first, *stream], start=1):
        if line.strip():
            yield parse_record(number, line)


def parse_record(number: int, line: str) -> Record:
    """A JSON line as a record; a line that is not a mappable record becomes an error record."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return Record(number, None, error=f"not valid JSON ({exc.msg})")
    if not isinstance(value, dict):
        return Record(number, None, error="each line must be a JSON object with \"id\" and \"text\"")
    record_id = value.get("id", str(number))
    if "text" not in value:
        return Record(number, record_id, error="missing \"text\" (a string)")
    field = "title" if "title" in value else "context"
    context = value.get(field)
    if context is not None:
        try:
            context = check_text(context, f"\"{field}\"", limit=1000, empty_ok=True).strip() or None
        except InputTextError as exc:
            return Record(number, record_id, error=exc.message)
    return _checked(number, record_id, value["text"], field="\"text\"", context=context)


def _checked(number: int, record_id: Any, text: object, field: str = "text", context: str | None = None) -> Record:
    try:
        return Record(number, record_id, text=check_text(text, field), context=context)
    except InputTextError as exc:
        return Record(number, record_id, error=exc.message)


@click.command("map")
@click.option("--framework", "-f", "frameworks", multiple=True,
              help="esco, sfs, esco-occupations or a loaded framework's name; repeat for several.")
@click.option("--top-k", default=10, show_default=True, type=click.IntRange(1, 200))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "text"]), default="jsonl", show_default=True)
@click.option("--kind", type=click.Choice(["auto", "outcomes", "posting"]), default="auto", show_default=True,
              help="How to segment the text.")
@click.option("--statements/--no-statements", default=True, show_default=True,
              help="Include statement-level detail under \"statements\" (jsonl).")
@click.option("--fail-fast", is_flag=True, help="Stop at the first bad record (exit 1) instead of reporting it in place.")
@engine_options
def map_command(engine: CompetencyMap, frameworks: tuple[str, ...], top_k: int, fmt: str, kind: str,
                statements: bool, fail_fast: bool) -> None:
    """Map texts from stdin (JSON lines or plain text) onto competencies; results on stdout.

    Exit status 0 when every record mapped, 3 when some were reported as errors."""
    names = framework_names(frameworks)
    for name in names:
        engine.matcher(name)  # fail early on an unknown framework or a missing index
    writer = Writer(engine, names, top_k=top_k, kind=kind, fmt=fmt, statements=statements)
    batch: list[Record] = []
    with Progress() as progress:
        for record in read_records(stdin()):
            if record.error is not None and fail_fast:
                writer.write(batch, progress)
                raise InputTextError(record.error, path="stdin", line=record.line)
            batch.append(record)
            if sum(r.error is None for r in batch) >= BATCH:
                writer.write(batch, progress)
                batch = []
        writer.write(batch, progress)
    if writer.failed:
        sys.exit(EXIT_SOME_FAILED)


def stdin() -> IO[str]:
    """Standard input as UTF-8 text; bytes that are not UTF-8 become lone surrogates, which the
    text check reports for their record (one bad byte never ends the run)."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # already text (a test runner's stream)
        return sys.stdin
    return io.TextIOWrapper(buffer, encoding="utf-8", errors="surrogateescape")


class Progress:
    """A bar on stderr, shown once the input holds more than one batch of records."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None
        self.seen = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def update(self, count: int) -> None:
        self.seen += count
        if self.bar is None and self.seen >= PROGRESS_FROM:
            self.bar = tqdm(desc="mapping", unit=" texts", file=sys.stderr, initial=self.seen - count)
        if self.bar is not None:
            self.bar.update(count)

    def say(self, message: str) -> None:
        """One line on stderr that does not tear the bar."""
        if self.bar is None:
            click.echo(message, err=True)
        else:
            self.bar.write(message, file=sys.stderr)


class Writer:
    """Maps batches of records and writes each result (or error) in input order."""

    def __init__(self, engine: CompetencyMap, names: Sequence[str], *, top_k: int, kind: str, fmt: str,
                 statements: bool) -> None:
        self.engine, self.names = engine, list(names)
        self.top_k, self.kind, self.fmt, self.statements = top_k, kind, fmt, statements
        self.failed = 0

    def write(self, batch: Sequence[Record], progress: Progress) -> None:
        if not batch:
            return
        results = self._map([r for r in batch if r.error is None])
        for record in batch:
            outcome = results.get(record.line, record.error)
            if isinstance(outcome, MappingResult):
                self._emit_result(record, outcome)
            else:
                self._emit_error(record, str(outcome), progress)
        progress.update(len(batch))

    def _map(self, records: Sequence[Record]) -> dict[int, MappingResult | str]:
        """Results by line; a batch that fails is mapped in halves, so one bad record never takes
        the others with it."""
        outcomes = run_in_halves(records, self._map_all, catch=(CompetencyMapError,))
        return {r.line: o.message if isinstance(o, CompetencyMapError) else o  # type: ignore[misc]
                for r, o in zip(records, outcomes)}

    def _map_all(self, records: Sequence[Record]) -> list[MappingResult]:
        texts = [r.text or "" for r in records]
        contexts = [r.context for r in records] if any(r.context for r in records) else None
        return self.engine.map_many(texts, self.names, top_k=self.top_k, kind=self.kind, contexts=contexts)

    def _emit_result(self, record: Record, result: MappingResult) -> None:
        if self.fmt == "text":
            _print_text(str(record.id), result, self.top_k)
            return
        out = {"id": record.id, **result_dict(result, self.names, top_k=self.top_k, statements=self.statements)}
        click.echo(orjson.dumps(out).decode())

    def _emit_error(self, record: Record, message: str, progress: Progress) -> None:
        self.failed += 1
        name = f" (id {record.id})" if record.id is not None else ""
        progress.say(f"error: stdin:{record.line}{name}: {message}")
        if self.fmt == "text":
            click.echo(f"== {record.id if record.id is not None else f'line {record.line}'}: error: {message}\n")
        else:
            click.echo(orjson.dumps({"id": record.id, "line": record.line, "error": message}).decode())


def _print_text(record_id: str, result: MappingResult, top_k: int) -> None:
    dropped = len(result.dropped) - len(result.not_read)
    click.echo(f"== {record_id}: {len(result.statements)} statements"
               + (f", {dropped} boilerplate dropped" if dropped else "")
               + (f"; language: {result.language}" if result.language else ""))
    if result.not_read:
        click.echo(f"  warning: {len(result.not_read)} statements not mapped: {result.not_read[0].reason}")
    for item in result.results:
        click.echo(f"\n  [{item.framework}] {item.statement.text}")
        for match in item.matches[:top_k]:
            click.echo(f"    {_line(match)}")
    _print_lines(result, top_k)
    for framework, profile in result.profiles.items():
        click.echo(f"\n  profile [{framework}]:")
        labels = {m.iri: m.label for m in profile}
        for match in profile[:top_k]:
            if match.grouped_under:  # a near duplicate: at its own rank, indented, naming its group
                home = labels.get(match.grouped_under, match.grouped_under)
                click.echo(f"      {_line(match)}  ≈ grouped with {home}")
            else:
                click.echo(f"    {_line(match)}")
    click.echo("")


def _print_lines(result: MappingResult, top_k: int) -> None:
    """Every line, its role and what became of it: a dropped line's reason, a mapped line's
    confident matches, or the best candidates of a line with no confident match."""
    reports = account(result)
    if not reports:
        return
    click.echo("\n  lines:")
    for report in reports:
        click.echo(f"    [{report.line.role}] {report.line.text}")
        if report.outcome == DROPPED:
            click.echo(f"      dropped: {report.reason}")
        elif report.matches:
            click.echo(f"      {report.outcome}: " + "; ".join(m.label for m in report.matches[:top_k]))
        else:
            click.echo(f"      {report.outcome}, no confident match; best: " + "; ".join(m.label for m in report.candidates))


def _line(match: Match) -> str:
    why = "; ".join(f"{e.method}: {e.text[:60]!r}" for e in match.evidence[:2])
    mark = "*" if match.confident else " "
    return f"{match.score:.3f}{mark} {match.label}  <{match.iri}>  ({why})"


@click.command("search")
@click.argument("query")
@click.option("--framework", "-f", "framework", default="esco", show_default=True)
@click.option("--top-k", default=10, show_default=True, type=click.IntRange(1, 200))
@click.option("--json", "as_json", is_flag=True)
@engine_options
def search_command(engine: CompetencyMap, query: str, framework: str, top_k: int, as_json: bool) -> None:
    """Rank a framework's competencies for a query typed at the terminal."""
    check_text(query, "query")
    matches = engine.search(query, framework, top_k=top_k)
    if as_json:
        echo_json([match_dict(m, evidence=True) for m in matches])
        return
    for rank, match in enumerate(matches, start=1):
        click.echo(f"{rank:>3}. {_line(match)}")
