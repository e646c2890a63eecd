"""Stream job postings from CSV, JSON Lines or Parquet files; write tables as CSV, Parquet or JSON.

Readers yield one plain dict per posting and never hold the file in memory:

    {"text": str, "title": str, "posted_on": str | None, "id": str, "source": path, "line": int}

``line`` is the file line where the posting starts (CSV, JSONL) or its 1-based row (Parquet).
Columns are found by name, case-insensitively: the text in ``text`` / ``description`` /
``job_description`` / ``body``, the title in ``title`` / ``job_title``, the date in
``posted_on`` / ``date`` / ``date_posted`` / ``posted``; any of them can be named explicitly.
A posting without text, a file that is not CSV/JSONL/Parquet or a CSV without a text column
raises :class:`CompetencyMapError` naming the file and line. ``.gz`` CSV and JSONL files are
read through gzip.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from competencymap.errors import CompetencyMapError
from competencymap.mapping import MAX_TEXT_CHARS

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


def read_postings(
    path: str | Path,
    *,
    text_column: str | None = None,
    title_column: str | None = None,
    date_column: str | None = None,
    batch_size: int = 1024,
) -> Iterator[dict[str, Any]]:
    """Postings from a CSV, JSONL or Parquet file, one dict at a time (see module docs)."""
    path = Path(path)
    fmt = postings_format(path)
    if not path.is_file():
        raise CompetencyMapError("file not found", path=str(path))
    columns = (text_column, title_column, date_column)
    if fmt == "csv":
        return _read_csv(path, *columns)
    if fmt == "jsonl":
        return _read_jsonl(path, *columns)
    return _read_parquet(path, *columns, batch_size=batch_size)


def scan_postings(
    path: str | Path,
    *,
    check: Callable[[dict[str, Any], int], object] | None = None,
    **columns: str | None,
) -> int:
    """Read every posting once without keeping it: the number of postings, or the first error.

    A run over a large file calls this first, so a bad row fails in seconds rather than after
    an hour of mapping. `check(posting, number)` may raise for postings the reader accepts
    (e.g. a date that is not ISO, when counting by month). An empty file is an error.
    """
    count = 0
    for count, posting in enumerate(read_postings(path, **columns), 1):  # type: ignore[arg-type]
        if check is not None:
            check(posting, count)
    if count == 0:
        raise CompetencyMapError("no postings in the file", path=str(path))
    return count


# -- readers ----------------------------------------------------------------------------------------


def _open_binary(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.suffix.lower() == ".gz" else path.open("rb")  # type: ignore[return-value]


def _lines(handle: IO[bytes], path: Path) -> Iterator[bytes]:
    """The file's lines as bytes (a UTF-8 byte order mark dropped); a broken gzip stream is an error."""
    try:
        for number, raw in enumerate(handle, 1):
            yield raw[3:] if number == 1 and raw.startswith(codecs.BOM_UTF8) else raw
    except (OSError, EOFError) as exc:
        raise CompetencyMapError(f"cannot read the file: {exc}", path=str(path)) from None


