"""The output folder of a corpus run, and its manifest.

    DIR/manifest.json                 what was run on what: inputs (sha256), options, model,
                                      backend, framework versions, counts, timings
    DIR/postings/part-FFFF-PPPPP.parquet   per-posting profile rows, one file per input partition
    DIR/errors/part-FFFF-PPPPP.jsonl       postings of that partition that could not be read or mapped
    DIR/errors.jsonl                  every error, in partition order
    DIR/demand.csv, DIR/demand.parquet     the demand table, computed from the per-posting files
    DIR/run.lock                      held (flock) by the run writing the folder: pid, host, start time

A per-posting file has one row per (posting, profile entry): posting_id, source, line,
framework, rank (1 = best within its framework), iri, label, score, confident, optional, statements,
grouped_under (the IRI of the entry a near duplicate is grouped under, null for none; a file
written before format 2 has no such column and no grouped entry), not_read (statements left out
for their language; an older file has no such column: none were), and
month / occupation / occupation_label / the group-by columns when the run has them. A posting
with no profile entry has one row with empty framework and iri, so every mapped posting is
there. Every file is written to a temporary name and renamed, so a file that exists is whole:
a partition whose Parquet file exists is done, and a rerun skips it.

One run writes a folder at a time: it holds an exclusive `flock` on DIR/run.lock while it runs
(the system releases it when the process ends, however it ends, so a killed run leaves no
stale lock); a second run into the folder fails at once, naming the holder. A write that fails
(a read-only or full file system, no permission) is one CompetencyMapError naming the folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from competencymap._common.errors import CompetencyMapError
from competencymap.workflows.demand.options import DemandOptions
from competencymap.workflows.demand.postings import MappedPosting, PostingError, ProfileEntry

MANIFEST = "manifest.json"
POSTINGS = "postings"
ERRORS = "errors"
LOCK = "run.lock"
ERRORS_FILE = "errors.jsonl"
GROUPED = "grouped_under"  # the per-posting column a format-1 file does not have
NOT_READ = "not_read"  # statements left out for their language (files written before it have none)
FORMAT = 2  # layout of the folder and its files (2: per-posting files have grouped_under)


class OutputFolder:
    """Paths of one run's output folder and atomic writes into it."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    def postings_path(self, partition_id: str) -> Path:
        return self.root / POSTINGS / f"part-{partition_id}.parquet"

    def errors_path(self, partition_id: str) -> Path:
        return self.root / ERRORS / f"part-{partition_id}.jsonl"

    def create(self) -> None:
        for folder in (self.root, self.root / POSTINGS, self.root / ERRORS):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CompetencyMapError(f"cannot create the output folder: {exc.strerror or exc}", path=str(folder)) from None
        for leftover in [*self.root.glob(".*.tmp-*"), *(self.root / POSTINGS).glob(".*.tmp-*"),
                         *(self.root / ERRORS).glob(".*.tmp-*")]:
            discard(leftover)  # half-written files of an interrupted run

    def is_empty(self) -> bool:
        """True when the folder holds nothing a run wrote but its lock file and empty subfolders
        (a run stopped before its manifest was written)."""
        return all(path.name == LOCK or (path.name in (POSTINGS, ERRORS) and path.is_dir() and not any(path.iterdir()))
                   for path in self.root.iterdir())

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's lock while a run writes it; a CompetencyMapError naming the holder
        when another run holds it. The folder must exist (`create`)."""
        path = self.root / LOCK
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise write_error(exc, path) from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise self._held(fd) from None
            _write_holder(fd, path)
            yield
        finally:
            os.close(fd)  # releases the lock

    def check_unlocked(self) -> None:
        """Fail at once, naming the holder, when another run holds the folder's lock."""
        try:
            fd = os.open(self.root / LOCK, os.O_RDONLY)
        except OSError:
            return  # no lock file: no run has written here (or the folder is unreadable: found later)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise self._held(fd) from None
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _held(self, fd: int) -> CompetencyMapError:
        try:
            holder = orjson.loads(os.pread(fd, 4096, 0))
            who = f"pid {holder['pid']} on {holder['host']}, started {holder['started']}"
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
            who = "a run that is just starting"
        return CompetencyMapError(f"another corpus run is writing this folder ({who}); wait for it to finish or "
                                  "name another --output folder", path=str(self.root))

    def done(self, partition_id: str) -> bool:
        return self.postings_path(partition_id).is_file()

    def read_manifest(self) -> dict[str, Any] | None:
        if not self.manifest_path.is_file():
            return None
        try:
            return orjson.loads(self.manifest_path.read_bytes())
        except orjson.JSONDecodeError:
            raise CompetencyMapError("not a readable manifest; use another --output folder", path=str(self.manifest_path)) from None

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_atomic(self.manifest_path, orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")


def _write_holder(fd: int, path: Path) -> None:
    """Say who holds the lock: pid, host and start time, as JSON."""
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, orjson.dumps(holder), 0)
    except OSError as exc:
        raise write_error(exc, path) from None


def write_error(exc: OSError, path: Path) -> CompetencyMapError:
    """The error for a file of the run that cannot be written: one line naming the folder and why
    (e.g. a read-only file system, no space left on the device)."""
    return CompetencyMapError(f"cannot write {path.name} into the output folder: {exc.strerror or exc}",
                              path=str(path.parent))


