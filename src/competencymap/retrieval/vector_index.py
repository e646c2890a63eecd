"""The vector index of one framework for one model: every text of every competency.

A competency is represented by several texts (preferred, alternative and hidden labels,
description), each with its own vector. Each field has its own FAISS index, so a search
can be restricted to some fields and still be complete. Fields with few texts use exact
inner product (IndexFlatIP); larger ones an inverted file (IndexIVFFlat) probed widely
enough that a single query stays around a millisecond. Scores are aggregated per
competency (the best of its texts) and a hit says which text matched.

On disk: one `<field>.faiss` per field (faiss.write_index), `vectors.npy` (every text's
vector in entry order, memory-mapped on load so a start costs no copy), `entries.json` and
`manifest.json` (model, backend, framework, counts, checksums of the content and of each file).
Loading refuses an index that does not fit the framework or the model, or whose files
changed. FAISS indexes are read on their first search.
"""

from __future__ import annotations

import gc
import hashlib
import math
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np
import orjson

from competencymap._common.errors import IndexNotReady
from competencymap.encoding.encoder import Encoder, file_sha256, model_slug
from competencymap.model.framework import Framework

__all__ = ["FIELDS", "CompetencyIndex", "IndexEntry", "TextHit"]

FIELDS = ("pref_label", "alt_label", "hidden_label", "description")
FORMAT = 2
MANIFEST = "manifest.json"
ENTRIES = "entries.json"
VECTORS = "vectors.npy"
LEGACY_ENTRIES = "entries.jsonl"  # format 1, read only to reuse its vectors when rebuilding
FLAT_LIMIT = 8192  # fields with more texts than this get an IVF index instead of an exact scan
REBUILD = "run `competencymap index build`"


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One indexed text of a competency."""

    iri: str
    field: str
    text: str


@dataclass(frozen=True, slots=True)
class TextHit:
    """A competency found by search, with its best-scoring text."""

    iri: str
    score: float
    field: str
    text: str


def framework_entries(framework: Framework, fields: Sequence[str]) -> list[IndexEntry]:
    """The texts to index: skills only, grouped by field (in `fields` order), then by IRI.

    Empty texts are skipped, and a text repeated within a competency is kept once, under
    its first field.
    """
    wanted = set(fields)
    per_field: dict[str, list[IndexEntry]] = {name: [] for name in fields}
    for competency in sorted(framework.skills(), key=lambda c: c.iri):
        seen: set[str] = set()
        for name, text in competency.texts(hidden=True):
            text = text.strip()
            if name in wanted and text and text not in seen:
                seen.add(text)
                per_field[name].append(IndexEntry(competency.iri, name, text))
    return [entry for name in fields for entry in per_field[name]]


def content_checksum(entries: Sequence[IndexEntry]) -> str:
    """sha256 of the sorted (iri, field, text) triples as one JSON array."""
    return hashlib.sha256(orjson.dumps(sorted((e.iri, e.field, e.text) for e in entries))).hexdigest()


def _check_fields(fields: Sequence[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(fields))
    unknown = [f for f in chosen if f not in FIELDS]
    if unknown or not chosen:
        raise IndexNotReady(f"unknown field(s) {', '.join(map(repr, unknown)) or '(none given)'}; choose from {', '.join(FIELDS)}")
    return chosen


def _search_plan(count: int, flat_limit: int) -> dict:
    """How a field of `count` texts is searched: exact, or IVF with its list and probe counts."""
    if count <= flat_limit:
        return {"kind": "flat"}
    nlist = max(1, min(count, round(4 * math.sqrt(count))))
    return {"kind": "ivf", "nlist": nlist, "nprobe": max(16, nlist // 16)}


def _build_faiss(vectors: np.ndarray, plan: dict) -> faiss.Index:
    dim = vectors.shape[1]
    index: faiss.Index
    if plan["kind"] == "flat":
        index = faiss.IndexFlatIP(dim)
    else:
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, plan["nlist"], faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = 10
        index.cp.seed = 1234
        index.cp.max_points_per_centroid = 64  # train on a sample: k-means is cheap, lists stay balanced
        index.cp.min_points_per_centroid = 1
        index.train(vectors)
        index.nprobe = plan["nprobe"]
    index.add(vectors)
    return index


def _backends(encoder: Encoder, previous: CompetencyIndex | None, encoded: int, reused: int) -> dict[str, int]:
    """How many distinct texts each encoder backend computed (reused vectors keep their origin)."""
    counts: dict[str, int] = {}
    if reused and previous is not None:
        before: dict[str, int] = previous.manifest.get("backends") or {previous.manifest.get("backend", "torch"): 1}
        origin = max(before, key=before.get)  # type: ignore[arg-type]  # mypy cannot choose among dict.get's overloads for a key
        counts[origin] = reused
    if encoded:
        name = getattr(encoder, "backend", "torch")
        counts[name] = counts.get(name, 0) + encoded
    return counts


def _all_vectors(index: faiss.Index) -> np.ndarray:
    """Every vector stored in a flat or IVF-flat index, in id order."""
    if isinstance(index, faiss.IndexIVF):
        index.make_direct_map()
    return index.reconstruct_n(0, index.ntotal)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class CompetencyIndex:
    """Vectors of every text of a framework's skills, searchable per competency."""

    def __init__(
        self,
        manifest: dict,
        entries: list[IndexEntry],
        indexes: dict[str, faiss.Index],
        vectors: np.ndarray,
        folder: Path | None = None,
    ) -> None:
        self.manifest = manifest
        self.entries = entries
        self._indexes = indexes  # filled on first search when read from `folder`
        self._folder = folder
        self._faiss_lock = threading.Lock()
        self._vectors = vectors
        if self._vectors.flags.writeable:
            self._vectors.flags.writeable = False
        self.fields: tuple[str, ...] = tuple(manifest["fields"])
        self._start: dict[str, int] = {}
        position = 0
        for name in self.fields:
            self._start[name] = position
            position += manifest["field_counts"][name]
        self._rows_by_iri: dict[str, list[int]] = {}
        for row, entry in enumerate(entries):
            self._rows_by_iri.setdefault(entry.iri, []).append(row)
        self.reused = int(manifest.get("reused", 0))
        self.encoded = int(manifest.get("encoded", 0))

    def __repr__(self) -> str:
        m = self.manifest
        return f"CompetencyIndex({m['framework_id']!r}, {m['model']!r}, {m['vector_count']} vectors)"

    # -- building ----------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        framework: Framework,
        encoder: Encoder,
        *,
        fields: Sequence[str] = FIELDS,
        previous: CompetencyIndex | None = None,
        progress: bool = False,
        flat_limit: int = FLAT_LIMIT,
        fingerprint: str | None = None,
    ) -> CompetencyIndex:
        """Embed the framework's skill texts and index them.

        With `previous` (built with the same model), texts it already holds keep their
        vectors and only new texts are encoded.
        """
        started = time.perf_counter()
        fields = _check_fields(fields)
        entries = framework_entries(framework, fields)
        unique = list(dict.fromkeys(e.text for e in entries))
        known = previous._text_rows() if previous is not None and previous._same_model(encoder) else {}
        missing = [i for i, text in enumerate(unique) if text not in known]
        reused = [i for i, text in enumerate(unique) if text in known]
        table = np.zeros((len(unique), encoder.dimension), dtype=np.float32)
        if reused:
            assert previous is not None  # only a previous index makes texts known
            table[reused] = previous._vectors[[known[unique[i]] for i in reused]]
        if missing:
            table[missing] = encoder.encode([unique[i] for i in missing], progress=progress)
        slot = {text: i for i, text in enumerate(unique)}
        vectors = np.ascontiguousarray(table[[slot[e.text] for e in entries]])
        counts = {name: sum(1 for e in entries if e.field == name) for name in fields}
        indexes, plans, start = {}, {}, 0
        for name in fields:
            part = vectors[start : start + counts[name]]
            plans[name] = _search_plan(counts[name], flat_limit)
            indexes[name] = _build_faiss(part, plans[name])
            start += counts[name]
        manifest = {
            "format": FORMAT,
            "model": encoder.name,
            "model_checksum": encoder.checksum,
            "backends": _backends(encoder, previous, len(missing), len(reused)),  # what computed the vectors
            "dimension": int(vectors.shape[1]),
            "framework_id": framework.id,
            "framework_iri": framework.iri,
            "framework_version": framework.version,
            "framework_sha256": fingerprint,  # the normalized framework it was built from (when cached)
            "competency_count": len(framework.skills()),
            "vector_count": len(entries),
            "fields": list(fields),
            "field_counts": counts,
            "search": plans,
            "content_checksum": content_checksum(entries),
            "encoded": len(missing),
            "reused": len(reused),
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - started, 2),
            "files": {},
        }
        return cls(manifest, entries, indexes, vectors)

    def _same_model(self, encoder: Encoder) -> bool:
        m = self.manifest
        return m["model"] == encoder.name and m["model_checksum"] == encoder.checksum

    def _text_rows(self) -> dict[str, int]:
        """Each distinct text and one row holding its vector."""
        rows: dict[str, int] = {}
        for row, entry in enumerate(self.entries):
            rows.setdefault(entry.text, row)
        return rows

    # -- files -------------------------------------------------------------------------------

    @staticmethod
    def folder_for(home: Path, framework_id: str, model_name: str) -> Path:
        """Where the index of a framework for a model lives: home/<framework>/<model slug>/."""
        return Path(home) / framework_id / model_slug(model_name)

    def save(self, folder: Path) -> None:
        """Write the index files, then the manifest with their checksums (written last)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        files = {}
        lines = orjson.dumps([[e.iri, e.field, e.text] for e in self.entries])
        _write_atomic(folder / ENTRIES, lines)
        files[ENTRIES] = hashlib.sha256(lines).hexdigest()
        tmp = folder / (VECTORS + ".tmp")
        with open(tmp, "wb") as handle:
            np.save(handle, np.ascontiguousarray(self._vectors, dtype=np.float32), allow_pickle=False)
        os.replace(tmp, folder / VECTORS)
        files[VECTORS] = file_sha256(folder / VECTORS)
        for name in self.fields:
            index = self._faiss(name)
            path = folder / f"{name}.faiss"
            tmp = path.with_name(path.name + ".tmp")
            faiss.write_index(index, str(tmp))
            os.replace(tmp, path)
            files[path.name] = file_sha256(path)
        self.manifest["files"] = files
        (folder / LEGACY_ENTRIES).unlink(missing_ok=True)
        _write_atomic(folder / MANIFEST, orjson.dumps(self.manifest, option=orjson.OPT_INDENT_2) + b"\n")

    @classmethod
    def load(cls, folder: Path, framework: Framework, encoder: Encoder, *, fingerprint: str | None = None) -> CompetencyIndex:
        """Read a saved index; refuse it if it does not fit the framework or model, or was altered.

        `fingerprint` (the sha256 of the normalized framework, `FrameworkStore.fingerprint`) equal to
        the one the index was built from proves the framework's texts unchanged; without it they
        are compared text by text."""
        folder = Path(folder)
        manifest = _read_manifest(folder)
        _check_format(folder, manifest)
        _check_model(folder, manifest, encoder, dimension=True)
        _check_framework(folder, manifest, framework)
        index = cls._read(folder, manifest)
        if fingerprint is None or manifest.get("framework_sha256") != fingerprint:
            expected = content_checksum(framework_entries(framework, index.fields))
            if expected != manifest["content_checksum"]:
                _refuse(folder, "the framework's texts changed since the index was built")
        return index

    @classmethod
    def load_unchecked(cls, folder: Path, encoder: Encoder) -> CompetencyIndex:
        """Read a saved index built with this model, whatever framework it fits (for reuse)."""
        folder = Path(folder)
        manifest = _read_manifest(folder)
        if manifest["format"] not in (1, FORMAT):
            _check_format(folder, manifest)
        _check_model(folder, manifest, encoder, dimension=False)
        return cls._read(folder, manifest)

    @classmethod
    def _read(cls, folder: Path, manifest: dict) -> CompetencyIndex:
        if manifest["format"] == 1:
            return cls._read_legacy(folder, manifest)
        _check_files(folder, manifest)
        entries = _read_entries(folder / ENTRIES)
        if content_checksum(entries) != manifest["content_checksum"] or len(entries) != manifest["vector_count"]:
            _refuse(folder, f"{ENTRIES} does not match the manifest")
        try:
            vectors = np.load(folder / VECTORS, mmap_mode="r", allow_pickle=False)
        except ValueError:
            _refuse(folder, f"{VECTORS} is not a NumPy array file")
        if vectors.shape != (len(entries), manifest["dimension"]) or vectors.dtype != np.float32:
            _refuse(folder, f"{VECTORS} holds {vectors.shape} {vectors.dtype}, not as the manifest says")
        return cls(manifest, entries, {}, vectors, folder)

    @classmethod
    def _read_legacy(cls, folder: Path, manifest: dict) -> CompetencyIndex:
        """A format-1 index (vectors inside the FAISS files), read only so a rebuild reuses them."""
        _check_files(folder, manifest, [LEGACY_ENTRIES, *(f"{name}.faiss" for name in manifest["fields"])])
        with open(folder / LEGACY_ENTRIES, "rb") as handle:
            entries = [IndexEntry(item["iri"], item["field"], item["text"]) for item in map(orjson.loads, handle)]
        parts = [_all_vectors(_read_faiss(folder, name, manifest)) for name in manifest["fields"]]
        dim = manifest["dimension"]
        vectors = np.ascontiguousarray(np.concatenate(parts) if parts else np.zeros((0, dim)), dtype=np.float32)
        return cls(manifest, entries, {}, vectors, folder)

    def _faiss(self, name: str) -> faiss.Index:
        """The FAISS index of a field, read from disk on first use."""
        index = self._indexes.get(name)
        if index is None:
            with self._faiss_lock:
                index = self._indexes.get(name)
                if index is None:
                    assert self._folder is not None
                    index = self._indexes[name] = _read_faiss(self._folder, name, self.manifest)
        return index

    # -- search ------------------------------------------------------------------------------

    def vectors(self) -> np.ndarray:
        """All text vectors, one row per entry (read-only)."""
        return self._vectors

    def search_rows(
        self, queries: np.ndarray, n: int, *, fields: Sequence[str] | None = None,
        per_field: dict[str, int] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The n nearest texts of each query: (scores, entry rows), best first, rows -1 past the end.
        `per_field` caps what a field contributes (a field with one text per competency needs no
        more rows than competencies wanted)."""
        queries = self._queries(queries)
        names = self._fields(fields)
        n = max(0, int(n))
        if n == 0 or not len(queries):
            return np.zeros((len(queries), n), np.float32), np.full((len(queries), n), -1, np.int64)
        all_scores, all_rows = [], []
        for name in names:
            index = self._faiss(name)
            take = min(n, (per_field or {}).get(name, n), index.ntotal)
            if take == 0:
                continue
            plan = self.manifest["search"][name]
            params = faiss.SearchParametersIVF(nprobe=plan["nprobe"]) if plan["kind"] == "ivf" else None  # type: ignore[call-arg]  # faiss's stubs omit the keyword constructor its wrapper adds
            scores, local = index.search(queries, take, params=params)
            all_scores.append(scores)
            all_rows.append(np.where(local >= 0, local + self._start[name], -1))
        if not all_scores:
            return np.full((len(queries), n), -np.inf, np.float32), np.full((len(queries), n), -1, np.int64)
        scores = np.concatenate(all_scores, axis=1)
        rows = np.concatenate(all_rows, axis=1)
        scores = np.where(rows >= 0, scores, -np.inf).astype(np.float32)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :n]
        scores = np.take_along_axis(scores, order, axis=1)
        rows = np.take_along_axis(rows, order, axis=1)
        if rows.shape[1] < n:
            pad = n - rows.shape[1]
            scores = np.pad(scores, ((0, 0), (0, pad)), constant_values=-np.inf)
            rows = np.pad(rows, ((0, 0), (0, pad)), constant_values=-1)
        return scores, rows

    def search(
        self,
        queries: np.ndarray,
        k: int,
        *,
        fields: Sequence[str] | None = None,
        per_query_texts: int = 200,
    ) -> list[list[TextHit]]:
        """Per query, the top-k competencies by their best text (within `fields`), best first.

        The nearest `per_query_texts` texts are fetched; when they name fewer than k
        competencies, more are fetched until k are found or the texts run out.
        """
        queries = self._queries(queries)
        names = self._fields(fields)
        available = sum(self.manifest["field_counts"][name] for name in names)
        results: list[list[TextHit]] = [[] for _ in range(len(queries))]
        if k <= 0:
            return results
        pending = list(range(len(queries)))
        fetch = max(per_query_texts, k)
        while pending:
            scores, rows = self.search_rows(queries[pending], fetch, fields=names)
            still = []
            for slot, q in enumerate(pending):
                results[q] = self._best_per_competency(scores[slot], rows[slot], k)
                if len(results[q]) < k and fetch < available:
                    still.append(q)
            pending, fetch = still, fetch * 4
        return results

    def _best_per_competency(self, scores: np.ndarray, rows: np.ndarray, k: int) -> list[TextHit]:
        hits: list[TextHit] = []
        seen: set[str] = set()
        for score, row in zip(scores.tolist(), rows.tolist()):
            if row < 0:
                break
            entry = self.entries[row]
            if entry.iri in seen:
                continue
            seen.add(entry.iri)
            hits.append(TextHit(entry.iri, float(score), entry.field, entry.text))
            if len(hits) == k:
                break
        return hits

    def entries_for(self, iri: str) -> list[IndexEntry]:
        """That competency's indexed texts, in index order."""
        return [self.entries[row] for row in self._rows(iri)]

    def pref_label_matrix(self) -> tuple[list[str], np.ndarray]:
        """IRIs and preferred-label vectors of every competency, for a plain-cosine baseline."""
        if "pref_label" not in self.fields:
            raise IndexNotReady("this index has no preferred labels; build it with the pref_label field")
        start = self._start["pref_label"]
        stop = start + self.manifest["field_counts"]["pref_label"]
        return [e.iri for e in self.entries[start:stop]], self._vectors[start:stop]

    def _rows(self, iri: str) -> list[int]:
        rows = self._rows_by_iri.get(iri)
        if rows is None:
            raise IndexNotReady(f"{iri} is not in the {self.manifest['framework_id']} index")
        return rows

    def _fields(self, fields: Sequence[str] | None) -> tuple[str, ...]:
        if fields is None:
            return self.fields
        chosen = tuple(dict.fromkeys(fields))
        unknown = [f for f in chosen if f not in self.fields]
        if unknown:
            raise IndexNotReady(f"field(s) {', '.join(map(repr, unknown))} not in this index; it has {', '.join(self.fields)}")
        return chosen

    def _queries(self, queries: np.ndarray) -> np.ndarray:
        queries = np.asarray(queries, dtype=np.float32)
        if queries.ndim == 1:
            queries = queries[None, :]
        if queries.ndim != 2 or queries.shape[1] != self.manifest["dimension"]:
            raise IndexNotReady(
                f"query vectors have shape {queries.shape}; this index needs dimension {self.manifest['dimension']}"
            )
        return np.ascontiguousarray(queries)


