"""A loaded framework saved as JSON, with a manifest that says when it is stale.

Layout of a cache folder (one per framework and language)::

    <home>/frameworks/<framework id>-<language>/framework.json
    <home>/frameworks/<framework id>-<language>/manifest.json

framework.json holds each model type as a table (column names + rows) so it is
compact and quick to read back. The manifest records the sources (path, size,
mtime, sha256), the counts, the cache format version and the sha256 of
framework.json. Both files are written to a temporary file and renamed into place.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from competencymap._common.checksum import file_sha256
from competencymap.model.framework import Competency, Framework, Level, Occupation, Relation

# Raised whenever a cache written before would no longer equal a fresh load:
# 2 - the ESCO loaders keep relations naming withdrawn concepts (v1.1.1: 123,855, not 123,788).
CACHE_FORMAT = 2
FRAMEWORK_FILE = "framework.json"
MANIFEST_FILE = "manifest.json"
_TABLES = {
    "competencies": Competency,
    "occupations": Occupation,
    "relations": Relation,
    "levels": Level,
}


# -- public API -------------------------------------------------------------------------


def save_cached(framework: Framework, folder: Path, sources: list[Path]) -> None:
    """Write `framework` and its manifest into `folder`, replacing any older cache."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = orjson.dumps(_to_json(framework))
    write_atomic(folder / FRAMEWORK_FILE, data)
    manifest = {
        "framework": framework.id,
        "iri": framework.iri,
        "title": framework.title,
        "version": framework.version,
        "language": framework.language,
        "source": framework.source,
        "licence": framework.licence,
        "counts": framework.stats(),
        "sources": [_describe_source(Path(p)) for p in sources],
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "cache_format": CACHE_FORMAT,
        "framework_sha256": hashlib.sha256(data).hexdigest(),
    }
    write_atomic(folder / MANIFEST_FILE, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))


