"""Pooling, normalising, model layouts and the tokenizer that the encoder runs a model with."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from competencymap._common.errors import ModelError
from competencymap.encoding.runtimes import ModelLayout, Tokenizer, normalise, pool, pool_spans

TRANSFORMER = {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}
POOLING = {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}
NORMALIZE = {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
DENSE = {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}

MEAN = ModelLayout("mean", True, 128, 2, True)
CLS = ModelLayout("cls", True, 128, 2, True)


# -- normalise ----------------------------------------------------------------------------------


def test_normalise_scales_rows_to_unit_length() -> None:
    vectors = np.array([[3.0, 4.0], [0.0, -2.0], [1.0, 1.0]], np.float32)
    out = normalise(vectors)
    s = 1 / math.sqrt(2)
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, -1.0], [s, s]], rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), [1.0, 1.0, 1.0], rtol=1e-6)


def test_normalise_leaves_a_zero_row_zero() -> None:
    out = normalise(np.array([[0.0, 0.0, 0.0], [0.0, 5.0, 0.0]], np.float32))
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out, [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def test_normalise_of_no_rows_is_no_rows() -> None:
    assert normalise(np.zeros((0, 3), np.float32)).shape == (0, 3)


# -- pool ---------------------------------------------------------------------------------------


def _states() -> tuple[np.ndarray, np.ndarray]:
    """Two texts of 3 and 1 tokens, padded to 3 (the padding states are large on purpose)."""
    hidden = np.array([
        [[1.0, 2.0], [3.0, 4.0], [100.0, -100.0]],
        [[0.0, 5.0], [50.0, 50.0], [70.0, 70.0]],
    ], np.float32)
    mask = np.array([[1, 1, 0], [1, 0, 0]], np.int64)
    return hidden, mask


def test_mean_pooling_averages_the_real_tokens_only() -> None:
    hidden, mask = _states()
    out = pool(hidden, mask, MEAN)
    # text 0: mean of (1, 2) and (3, 4) is (2, 3); text 1: only its first token (0, 5)
    norm = math.sqrt(13)
    np.testing.assert_allclose(out, [[2 / norm, 3 / norm], [0.0, 1.0]], rtol=1e-6)
    assert out.dtype == np.float32


def test_cls_pooling_takes_the_first_token() -> None:
    hidden, mask = _states()
    mask[:] = 1  # CLS pooling ignores the mask
    out = pool(hidden, mask, CLS)
    norm = math.sqrt(5)
    np.testing.assert_allclose(out, [[1 / norm, 2 / norm], [0.0, 1.0]], rtol=1e-6)


def test_mean_pooling_of_a_fully_masked_text_is_a_zero_vector() -> None:
    hidden, mask = _states()
    mask[1] = 0
    out = pool(hidden, mask, MEAN)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[1], [0.0, 0.0])


# -- pool_spans ---------------------------------------------------------------------------------

# "ab cd ef": [CLS] ab cd ef [SEP], then one padding position of the batch
OFFSETS = [(0, 0), (0, 2), (3, 5), (6, 8), (0, 0)]
TOKENS = np.array([[9.0, 9.0], [1.0, 0.0], [0.0, 1.0], [3.0, 4.0], [-9.0, 9.0], [7.0, -7.0]], np.float32)


def test_pool_spans_means_the_tokens_inside_each_span() -> None:
    out = pool_spans(TOKENS, OFFSETS, [(0, 5), (3, 8), (6, 8)])
    s = 1 / math.sqrt(2)
    # (0, 5): "ab" and "cd" -> (0.5, 0.5); [CLS] at (0, 0) is not a real token and stays out
    # (3, 8): "cd" and "ef" -> (1.5, 2.5); (6, 8): "ef" alone -> (3, 4)
    norm = math.sqrt(1.5**2 + 2.5**2)
    np.testing.assert_allclose(out, [[s, s], [1.5 / norm, 2.5 / norm], [0.6, 0.8]], rtol=1e-6)


def test_pool_spans_leaves_out_tokens_that_cross_the_span() -> None:
    # (1, 5) cuts "ab" (0, 2): only "cd" is inside
    np.testing.assert_allclose(pool_spans(TOKENS, OFFSETS, [(1, 5)]), [[0.0, 1.0]], atol=1e-7)


def test_pool_spans_gives_a_zero_row_for_a_span_without_tokens() -> None:
    # (9, 20) is past the text's tokens: the padding state (row 5) must not be used
    out = pool_spans(TOKENS, OFFSETS, [(9, 20), (6, 8)])
    np.testing.assert_array_equal(out[0], [0.0, 0.0])
    np.testing.assert_allclose(out[1], [0.6, 0.8], rtol=1e-6)


def test_pool_spans_of_no_spans_is_no_rows() -> None:
    out = pool_spans(TOKENS, OFFSETS, [])
    assert out.shape == (0, 2) and out.dtype == np.float32


# -- ModelLayout.read ---------------------------------------------------------------------------


def _write(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")


def _folder(tmp_path: Path, pooling: dict[str, object] | None = None, *, bert: dict[str, object] | None = None,
            config: dict[str, object] | None = None) -> Path:
    folder = tmp_path / "model"
    _write(folder / "config.json", config if config is not None else {"hidden_size": 8, "max_position_embeddings": 64})
    if bert is not None:
        _write(folder / "sentence_bert_config.json", bert)
    if pooling is not None:
        _write(folder / "1_Pooling" / "config.json", pooling)
    return folder


MEAN_POOLING = {"word_embedding_dimension": 16, "pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False,
                "pooling_mode_max_tokens": False}
CLS_POOLING = {"word_embedding_dimension": 16, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}


def test_layout_of_a_plain_mean_pooling_folder(tmp_path: Path) -> None:
    folder = _folder(tmp_path, MEAN_POOLING, bert={"max_seq_length": 32})
    layout = ModelLayout.read(folder, [TRANSFORMER, POOLING, NORMALIZE])
    assert layout == ModelLayout(pooling="mean", normalize=True, max_seq_length=32, dimension=16, plain=True)


def test_layout_of_a_cls_pooling_folder_without_normalize(tmp_path: Path) -> None:
    folder = _folder(tmp_path, CLS_POOLING, bert={"max_seq_length": 32})
    layout = ModelLayout.read(folder, [TRANSFORMER, POOLING])
    assert layout == ModelLayout(pooling="cls", normalize=False, max_seq_length=32, dimension=16, plain=True)


def test_layout_falls_back_on_the_transformer_config(tmp_path: Path) -> None:
    # no sentence_bert_config.json and no dimension in the pooling config
    folder = _folder(tmp_path, {"pooling_mode_mean_tokens": True})
    layout = ModelLayout.read(folder, [TRANSFORMER, POOLING])
    assert (layout.max_seq_length, layout.dimension, layout.pooling, layout.plain) == (64, 8, "mean", True)


def test_layout_defaults_without_any_config(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"pooling_mode_cls_token": True}, config={})
    layout = ModelLayout.read(folder, [TRANSFORMER, POOLING])
    assert (layout.max_seq_length, layout.dimension) == (512, 0)


def test_a_layout_with_another_module_is_not_plain(tmp_path: Path) -> None:
    folder = _folder(tmp_path, MEAN_POOLING, bert={"max_seq_length": 32})
    layout = ModelLayout.read(folder, [TRANSFORMER, POOLING, DENSE, NORMALIZE])
    assert (layout.pooling, layout.normalize, layout.plain) == ("mean", True, False)


def test_a_layout_pooling_two_ways_is_not_plain(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {**MEAN_POOLING, "pooling_mode_max_tokens": True})
    layout = ModelLayout.read(folder, [TRANSFORMER, POOLING])
    assert (layout.pooling, layout.plain) == ("", False)


def test_a_layout_without_modules_is_not_plain(tmp_path: Path) -> None:
    folder = _folder(tmp_path, MEAN_POOLING)
    layout = ModelLayout.read(folder, [])
    assert (layout.pooling, layout.normalize, layout.plain) == ("", False, False)


def test_a_pooling_config_that_is_not_an_object_counts_as_empty(tmp_path: Path) -> None:
    folder = _folder(tmp_path, ["pooling_mode_mean_tokens"])  # type: ignore[arg-type]  # a list on purpose
    layout = ModelLayout.read(folder, [TRANSFORMER, POOLING])
    assert (layout.pooling, layout.dimension, layout.plain) == ("", 8, False)


@pytest.mark.parametrize("name", ["config.json", "sentence_bert_config.json", "1_Pooling/config.json"])
def test_a_malformed_config_is_a_model_error(tmp_path: Path, name: str) -> None:
    folder = _folder(tmp_path, MEAN_POOLING, bert={"max_seq_length": 32})
    _write(folder / name, "{not json")
    with pytest.raises(ModelError, match="not valid JSON") as caught:
        ModelLayout.read(folder, [TRANSFORMER, POOLING])
    assert caught.value.path == str(folder / name)


# -- the bundled model's folder -----------------------------------------------------------------


@pytest.fixture(scope="module")
def model_folder() -> Path:
    from competencymap.encoding.encoder import locate_default_model

    return locate_default_model()


@pytest.mark.model
def test_layout_of_the_bundled_model(model_folder: Path) -> None:
    modules = json.loads((model_folder / "modules.json").read_text(encoding="utf-8"))
    assert ModelLayout.read(model_folder, modules) == ModelLayout("mean", True, 256, 384, True)


@pytest.mark.model
def test_tokenizer_pads_to_the_longest_text_and_keeps_offsets(model_folder: Path) -> None:
    batch = Tokenizer(model_folder, 16)(["hello world", "a"])
    # [CLS] hello world [SEP] / [CLS] a [SEP] [PAD]
    np.testing.assert_array_equal(batch.ids, [[101, 7592, 2088, 102], [101, 1037, 102, 0]])
    np.testing.assert_array_equal(batch.mask, [[1, 1, 1, 1], [1, 1, 1, 0]])
    np.testing.assert_array_equal(batch.type_ids, np.zeros((2, 4)))
    assert batch.ids.dtype == batch.mask.dtype == np.int64
    # special tokens get (0, 0), so no span ever holds them; padding has no offsets
    assert batch.offsets == [[(0, 0), (0, 5), (6, 11), (0, 0)], [(0, 0), (0, 1), (0, 0)]]


@pytest.mark.model
def test_tokenizer_truncates_to_the_model_length(model_folder: Path) -> None:
    batch = Tokenizer(model_folder, 6)(["one two three four five six seven"])
    np.testing.assert_array_equal(batch.ids, [[101, 2028, 2048, 2093, 2176, 102]])
    assert batch.offsets == [[(0, 0), (0, 3), (4, 7), (8, 13), (14, 18), (0, 0)]]


@pytest.mark.model
def test_tokenizer_of_no_texts_is_an_empty_batch(model_folder: Path) -> None:
    batch = Tokenizer(model_folder, 16)([])
    assert batch.ids.shape == batch.mask.shape == (0, 0) and batch.offsets == []


def test_a_folder_without_tokenizer_json_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no tokenizer.json"):
        Tokenizer(tmp_path, 16)
