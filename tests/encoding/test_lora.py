"""LoRA merging: W + scale * B @ A, checked shapes, one weight per adapted layer."""

from __future__ import annotations

import numpy as np
import pytest

from competencymap._common.errors import ModelError
from competencymap.encoding.lora import _targeted, merge


def test_merge_adds_the_scaled_low_rank_product_and_leaves_the_rest() -> None:
    rng = np.random.default_rng(0)
    base = {"encoder.layer.0.attention.self.query.weight": rng.normal(size=(4, 3)).astype(np.float32),
            "encoder.layer.0.attention.self.query.bias": np.zeros(4, np.float32)}
    a, b = rng.normal(size=(2, 3)).astype(np.float32), rng.normal(size=(4, 2)).astype(np.float32)
    merged = merge(base, {"encoder.layer.0.attention.self.query.lora_A": a,
                          "encoder.layer.0.attention.self.query.lora_B": b}, 0.5)
    key = "encoder.layer.0.attention.self.query.weight"
    assert np.allclose(merged[key], base[key] + 0.5 * b @ a)
    assert merged["encoder.layer.0.attention.self.query.bias"] is base["encoder.layer.0.attention.self.query.bias"]


def test_merge_finds_a_prefixed_weight() -> None:
    base = {"bert.layer.weight": np.zeros((2, 2), np.float32)}
    merged = merge(base, {"layer.lora_A": np.ones((1, 2), np.float32), "layer.lora_B": np.ones((2, 1), np.float32)}, 1.0)
    assert merged["bert.layer.weight"].tolist() == [[1.0, 1.0], [1.0, 1.0]]


@pytest.mark.parametrize("adapter", [
    {"layer.lora_A": np.ones((1, 3), np.float32), "layer.lora_B": np.ones((2, 1), np.float32)},  # wrong width
    {"layer.lora_A": np.ones((1, 2), np.float32)},  # no B
    {"other.lora_A": np.ones((1, 2), np.float32), "other.lora_B": np.ones((2, 1), np.float32)},  # no such layer
])
def test_merge_refuses_an_adapter_that_does_not_fit(adapter: dict[str, np.ndarray]) -> None:
    with pytest.raises(ModelError):
        merge({"layer.weight": np.zeros((2, 2), np.float32)}, adapter, 1.0)


def test_output_dense_targets_the_feed_forward_not_the_attention_output() -> None:
    assert _targeted("encoder.layer.0.output.dense", ["output.dense"])
    assert not _targeted("encoder.layer.0.attention.output.dense", ["output.dense"])
    assert _targeted("encoder.layer.0.attention.output.dense", ["attention.output.dense"])