def load_cached(folder: Path, sources: list[Path]) -> Framework | None:
    """The cached framework in `folder`, or None when there is none or it is stale."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None or not manifest_is_fresh(manifest, sources):
        return None
    try:
        data = (folder / FRAMEWORK_FILE).read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != manifest.get("framework_sha256"):
        return None
    was_enabled = gc.isenabled()
    gc.disable()  # parsing and building many small objects; the collector only slows it
    try:
        return _from_json(orjson.loads(data))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, IndexError):
        return None
    finally:
        if was_enabled:
            gc.enable()


def read_manifest(folder: Path) -> dict | None:
    """The manifest in `folder`, or None when missing, unreadable or of another format."""
    try:
        manifest = orjson.loads((Path(folder) / MANIFEST_FILE).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(manifest, dict) or manifest.get("cache_format") != CACHE_FORMAT:
        return None
    return manifest


def manifest_is_fresh(manifest: dict, sources: list[Path]) -> bool:
    """True when the manifest's sources are exactly `sources`, unchanged.

    A source whose size and mtime match the manifest is not hashed again.
    """
    recorded = manifest.get("sources")
    if not isinstance(recorded, list) or len(recorded) != len(sources):
        return False
    for entry, path in zip(recorded, sources):
        path = Path(path)
        if not isinstance(entry, dict) or entry.get("path") != str(path.resolve()):
            return False
        try:
            stat = path.stat()
        except OSError:
            return False
        if stat.st_size != entry.get("size"):
            return False
        if stat.st_mtime_ns == entry.get("mtime_ns"):
            continue
        if file_sha256(path) != entry.get("sha256"):
            return False
    return True



# -- encoding ---------------------------------------------------------------------------
#
# Each table is {"columns": [...], "rows": [[...], ...]}. Columns that hold identifiers
# or short repeated codes (IRIs, kinds, relation types, broader links) are stored as
# indexes into one shared "strings" list: the file is smaller, parses faster, and the
# loaded objects share one str per IRI.

_SHARED_COLUMNS = frozenset({
    "iri", "framework", "kind", "status", "reuse_level", "broader", "schemes", "isco_group",
    "source", "target", "type", "competency",
})


@dataclasses.dataclass(frozen=True)
class _Layout:
    """How the columns of one model type are stored."""

    columns: list[str]
    shared: list[int]  # one string, stored as an index
    shared_tuples: list[int]  # a tuple of strings, stored as a list of indexes
    tuples: list[int]  # a tuple stored as a list


def _layout(cls: type) -> _Layout:
    fields = dataclasses.fields(cls)
    is_tuple = [str(f.type).startswith("tuple") for f in fields]
    is_str = [str(f.type) in ("str", "tuple[str, ...]") for f in fields]
    shared = [f.name in _SHARED_COLUMNS and is_str[i] for i, f in enumerate(fields)]
    return _Layout(
        columns=[f.name for f in fields],
        shared=[i for i in range(len(fields)) if shared[i] and not is_tuple[i]],
        shared_tuples=[i for i in range(len(fields)) if shared[i] and is_tuple[i]],
        tuples=[i for i in range(len(fields)) if is_tuple[i] and not shared[i]],
    )


def _scalar_fields() -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(Framework) if f.name not in _TABLES]


def _to_json(framework: Framework) -> dict:
    strings: list[str] = []
    index: dict[str, int] = {}

    def ref(value: str) -> int:
        position = index.get(value)
        if position is None:
            position = index[value] = len(strings)
            strings.append(value)
        return position

    out: dict = {"cache_format": CACHE_FORMAT}
    out["framework"] = {f.name: getattr(framework, f.name) for f in _scalar_fields()}
    for table, cls in _TABLES.items():
        items = getattr(framework, table)
        layout = _layout(cls)
        rows = []
        for item in items.values() if isinstance(items, dict) else items:
            row = [getattr(item, name) for name in layout.columns]
            for i in layout.shared:
                row[i] = ref(row[i])
            for i in layout.shared_tuples:
                row[i] = [ref(v) for v in row[i]]
            rows.append(row)
        out[table] = {"columns": layout.columns, "rows": rows}
    out["strings"] = strings
    return out


def _from_json(data: dict) -> Framework | None:
    if data.get("cache_format") != CACHE_FORMAT:
        return None
    head = data["framework"]
    scalars: dict[str, Any] = {}
    for f in _scalar_fields():
        value = head[f.name]
        scalars[f.name] = tuple(value) if str(f.type).startswith("tuple") else value
    strings = data["strings"]
    tables = {}
    for table, cls in _TABLES.items():
        layout = _layout(cls)
        if data[table]["columns"] != layout.columns:
            return None  # the model changed since this cache was written
        tables[table] = _rows_to_items(cls, layout, data[table]["rows"], strings)
    return Framework(
        **scalars,
        competencies={c.iri: c for c in tables["competencies"]},
        occupations={o.iri: o for o in tables["occupations"]},
        relations=tables["relations"],
        levels=tables["levels"],
    )


def _rows_to_items(cls: type, layout: _Layout, rows: list[list], strings: list[str]) -> list:
    if cls is Relation and layout.columns == _RELATION_COLUMNS and layout.shared == [0, 1, 2]:
        return _relations_from_rows(rows, strings)
    items = []
    for row in rows:
        for i in layout.shared:
            row[i] = strings[row[i]]
        for i in layout.shared_tuples:
            row[i] = tuple([strings[j] for j in row[i]])
        for i in layout.tuples:
            row[i] = tuple(row[i])
        items.append(cls(*row))
    return items


_RELATION_COLUMNS = ["source", "target", "type", "score"]


def _relations_from_rows(rows: list[list], strings: list[str]) -> list[Relation]:
    """Relations built by setting their slots directly: the bulk of a cache, twice as fast.

    Relation is a frozen, slotted dataclass whose __init__ only assigns its fields, so
    this gives equal objects; the fallback is used if it ever grows a __post_init__.
    """
    if hasattr(Relation, "__post_init__"):
        return [Relation(strings[s], strings[t], strings[k], score) for s, t, k, score in rows]
    new = object.__new__
    slots: Any = Relation  # its fields are slot descriptors on the class, which mypy does not model
    set_source, set_target = slots.source.__set__, slots.target.__set__
    set_type, set_score = slots.type.__set__, slots.score.__set__
    out: list[Relation] = []
    append = out.append
    for source, target, kind, score in rows:
        relation = new(Relation)
        set_source(relation, strings[source])
        set_target(relation, strings[target])
        set_type(relation, strings[kind])
        set_score(relation, score)
        append(relation)
    return out


# -- files ------------------------------------------------------------------------------


def _describe_source(path: Path) -> dict:
    stat = path.stat()
    return {
        "path": str(path.resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "sha256": file_sha256(path),
    }


def write_atomic(target: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `target`, then rename it over `target`."""
    temp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
