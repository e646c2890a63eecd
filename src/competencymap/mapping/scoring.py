"""Score one framework's competencies for statements: dense retrieval fused with lexical evidence.

For each statement the matcher gathers candidates — the competencies owning the nearest texts
of the statement (one FAISS search per batch), the BM25 top hits over labels and the exact
label hits — and measures for each one:

- ``label``: the best cosine between the statement and any of the competency's labels;
- ``phrase``: the same for the statement's phrases (enumerations, clauses);
- ``description``: the cosine between the statement and the competency's description;
- ``bm25``: BM25 over labels, scaled to [0, 1] by the statement's best BM25 score;
- ``exact``: a label of the competency occurs verbatim in the statement (its specificity).

`weigh` turns these `Signals` into final scores: with a learned fusion (`fusion.py`, the
default with the adapted model) the probability that the candidate is right, else a weighted sum
under the `PipelineConfig`'s hand-set weights. It is pure, so the benchmarks can try fusions
and weights on signals collected once. Every stage can be switched off so the benchmark can
compare them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import faiss
import numpy as np
from threadpoolctl import threadpool_limits

from competencymap.mapping.fusion import FEATURES, Fusion
from competencymap.mapping.ranking_cache import CAPACITY as CACHE
from competencymap.mapping.ranking_cache import RankingCache, context_key
from competencymap.mapping.results import Evidence, Match, evidence_span
from competencymap.mapping.settings import PipelineConfig
from competencymap.mapping.statement_vectors import StatementEncoder, StatementVectors
from competencymap.model.framework import KIND_KNOWLEDGE, KIND_SKILL, KIND_UNTYPED, Framework
from competencymap.retrieval.dense import DenseScores, DenseView
from competencymap.retrieval.lexical import LexicalHit, LexicalIndex
from competencymap.retrieval.vector_index import CompetencyIndex
from competencymap.statements.outcome import KNOWLEDGE, SKILL
from competencymap.statements.segment import Statement


@dataclass(frozen=True)
class Query:
    """A text scored against the framework: the statement itself or one of its phrases."""

    text: str
    start: int
    end: int
    role: str  # statement | phrase


@dataclass(frozen=True)
class Signals:
    """One statement's candidates (positions in the dense view) and their raw signals."""

    queries: tuple[Query, ...]  # the statement, then its phrases
    candidates: np.ndarray
    label: np.ndarray
    phrase: np.ndarray
    description: np.ndarray
    bm25: np.ndarray
    exact: np.ndarray
    exact_hits: dict[int, LexicalHit]  # candidate position -> its best exact hit
    dense: DenseScores | None
    verb_fit: np.ndarray  # 1 where the candidate's kind is what the statement's verbs ask for
    verbs: tuple[str, ...] = ()
    verb_class: str = ""
    context: np.ndarray | None = None  # best label similarity to the document's context vector


@dataclass(frozen=True)
class Weighted:
    """Final scores of a statement's candidates and the parts `weigh` derived on the way."""

    total: np.ndarray
    confidence: np.ndarray  # the score the threshold reads: total without context and generic exact hits
    label: np.ndarray  # the label signal used: the larger of statement and weighted phrase


