"""An uploaded postings file, received within limits: the one way every upload path
(`POST /analytics/demand/upload`, `POST /jobs/demand/upload`, the researcher's page) stores a
file before reading it.

The file is copied to disk in chunks while it is checked, and the first limit passed stops the
copy with 413 naming the limit:

- the bytes sent: the request body limit (COMPETENCYMAP_MAX_UPLOAD_BYTES, enforced as the body
  arrives by `security.BodyLimit`);
- the bytes the file inflates to: a `.gz` file is inflated as it arrives and counted
  (COMPETENCYMAP_MAX_UPLOAD_DECOMPRESSED_BYTES, default 256 MiB); for Parquet, the uncompressed
  size its footer states;
- its rows: counted by the scan that follows (`row_limit`), which stops at the first row past
  the limit (COMPETENCYMAP_JOB_MAX_POSTINGS for a job, the batch limit for a synchronous table).

A CSV or JSONL file must start as UTF-8 text without NUL bytes (400 otherwise), so random bytes
with a postings name are refused alike on every path, before any job exists.
"""

from __future__ import annotations

import codecs
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from competencymap.service.errors import ApiError, OverLimit
from competencymap.workflows.postings_io import TooManyRows, is_gzip, postings_format

CHUNK = 1 << 20  # bytes read (and inflated) at a time
FIRST_LINE = 64 * 1024  # bytes of a text file's start that must be UTF-8
DECOMPRESSED_SETTING = "COMPETENCYMAP_MAX_UPLOAD_DECOMPRESSED_BYTES"
GZIP_WINDOW = zlib.MAX_WBITS | 16  # zlib's window for a gzip header and trailer


def receive_upload(source: BinaryIO, path: Path, name: str, max_decompressed: int) -> None:
    """Copy the upload `source` to `path` (whose suffix tells the format), checking the bytes it
    inflates to as they arrive (413) and that a text file starts as text (400). `name` is the
    upload's own name, the one errors show. On a refusal nothing is left at `path`."""
    fmt = postings_format(path)
    try:
        start = _copy(source, path, name, max_decompressed)
        if fmt == "parquet":
            _check_parquet(path, name, max_decompressed)
        else:
            _check_text(start, name)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def row_limit(exc: TooManyRows, name: str, limit: str, what: str) -> OverLimit:
    """The 413 for a file with more rows than the limit named `limit` allows (`what`: e.g.
    "per job (COMPETENCYMAP_JOB_MAX_POSTINGS)")."""
    return OverLimit(f"{name} holds more than {exc.limit:,} rows; the limit is {exc.limit:,} {what}", limit, exc.limit)


def _copy(source: BinaryIO, path: Path, name: str, max_decompressed: int) -> bytes:
    """Write the upload to `path`; the start of its (inflated) text, for `_check_text`."""
    inflater = Inflater() if is_gzip(path) else None
    inflated = 0
    start = bytearray()
    with path.open("wb") as handle:
        while chunk := source.read(CHUNK):
            handle.write(chunk)
            for piece in inflater.feed(chunk) if inflater is not None else (chunk,):
                inflated += len(piece)
                if inflated > max_decompressed:
                    raise _too_large(name, max_decompressed)
                if len(start) < FIRST_LINE:
                    start += piece[:FIRST_LINE - len(start)]
    return bytes(start)


def _too_large(name: str, limit: int) -> OverLimit:
    return OverLimit(f"{name} holds more than {limit:,} bytes of data once decompressed; the limit is {limit:,} "
                     f"({DECOMPRESSED_SETTING})", DECOMPRESSED_SETTING, limit)


class Inflater:
    """Inflates a gzip stream fed in chunks (several members, as `gzip` writes them, included),
    at most CHUNK bytes at a time. A stream that is no gzip simply stops: the reader that
    follows names what is wrong with it."""

    def __init__(self) -> None:
        self._stream = zlib.decompressobj(GZIP_WINDOW)
        self.broken = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data and not self.broken:
            try:
                piece = self._stream.decompress(data, CHUNK)
            except zlib.error:
                self.broken = True
                return
            if piece:
                yield piece
            if self._stream.eof:  # the next member, if any
                data = self._stream.unused_data
                self._stream = zlib.decompressobj(GZIP_WINDOW)
            else:
                data = self._stream.unconsumed_tail


def _check_text(start: bytes, name: str) -> None:
    """400 unless the file's first line is UTF-8 text without NUL bytes."""
    first = start.split(b"\n", 1)[0]
    try:
        codecs.getincrementaldecoder("utf-8")().decode(first, final=False)  # a character cut at the end is fine
        text = b"\0" not in first
    except UnicodeDecodeError:
        text = False
    if not text:
        raise ApiError(400, "bad_request", f"{name}: not a text file: its first line is not UTF-8 text; a CSV or "
                                           "JSONL postings file must be UTF-8")


def _check_parquet(path: Path, name: str, max_decompressed: int) -> None:
    """413 when a Parquet file's footer states more uncompressed data than the limit."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except (pa.ArrowException, OSError):
        return  # not readable: the reader that follows names the problem
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if size > max_decompressed:
        raise _too_large(name, max_decompressed)
