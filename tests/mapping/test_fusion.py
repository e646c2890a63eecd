"""Learned fusion: its coefficients, its file, fitting it, and its cut-off for a stated precision."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from competencymap._common.errors import ModelError
from competencymap.mapping.fusion import FEATURES, Fusion, cut_for_precision, fit, read_fusion, write_fusion


def _fusion(threshold: float = 0.5) -> Fusion:
    return Fusion(tuple(float(n) for n in range(len(FEATURES))), -1.0, threshold)


def test_probability_is_the_logistic_of_the_weighted_signals() -> None:
    columns = np.eye(len(FEATURES), dtype=np.float32)[:3]
    expected = 1 / (1 + np.exp(-(np.arange(3) - 1.0)))
    assert np.allclose(_fusion().probability(columns), expected)


@pytest.mark.parametrize("change", [{"coefficients": (1.0,)}, {"threshold": 1.5}, {"features": ("label",) * len(FEATURES)}])
def test_a_fusion_that_does_not_fit_the_signals_is_refused(change: dict) -> None:
    values = {"coefficients": _fusion().coefficients, "intercept": 0.0, "threshold": 0.5, **change}
    with pytest.raises(ModelError):
        Fusion(**values)


def test_file_round_trip_and_errors(tmp_path: Path) -> None:
    assert read_fusion(tmp_path) is None and read_fusion(None) is None
    write_fusion(_fusion(0.7), tmp_path, {"learned_on": ["TECH"]})
    assert read_fusion(tmp_path) == _fusion(0.7)
    (tmp_path / "fusion.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        read_fusion(tmp_path)
    (tmp_path / "fusion.json").write_text(json.dumps({"coefficients": [1]}))
    with pytest.raises(ModelError, match="needs features"):
        read_fusion(tmp_path)


def test_fit_learns_which_signal_separates_right_from_wrong() -> None:
    rng = np.random.default_rng(0)
    columns = rng.random((400, len(FEATURES))).astype(np.float32)
    gold = (columns[:, FEATURES.index("label")] > 0.6).astype(int)
    fusion = fit(columns, gold)
    weights = dict(zip(FEATURES, fusion.coefficients))
    assert weights["label"] > 5 * max(abs(v) for k, v in weights.items() if k != "label")


def test_the_cut_off_is_the_lowest_score_keeping_the_precision() -> None:
    scores = [0.9, 0.8, 0.7, 0.6, 0.5]
    right = [True, True, False, True, False]
    assert cut_for_precision(scores, right, 0.75) == 0.6  # 3 right of the 4 at or above 0.6
    assert cut_for_precision(scores, right, 1.0) == 0.8
    assert cut_for_precision([0.4], [False], 0.9) == 0.4  # none reaches it: the highest score, nothing confident below


@pytest.mark.model
def test_an_adapter_with_a_fusion_scores_by_it(tmp_path: Path, esco_slice_csv: Path) -> None:
    from competencymap._common.config import load_settings
    from competencymap.encoding.encoder import Encoder
    from competencymap.encoding.training import Pair, TrainSettings, train
    from competencymap.engine import CompetencyMap

    stock = Encoder("all-MiniLM-L6-v2", backend="torch", cache_dir=tmp_path / "cache")
    adapter = tmp_path / "my-adapter"
    train(stock.folder, stock.checksum, [Pair("query the database", "SQL"), Pair("bake loaves", "prepare bread products")],
          adapter, TrainSettings(batch_size=2, threads=1))
    label_only = Fusion(tuple(8.0 if name == "label" else 0.0 for name in FEATURES), -4.0, 0.6)
    write_fusion(label_only, adapter)
    engine = CompetencyMap(load_settings(home=tmp_path / "home", model=str(adapter), backend="torch"))
    engine.store.add(esco_slice_csv, name="mini")
    engine.build_index("mini")
    assert engine.default_config.fusion == label_only
    matches = engine.map("Write SQL queries against PostgreSQL", ["mini"], top_k=5).results[0].matches
    assert all(0.0 < m.score < 1.0 for m in matches)
    assert [m.confident for m in matches] == [m.score >= 0.6 for m in matches]
    expected = 1 / (1 + np.exp(-(8.0 * matches[0].signals["label"] - 4.0)))
    assert matches[0].score == pytest.approx(expected, abs=1e-3)