def discard(path: Path) -> None:
    """Remove a temporary or half-written file if it can be removed (on a read-only or broken
    file system it cannot, and the error that matters is the one that led here)."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, flush it to disk, and rename it over `path`."""
    temporary = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:12]}")
    try:
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        discard(temporary)
        raise write_error(exc, path) from None


def replace_atomic(temporary: Path, path: Path) -> None:
    """Flush a written temporary file to disk and rename it over `path`."""
    fd = os.open(temporary, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)


def temporary_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:12]}")


# -- per-posting files ----------------------------------------------------------------------------


def posting_columns(options: DemandOptions) -> list[str]:
    out = ["posting_id", "source", "line", "framework", "rank", "iri", "label", "score", "confident", "optional",
           "statements", GROUPED, NOT_READ]
    out += ["month"] if options.by_month else []
    out += ["occupation", "occupation_label"] if options.by_occupation else []
    return out + list(options.group_by)


def _schema(options: DemandOptions) -> Any:
    import pyarrow as pa

    types = {"line": pa.int64(), "rank": pa.int32(), "score": pa.float64(), "confident": pa.bool_(),
             "optional": pa.bool_(), "statements": pa.int32(), NOT_READ: pa.int32()}
    return pa.schema([pa.field(name, types.get(name, pa.string())) for name in posting_columns(options)])


def posting_rows(postings: Iterable[MappedPosting], options: DemandOptions) -> dict[str, list[Any]]:
    """Column -> values, one row per (posting, profile entry); one empty row for a posting with none."""
    columns: dict[str, list[Any]] = {name: [] for name in posting_columns(options)}
    for posting in postings:
        base = {"posting_id": posting.posting_id, "source": posting.source, "line": posting.line,
                "statements": posting.statements, NOT_READ: posting.not_read, "month": posting.month, "occupation": posting.occupation,
                "occupation_label": posting.occupation_label, **dict(zip(options.group_by, posting.groups))}
        entries: Sequence[ProfileEntry | None] = posting.entries or (None,)
        for entry in entries:
            row = {**base, "framework": entry.framework if entry else None, "rank": entry.rank if entry else None,
                   "iri": entry.iri if entry else None, "label": entry.label if entry else None,
                   "score": entry.score if entry else None, "confident": entry.confident if entry else None,
                   "optional": entry.optional if entry else None,
                   GROUPED: (entry.grouped_under or None) if entry else None}
            for name in columns:
                columns[name].append(row[name])
    return columns


def write_postings(path: Path, postings: Sequence[MappedPosting], options: DemandOptions) -> None:
    """One partition's per-posting file, written atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pydict(posting_rows(postings, options), schema=_schema(options))
    temporary = temporary_beside(path)
    try:
        pq.write_table(table, str(temporary), compression="zstd")
        replace_atomic(temporary, path)
    except OSError as exc:
        discard(temporary)
        raise write_error(exc, path) from None


def read_postings_file(path: Path, options: DemandOptions) -> list[MappedPosting]:
    """The mapped postings of one per-posting file (rows of a posting are consecutive)."""
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    optional = (GROUPED, NOT_READ)  # absent from files of earlier formats
    data = pq.read_table(path, columns=[c for c in posting_columns(options) if c not in optional or c in names]).to_pydict()
    grouped = data.get(GROUPED) or [None] * len(data["posting_id"])  # format 1: nothing was grouped
    not_read = data.get(NOT_READ) or [0] * len(data["posting_id"])  # an older file: nothing was left out
    out: list[MappedPosting] = []
    rows = len(data["posting_id"])
    i = 0
    while i < rows:
        j = i
        while j + 1 < rows and data["source"][j + 1] == data["source"][i] and data["line"][j + 1] == data["line"][i] \
                and data["posting_id"][j + 1] == data["posting_id"][i]:
            j += 1
        entries = tuple(ProfileEntry(data["framework"][k], data["rank"][k], data["iri"][k], data["label"][k],
                                     data["score"][k], bool(data["confident"][k]), bool(data["optional"][k]),
                                     grouped[k] or "")
                        for k in range(i, j + 1) if data["iri"][k] is not None)
        out.append(MappedPosting(
            posting_id=data["posting_id"][i], entries=entries, statements=data["statements"][i],
            month=data["month"][i] if options.by_month else None,
            occupation=data["occupation"][i] if options.by_occupation else None,
            occupation_label=data["occupation_label"][i] if options.by_occupation else None,
            groups=tuple(data[name][i] for name in options.group_by), source=data["source"][i], line=data["line"][i],
            not_read=not_read[i] or 0,
        ))
        i = j + 1
    return out


# -- errors -------------------------------------------------------------------------------------


def write_errors(path: Path, errors: Sequence[PostingError], partition_id: str) -> None:
    lines = b"".join(orjson.dumps({"partition": partition_id, **e.to_dict()}) + b"\n" for e in errors)
    write_atomic(path, lines)


def merge_errors(folder: OutputFolder, partition_ids: Sequence[str]) -> int:
    """Concatenate the partitions' error files into DIR/errors.jsonl; the number of errors."""
    chunks: list[bytes] = []
    for pid in partition_ids:
        path = folder.errors_path(pid)
        if path.is_file():
            chunks.append(path.read_bytes())
    data = b"".join(chunks)
    write_atomic(folder.root / ERRORS_FILE, data)
    return data.count(b"\n")