# -- checks on load ----------------------------------------------------------------------------


def _refuse(folder: Path, what: str) -> None:
    raise IndexNotReady(f"{what}; {REBUILD}", path=str(folder))


def _read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        raise IndexNotReady(f"no index here (no {MANIFEST}); {REBUILD}", path=str(folder))
    try:
        manifest = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        raise IndexNotReady(f"{MANIFEST} is not valid JSON; {REBUILD}", path=str(folder)) from None
    needed = ("format", "model", "model_checksum", "dimension", "framework_iri", "framework_version",
              "competency_count", "vector_count", "fields", "field_counts", "search", "content_checksum", "files")
    if not isinstance(manifest, dict) or any(key not in manifest for key in needed):
        _refuse(folder, f"{MANIFEST} is incomplete")
    return manifest


def _check_format(folder: Path, manifest: dict) -> None:
    if manifest["format"] != FORMAT:
        _refuse(folder, f"index format {manifest['format']} is not the current format {FORMAT}")


def _differs(folder: Path, what: str, built: object, now: object) -> None:
    raise IndexNotReady(f"index was built for {what} {built!r} but it is now {now!r}; {REBUILD}", path=str(folder))


def _check_model(folder: Path, manifest: dict, encoder: Encoder, *, dimension: bool) -> None:
    if manifest["model"] != encoder.name:
        _differs(folder, "model", manifest["model"], encoder.name)
    if manifest["model_checksum"] != encoder.checksum:
        _differs(folder, "model checksum", manifest["model_checksum"], encoder.checksum)
    if dimension and manifest["dimension"] != encoder.dimension:
        _differs(folder, "model dimension", manifest["dimension"], encoder.dimension)


