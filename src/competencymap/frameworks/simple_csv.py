"""Load a framework from a simple CSV: one competency a row.

Columns (header names are case-insensitive, order is free):

- `id` (required): an IRI (http:, https: or urn:) or a local id, which becomes
  `urn:competencymap:<name>:<id>`;
- `label` (required): the preferred label;
- `description` (optional);
- `broader` (optional): ids of the parent rows, separated by '|';
- `alt_labels` (optional): alternative labels separated by '|'.

Other columns are ignored. Every row becomes a competency of kind skill.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from competencymap._common.errors import FrameworkError
from competencymap.frameworks.names import check_language, check_name
from competencymap.model import framework as model
from competencymap.model.framework import Competency, Framework

REQUIRED = ("id", "label")
OPTIONAL = ("description", "broader", "alt_labels")
SEPARATOR = "|"
_IRI = re.compile(r"^(https?://|urn:)\S+$", re.IGNORECASE)


@dataclass(frozen=True)
class _Row:
    line: int
    iri: str
    label: str
    description: str
    broader: tuple[str, ...]
    broader_ids: tuple[str, ...]  # as written, for messages
    alt_labels: tuple[str, ...]


def load_simple_csv(path: Path, name: str, language: str = "en") -> Framework:
    """Load `path` (a CSV with an id,label header) as the framework `name`."""
    path = Path(path)
    where = str(path)
    check_name(name)
    check_language(language)
    rows = _read_rows(path, name)
    competencies = {}
    for row in rows:
        competencies[row.iri] = Competency(
            iri=row.iri,
            framework=name,
            kind=model.KIND_SKILL,
            pref_label=row.label,
            alt_labels=row.alt_labels,
            description=row.description,
            broader=row.broader,
        )
    _check_broader(rows, competencies, where)
    return Framework(
        id=name,
        iri=f"urn:competencymap:{name}",
        title=name,
        language=language.lower(),
        source=path.name,
        competencies=competencies,
        languages=(language.lower(),),
    )


def to_iri(value: str, name: str) -> str:
    """The IRI for an id in the CSV: itself when it is an IRI, else a URN under the framework."""
    if _IRI.match(value):
        return value
    return f"urn:competencymap:{name}:{quote(value, safe='-._~:@!$&()*+,;=/')}"


def _read_rows(path: Path, name: str) -> list[_Row]:
    where = str(path)
    if not path.is_file():
        raise FrameworkError("no such file", path=where)
    if path.stat().st_size == 0:
        raise FrameworkError("empty file", path=where)
    rows: list[_Row] = []
    first_line: dict[str, int] = {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            columns = _columns(next(reader, []), where)
            for record in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in record):
                    continue
                row = _row(record, columns, line, name, where)
                if row.iri in first_line:
                    raise FrameworkError(
                        f"duplicate id {record[columns['id']].strip()!r} (first on line {first_line[row.iri]})",
                        path=where, line=line,
                    )
                first_line[row.iri] = line
                rows.append(row)
    except UnicodeDecodeError:
        raise FrameworkError("not UTF-8 text", path=where) from None
    except csv.Error as exc:
        raise FrameworkError(f"malformed CSV: {exc}", path=where, line=reader.line_num) from None
    if not rows:
        raise FrameworkError("not a framework: the CSV has a header but no rows", path=where)
    return rows


def _columns(header: list[str], where: str) -> dict[str, int]:
    names = [cell.strip().lower() for cell in header]
    missing = [column for column in REQUIRED if column not in names]
    if missing:
        raise FrameworkError(
            f"not a framework CSV: the header lacks {', '.join(missing)} "
            "(expected id,label and optionally description,broader,alt_labels)",
            path=where, line=1,
        )
    columns = {}
    for index, column in enumerate(names):
        if column in REQUIRED + OPTIONAL:
            if column in columns:
                raise FrameworkError(f"column {column!r} appears twice in the header", path=where, line=1)
            columns[column] = index
    return columns


def _row(record: list[str], columns: dict[str, int], line: int, name: str, where: str) -> _Row:
    def cell(column: str) -> str:
        index = columns.get(column)
        return record[index].strip() if index is not None and index < len(record) else ""

    ident, label = cell("id"), cell("label")
    parents = list(dict.fromkeys(_split(cell("broader"))))
    if not ident:
        raise FrameworkError("empty id", path=where, line=line)
    if not label:
        raise FrameworkError(f"empty label for id {ident!r}", path=where, line=line)
    return _Row(
        line=line,
        iri=to_iri(ident, name),
        label=label,
        description=cell("description"),
        broader=tuple(to_iri(v, name) for v in parents),
        broader_ids=tuple(parents),
        alt_labels=tuple(v for v in dict.fromkeys(_split(cell("alt_labels"))) if v != label),
    )


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(SEPARATOR) if part.strip()]


def _check_broader(rows: list[_Row], competencies: dict[str, Competency], where: str) -> None:
    for row in rows:
        for parent, written in zip(row.broader, row.broader_ids):
            if parent == row.iri:
                raise FrameworkError(f"{row.label!r} lists itself as broader", path=where, line=row.line)
            if parent not in competencies:
                raise FrameworkError(f"broader {written!r} is not an id in the file", path=where, line=row.line)
