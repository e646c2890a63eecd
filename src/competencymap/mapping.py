"""Map text onto a framework's competencies: dense retrieval fused with lexical evidence.

For each statement the matcher scores every candidate competency with four signals:

- ``label``: the best cosine between the statement (or one of its phrases) and any of the
  competency's labels (preferred, alternative, hidden);
- ``description``: the cosine between the statement and the competency's description;
- ``bm25``: BM25 over labels, scaled to [0, 1] by the statement's best BM25 score;
- ``exact``: a label of the competency occurs verbatim in the statement (its specificity).

The final score is a weighted sum (weights in :class:`PipelineConfig`, chosen on the
validation sets; see docs/design.md). Candidates are the union of the FAISS top hits of
the statement and its phrases, the BM25 top hits and the exact hits, then re-scored exactly.
Every stage can be switched off so the benchmark can compare them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from competencymap.dense import DenseView
from competencymap.embedding import Encoder
from competencymap.index import CompetencyIndex
from competencymap.lexical import LexicalHit, LexicalIndex
from competencymap.model import Framework, Relation
from competencymap.occupation_context import OccupationContext
from competencymap.segment import Statement, segment_with_dropped
from competencymap.text import MAX_TEXT_CHARS, check_text

__all__ = ["MAX_TEXT_CHARS", "check_text", "Evidence", "Match", "MappingResult", "PipelineConfig"]

LABEL_FIELDS = ("pref_label", "alt_label", "hidden_label")


@dataclass(frozen=True)
class PipelineConfig:
    """Which stages run and how their signals are weighted. Hashable: used as a cache key."""

    label_weight: float = 1.0
    description_weight: float = 0.35
    bm25_weight: float = 0.1
    exact_weight: float = 0.25
    phrases: bool = True  # also score the statement's phrases (enumerations, clauses)
    phrase_weight: float = 0.8  # a phrase's label similarity counts this much of the statement's
    occupation_weight: float = 0.05  # occupation context (see occupation_context.py)
    candidates: int = 150  # competencies taken from each retrieval stage before re-scoring
    threshold: float = 0.85  # confidence cut-off on the final score (docs/design.md, section 8)
    # Frameworks whose scores sit on another scale get their own cut-off (short, broad labels).
    thresholds: tuple[tuple[str, float], ...] = (("sfs", 0.55),)

    def only(self, **changes: object) -> "PipelineConfig":
        return replace(self, **changes)

    def threshold_for(self, framework: str) -> float:
        return dict(self.thresholds).get(framework, self.threshold)


@dataclass(frozen=True)
class Evidence:
    """Why a competency matched: the framework text that matched and where in the input."""

    method: str  # label | description | bm25 | exact
    field: str  # pref_label, alt_label, description, ...
    text: str  # the framework text that matched
    score: float
    span: tuple[int, int] | None = None  # offsets of the matching input text
    query: str = ""  # the input text (statement or phrase) that matched


@dataclass(frozen=True)
class Match:
    iri: str
    label: str
    framework: str
    score: float
    kind: str = ""
    confident: bool = False
    evidence: tuple[Evidence, ...] = ()
    signals: dict[str, float] = field(default_factory=dict, compare=False, hash=False)


Query = tuple[str, int, int, bool]  # text, start, end, is a phrase


@dataclass
class Signals:
    """One statement's candidates (positions in the dense view) and their raw signals."""

    candidates: np.ndarray
    values: dict[str, np.ndarray]
    best: dict[str, list[tuple[int, int]]]  # (entry row, query number) behind each text signal
    exact_hits: dict[int, LexicalHit]
    occupation_best: np.ndarray | None = None


@dataclass(frozen=True)
class StatementResult:
    statement: Statement
    framework: str
    matches: list[Match]


@dataclass(frozen=True)
class MappingResult:
    """A whole text mapped: per-statement matches and one aggregated profile per framework."""

    statements: list[Statement]
    results: list[StatementResult]
    profiles: dict[str, list[Match]]  # framework id -> its aggregated profile, best first
    dropped: list[Statement] = field(default_factory=list)

    @property
    def profile(self) -> list[Match]:
        """Every framework's profile, one after the other (in the order the frameworks were asked)."""
        return [m for matches in self.profiles.values() for m in matches]


_PHRASE_SPLIT = re.compile(r"\s*(?:[,;:/|()\[\]]|\s(?:and|or|as well as|&|including|such as|e\.g\.|i\.e\.)\s)\s*", re.I)


_LEADING_CONJUNCTION = re.compile(r"^(?:and|or|as well as|including|such as)\s+", re.I)


