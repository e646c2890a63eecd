"""Opening an RDF file for pyoxigraph's streaming parser, whatever it is packed in.

Both RDF loaders (:mod:`.esco_rdf` and :mod:`.skos`) read their input through
:func:`open_rdf`. A file is one of:

* a plain RDF file, named by its syntax (``.ttl``, ``.nt``, ``.rdf``, ``.jsonld``... see
  ``SUFFIXES``); pyoxigraph is handed its path and reads it itself, the fastest way;
* the same gzipped (``scheme.ttl.gz``), streamed through :mod:`gzip`;
* a zip archive (by its ``.zip`` name or by its content) holding exactly one RDF file,
  possibly gzipped inside; other files and macOS ``__MACOSX/`` folders are ignored, and
  the member is streamed, never unpacked to disk or read whole.

Everything that keeps a file from being opened is a :class:`FrameworkError` naming the
file (and the zip member, as ``archive.zip!member``).
"""

from __future__ import annotations

import gzip
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from pyoxigraph import Quad, RdfFormat, parse

from competencymap._common.errors import FrameworkError

# File suffix -> name of the pyoxigraph RdfFormat (looked up when used: JSON_LD needs pyoxigraph>=0.5).
SUFFIXES = {
    ".ttl": "TURTLE", ".turtle": "TURTLE", ".nt": "N_TRIPLES", ".n3": "N3", ".nq": "N_QUADS",
    ".trig": "TRIG", ".rdf": "RDF_XML", ".owl": "RDF_XML", ".xml": "RDF_XML",
    ".jsonld": "JSON_LD", ".json": "JSON_LD",
}
MACOS_FOLDER = "__MACOSX/"  # resource forks macOS adds to the zips it makes
LISTED_MEMBERS = 5  # RDF files named in the error about a zip holding several


@dataclass(frozen=True)
class RdfSource:
    """An opened RDF file: what pyoxigraph parses, in which format, and its name for errors."""

    data: IO[bytes] | Path  # a byte stream, or the plain file's own path (pyoxigraph reads it fastest)
    format: RdfFormat
    display: str  # the file, or 'archive.zip!member' for the file inside a zip

    def quads(self, *, lenient: bool = False) -> Iterator[Quad]:
        """pyoxigraph's streaming parser over the source."""
        if isinstance(self.data, Path):
            return parse(path=self.data, format=self.format, lenient=lenient)
        return parse(self.data, self.format, lenient=lenient)

    def head(self, size: int) -> bytes:
        """Up to `size` first bytes of the (unpacked) RDF text, for sniffing; a stream is used up."""
        if isinstance(self.data, Path):
            with self.data.open("rb") as handle:
                return handle.read(size)
        return self.data.read(size)


def format_name(filename: str) -> str | None:
    """The RdfFormat name a file name stands for ('x.ttl', 'x.ttl.gz' -> 'TURTLE'), or None."""
    return SUFFIXES.get(_suffix(filename))


@contextmanager
def open_rdf(path: Path) -> Iterator[RdfSource]:
    """Open the RDF file at `path` (plain, .gz, or the one RDF file in a zip) for parsing."""
    path = Path(path)
    _check_file(path)
    if path.name.lower().endswith(".zip") or zipfile.is_zipfile(path):
        with _open_zip(path) as source:
            yield source
        return
    fmt = _format(path.name, str(path))
    if path.name.lower().endswith(".gz"):
        with gzip.open(path, "rb") as stream:
            yield RdfSource(cast(IO[bytes], stream), fmt, str(path))
    else:
        yield RdfSource(path, fmt, str(path))


def zip_member(archive: zipfile.ZipFile, path: Path) -> str:
    """The name of the one RDF file in the zip (by its name, optionally .gz); FrameworkError otherwise."""
    names = [
        info.filename for info in archive.infolist()
        if not info.is_dir() and not info.filename.startswith(MACOS_FOLDER) and format_name(info.filename)
    ]
    if len(names) == 1:
        return names[0]
    if not names:
        found = "none"
    else:
        listed = ", ".join(names[:LISTED_MEMBERS]) + (", ..." if len(names) > LISTED_MEMBERS else "")
        found = f"{len(names)} RDF files ({listed})"
    raise FrameworkError(f"expected one RDF file in the zip, found {found}", path=str(path))


def _suffix(filename: str) -> str:
    """The lower-case suffix that names the RDF syntax, under any '.gz'."""
    return Path(filename.lower().removesuffix(".gz")).suffix


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise FrameworkError("no such file", path=str(path))
    if path.stat().st_size == 0:
        raise FrameworkError("file is empty", path=str(path))


@contextmanager
def _open_zip(path: Path) -> Iterator[RdfSource]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise FrameworkError(f"not a readable zip archive ({exc})", path=str(path)) from None
    with archive:
        member = zip_member(archive, path)
        display = f"{path}!{member}"
        fmt = _format(member, display)
        try:
            stream = archive.open(member)
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:  # RuntimeError: encrypted
            raise FrameworkError(f"not a readable zip archive ({exc})", path=display) from None
        with stream:
            if member.lower().endswith(".gz"):
                with gzip.open(stream, "rb") as unpacked:
                    yield RdfSource(cast(IO[bytes], unpacked), fmt, display)
            else:
                yield RdfSource(stream, fmt, display)


def _format(filename: str, display: str) -> RdfFormat:
    name = format_name(filename)
    if name is None:
        known = " ".join(sorted(SUFFIXES))
        raise FrameworkError(
            f"unknown RDF file type {_suffix(filename) or '(none)'!r}: expected one of {known} "
            "(optionally gzipped as .gz, or alone in a .zip)",
            path=display,
        )
    fmt = getattr(RdfFormat, name, None)
    if fmt is None:
        raise FrameworkError(f"this pyoxigraph cannot read {name}; install pyoxigraph>=0.5", path=display)
    return cast(RdfFormat, fmt)
