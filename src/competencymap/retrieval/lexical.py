"""Lexical retrieval over competency labels: BM25 and exact label hits.

Two views of the same labels (preferred, alternative and hidden labels, plus a derived
``pref_label_head`` alias "Java" for a preferred label "Java (computer programming)"):

* :meth:`LexicalIndex.bm25` ranks competencies by BM25 (``bm25s``) over label texts,
  stemmed with the Snowball English stemmer (PyStemmer), one score per competency: the
  best of its labels.
* :meth:`LexicalIndex.exact` finds every label that occurs in a text as a whole-token
  phrase, case-insensitively, longest match first, by looking up the text's n-grams in a
  dictionary keyed by normalised token tuples.

Tokens keep the characters that make tool names: ``c++``, ``c#``, ``.net``, ``node.js``,
``asp.net``, ``3.11``, ``r&d``; hyphens and slashes separate tokens on both sides, so
"problem-solving" matches "problem solving". "Java" never matches inside "JavaScript".

Exact-hit scores (0..1) measure how specific the label is: longer labels score higher; a
label shared by several competencies is divided by the square root of their number; a
one-word label that is also an everyday word scores low. A word counts as everyday when
it is a stopword, in :data:`COMMON_WORDS`, or written in lower case in the texts of at
least :data:`LOWERCASE_COMMON` competencies of the framework (tool and product names such
as Java or PostgreSQL are written capitalised there). Such a one-word label written with
capitals ("Access", "IT", "Scratch"), and any one-letter label ("R"), only matches the
same capitalisation in the text, so "access to data" or "from scratch" do not hit; labels
that are only stopwords and have no capitals are never matched.
"""

from __future__ import annotations

import gc
import math
import os
import re
import shutil
import tempfile
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import bm25s
import numpy as np
import orjson
import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_EN_PLUS

from competencymap._common.checksum import file_sha256
from competencymap._common.errors import CompetencyMapError
from competencymap.model.framework import Competency, Framework

FIELDS = ("pref_label", "alt_label", "hidden_label", "description")
LEXICAL_FORMAT = 1
MANIFEST_FILE = "manifest.json"
EXACT_FILE = "exact.json"
DOCS_FILE = "docs.json"
DOC_COMPETENCY_FILE = "doc_competency.npy"
BM25_FOLDER = "bm25"
DEFAULT_FIELDS = ("pref_label", "alt_label", "hidden_label")
HEAD_FIELD = "pref_label_head"

#: Weight of a hit by the field of the label it came through.
FIELD_WEIGHTS = {
    "pref_label": 1.0,
    HEAD_FIELD: 0.95,
    "alt_label": 0.9,
    "hidden_label": 0.7,
    "description": 0.5,
}
FIELD_ORDER = ("pref_label", HEAD_FIELD, "alt_label", "hidden_label", "description")
_RANK = {field: rank for rank, field in enumerate(FIELD_ORDER)}

#: Everyday English words that frameworks also use as tool or product names.
COMMON_WORDS = frozenset(
    "absorb access assembly basic canvas chef confluence curl eclipse excel go hack mocha office "
    "outlook project puppet rage ripple ruby rudder salt scratch shiva source spring swift teams "
    "trojan unity word".split()
)
#: A word written in lower case in this many competencies' texts is an everyday word.
LOWERCASE_COMMON = 3

_TOKEN = re.compile(r"\.?[^\W_]+(?:[.'’&][^\W_]+)*(?:\+\+|\+|#)?")
_BREAK = re.compile(r"[.;:!?()\[\]{}\"“”|•\n\r\t]")
_PARENTHESISED = re.compile(r"^\s*(.+?)\s*\(([^()]+)\)\s*$")
_STOPWORDS = frozenset(STOPWORDS_EN_PLUS)
_BM25_STOPWORDS = frozenset(STOPWORDS_EN)


class Token(NamedTuple):
    norm: str
    start: int
    end: int
    surface: str
    breaks_before: bool  # punctuation such as '.', ';', '(' between this token and the last