def phrases(text: str, offset: int = 0) -> list[tuple[str, int, int]]:
    """Sub-phrases of a statement split at punctuation and conjunctions, with offsets.

    A sentence naming several skills ("HTML and CSS, React or Angular") is matched phrase by
    phrase as well as whole, so each skill can find its own label.
    """
    out: list[tuple[str, int, int]] = []
    pos = 0
    for sep in [*_PHRASE_SPLIT.finditer(text), None]:
        end = sep.start() if sep else len(text)
        piece = text[pos:end]
        stripped = _LEADING_CONJUNCTION.sub("", piece.strip(" .!?-–")).strip(" .!?-–")
        if len(re.findall(r"\w", stripped)) >= 2 and stripped != text.strip():
            start = pos + piece.index(stripped)
            out.append((stripped, offset + start, offset + start + len(stripped)))
        pos = sep.end() if sep else len(text)
    return out


class FrameworkMatcher:
    """Scores one framework's competencies for statements."""

    def __init__(
        self,
        framework: Framework,
        index: CompetencyIndex,
        lexical: LexicalIndex,
        encoder: Encoder,
        config: PipelineConfig,
    ) -> None:
        self.framework = framework
        self.index = index
        self.lexical = lexical
        self.encoder = encoder
        self.config = config
        self._dense = DenseView(index)
        self._context = OccupationContext(framework, self._dense.iris)

    def rank(self, texts: Sequence[str], *, top_k: int = 10) -> list[list[Match]]:
        """The top-k competencies for each text, best first."""
        statements = [Statement(t, 0, len(t)) for t in texts]
        return self.rank_statements(statements, top_k=top_k)

    def rank_statements(
        self, statements: Sequence[Statement], *, top_k: int = 10, encoded: dict[str, np.ndarray] | None = None
    ) -> list[list[Match]]:
        """Rank each statement; `encoded` (text -> vector) is shared by matchers of one batch so a
        text is embedded once whatever the number of frameworks."""
        return [self._top(queries, found, top_k) for queries, found in self.statement_signals(statements, encoded)]

    def statement_signals(
        self, statements: Sequence[Statement], encoded: dict[str, np.ndarray] | None = None
    ) -> list[tuple[list[Query], Signals]]:
        """Each statement's queries (itself, then its phrases) and its candidates' raw signals,
        with every query embedded and searched in one batch."""
        queries, owners = self._queries(statements)
        vectors = self._encode([q[0] for q in queries], {} if encoded is None else encoded)
        rows_of: list[list[int]] = [[] for _ in statements]
        for row, owner in enumerate(owners):
            rows_of[owner].append(row)
        nearest = self._nearest(vectors)
        out = []
        for statement, rows in zip(statements, rows_of):
            mine = [queries[j] for j in rows]
            dense = set().union(*(nearest[j] for j in rows)) if nearest else set()
            out.append((mine, self._signals(statement, vectors[rows], dense)))
        return out

    def candidate_iris(self, found: Signals) -> list[str]:
        """The IRIs of a statement's candidates, in the order of its signal arrays."""
        return [self._dense.iris[int(p)] for p in found.candidates]

    def _encode(self, texts: list[str], encoded: dict[str, np.ndarray]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in encoded))
        if missing:
            encoded.update(zip(missing, self.encoder.encode(missing)))
        if not texts:
            return np.zeros((0, self.index.manifest["dimension"]), np.float32)
        return np.stack([encoded[t] for t in texts])

    def _nearest(self, vectors: np.ndarray) -> list[list[int]]:
        """Dense candidates of every query in one FAISS search (empty when dense is off)."""
        cfg = self.config
        if cfg.label_weight <= 0 and cfg.description_weight <= 0:
            return []
        return self._dense.candidates_each(vectors, cfg.candidates)

    def _queries(self, statements: Sequence[Statement]) -> tuple[list[Query], list[int]]:
        """(text, start, end, is_phrase) for every statement and, if enabled, its phrases."""
        queries: list[Query] = []
        owners: list[int] = []
        for i, s in enumerate(statements):
            queries.append((s.text, s.start, s.end, False))
            owners.append(i)
            if self.config.phrases and self.config.phrase_weight > 0:
                for text, start, end in phrases(s.text, s.start):
                    queries.append((text, start, end, True))
                    owners.append(i)
        return queries, owners

    def _signals(self, statement: Statement, vectors: np.ndarray, dense: set[int]) -> Signals:
        """Every candidate of one statement (its dense candidates, BM25 and exact hits) with
        each signal, before weighting."""
        cfg = self.config
        candidates = set(dense)
        bm25 = self.lexical.bm25(statement.text, k=cfg.candidates) if cfg.bm25_weight > 0 else []
        exact = self.lexical.exact(statement.text) if cfg.exact_weight > 0 else []
        candidates |= {self._dense.position[h.iri] for h in [*bm25, *exact] if h.iri in self._dense.position}
        cand = np.fromiter(sorted(candidates), dtype=np.int64)
        whole, whole_best = self._dense.best(vectors[:1], cand, LABEL_FIELDS, np.ones(1, np.float32))
        parts, parts_best = self._dense.best(vectors[1:], cand, LABEL_FIELDS, np.ones(len(vectors) - 1, np.float32))
        desc, desc_best = self._dense.best(vectors[:1], cand, ("description",), np.ones(1, np.float32))
        exact_score, exact_hits = _exact(exact, self._dense.position, cand)
        values = {
            "label": whole,
            "phrase": parts,
            "description": desc,
            "bm25": _scaled(bm25, self._dense.position, cand),
            "exact": exact_score,
        }
        best = {"label": whole_best, "phrase": [(r, q + 1) for r, q in parts_best], "description": desc_best}
        return Signals(cand, values, best, exact_hits)

    def _top(self, queries: list[Query], found: Signals, top_k: int) -> list[Match]:
        if not len(found.candidates):
            return []
        total = self.weigh(found)
        order = np.argsort(-total, kind="stable")[:top_k]
        return [self._match(found, int(j), float(total[j]), queries) for j in order]

    def weigh(self, found: Signals, config: PipelineConfig | None = None) -> np.ndarray:
        """The final score of every candidate: the weighted sum of the signals under `config`
        (this matcher's by default), plus the occupation signal when it is switched on."""
        cfg, v = config or self.config, found.values
        label = np.maximum(v["label"], cfg.phrase_weight * v["phrase"]) if cfg.phrases else v["label"]
        found.values["label_used"] = label
        total = (
            cfg.label_weight * label
            + cfg.description_weight * v["description"]
            + cfg.bm25_weight * v["bm25"]
            + cfg.exact_weight * v["exact"]
        )
        if cfg.occupation_weight > 0 and self._context:
            positions = found.candidates
            occupation, found.occupation_best = self._context.signal(positions, total)
            found.values["occupation"] = occupation
            total = total + cfg.occupation_weight * occupation
        return total

    def _match(self, found: Signals, j: int, score: float, queries: list[Query]) -> Match:
        pos = int(found.candidates[j])
        signals = {name: float(values[j]) for name, values in found.values.items() if name != "label_used"}
        signals["label"] = float(found.values["label_used"][j])
        competency = self.framework.competencies[self._dense.iris[pos]]
        return Match(
            iri=competency.iri,
            label=competency.pref_label,
            framework=self.framework.id,
            score=round(score, 4),
            kind=competency.kind,
            confident=score >= self.config.threshold_for(self.framework.id),
            evidence=self._evidence(found, j, queries, signals),
            signals=signals,
        )

    def _evidence(self, found: Signals, j: int, queries: list[Query], signals: dict[str, float]) -> tuple[Evidence, ...]:
        out = []
        pos = int(found.candidates[j])
        if pos in found.exact_hits:
            hit: LexicalHit = found.exact_hits[pos]
            out.append(Evidence("exact", hit.field, hit.text, signals["exact"], hit.span, hit.text))
        use_phrase = self.config.phrases and self.config.phrase_weight * found.values["phrase"][j] > found.values["label"][j]
        row, query = (found.best["phrase"] if use_phrase else found.best["label"])[j]
        if row >= 0:
            out.append(self._text_evidence("label", row, queries[query], signals["label"]))
        row, _ = found.best["description"][j]
        if row >= 0 and self.config.description_weight > 0:
            out.append(self._text_evidence("description", row, queries[0], signals["description"]))
        if signals.get("occupation", 0.0) > 0 and found.occupation_best is not None:
            column = int(found.occupation_best[j])
            occupation = self._context.occupation_iris[column]
            out.append(Evidence("occupation", "occupation", self._context.label(column), signals["occupation"],
                                query=occupation))
        return tuple(out)

    def _text_evidence(self, method: str, row: int, query: Query, score: float) -> Evidence:
        entry = self._dense.entries[row]
        return Evidence(method, entry.field, entry.text, score, (query[1], query[2]), query[0])


