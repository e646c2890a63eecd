"""Stream job postings from CSV, JSON Lines or Parquet files; write tables as CSV, Parquet or JSON.

Readers yield one plain dict per posting and never hold the file in memory:

    {"text": str, "title": str, "posted_on": str | None, "id": str, "source": path, "line": int,
     "groups": {column: value}}  # "groups" only when group-by columns are named

``line`` is the file line where the posting starts (CSV, JSONL) or its 1-based row (Parquet).
Columns are found by name, case-insensitively: the text in ``text`` / ``description`` /
``job_description`` / ``body``, the title in ``title`` / ``job_title``, the date in
``posted_on`` / ``date`` / ``date_posted`` / ``posted``, the id in ``id`` / ``posting_id``; any of
them can be named explicitly (:class:`Columns`), as can columns to group by. ``.gz`` CSV and
JSONL files are read through gzip.

Two kinds of problem: a file that is not CSV/JSONL/Parquet, a header without the text column or
a named column, a broken gzip stream or CSV quoting are *file* errors and always raise
:class:`CompetencyMapError`. A row without text, with the wrong number of fields, not valid JSON
or not UTF-8 is a *row* error: :func:`read_postings` raises it (naming file and line), while
:func:`read_items` yields it as a :class:`RowError` and goes on, so a corpus run can record it
and keep the good rows. :func:`read_items` can also start at a :class:`Position` (a byte offset
in an uncompressed file, a line to skip to in a gzip stream, a Parquet row) and stop after a
number of items: that is how a corpus is read in partitions.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from competencymap._common.csv_safe import csv_writer
from competencymap._common.errors import CompetencyMapError
from competencymap._common.text import MAX_TEXT_CHARS

FORMATS = ("csv", "jsonl", "parquet")
OUTPUT_FORMATS = ("csv", "parquet", "json")
TEXT_COLUMNS = ("text", "description", "job_description", "body", "posting_text")
TITLE_COLUMNS = ("title", "job_title")
DATE_COLUMNS = ("posted_on", "date", "date_posted", "posted")
ID_COLUMNS = ("id", "posting_id")
_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


def postings_format(path: str | Path) -> str:
    """'csv', 'jsonl' or 'parquet' from the file name; anything else is an error."""
    path = Path(path)
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    fmt = _SUFFIXES.get(suffixes[-1]) if suffixes else None
    if fmt is None or (fmt == "parquet" and path.suffix.lower() == ".gz"):
        raise CompetencyMapError(
            "not a postings file: expected a .csv, .jsonl (.ndjson) or .parquet file (CSV and JSONL may be .gz)",
            path=str(path),
        )
    return fmt


@dataclass(frozen=True)
class Columns:
    """Which columns hold what; None: found by the usual names (see module docs)."""

    text: str | None = None
    title: str | None = None
    date: str | None = None
    id: str | None = None
    groups: tuple[str, ...] = ()  # columns to carry along (and group the demand table by)


@dataclass(frozen=True)
class Position:
    """Where an item starts: its file line (CSV, JSONL) or 1-based row (Parquet), and for an
    uncompressed text file the byte offset of that line."""

    line: int
    offset: int | None = None


@dataclass(frozen=True)
class RowError:
    """A row that is not a usable posting: where it is and what is wrong with it."""

    path: str
    line: int | None
    message: str
    row: int | None = None  # Parquet: the 1-based row (line is None)

    def error(self) -> CompetencyMapError:
        return CompetencyMapError(self.message, path=self.path, line=self.line)


Item = dict[str, Any] | RowError


class TooManyRows(CompetencyMapError):
    """More rows than a limit allows (the read stopped at the first row past it)."""

    def __init__(self, limit: int, *, path: str | None = None) -> None:
        super().__init__(f"more than {limit:,} rows; the limit is {limit:,}", path=path)
        self.limit = limit


def read_postings(
    path: str | Path,
    *,
    text_column: str | None = None,
    title_column: str | None = None,
    date_column: str | None = None,
    id_column: str | None = None,
    group_by: Sequence[str] = (),
    batch_size: int = 1024,
) -> Iterator[dict[str, Any]]:
    """Postings from a CSV, JSONL or Parquet file, one dict at a time; the first bad row raises."""
    columns = Columns(text_column, title_column, date_column, id_column, tuple(group_by))
    items = read_items(path, columns, batch_size=batch_size)
    return _raise_row_errors(items)


def _raise_row_errors(items: Iterator[Item]) -> Iterator[dict[str, Any]]:
    for item in items:
        if isinstance(item, RowError):
            raise item.error()
        yield item


def read_items(
    path: str | Path,
    columns: Columns = Columns(),
    *,
    start: Position | None = None,
    limit: int | None = None,
    batch_size: int = 1024,
) -> Iterator[Item]:
    """Postings and :class:`RowError`s of a file, in file order, from `start` (default: the first
    row), at most `limit` of them. File errors raise at once (the header is read before the
    first item is asked for)."""
    return (item for _, item in read_positioned(path, columns, start=start, limit=limit, batch_size=batch_size))


def read_positioned(
    path: str | Path,
    columns: Columns = Columns(),
    *,
    start: Position | None = None,
    limit: int | None = None,
    batch_size: int = 1024,
) -> Iterator[tuple[Position, Item]]:
    """Like :func:`read_items`, each item with the :class:`Position` it starts at."""
    path = Path(path)
    fmt = postings_format(path)
    if not path.is_file():
        raise CompetencyMapError("file not found", path=str(path))
    if fmt == "csv":
        items = _read_csv(path, columns, start)
    elif fmt == "jsonl":
        items = _read_jsonl(path, columns, start)
    else:
        items = _read_parquet(path, columns, start, batch_size=batch_size)
    first = next(items, None)  # opens the file and reads the header: file errors raise here
    return _limited(first, items, limit)


def _limited(first: tuple[Position, Item] | None, rest: Iterator[tuple[Position, Item]], limit: int | None) -> Iterator[tuple[Position, Item]]:
    if first is None or limit == 0:
        return
    yield first
    count = 1
    for item in rest:
        if limit is not None and count >= limit:
            return
        yield item
        count += 1


def scan_postings(
    path: str | Path,
    *,
    check: Callable[[dict[str, Any], int], object] | None = None,
    limit: int | None = None,
    **columns: Any,
) -> int:
    """Read every posting once without keeping it: the number of postings, or the first error.

    A run over a large file calls this first, so a bad row fails in seconds rather than after
    an hour of mapping. `check(posting, number)` may raise for postings the reader accepts
    (e.g. a date that is not ISO, when counting by month). An empty file is an error, and so
    (:class:`TooManyRows`, the read stopping there) is a posting past `limit`.
    """
    count = 0
    for count, posting in enumerate(read_postings(path, **columns), 1):
        if limit is not None and count > limit:
            raise TooManyRows(limit, path=str(path))
        if check is not None:
            check(posting, count)
    if count == 0:
        raise CompetencyMapError("no postings in the file", path=str(path))
    return count


# -- readers ----------------------------------------------------------------------------------------


def _open_binary(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if is_gzip(path) else path.open("rb")  # type: ignore[return-value]


def is_gzip(path: str | Path) -> bool:
    return Path(path).suffix.lower() == ".gz"


class _Lines:
    """A binary file's lines with their number and byte offset; lines that are not UTF-8 are
    decoded with replacement characters and remembered (line -> reason)."""

    def __init__(self, handle: IO[bytes], path: Path) -> None:
        self.handle = handle
        self.path = path
        self.line = 0  # lines consumed
        self.offset = 0  # bytes consumed (of the uncompressed stream)
        self.bad: dict[int, str] = {}

    def raw(self) -> bytes:
        try:
            raw = next(self.handle)
        except (OSError, EOFError) as exc:
            raise CompetencyMapError(f"cannot read the file: {exc}", path=str(self.path)) from None
        self.line += 1
        self.offset += len(raw)
        return raw[3:] if self.line == 1 and raw.startswith(codecs.BOM_UTF8) else raw

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        raw = self.raw()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.bad[self.line] = exc.reason
            return raw.decode("utf-8", errors="replace")

    def move_to(self, start: Position) -> None:
        """Continue at `start`: a seek when its byte offset is known and the file is not gzip,
        else lines skipped up to it."""
        if start.line <= self.line + 1:
            return
        if start.offset is not None and not is_gzip(self.path):
            self.handle.seek(start.offset)
            self.line, self.offset = start.line - 1, start.offset
            return
        try:
            while self.line < start.line - 1:
                self.raw()
        except StopIteration:
            return


def _pick(available: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str, path: Path,
          line: int | None = 1) -> str | None:
    """The column to use: the named one (must exist) or the first known candidate."""
    lower = {name.lower().strip(): name for name in available}
    if wanted is not None:
        if wanted.lower().strip() not in lower:
            raise CompetencyMapError(
                f"no {what} column {wanted!r}; columns are: {', '.join(available) or '(none)'}", path=str(path), line=line
            )
        return lower[wanted.lower().strip()]
    return next((lower[c] for c in candidates if c in lower), None)


def _no_text_column(available: Sequence[str], path: Path, line: int | None) -> CompetencyMapError:
    return CompetencyMapError(
        f"no text column: expected one of {', '.join(TEXT_COLUMNS)} (or name one); columns are: {', '.join(available)}",
        path=str(path), line=line,
    )


def _header_columns(available: Sequence[str], columns: Columns, path: Path, line: int | None) -> dict[str, Any]:
    """Column names for text, title, posted_on, id and each group-by column (None: absent)."""
    text = _pick(available, columns.text, TEXT_COLUMNS, "text", path, line)
    if text is None:
        raise _no_text_column(available, path, line)
    return {
        "text": text,
        "title": _pick(available, columns.title, TITLE_COLUMNS, "title", path, line),
        "posted_on": _pick(available, columns.date, DATE_COLUMNS, "date", path, line),
        "id": _pick(available, columns.id, ID_COLUMNS, "id", path, line),
        "groups": {name: _pick(available, name, (), "group-by", path, line) for name in columns.groups},
    }


def _read_csv(path: Path, columns: Columns, start: Position | None) -> Iterator[tuple[Position, Item]]:
    csv.field_size_limit(max(csv.field_size_limit(), 4 * MAX_TEXT_CHARS))
    with _open_binary(path) as handle:
        lines = _Lines(handle, path)
        try:
            header = next(csv.reader(lines), None)
        except csv.Error as exc:
            raise CompetencyMapError(f"not a readable CSV file: {exc}", path=str(path), line=1) from None
        if lines.bad:
            line, reason = next(iter(lines.bad.items()))
            raise CompetencyMapError(f"not UTF-8 text ({reason})", path=str(path), line=line)
        if not header:
            raise CompetencyMapError("empty CSV file: expected a header row with a text column", path=str(path), line=1)
        names = _header_columns(header, columns, path, 1)
        index = {key: (header.index(col) if col is not None else None) for key, col in names.items() if key != "groups"}
        groups = {name: (header.index(col) if col is not None else None) for name, col in names["groups"].items()}
        if start is not None:
            lines.move_to(start)
        reader = csv.reader(lines)
        while True:
            where = Position(lines.line + 1, lines.offset)
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise CompetencyMapError(f"cannot read CSV row: {exc}", path=str(path), line=where.line) from None
            if not any(cell.strip() for cell in row):
                continue
            bad = [n for n in range(where.line, lines.line + 1) if n in lines.bad]
            if bad:
                yield where, RowError(str(path), bad[0], f"not UTF-8 text ({lines.bad[bad[0]]})")
            elif len(row) != len(header):
                yield where, RowError(str(path), where.line, f"row has {len(row)} fields, the header has {len(header)}")
            else:
                values: dict[str, Any] = {key: (row[i] if i is not None else None) for key, i in index.items()}
                values["groups"] = {name: (row[i] if i is not None else None) for name, i in groups.items()}
                yield where, _posting(values, path, where.line)


def _read_jsonl(path: Path, columns: Columns, start: Position | None) -> Iterator[tuple[Position, Item]]:
    with _open_binary(path) as handle:
        lines = _Lines(handle, path)
        if start is not None:
            lines.move_to(start)
        while True:
            where = Position(lines.line + 1, lines.offset)
            try:
                raw = lines.raw()
            except StopIteration:
                return
            if raw.strip():
                yield where, _jsonl_item(raw, columns, path, where.line)


def _jsonl_item(raw: bytes, columns: Columns, path: Path, number: int) -> Item:
    try:
        record = orjson.loads(raw)  # orjson checks the UTF-8 too
    except orjson.JSONDecodeError as exc:
        return RowError(str(path), number, f"not valid JSON ({exc.msg})")
    if not isinstance(record, dict):
        return RowError(str(path), number, "each line must be a JSON object")
    text_key = _key(record, columns.text, TEXT_COLUMNS)
    if text_key is None:
        wanted = repr(columns.text) if columns.text else f"(one of {', '.join(TEXT_COLUMNS)})"
        return RowError(str(path), number,
                        f"no text field {wanted}; the fields are: {', '.join(map(str, record)) or '(none)'}")
    values = {
        "text": record[text_key],
        "title": _get(record, columns.title, TITLE_COLUMNS),
        "posted_on": _get(record, columns.date, DATE_COLUMNS),
        "id": _get(record, columns.id, ID_COLUMNS),
        "groups": {name: _get(record, name, ()) for name in columns.groups},
    }
    return _posting(values, path, number)


def _key(record: dict[str, Any], wanted: str | None, candidates: Sequence[str]) -> str | None:
    """The record's field for `wanted` (case-insensitive) or for the first known candidate."""
    lower = {str(k).lower(): k for k in record}
    if wanted is not None:
        return lower.get(wanted.lower())
    return next((lower[c] for c in candidates if c in lower), None)