@dataclass(frozen=True)
class LexicalHit:
    """A competency found lexically.

    ``span`` is the character range of the matched label in the text given to
    :meth:`LexicalIndex.exact`; it is None for BM25 hits. ``text`` is the label matched.
    """

    iri: str
    score: float
    field: str
    text: str
    span: tuple[int, int] | None


class _Entry(NamedTuple):
    iri: str
    field: str
    label: str
    score: float
    surface: str | None  # required capitalisation of a one-word label, or None


# --- tokens -----------------------------------------------------------------------------


@lru_cache(maxsize=1 << 17)
def _fold(word: str) -> str:
    word = word.casefold().replace("’", "'")
    if not word.isascii():
        word = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    return word


def _surfaces(text: str) -> list[str]:
    """The tokens of ``text`` as written (possessive 's cut), without spans: fast."""
    return [w[:-2] if w[-2:] in ("'s", "’s") and len(w) > 2 else w for w in _TOKEN.findall(text)]


def tokenize(text: str) -> list[Token]:
    """Normalised tokens of ``text`` with their character spans."""
    tokens: list[Token] = []
    previous_end = 0
    for match in _TOKEN.finditer(text):
        surface = match.group()
        end = match.end()
        if surface[-2:] in ("'s", "’s") and len(surface) > 2:
            surface, end = surface[:-2], end - 2
        gap_break = bool(tokens) and _BREAK.search(text, previous_end, match.start()) is not None
        tokens.append(Token(_fold(surface), match.start(), end, surface, gap_break))
        previous_end = match.end()
    return tokens


_STEMMER = Stemmer.Stemmer("english")


@lru_cache(maxsize=1 << 17)
def _stem(word: str) -> str:
    return _STEMMER.stemWord(word) if word.isalpha() else word


def bm25_tokens(text: str) -> list[str]:
    """Tokens for BM25: normalised, stopwords removed, alphabetic words stemmed."""
    return _bm25_words(_surfaces(text))


def _bm25_words(surfaces: Iterable[str]) -> list[str]:
    words = (_fold(w) for w in surfaces)
    return [_stem(w) for w in words if w not in _BM25_STOPWORDS]


def _head(label: str) -> str | None:
    """'Java' for 'Java (computer programming)'; None when the label has no qualifier."""
    match = _PARENTHESISED.match(label)
    if not match or not match.group(1).strip():
        return None
    return match.group(1).strip()


# --- the index --------------------------------------------------------------------------


