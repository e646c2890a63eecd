"""Which files a corpus run reads: files, folders (every postings file inside, recursively) and
glob patterns, in one sorted, de-duplicated list; each with its size and sha256."""

from __future__ import annotations

import glob
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from competencymap._common.checksum import file_sha256
from competencymap._common.errors import CompetencyMapError
from competencymap.workflows.postings_io import postings_format

_PATTERN_CHARS = set("*?[")


@dataclass(frozen=True)
class InputFile:
    """One input file: its number in the run (0-based), absolute path, the name the user gave, format."""

    number: int
    path: str
    name: str
    format: str
    size: int
    sha256: str

    def to_dict(self) -> dict:
        return {"number": self.number, "path": self.name, "format": self.format, "size": self.size, "sha256": self.sha256}


def resolve_inputs(specs: list[str] | tuple[str, ...], names: Mapping[str, str] | None = None) -> list[InputFile]:
    """The postings files named by `specs` (files, folders, globs), sorted by path; an input that
    names no postings file, or a file that is not CSV/JSONL/Parquet, is an error. A file named in
    `names` (as given in `specs`) goes by that name (in errors, postings' sources, the manifest)."""
    if not specs:
        raise CompetencyMapError("no postings file given")
    names = names or {}
    found: dict[str, str] = {}  # absolute path -> name as given
    for spec in specs:
        for path in _expand(spec):
            found.setdefault(str(path.resolve()), names.get(str(path), str(path)))
    return [_input(number, absolute, name) for number, (absolute, name) in enumerate(sorted(found.items()))]


def _expand(spec: str) -> list[Path]:
    path = Path(spec).expanduser()
    if _PATTERN_CHARS & set(spec):
        matches = [Path(p) for p in sorted(glob.glob(str(path), recursive=True))]
        files = [p for p in matches if p.is_file() and _is_postings(p)]
        if not files:
            raise CompetencyMapError(f"no postings file (.csv, .jsonl, .parquet, optionally .gz) matches {spec!r}")
        return files
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".") and _is_postings(p))
        if not files:
            raise CompetencyMapError("no postings file (.csv, .jsonl, .parquet, optionally .gz) in the folder", path=spec)
        return files
    postings_format(path)  # a named file must be a postings file
    if not path.is_file():
        raise CompetencyMapError("file not found", path=spec)
    return [path]


def _is_postings(path: Path) -> bool:
    try:
        postings_format(path)
    except CompetencyMapError:
        return False
    return True


def _input(number: int, absolute: str, name: str) -> InputFile:
    path = Path(absolute)
    return InputFile(number, absolute, name, postings_format(path), path.stat().st_size, file_sha256(path))