def _decoded(lines: Iterator[bytes], path: Path) -> Iterator[str]:
    """Lines decoded one by one, so a byte that is not UTF-8 is reported at its own line."""
    for number, raw in enumerate(lines, 1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CompetencyMapError(f"not UTF-8 text ({exc.reason})", path=str(path), line=number) from None


def _pick(available: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str, path: Path) -> str | None:
    """The column to use: the named one (must exist) or the first known candidate."""
    lower = {name.lower().strip(): name for name in available}
    if wanted is not None:
        if wanted.lower() not in lower:
            raise CompetencyMapError(
                f"no {what} column {wanted!r}; columns are: {', '.join(available) or '(none)'}", path=str(path), line=1
            )
        return lower[wanted.lower()]
    return next((lower[c] for c in candidates if c in lower), None)


def _read_csv(path: Path, text_col: str | None, title_col: str | None, date_col: str | None) -> Iterator[dict[str, Any]]:
    csv.field_size_limit(max(csv.field_size_limit(), 4 * MAX_TEXT_CHARS))
    with _open_binary(path) as handle:
        reader = csv.reader(_decoded(_lines(handle, path), path))
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise CompetencyMapError(f"not a readable CSV file: {exc}", path=str(path), line=1) from None
        if not header:
            raise CompetencyMapError("empty CSV file: expected a header row with a text column", path=str(path), line=1)
        text = _pick(header, text_col, TEXT_COLUMNS, "text", path)
        if text is None:
            raise CompetencyMapError(
                f"no text column: expected one of {', '.join(TEXT_COLUMNS)} (or name one); "
                f"columns are: {', '.join(header)}",
                path=str(path),
                line=1,
            )
        names = {
            "text": header.index(text),
            "title": _index(header, _pick(header, title_col, TITLE_COLUMNS, "title", path)),
            "posted_on": _index(header, _pick(header, date_col, DATE_COLUMNS, "date", path)),
            "id": _index(header, _pick(header, None, ID_COLUMNS, "id", path)),
        }
        line = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise CompetencyMapError(f"cannot read CSV row: {exc}", path=str(path), line=line) from None
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise CompetencyMapError(
                    f"row has {len(row)} fields, the header has {len(header)}", path=str(path), line=start
                )
            values = {key: (row[i] if i is not None else None) for key, i in names.items()}
            yield _posting(values, path, start)


def _index(header: Sequence[str], name: str | None) -> int | None:
    return header.index(name) if name is not None else None


def _read_jsonl(path: Path, text_col: str | None, title_col: str | None, date_col: str | None) -> Iterator[dict[str, Any]]:
    with _open_binary(path) as handle:
        for number, raw in enumerate(_lines(handle, path), 1):
            if not raw.strip():
                continue
            try:
                record = orjson.loads(raw)  # orjson checks the UTF-8 too
            except orjson.JSONDecodeError as exc:
                raise CompetencyMapError(f"not valid JSON ({exc.msg})", path=str(path), line=number) from None
            if not isinstance(record, dict):
                raise CompetencyMapError("each line must be a JSON object", path=str(path), line=number)
            text_key = _key(record, text_col, TEXT_COLUMNS)
            if text_key is None:
                wanted = repr(text_col) if text_col else f"(one of {', '.join(TEXT_COLUMNS)})"
                raise CompetencyMapError(
                    f"no text field {wanted}; the fields are: {', '.join(map(str, record)) or '(none)'}",
                    path=str(path), line=number,
                )
            values = {
                "text": record[text_key],
                "title": _get(record, title_col, TITLE_COLUMNS),
                "posted_on": _get(record, date_col, DATE_COLUMNS),
                "id": _get(record, None, ID_COLUMNS),
            }
            yield _posting(values, path, number)


def _key(record: dict[str, Any], wanted: str | None, candidates: Sequence[str]) -> str | None:
    """The record's field for `wanted` (case-insensitive) or for the first known candidate."""
    lower = {str(k).lower(): k for k in record}
    if wanted is not None:
        return lower.get(wanted.lower())
    return next((lower[c] for c in candidates if c in lower), None)


def _get(record: dict[str, Any], wanted: str | None, candidates: Sequence[str]) -> Any:
    key = _key(record, wanted, candidates)
    return record.get(key) if key is not None else None


def _read_parquet(
    path: Path, text_col: str | None, title_col: str | None, date_col: str | None, *, batch_size: int
) -> Iterator[dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise CompetencyMapError(f"not a readable Parquet file: {exc}", path=str(path)) from None
    available = parquet.schema_arrow.names
    text = _pick(available, text_col, TEXT_COLUMNS, "text", path)
    if text is None:
        raise CompetencyMapError(
            f"no text column: expected one of {', '.join(TEXT_COLUMNS)} (or name one); columns are: {', '.join(available)}",
            path=str(path),
        )
    wanted = {
        "text": text,
        "title": _pick(available, title_col, TITLE_COLUMNS, "title", path),
        "posted_on": _pick(available, date_col, DATE_COLUMNS, "date", path),
        "id": _pick(available, None, ID_COLUMNS, "id", path),
    }
    columns = list(dict.fromkeys(c for c in wanted.values() if c is not None))
    row = 0
    try:
        for batch in parquet.iter_batches(batch_size=batch_size, columns=columns):
            data = batch.to_pydict()
            for i in range(batch.num_rows):
                row += 1
                values = {key: (data[col][i] if col is not None else None) for key, col in wanted.items()}
                yield _posting(values, path, row, row_word=True)
    except pa.ArrowException as exc:
        raise CompetencyMapError(f"cannot read Parquet data after row {row}: {exc}", path=str(path)) from None


def _posting(values: dict[str, Any], path: Path, line: int, *, row_word: bool = False) -> dict[str, Any]:
    """A checked posting dict; a missing or empty text is an error at this line."""
    text = values.get("text")
    where = {"path": str(path), "line": None if row_word else line}
    prefix = f"row {line}: " if row_word else ""
    if text is not None and not isinstance(text, str):
        raise CompetencyMapError(f"{prefix}posting text is a {type(text).__name__}, not a string", **where)
    if not isinstance(text, str) or not text.strip():
        raise CompetencyMapError(f"{prefix}posting has no text", **where)
    if len(text) > MAX_TEXT_CHARS:
        raise CompetencyMapError(f"{prefix}posting text is {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}", **where)
    title = values.get("title")
    return {
        "text": text,
        "title": title.strip() if isinstance(title, str) else "",
        "posted_on": _date_text(values.get("posted_on")),
        "id": "" if values.get("id") is None else str(values["id"]),
        "source": str(path),
        "line": line,
    }


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
    writer = csv.writer(stream, lineterminator="\n")
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