class LexicalIndex:
    """BM25 and exact-phrase lookup over the labels of one framework's competencies."""

    def __init__(self, labels: list[tuple[str, str, str]], texts: Iterable[str] = ()) -> None:
        """Index (iri, field, label) triples; ``texts`` (one per competency) tell which words
        are everyday words. Prefer :meth:`build`."""
        ordered = sorted(labels, key=lambda triple: _RANK[triple[1]])
        words = [tuple(_surfaces(text)) for _, _, text in ordered]
        self._phrases: dict[tuple[str, ...], list[_Entry]] = {}
        self._prefixes: set[tuple[str, ...]] = set()
        self._frequency: dict[tuple[str, ...], int] = {}
        self._build_exact(ordered, words, texts)
        self._build_bm25(ordered, words)

    @classmethod
    def build(
        cls,
        framework: Framework,
        *,
        fields: Iterable[str] = DEFAULT_FIELDS,
        include_groups: bool = False,
    ) -> LexicalIndex:
        """Index the labels of ``framework``'s competencies (skill groups only on request).

        ``fields`` may name pref_label, alt_label, hidden_label and description; a
        description only feeds BM25, never exact hits. With pref_label, a preferred label
        "X (qualifier)" also gives the alias "X" (field 'pref_label_head').
        """
        fields = tuple(fields)
        unknown = [f for f in fields if f not in FIELDS]
        if unknown or not fields:
            raise CompetencyMapError(
                f"unknown label field(s) {', '.join(map(repr, unknown)) or '(none given)'}: "
                f"use {', '.join(FIELDS)}"
            )
        competencies = [c for c in framework.competencies.values() if include_groups or not c.is_group]
        labels = [triple for c in competencies for triple in _labels_of(c, fields)]
        texts = (" ".join((c.pref_label, *c.alt_labels, *c.hidden_labels, c.description))
                 for c in framework.competencies.values())
        return cls(labels, texts)

    def __len__(self) -> int:
        return len(self._competency_iris)

    # -- files ------------------------------------------------------------------------

    def save(self, folder: Path, fingerprint: str) -> None:
        """Write the index into `folder` (replacing it), with a manifest naming `fingerprint`
        (the framework content it was built from) and the sha256 of every file."""
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
            work = Path(tmp) / "lexical"
            work.mkdir()
            exact = [[list(key), [list(e) for e in entries]] for key, entries in self._phrases.items()]
            (work / EXACT_FILE).write_bytes(orjson.dumps(exact))
            docs = {"iris": self._competency_iris, "labels": self._doc_label}
            (work / DOCS_FILE).write_bytes(orjson.dumps(docs))
            np.save(work / DOC_COMPETENCY_FILE, self._doc_competency, allow_pickle=False)
            if self._bm25 is not None:
                self._bm25.save(str(work / BM25_FOLDER), show_progress=False)
            files = {str(p.relative_to(work)): file_sha256(p) for p in sorted(work.rglob("*")) if p.is_file()}
            manifest = {"format": LEXICAL_FORMAT, "fingerprint": fingerprint, "files": files}
            (work / MANIFEST_FILE).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(work, folder)

    @classmethod
    def load(cls, folder: Path, fingerprint: str) -> LexicalIndex | None:
        """The index saved in `folder` for this `fingerprint`, or None when absent, stale or altered."""
        folder = Path(folder)
        try:
            manifest = orjson.loads((folder / MANIFEST_FILE).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        if not isinstance(manifest, dict) or manifest.get("format") != LEXICAL_FORMAT:
            return None
        if manifest.get("fingerprint") != fingerprint:
            return None
        for name, digest in manifest.get("files", {}).items():
            path = folder / name
            if not path.is_file() or file_sha256(path) != digest:
                return None
        return cls._read(folder)

    @classmethod
    def _read(cls, folder: Path) -> LexicalIndex:
        was_enabled = gc.isenabled()
        gc.disable()  # many small objects at once: the collector would only slow this down
        try:
            return cls._read_files(folder)
        finally:
            if was_enabled:
                gc.enable()

    @classmethod
    def _read_files(cls, folder: Path) -> LexicalIndex:
        self = cls.__new__(cls)
        self._phrases = {}
        self._prefixes = set()
        for key, entries in orjson.loads((folder / EXACT_FILE).read_bytes()):
            key = tuple(key)
            self._phrases[key] = [_Entry(*e) for e in entries]
            for n in range(1, len(key)):
                self._prefixes.add(key[:n])
        docs = orjson.loads((folder / DOCS_FILE).read_bytes())
        self._competency_iris = docs["iris"]
        self._doc_label = [tuple(label) for label in docs["labels"]]
        self._doc_competency = np.load(folder / DOC_COMPETENCY_FILE, allow_pickle=False)
        bm25_folder = folder / BM25_FOLDER
        self._bm25 = bm25s.BM25.load(str(bm25_folder), allow_pickle=False) if bm25_folder.is_dir() else None
        self._lowercase = {}
        return self

    # -- exact ------------------------------------------------------------------------

    def _build_exact(
        self, labels: list[tuple[str, str, str]], words: list[tuple[str, ...]], texts: Iterable[str]
    ) -> None:
        keyed: dict[tuple[str, ...], dict[str, tuple[str, str, tuple[str, ...]]]] = defaultdict(dict)
        for (iri, field, text), surfaces in zip(labels, words):
            if field == "description":
                continue
            key = tuple(_fold(w) for w in surfaces)
            if not key or all(word in _STOPWORDS for word in key) and not _has_capital(surfaces):
                continue
            keyed[key].setdefault(iri, (field, text, surfaces))  # labels come best field first
        self._lowercase = _lowercase_counts(texts, {key[0] for key in keyed if len(key) == 1})
        for key, by_iri in keyed.items():
            self._frequency[key] = len(by_iri)
            entries = [self._entry(key, iri, *value) for iri, value in by_iri.items()]
            self._phrases[key] = sorted(entries, key=lambda e: (-e.score, e.iri))
            for n in range(1, len(key)):
                self._prefixes.add(key[:n])

    def _entry(self, key: tuple[str, ...], iri: str, field: str, text: str, tokens: tuple[str, ...]) -> _Entry:
        common = self._commonness(key)
        surface = None
        if len(key) == 1 and (common < 1.0 or len(key[0]) == 1) and _has_capital(tokens):
            surface = tokens[0]
        if len(key) == 1:
            chars = len(key[0])
            length = 0.3 if chars == 1 else 0.5 if chars <= 3 else 0.6
        else:
            length = min(0.95, 0.6 + 0.15 * (len(key) - 1))
        score = length * common * FIELD_WEIGHTS[field] / math.sqrt(self._frequency[key])
        return _Entry(iri, field, text, round(score, 4), surface)

    def _commonness(self, key: tuple[str, ...]) -> float:
        """1.0 for a specific label; lower for a one-word label that is an everyday word."""
        if len(key) != 1:
            return 1.0
        word = key[0]
        if word in _STOPWORDS or word in COMMON_WORDS:
            return 0.3
        count = self._lowercase.get(word, 0)
        if count < LOWERCASE_COMMON:
            return 1.0
        return max(0.3, 1.0 / (1.0 + 0.25 * math.log2(1 + count)))

    def exact(self, text: str, *, nested: bool = False) -> list[LexicalHit]:
        """Competencies whose labels occur in ``text`` as whole-token phrases, best first.

        Overlapping matches are resolved longest first ("Microsoft Access" wins over
        "Access" inside it) unless ``nested`` is true. Each competency appears once, with
        its best-scoring occurrence; ``span`` is that occurrence's character range.
        """
        tokens = tokenize(text)
        matches = self._matches(tokens)
        if not nested:
            matches = _longest_first(matches)
        best: dict[str, LexicalHit] = {}
        for i, n, entries in matches:
            span = (tokens[i].start, tokens[i + n - 1].end)
            for entry in entries:
                hit = LexicalHit(entry.iri, entry.score, entry.field, entry.label, span)
                current = best.get(entry.iri)
                if current is None or (hit.score, -span[0]) > (current.score, -current.span[0]):  # type: ignore[index]
                    best[entry.iri] = hit
        return sorted(best.values(), key=lambda h: (-h.score, h.span[0], h.iri))  # type: ignore[index]

    def _matches(self, tokens: list[Token]) -> list[tuple[int, int, list[_Entry]]]:
        """(first token, length, entries) for every label n-gram found in ``tokens``."""
        found: list[tuple[int, int, list[_Entry]]] = []
        words = [t.norm for t in tokens]
        phrases, prefixes = self._phrases, self._prefixes
        for i in range(len(words)):
            for j in range(i + 1, len(words) + 1):
                if j - 1 > i and tokens[j - 1].breaks_before:
                    break
                key = tuple(words[i:j])
                entries = phrases.get(key)
                if entries:
                    entries = [e for e in entries if e.surface is None or e.surface == tokens[i].surface]
                    if entries:
                        found.append((i, j - i, entries))
                if key not in prefixes:
                    break
        return found

    # -- BM25 -------------------------------------------------------------------------

    def _build_bm25(self, labels: list[tuple[str, str, str]], words: list[tuple[str, ...]]) -> None:
        iris: list[str] = []
        position: dict[str, int] = {}
        vocabulary: dict[str, int] = {}
        docs: list[list[int]] = []
        doc_competency: list[int] = []
        doc_label: list[tuple[str, str]] = []
        seen: set[tuple[str, tuple[int, ...]]] = set()
        for (iri, field, text), surfaces in zip(labels, words):
            if iri not in position:
                position[iri] = len(iris)
                iris.append(iri)
            ids = [vocabulary.setdefault(token, len(vocabulary)) for token in _bm25_words(surfaces)]
            if not ids or (iri, tuple(ids)) in seen:
                continue
            seen.add((iri, tuple(ids)))
            docs.append(ids)
            doc_competency.append(position[iri])
            doc_label.append((field, text))
        self._competency_iris = iris
        self._doc_competency = np.asarray(doc_competency, dtype=np.int64)
        self._doc_label = doc_label
        self._bm25: bm25s.BM25 | None = None
        if docs:
            vocabulary.setdefault("", len(vocabulary))
            self._bm25 = bm25s.BM25()
            self._bm25.index((docs, vocabulary), show_progress=False)

    def bm25_top(self, query: str, k: int = 100) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` competencies whose best label scores highest for ``query`` by BM25, as arrays:
        their numbers in :attr:`competency_iris` and their scores, best first."""
        empty = np.zeros(0, np.int64), np.zeros(0, np.float32)
        if self._bm25 is None or k <= 0:
            return empty
        vocabulary = self._bm25.vocab_dict
        words = [w for w in bm25_tokens(query) if w in vocabulary]
        if not words:
            return empty
        return self._top_competencies(self._bm25.get_scores(words), k)

    @property
    def competency_iris(self) -> list[str]:
        """The competencies in the order of :meth:`bm25_top`'s numbers."""
        return self._competency_iris

    def _top_competencies(self, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Each competency's best label document (ties: the first), the ``k`` best competencies
        by it: (competency numbers, scores), best first."""
        docs = np.flatnonzero(scores > 0)
        if not len(docs):
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        owners = self._doc_competency[docs]
        order = np.lexsort((docs, -scores[docs], owners))  # by competency, best document first
        first = order[np.r_[True, owners[order][1:] != owners[order][:-1]]]
        best_docs = docs[first]
        ranked = best_docs[np.lexsort((best_docs, -scores[best_docs]))][:k]
        return self._doc_competency[ranked].astype(np.int64), scores[ranked].astype(np.float32)


# --- building helpers ------------------------------------------------------------------


def _labels_of(competency: Competency, fields: tuple[str, ...]) -> list[tuple[str, str, str]]:
    iri = competency.iri
    out: list[tuple[str, str, str]] = []
    if "pref_label" in fields and competency.pref_label:
        out.append((iri, "pref_label", competency.pref_label))
        head = _head(competency.pref_label)
        if head:
            out.append((iri, HEAD_FIELD, head))
    if "alt_label" in fields:
        out += [(iri, "alt_label", label) for label in competency.alt_labels if label]
    if "hidden_label" in fields:
        out += [(iri, "hidden_label", label) for label in competency.hidden_labels if label]
    if "description" in fields and competency.description:
        out.append((iri, "description", competency.description))
    return out


_PLAIN_WORD = re.compile(r"[^\W_]+")


def _lowercase_counts(texts: Iterable[str], words: set[str]) -> dict[str, int]:
    """For each of ``words``, in how many texts it is written in lower case."""
    counts = dict.fromkeys(words, 0)
    for text in texts:
        for word in set(_PLAIN_WORD.findall(text)):
            if word in counts and word.islower():
                counts[word] += 1
    return counts


def _has_capital(words: Iterable[str]) -> bool:
    return any(not word.islower() and word.upper() != word.lower() for word in words)


def _longest_first(matches: list[tuple[int, int, list[_Entry]]]) -> list[tuple[int, int, list[_Entry]]]:
    """Keep matches that do not overlap a longer (or earlier, equally long) match."""
    taken: set[int] = set()
    kept = []
    for i, n, entries in sorted(matches, key=lambda m: (-m[1], m[0])):
        covered = range(i, i + n)
        if any(position in taken for position in covered):
            continue
        taken.update(covered)
        kept.append((i, n, entries))
    return sorted(kept, key=lambda m: m[0])