def _get(record: dict[str, Any], wanted: str | None, candidates: Sequence[str]) -> Any:
    key = _key(record, wanted, candidates)
    return record.get(key) if key is not None else None


def parquet_row_groups(path: str | Path) -> list[tuple[int, int]]:
    """(first row, rows) of each row group of a Parquet file (rows counted from 0)."""
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    out, first = [], 0
    for i in range(meta.num_row_groups):
        rows = meta.row_group(i).num_rows
        out.append((first, rows))
        first += rows
    return out


def _read_parquet(path: Path, columns: Columns, start: Position | None, *, batch_size: int) -> Iterator[tuple[Position, Item]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise CompetencyMapError(f"not a readable Parquet file: {exc}", path=str(path)) from None
    names = _header_columns(parquet.schema_arrow.names, columns, path, None)
    groups = names.pop("groups")
    wanted = list(dict.fromkeys(c for c in [*names.values(), *groups.values()] if c is not None))
    skip = (start.line - 1) if start is not None else 0
    row_groups: list[int]
    row_groups, row, first = [], 0, 0
    for i in range(parquet.metadata.num_row_groups):
        rows = parquet.metadata.row_group(i).num_rows
        if first + rows > skip:
            row = first if not row_groups else row
            row_groups.append(i)
        first += rows
    if not row_groups:
        return
    try:
        for batch in parquet.iter_batches(batch_size=batch_size, columns=wanted, row_groups=row_groups):
            data = batch.to_pydict()
            for i in range(batch.num_rows):
                row += 1
                if row <= skip:
                    continue
                values: dict[str, Any] = {key: (data[col][i] if col is not None else None) for key, col in names.items()}
                values["groups"] = {name: (data[col][i] if col is not None else None) for name, col in groups.items()}
                yield Position(row), _posting(values, path, row, row_word=True)
    except pa.ArrowException as exc:
        raise CompetencyMapError(f"cannot read Parquet data after row {row}: {exc}", path=str(path)) from None


def _posting(values: dict[str, Any], path: Path, line: int, *, row_word: bool = False) -> Item:
    """A posting dict, or a RowError for a missing, empty, non-string or too long text."""
    text = values.get("text")
    where: dict[str, Any] = {"path": str(path), "line": None if row_word else line, "row": line if row_word else None}
    prefix = f"row {line}: " if row_word else ""
    if text is not None and not isinstance(text, str):
        return RowError(message=f"{prefix}posting text is a {type(text).__name__}, not a string", **where)
    if not isinstance(text, str) or not text.strip():
        return RowError(message=f"{prefix}posting has no text", **where)
    if len(text) > MAX_TEXT_CHARS:
        return RowError(message=f"{prefix}posting text is {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}", **where)
    title = values.get("title")
    posting: dict[str, Any] = {
        "text": text,
        "title": title.strip() if isinstance(title, str) else "",
        "posted_on": _date_text(values.get("posted_on")),
        "id": "" if values.get("id") is None else str(values["id"]),
        "source": str(path),
        "line": line,
    }
    if values.get("groups"):
        posting["groups"] = {name: _group_value(value) for name, value in values["groups"].items()}
    return posting


def _group_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _date_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text = str(value).strip()
    return text or None

# -- writers ------------------------------------------------------------------------------------------


def output_format(path: str | Path | None, fmt: str | None) -> str:
    """The output format: given, or from the output file's suffix, or CSV."""
    if fmt:
        if fmt not in OUTPUT_FORMATS:
            raise CompetencyMapError(f"unknown output format {fmt!r}; use one of {', '.join(OUTPUT_FORMATS)}")
        return fmt
    if path is not None:
        suffix = Path(path).suffix.lower().lstrip(".")
        if suffix in OUTPUT_FORMATS:
            return suffix
        if suffix == "pq":
            return "parquet"
    return "csv"


def write_csv(records: Iterable[dict[str, Any]], columns: Sequence[str], stream: IO[str]) -> None:
    """The table as CSV (formula cells escaped: :mod:`competencymap._common.csv_safe`)."""
    writer = csv_writer(stream)
    writer.writerow(columns)
    for record in records:
        writer.writerow(["" if record.get(c) is None else record.get(c) for c in columns])


def write_json(records: Iterable[dict[str, Any]], columns: Sequence[str], stream: IO[str], meta: dict[str, Any] | None = None) -> None:
    body = {"meta": meta or {}, "columns": list(columns), "rows": [{c: r.get(c) for c in columns} for r in records]}
    stream.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())
    stream.write("\n")