def _check_framework(folder: Path, manifest: dict, framework: Framework) -> None:
    pairs = (
        ("framework", manifest.get("framework_id"), framework.id),
        ("framework IRI", manifest["framework_iri"], framework.iri),
        ("framework version", manifest["framework_version"], framework.version),
        ("competency count", manifest["competency_count"], len(framework.skills())),
    )
    for what, built, now in pairs:
        if built != now:
            _differs(folder, what, built, now)


def _check_files(folder: Path, manifest: dict, needed: list[str] | None = None) -> None:
    files = manifest["files"]
    needed = needed or [ENTRIES, VECTORS, *(f"{name}.faiss" for name in manifest["fields"])]
    for name in needed:
        path = folder / name
        if name not in files:
            _refuse(folder, f"{MANIFEST} lists no checksum for {name}")
        if not path.is_file():
            _refuse(folder, f"{name} is missing")
        if file_sha256(path) != files[name]:
            _refuse(folder, f"{name} is corrupt or was modified (sha256 differs from the manifest)")


def _read_entries(path: Path) -> list[IndexEntry]:
    was_enabled = gc.isenabled()
    gc.disable()  # many small objects at once: the collector would only slow this down
    try:
        items = orjson.loads(path.read_bytes())
        return [IndexEntry(iri, field, text) for iri, field, text in items]
    except (orjson.JSONDecodeError, TypeError, ValueError):
        raise IndexNotReady(f"not a list of index entries; {REBUILD}", path=str(path)) from None
    finally:
        if was_enabled:
            gc.enable()


def _read_faiss(folder: Path, name: str, manifest: dict) -> faiss.Index:
    try:
        index = faiss.read_index(str(folder / f"{name}.faiss"))
    except RuntimeError:
        _refuse(folder, f"{name}.faiss is not a FAISS index")
    if index.ntotal != manifest["field_counts"][name] or index.d != manifest["dimension"]:
        _refuse(folder, f"{name}.faiss holds {index.ntotal} vectors of dimension {index.d}, not as the manifest says")
    return index