def _scaled(hits: list[LexicalHit], position: dict[str, int], cand: np.ndarray) -> np.ndarray:
    """BM25 scores of the candidates divided by the statement's best BM25 score."""
    out = np.zeros(len(cand), dtype=np.float32)
    if not hits:
        return out
    top = max(h.score for h in hits) or 1.0
    where = {int(p): j for j, p in enumerate(cand)}
    for h in hits:
        j = where.get(position.get(h.iri, -1))
        if j is not None:
            out[j] = max(out[j], h.score / top)
    return out


def _exact(hits: list[LexicalHit], position: dict[str, int], cand: np.ndarray) -> tuple[np.ndarray, dict[int, LexicalHit]]:
    out = np.zeros(len(cand), dtype=np.float32)
    best: dict[int, LexicalHit] = {}
    where = {int(p): j for j, p in enumerate(cand)}
    for h in hits:
        pos = position.get(h.iri, -1)
        j = where.get(pos)
        if j is not None and h.score > out[j]:
            out[j] = h.score
            best[pos] = h
    return out, best


def split_text(text: str, kind: str = "auto") -> tuple[list[Statement], list[Statement]]:
    """Statements to map and boilerplate dropped; a text with no statement maps whole."""
    check_text(text)
    statements, dropped = segment_with_dropped(text, kind=kind)
    if not statements:
        stripped = text.strip()
        start = text.index(stripped)
        statements = [Statement(stripped, start, start + len(stripped))]
    return statements, dropped


