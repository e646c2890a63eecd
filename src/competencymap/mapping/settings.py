"""The mapping pipeline's settings: which stages run, how their signals are weighted, and the
confidence cut-offs (`PipelineConfig`; the weights were chosen with benchmarks/tune_weights.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from competencymap.mapping.fusion import Fusion


@dataclass(frozen=True)
class PipelineConfig:
    """Which stages run and how their signals are weighted. Hashable: used as a cache key."""

    label_weight: float = 1.0
    description_weight: float = 0.35
    bm25_weight: float = 0.1
    exact_weight: float = 0.25
    phrases: bool = True  # also score the statement's phrases (enumerations, clauses)
    phrase_weight: float = 0.9  # a phrase's label similarity counts this much of the statement's
    alt_label_weight: float = 0.9  # an alternative label's similarity counts this much of a preferred label's
    hidden_label_weight: float = 0.9
    verb_weight: float = 0.03  # knowledge verbs favour knowledge concepts, action verbs skills
    context_weight: float = 0.4  # similarity to the document's context (a credential's or posting's title)
    candidates: int = 150  # competencies taken from the dense search before re-scoring
    bm25_candidates: int = 150  # competencies taken from BM25
    threshold: float = 0.8  # confidence cut-off on the confidence score (docs/design.md, section 13)
    # Frameworks whose scores sit on another scale get their own cut-off (short, broad labels).
    # Skills for Success: chosen for precision 0.8 by 5-fold cross-validation on the learning-outcome
    # development set with the adapted encoder (benchmarks/sfs_cutoff.py; folds' cut-offs 0.96-0.99,
    # median 0.995): silence over noise, a component is confident only on strong own or crosswalk evidence.
    thresholds: tuple[tuple[str, float], ...] = (("sfs", 0.995),)
    # A learned fusion (mapping/fusion.py) replaces the weighted sum and the cut-off above for
    # frameworks of full labels (ESCO and user frameworks; not the plain-language ones). The engine
    # sets the one shipped with its model.
    fusion: Fusion | None = None

    def only(self, **changes: object) -> PipelineConfig:
        return replace(self, **changes)  # type: ignore[arg-type]

    def threshold_for(self, framework: str) -> float:
        return dict(self.thresholds).get(framework, self.threshold)

    @property
    def phrase_mode(self) -> str:
        """How the statement encoder treats phrases: "span" (pooled from the statement's forward
        pass) when phrases are scored, else "none"."""
        return "span" if self.phrases and self.phrase_weight > 0 else "none"
