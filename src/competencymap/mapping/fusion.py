"""Learned fusion: the probability that a candidate is right, from its signals, by logistic regression.

The matcher measures each candidate's signals (`scoring.py`). Instead of hand-set weights, a
logistic regression learned from labelled statements (benchmarks/fusion.py, k-fold
cross-validated) turns them into P(the statement names this competency). That probability is the
score users read and what the confidence cut-off reads; its cut-off is chosen for a stated
precision of the top match, by cross-validation too.

A fusion belongs to the model it was learned with (the signals' scales are the encoder's): it
ships beside the adapter it was learned for (`data/models/<model>/fusion.json`) and is used only
with that model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from competencymap._common.errors import ModelError

FUSION_FILE = "fusion.json"
# The signal columns a fusion reads, in order (scoring.signal_matrix builds them).
# `best_label` is the larger of label and phrase; `gap` is how far a candidate's best_label falls
# below the best of its statement's candidates (a statement-relative signal: it lets one linear
# model rank within statements whose similarities sit at different heights).
FEATURES = ("label", "phrase", "best_label", "gap", "description", "bm25", "exact", "generic_exact", "verb", "context")


@dataclass(frozen=True)
class Fusion:
    """Coefficients of a logistic regression over FEATURES, and the probability cut-off for
    'confident'. Hashable: part of the pipeline settings, which key the ranking cache."""

    coefficients: tuple[float, ...]
    intercept: float
    threshold: float
    features: tuple[str, ...] = FEATURES

    def __post_init__(self) -> None:
        if len(self.coefficients) != len(self.features) or self.features != FEATURES:
            raise ModelError(f"a fusion needs one coefficient for each of {', '.join(FEATURES)}")
        if not 0.0 < self.threshold < 1.0:
            raise ModelError(f"a fusion's threshold is a probability between 0 and 1, not {self.threshold}")

    def probability(self, columns: np.ndarray) -> np.ndarray:
        """P(right) for each row of a (candidates x FEATURES) matrix."""
        logit = columns @ np.asarray(self.coefficients, np.float32) + np.float32(self.intercept)
        return (1.0 / (1.0 + np.exp(-logit))).astype(np.float32)

    def as_dict(self) -> dict[str, Any]:
        return {"features": list(self.features), "coefficients": list(self.coefficients),
                "intercept": self.intercept, "threshold": self.threshold}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Fusion:
        try:
            return cls(tuple(float(c) for c in value["coefficients"]), float(value["intercept"]),
                       float(value["threshold"]), tuple(str(f) for f in value["features"]))
        except (KeyError, TypeError, ValueError):
            raise ModelError("a fusion needs features, coefficients, intercept and threshold") from None


def read_fusion(folder: Path | None) -> Fusion | None:
    """The fusion shipped in a model's folder, or None when it has none."""
    if folder is None or not (folder / FUSION_FILE).is_file():
        return None
    path = folder / FUSION_FILE
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ModelError(f"{FUSION_FILE} is not valid JSON", path=str(path)) from None
    if not isinstance(value, dict):
        raise ModelError(f"{FUSION_FILE} is not a JSON object", path=str(path))
    try:
        return Fusion.from_dict(value)
    except ModelError as error:
        raise ModelError(error.message, path=str(path)) from None


def write_fusion(fusion: Fusion, folder: Path, about: Mapping[str, Any] | None = None) -> Path:
    path = folder / FUSION_FILE
    path.write_text(json.dumps({**fusion.as_dict(), **(dict(about) if about else {})}, indent=2) + "\n",
                    encoding="utf-8")
    return path


def fit(columns: np.ndarray, gold: np.ndarray, *, weights: np.ndarray | None = None, threshold: float = 0.5,
        strength: float = 1.0) -> Fusion:
    """Logistic regression of `gold` (0/1 per candidate) on the signal columns (scikit-learn,
    L2-regularised with inverse strength `strength`; `weights` per row)."""
    from sklearn.linear_model import LogisticRegression

    if columns.shape[1] != len(FEATURES):
        raise ModelError(f"expected {len(FEATURES)} signal columns, got {columns.shape[1]}")
    model = LogisticRegression(C=strength, max_iter=2000)
    model.fit(columns, gold, sample_weight=weights)
    return Fusion(tuple(round(float(c), 5) for c in model.coef_[0]), round(float(model.intercept_[0]), 5), threshold)


def cut_for_precision(top_scores: Sequence[float], top_right: Sequence[bool], precision: float) -> float:
    """The lowest cut-off at which the top matches scoring at or above it are right at least
    `precision` of the time (the highest score seen when none is)."""
    pairs = sorted(zip(top_scores, top_right), key=lambda p: -p[0])
    best = pairs[0][0] if pairs else 0.99
    right = 0
    for n, (score, ok) in enumerate(pairs, 1):
        right += ok
        if right / n >= precision:
            best = score
    return float(min(max(best, 0.01), 0.99))