Crosswalks = dict[str, tuple[str, dict[str, list[Relation]]]]  # target id -> (source id, links by source IRI)


def map_texts(
    texts: Sequence[str],
    matchers: Sequence[FrameworkMatcher],
    *,
    top_k: int = 10,
    kind: str = "auto",
    crosswalks: Crosswalks | None = None,
) -> list[MappingResult]:
    """Map several texts at once (their statements are encoded once, in shared batches).

    With `crosswalks`, a target framework's matches also take evidence from the source
    framework's matches of the same statement (see :func:`through_crosswalk`)."""
    split = [split_text(text, kind) for text in texts]
    flat = [s for statements, _ in split for s in statements]
    encoded: dict[str, np.ndarray] = {}
    per_framework = [matcher.rank_statements(flat, top_k=top_k, encoded=encoded) for matcher in matchers]
    per_framework = _apply_crosswalks(matchers, per_framework, crosswalks or {}, top_k)
    out, pos = [], 0
    for statements, dropped in split:
        results: list[StatementResult] = []
        profiles: dict[str, list[Match]] = {}
        for matcher, ranked in zip(matchers, per_framework):
            mine = [StatementResult(s, matcher.framework.id, m) for s, m in zip(statements, ranked[pos : pos + len(statements)])]
            results += mine
            profiles[matcher.framework.id] = aggregate(mine, top_k=top_k)
        out.append(MappingResult(statements, results, profiles, dropped))
        pos += len(statements)
    return out


def _apply_crosswalks(
    matchers: Sequence[FrameworkMatcher], ranked: list[list[list[Match]]], crosswalks: Crosswalks, top_k: int
) -> list[list[list[Match]]]:
    ids = [m.framework.id for m in matchers]
    out = list(ranked)
    for target, (source, links) in crosswalks.items():
        if target in ids and source in ids:
            t, s = ids.index(target), ids.index(source)
            matcher = matchers[t]
            out[t] = [
                through_crosswalk(mine, theirs, links, matcher.framework, matcher.config.threshold_for(target), top_k)
                for mine, theirs in zip(ranked[t], ranked[s])
            ]
    return out


def through_crosswalk(
    matches: list[Match], source: list[Match], links: dict[str, list[Relation]], framework: Framework,
    threshold: float, top_k: int,
) -> list[Match]:
    """Add crosswalk evidence to a statement's matches in the target framework.

    A source match linked to a target skill supports it with score = source score x link
    score; the target's score becomes the larger of its own and that support (a skill found
    only through the crosswalk is added with the support as its score)."""
    by_iri = {m.iri: m for m in matches}
    for theirs in source:
        for link in links.get(theirs.iri, ()):
            concept = framework.competencies.get(link.target)
            if concept is None:
                continue
            support = round(theirs.score * (link.score or 0.0), 4)
            evidence = Evidence("crosswalk", link.type, theirs.label, support, query=theirs.iri)
            current = by_iri.get(link.target) or Match(concept.iri, concept.pref_label, framework.id, 0.0, concept.kind)
            score = max(current.score, support)
            by_iri[link.target] = replace(current, score=score, confident=score >= threshold,
                                          evidence=current.evidence + (evidence,))
    return sorted(by_iri.values(), key=lambda m: -m.score)[:top_k]


def map_text(text: str, matchers: Sequence[FrameworkMatcher], *, top_k: int = 10, kind: str = "auto") -> MappingResult:
    """Segment a text and map every statement onto each framework; aggregate a profile."""
    return map_texts([text], matchers, top_k=top_k, kind=kind)[0]


def aggregate(results: Sequence[StatementResult], *, top_k: int = 20) -> list[Match]:
    """One profile for a text and framework: each competency's best statement score plus a
    small bonus for every further statement that supports it, best first."""
    best: dict[str, Match] = {}
    support: dict[str, int] = {}
    for result in results:
        for match in result.matches:
            support[match.iri] = support.get(match.iri, 0) + 1
            if match.iri not in best or match.score > best[match.iri].score:
                best[match.iri] = match
    scored = sorted(
        best.values(), key=lambda m: m.score + 0.02 * (support[m.iri] - 1), reverse=True
    )
    return scored[:top_k]
