"""Read an authored SSSOM TSV mapping set: the YAML metadata block, then one mapping a row.

The project ships one such set, `data/skills_for_success/esco_crosswalk.sssom.tsv`: which ESCO
skill groups and transversal skills evidence which Skills for Success skills and components,
each row curated by hand (``semapv:ManualMappingCuration``) with its justification in
``comment``. The mapping pipeline reads it to give Skills for Success matches evidence from
confident ESCO matches (through their groups); the exports write it beside the computed
crosswalk.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from competencymap._common.errors import CompetencyMapError
from competencymap.model.framework import Relation

AUTHORED_CROSSWALKS = {("esco", "sfs"): Path("skills_for_success") / "esco_crosswalk.sssom.tsv"}  # under the data folder
REQUIRED = ("subject_id", "subject_label", "predicate_id", "object_id", "object_label", "mapping_justification")


@dataclass(frozen=True)
class Mapping:
    """One curated mapping, with full IRIs; `predicate` is the SKOS local name (closeMatch, ...)."""

    subject: str
    subject_label: str
    predicate: str
    object: str
    object_label: str
    justification: str
    author: str = ""
    date: str = ""
    comment: str = ""


@dataclass(frozen=True)
class MappingSet:
    """An SSSOM mapping set: its metadata (curie_map, mapping_set_id, license, ...) and mappings."""

    metadata: dict
    mappings: tuple[Mapping, ...] = field(default_factory=tuple)

    @property
    def set_id(self) -> str:
        return str(self.metadata.get("mapping_set_id", ""))

    def relations(self) -> list[Relation]:
        """The mappings as unscored SKOS relations (subject -> object)."""
        return [Relation(m.subject, m.object, m.predicate) for m in self.mappings]

    def by_subject(self) -> dict[str, list[Mapping]]:
        """Mappings grouped by subject IRI, in file order."""
        out: dict[str, list[Mapping]] = {}
        for mapping in self.mappings:
            out.setdefault(mapping.subject, []).append(mapping)
        return out


def authored_crosswalk_path(data: Path, source: str, target: str) -> Path | None:
    """Where the authored crosswalk from `source` to `target` lives under the data folder (None: none ships)."""
    relative = AUTHORED_CROSSWALKS.get((source, target))
    return data / relative if relative is not None else None


def read_sssom(path: Path) -> MappingSet:
    """Parse an SSSOM TSV file; CURIEs are expanded with its curie_map."""
    text = path.read_text(encoding="utf-8")
    header = "\n".join(line[1:] for line in text.splitlines() if line.startswith("#"))
    metadata = read_metadata(header)
    prefixes = metadata.get("curie_map") or {}
    body = "\n".join(line for line in text.splitlines() if line and not line.startswith("#"))
    rows = list(csv.DictReader(io.StringIO(body), delimiter="\t"))
    missing = [c for c in REQUIRED if rows and c not in rows[0]]
    if missing:
        raise CompetencyMapError(f"{path}: SSSOM columns missing: {', '.join(missing)}")
    mappings = tuple(_mapping(row, prefixes, path) for row in rows)
    return MappingSet(metadata, mappings)


def _mapping(row: dict[str, str], prefixes: dict[str, str], path: Path) -> Mapping:
    predicate = row["predicate_id"]
    if not predicate.startswith("skos:"):
        raise CompetencyMapError(f"{path}: predicate {predicate!r} is not a SKOS mapping relation")
    return Mapping(
        subject=expand(row["subject_id"], prefixes),
        subject_label=row["subject_label"],
        predicate=predicate.removeprefix("skos:"),
        object=expand(row["object_id"], prefixes),
        object_label=row["object_label"],
        justification=row["mapping_justification"],
        author=row.get("author_id") or "",
        date=row.get("mapping_date") or "",
        comment=row.get("comment") or "",
    )


def read_metadata(block: str) -> dict:
    """The metadata block as a dict: the small YAML subset SSSOM files use (``key: value``, a nested
    map such as ``curie_map`` and ``- item`` lists, one level deep). Quotes around values are dropped."""
    out: dict = {}
    key = None
    for line in block.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            key, _, value = line.partition(":")
            key, value = key.strip(), _unquote(value.strip())
            out[key] = value if value else None
        elif key is not None and line.strip().startswith("- "):
            out[key] = (out[key] or []) + [_unquote(line.strip()[2:].strip())]
        elif key is not None:
            name, _, value = line.strip().partition(":")
            out[key] = {**(out[key] or {}), name.strip(): _unquote(value.strip())}
    return out


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def expand(curie: str, prefixes: dict[str, str]) -> str:
    """A CURIE as a full IRI by the prefix map; a full IRI (or an unknown prefix) as it is."""
    prefix, sep, local = curie.partition(":")
    if sep and prefix in prefixes and not local.startswith("//"):
        return prefixes[prefix] + local
    return curie