class FrameworkMatcher:
    """Scores one framework's competencies for statements."""

    def __init__(
        self,
        framework: Framework,
        index: CompetencyIndex,
        lexical: LexicalIndex,
        vectors: StatementEncoder,
        config: PipelineConfig,
        *,
        rankings: RankingCache | None = None,
    ) -> None:
        self.framework = framework
        self.rankings = rankings if rankings is not None else RankingCache(min(vectors.capacity, CACHE))
        self.index = index
        self.lexical = lexical
        self.vectors = vectors
        self.config = config
        self._dense = DenseView(index, {"alt_label": config.alt_label_weight, "hidden_label": config.hidden_label_weight})
        position = self._dense.position
        self._lexical_position = np.array([position.get(iri, -1) for iri in lexical.competency_iris], np.int64)
        self._pref_vectors = self._dense.pref_vectors()
        kinds = [framework.competencies[iri].kind for iri in self._dense.iris]
        self._is_knowledge = np.array([k == KIND_KNOWLEDGE for k in kinds])
        self._is_skill = np.array([k in (KIND_SKILL, KIND_UNTYPED) for k in kinds])

    def rank(self, texts: Sequence[str], *, top_k: int = 10) -> list[list[Match]]:
        """The top-k competencies for each text, best first."""
        return self.rank_statements([Statement(t, 0, len(t)) for t in texts], top_k=top_k)

    def rank_statements(self, statements: Sequence[Statement], *, top_k: int = 10,
                        contexts: Sequence[np.ndarray | None] | None = None) -> list[list[Match]]:
        """Rank each statement (statement vectors come from the shared, cached encoder); a
        statement's context vector (see `mapping.document_contexts`) lets its document's themes
        support fitting competencies."""
        around = list(contexts) if contexts is not None else [None] * len(statements)
        keys = [(s.text, top_k, context_key(c)) for s, c in zip(statements, around)]
        out: list[list[Match] | None] = [self.rankings.get_at(k, s.start) for k, s in zip(keys, statements)]
        missing = [i for i, found in enumerate(out) if found is None]
        if missing:
            signals = self.statement_signals([statements[i] for i in missing], [around[i] for i in missing])
            with single_threaded():
                for i, item in zip(missing, signals):
                    out[i] = self._top(item, top_k)
                    self.rankings.put_at(keys[i], out[i], statements[i].start)  # type: ignore[arg-type]
        return out  # type: ignore[return-value]

    def statement_signals(self, statements: Sequence[Statement],
                          contexts: Sequence[np.ndarray | None] | None = None) -> list[Signals]:
        """Each statement's candidates and raw signals, with one FAISS search for the batch."""
        encoded = self.vectors.encode([s.text for s in statements], self.config.phrase_mode)
        queries = [_queries(s, v) for s, v in zip(statements, encoded)]
        stacked = [_stack(v) for v in encoded]
        around = list(contexts) if contexts is not None else [None] * len(statements)
        with single_threaded():
            nearest = self._nearest(stacked)
            return [self._signals(s, q, m, dense, v, c)
                    for s, q, m, dense, v, c in zip(statements, queries, stacked, nearest, encoded, around)]

    def similarity(self, iris: Sequence[str]) -> np.ndarray:
        """Pairwise cosines of competencies' preferred labels (0 for one this framework lacks)."""
        position = self._dense.position
        rows = np.array([position.get(iri, -1) for iri in iris], np.int64)
        vectors = np.where((rows >= 0)[:, None], self._pref_vectors[np.maximum(rows, 0)], 0.0)
        return vectors @ vectors.T

    def candidate_iris(self, found: Signals) -> list[str]:
        """The IRIs of a statement's candidates, in the order of its signal arrays."""
        return [self._dense.iris[int(p)] for p in found.candidates]

    def _nearest(self, stacked: list[np.ndarray]) -> list[np.ndarray]:
        """Dense candidates of each statement (the statement's own nearest texts) in one FAISS search."""
        cfg = self.config
        empty = np.zeros(0, np.int64)
        if (cfg.label_weight <= 0 and cfg.description_weight <= 0) or not stacked:
            return [empty for _ in stacked]
        wholes = self._dense.candidates_each(np.vstack([m[:1] for m in stacked]), cfg.candidates)
        return [np.unique(whole) for whole in wholes]

    def _signals(self, statement: Statement, queries: tuple[Query, ...], matrix: np.ndarray, dense: np.ndarray,
                 vectors: StatementVectors, context: np.ndarray | None = None) -> Signals:
        cfg = self.config
        text = statement.text
        bm25_ids, bm25_scores = self.lexical.bm25_top(text, k=cfg.bm25_candidates) if cfg.bm25_weight > 0 else (
            np.zeros(0, np.int64), np.zeros(0, np.float32))
        bm25_positions = self._lexical_position[bm25_ids]
        exact = self.lexical.exact(text) if cfg.exact_weight > 0 else []
        position = self._dense.position
        exact_positions = np.fromiter((position.get(h.iri, -1) for h in exact), np.int64, count=len(exact))
        lexical = np.concatenate([bm25_positions, exact_positions])
        cand = np.union1d(dense, lexical[lexical >= 0]).astype(np.int64)
        zeros = np.zeros(len(cand), np.float32)
        phrases = len(vectors.phrases)
        around = None
        if len(cand) and (cfg.label_weight > 0 or cfg.description_weight > 0):
            scores = self._dense.scores(matrix if context is None else np.vstack([matrix, context[None, :]]), cand)
            label, description = scores.label[0], scores.description[0]
            phrase = scores.label[1 : 1 + phrases].max(axis=0) if phrases else zeros
            if context is not None:
                around = np.maximum(scores.label[-1], scores.description[-1])
        else:
            scores, label, description, phrase = None, zeros, zeros, zeros
        exact_score, exact_hits = _exact(exact, exact_positions, cand)
        verb_class = vectors.parts.verb_class
        fit = self._is_knowledge if verb_class == KNOWLEDGE else self._is_skill if verb_class == SKILL else None
        verb_fit = fit[cand].astype(np.float32) if fit is not None else zeros
        return Signals(queries, cand, label, phrase, description, _scaled(bm25_positions, bm25_scores, cand),
                       exact_score, exact_hits, scores, verb_fit, vectors.parts.verbs, verb_class, around)

    def _top(self, found: Signals, top_k: int) -> list[Match]:
        if not len(found.candidates):
            return []
        weighted = self.weigh(found)
        order = np.argsort(-weighted.total, kind="stable")[:top_k]
        rows, queries = self._label_evidence_rows(found, order)
        fusion = self._fusion(self.config)
        threshold = fusion.threshold if fusion else self.config.threshold_for(self.framework.id)
        matches = [self._match(found, weighted, int(j), int(row), int(query), threshold)
                   for j, row, query in zip(order, rows, queries)]
        return runner_ups_not_confident(matches)

    def _label_evidence_rows(self, found: Signals, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For the shown candidates: the label (entry row) and query behind each one's label signal,
        found for all of them at once. The query is the one whose weighted score the signal took:
        the statement or one of its phrases."""
        none = np.full(len(order), -1, np.int64)
        if found.dense is None or not len(order):
            return none, none.copy()
        cfg = self.config
        choices = [found.label[order]]
        roles = ["statement"]
        if cfg.phrases:
            choices.append(cfg.phrase_weight * found.phrase[order])
            roles.append("phrase")
        chosen = np.argmax(np.vstack(choices), axis=0)  # ties: the earlier role (the statement first)
        weights = {"statement": 1.0, "phrase": cfg.phrase_weight}
        rows, queries = none, none.copy()
        for number, role in enumerate(roles):
            mine = np.flatnonzero(chosen == number)
            if not len(mine):
                continue
            query_weights = np.zeros(len(found.dense.sims), np.float32)  # a context row never explains a label
            for q, query in enumerate(found.queries):
                if query.role == role:
                    query_weights[q] = weights[role]
            rows[mine], queries[mine] = found.dense.best_labels(order[mine], query_weights)
        return rows, queries

    def weigh(self, found: Signals, config: PipelineConfig | None = None) -> Weighted:
        """The final score of every candidate: the weighted sum of the signals under `config`
        (this matcher's by default)."""
        cfg = config or self.config
        label = np.maximum(found.label, cfg.phrase_weight * found.phrase) if cfg.phrases else found.label
        fusion = self._fusion(cfg)
        if fusion is not None:
            probability = fusion.probability(signal_matrix(found))
            return Weighted(probability, probability, label)
        # A generic exact hit (one everyday word: "clean", "monitor") is no evidence: it neither ranks nor
        # makes confident (with an encoder that knows the field, it would otherwise outrank the meaning).
        total = (
            cfg.label_weight * label
            + cfg.description_weight * found.description
            + cfg.bm25_weight * found.bm25
            + cfg.exact_weight * found.exact * (1.0 - _generic(found))
            + cfg.verb_weight * found.verb_fit
        )
        confidence = total
        plain = self.framework.id in PLAIN_LANGUAGE
        if plain:
            total = confidence
        elif cfg.context_weight > 0 and found.context is not None:
            total = total + cfg.context_weight * found.context
        return Weighted(total, confidence, label)

    def _fusion(self, cfg: PipelineConfig) -> Fusion | None:
        """The config's learned fusion where it applies (frameworks of full labels)."""
        return cfg.fusion if self.framework.id not in PLAIN_LANGUAGE else None

    def _match(self, found: Signals, weighted: Weighted, j: int, row: int, query: int, threshold: float) -> Match:
        score = float(weighted.total[j])
        signals = {
            "label": float(weighted.label[j]),
            "phrase": float(found.phrase[j]),
            "description": float(found.description[j]),
            "bm25": float(found.bm25[j]),
            "exact": float(found.exact[j]),
            "verb": float(found.verb_fit[j]) * self.config.verb_weight,
            "context": float(found.context[j]) if found.context is not None else 0.0,
            "confidence": round(float(weighted.confidence[j]), 4),  # what the threshold reads
        }
        competency = self.framework.competencies[self._dense.iris[int(found.candidates[j])]]
        return Match(
            iri=competency.iri,
            label=competency.pref_label,
            framework=self.framework.id,
            score=round(score, 4),
            kind=competency.kind,
            confident=bool(weighted.confidence[j] >= threshold),
            evidence=self._evidence(found, j, signals, row, query),
            signals=signals,
        )

    def _evidence(self, found: Signals, j: int, signals: dict[str, float], row: int, query: int) -> tuple[Evidence, ...]:
        out = []
        pos = int(found.candidates[j])
        hit = found.exact_hits.get(pos)
        if hit is not None and not (self.framework.id in PLAIN_LANGUAGE and hit.score < GENERIC_EXACT):
            out.append(Evidence("exact", hit.field, hit.text, signals["exact"], _shift(hit.span, found), hit.text))
        if found.dense is not None:
            if row >= 0:
                out.append(self._text_evidence("label", row, found.queries[query], signals["label"]))
            description_row = int(found.dense.description_rows[j])
            if description_row >= 0 and self.config.description_weight > 0:
                out.append(self._text_evidence("description", description_row, found.queries[0], signals["description"]))
        if signals["verb"] > 0:
            wanted = "knowledge" if found.verb_class == KNOWLEDGE else "a skill"
            out.append(Evidence("verb", "kind", f"{', '.join(found.verbs)}: asks for {wanted}", signals["verb"],
                                query=" ".join(found.verbs)))
        return tuple(out)

    def _text_evidence(self, method: str, row: int, query: Query, score: float) -> Evidence:
        entry = self._dense.entries[row]
        return Evidence(method, entry.field, entry.text, score, (query.start, query.end), query.text)


_THREADS_LOCK = threading.Lock()
_THREADS_USERS = 0
_THREADS_SAVED: list[Any] = []


@contextmanager
def single_threaded() -> Iterator[None]:
    """BLAS and FAISS on one thread while statements are scored: the products here are small and
    thread hand-offs cost more than they give (the encoder has the cores; requests and workers
    run in parallel instead). Process-wide settings, so concurrent callers share one setting:
    the first one in sets it, the last one out restores it."""
    global _THREADS_USERS
    with _THREADS_LOCK:
        if _THREADS_USERS == 0:
            limits = threadpool_limits(limits=1, user_api="blas")
            _THREADS_SAVED[:] = [faiss.omp_get_max_threads(), limits]
            faiss.omp_set_num_threads(1)
        _THREADS_USERS += 1
    try:
        yield
    finally:
        with _THREADS_LOCK:
            _THREADS_USERS -= 1
            if _THREADS_USERS == 0:
                threads, limits = _THREADS_SAVED
                faiss.omp_set_num_threads(threads)
                limits.restore_original_limits()


def _queries(statement: Statement, vectors: StatementVectors) -> tuple[Query, ...]:
    """The statement and its phrases, in the order of `_stack`'s rows."""
    start = statement.start
    whole = Query(statement.text, start, statement.end, "statement")
    parts = [Query(text, start + a, start + b, "phrase") for text, a, b in vectors.phrases]
    return (whole, *parts)


def _stack(vectors: StatementVectors) -> np.ndarray:
    """The statement's vector, then its phrases' (one row each)."""
    return np.vstack([vectors.vector[None, :], vectors.phrase_vectors])


def _shift(span: tuple[int, int] | None, found: Signals) -> tuple[int, int] | None:
    """An exact hit's span (relative to the statement) in the offsets of the whole text."""
    if span is None:
        return None
    start = found.queries[0].start
    return span[0] + start, span[1] + start


RUNNER_UP_MARGIN = 0.15  # a match this far below the best reading of the same words is not confident


def runner_ups_not_confident(matches: list[Match]) -> list[Match]:
    """One statement's matches (best first), where a match found by the same words as a better one
    but more than :data:`RUNNER_UP_MARGIN` below it is not confident: one span of text names one
    competency, and a distant second reading of it ("supervise medical residents" for "monitor
    residents' vital signs") is an alternative to show, not a second need."""
    best: dict[tuple[int, int], float] = {}
    out = []
    for match in matches:
        span = evidence_span(match)
        if span is None:
            out.append(match)
            continue
        top = best.setdefault(span, match.score)
        out.append(replace(match, confident=False) if match.confident and match.score < top - RUNNER_UP_MARGIN else match)
    return out


GENERIC_EXACT = 0.4  # an exact hit less specific than this (one everyday word) never makes a match confident
# Frameworks of short plain-language headings (Skills for Success): a generic one-word exact hit
# ("monitor", "online") is no evidence for them at all, and the document's title does not lift them
# (a credential's theme would otherwise put one component under every outcome).
PLAIN_LANGUAGE = frozenset({"sfs"})


def _generic(found: Signals) -> np.ndarray:
    """1 where the candidate's exact hit is a generic one (an everyday word such as "clean")."""
    out = np.zeros(len(found.candidates), np.float32)
    generic = [position for position, hit in found.exact_hits.items() if hit.score < GENERIC_EXACT]
    if generic:
        out[np.searchsorted(found.candidates, generic)] = 1.0  # candidates are sorted
    return out


def signal_matrix(found: Signals) -> np.ndarray:
    """The candidates' signals as columns in the order of `fusion.FEATURES` (a missing context is 0)."""
    generic = _generic(found)
    context = found.context if found.context is not None else np.zeros(len(found.candidates), np.float32)
    best = np.maximum(found.label, found.phrase)
    gap = best - best.max() if len(best) else best
    columns = {"label": found.label, "phrase": found.phrase, "best_label": best, "gap": gap,
               "description": found.description, "bm25": found.bm25,
               "exact": found.exact * (1 - generic), "generic_exact": found.exact * generic,
               "verb": found.verb_fit, "context": context}
    return np.column_stack([columns[name] for name in FEATURES]).astype(np.float32)


def _scaled(positions: np.ndarray, scores: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """BM25 scores of the candidates divided by the statement's best BM25 score."""
    out = np.zeros(len(cand), dtype=np.float32)
    keep = positions >= 0
    if not keep.any() or not len(cand):
        return out
    top = float(scores.max()) or 1.0
    slots = np.searchsorted(cand, positions[keep])
    np.maximum.at(out, slots, scores[keep] / top)
    return out


def _exact(hits: list[LexicalHit], positions: np.ndarray, cand: np.ndarray) -> tuple[np.ndarray, dict[int, LexicalHit]]:
    """The best exact-hit score of each candidate and the hit behind it; `positions` are the
    hits' competencies in the dense view (-1: not there), all of them among the candidates."""
    out = np.zeros(len(cand), dtype=np.float32)
    best: dict[int, LexicalHit] = {}
    numbers = np.flatnonzero(positions >= 0)
    slots = np.searchsorted(cand, positions[numbers])
    for i, j in zip(numbers.tolist(), slots.tolist()):
        if hits[i].score > out[j]:
            out[j] = hits[i].score
            best[int(cand[j])] = hits[i]
    return out, best