_ARROW_TYPES = {"postings": "int64", "credentials_supply": "int64", "share": "float64"}


def write_parquet(records: Sequence[dict[str, Any]], columns: Sequence[str], path: str | Path, meta: dict[str, Any] | None = None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    fields = [pa.field(c, getattr(pa, _ARROW_TYPES.get(c, "string"))()) for c in columns]
    schema = pa.schema(fields, metadata={b"competencymap": orjson.dumps(meta or {})})
    table = pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in records], schema=schema)
    try:
        pq.write_table(table, str(path))
    except OSError as exc:
        raise CompetencyMapError(f"cannot write Parquet file: {exc}", path=str(path)) from None


def write_table(
    records: Sequence[dict[str, Any]],
    columns: Sequence[str],
    fmt: str,
    path: str | Path | None = None,
    *,
    meta: dict[str, Any] | None = None,
    stream: IO[str] | None = None,
) -> None:
    """Write rows as CSV, JSON (to `path` or `stream`, default stdout) or Parquet (to `path`)."""
    fmt = output_format(path, fmt)
    if fmt == "parquet":
        if path is None:
            raise CompetencyMapError("Parquet output needs an output file (--output PATH)")
        write_parquet(records, columns, path, meta)
        return
    if path is None:
        target = stream or sys.stdout
        _write_text(records, columns, fmt, target, meta)
        return
    try:
        with Path(path).open("w", encoding="utf-8", newline="") as handle:
            _write_text(records, columns, fmt, handle, meta)
    except OSError as exc:
        raise CompetencyMapError(f"cannot write file: {exc.strerror or exc}", path=str(path)) from None


def _write_text(records: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str, stream: IO[str], meta: dict[str, Any] | None) -> None:
    if fmt == "csv":
        write_csv(records, columns, stream)
    else:
        write_json(records, columns, stream, meta)
