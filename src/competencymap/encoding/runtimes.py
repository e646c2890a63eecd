"""What runs a sentence-transformers model: its tokenizer, pooling, and a runtime for the network.

A model folder laid out as Transformer + Pooling (mean or CLS) [+ Normalize] — the layout of
all-MiniLM-L6-v2 and of most sentence-transformers models — is run here directly: the
folder's `tokenizer.json` with the `tokenizers` library, the transformer by PyTorch
(`TorchRuntime`) or by ONNX Runtime (`OnnxRuntime`), then pooling in NumPy. Running it this
way gives token states, so a span of a text (a phrase of a statement) gets its own vector
from the same forward pass (`pool_spans`). Other layouts run through sentence-transformers
itself (`SentenceTransformerRuntime`), which gives sentence vectors only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from competencymap._common.errors import ModelError

POOLING = "sentence_transformers.models.Pooling"
PLAIN_MODULES = ("sentence_transformers.models.Transformer", POOLING)
NORMALIZE = "sentence_transformers.models.Normalize"

Span = tuple[int, int]


@dataclass(frozen=True)
class ModelLayout:
    """How a model folder turns token states into one vector."""

    pooling: str  # "mean" or "cls"; "" when the layout is not plain
    normalize: bool
    max_seq_length: int
    dimension: int
    plain: bool  # Transformer + Pooling [+ Normalize]: runnable without sentence-transformers

    @classmethod
    def read(cls, folder: Path, modules: Sequence[Mapping[str, Any]]) -> ModelLayout:
        """The layout of a model folder whose modules.json lists `modules` (checked by the caller)."""
        types = [str(m.get("type", "")) for m in modules]
        config = _json(folder / "config.json")
        bert = _json(folder / "sentence_bert_config.json")
        pooling_folder = next((folder / str(m.get("path", "")) for m in modules if m.get("type") == POOLING), None)
        pooling_config = _json(pooling_folder / "config.json") if pooling_folder else {}
        pooling = _pooling_mode(pooling_config)
        plain = bool(types) and tuple(t for t in types if t != NORMALIZE) == PLAIN_MODULES and bool(pooling)
        dimension = int(pooling_config.get("word_embedding_dimension") or config.get("hidden_size") or 0)
        max_length = int(bert.get("max_seq_length") or config.get("max_position_embeddings") or 512)
        return cls(pooling, NORMALIZE in types, max_length, dimension, plain)


def _json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ModelError("not valid JSON", path=str(path)) from None
    return value if isinstance(value, dict) else {}


def _pooling_mode(config: dict[str, Any]) -> str:
    flags = {k: bool(v) for k, v in config.items() if k.startswith("pooling_mode_")}
    chosen = [k for k, v in flags.items() if v]
    if chosen == ["pooling_mode_mean_tokens"]:
        return "mean"
    if chosen == ["pooling_mode_cls_token"]:
        return "cls"
    return ""


@dataclass(frozen=True)
class Batch:
    """Tokenized texts, padded to the longest: ids, attention mask, type ids, character offsets."""

    ids: np.ndarray
    mask: np.ndarray
    type_ids: np.ndarray
    offsets: list[list[Span]]


class Tokenizer:
    """The model folder's `tokenizer.json`, truncating to the model's length."""

    def __init__(self, folder: Path, max_length: int) -> None:
        from tokenizers import Tokenizer as HFTokenizer

        path = folder / "tokenizer.json"
        if not path.is_file():
            raise ModelError("model folder has no tokenizer.json", path=str(folder))
        self._tokenizer = HFTokenizer.from_file(str(path))
        self._tokenizer.enable_truncation(max_length)
        self._tokenizer.no_padding()

    def __call__(self, texts: Sequence[str]) -> Batch:
        encodings = self._tokenizer.encode_batch(list(texts))
        width = max((len(e.ids) for e in encodings), default=0)
        ids = np.zeros((len(encodings), width), np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            n = len(e.ids)
            ids[row, :n], mask[row, :n], types[row, :n] = e.ids, e.attention_mask, e.type_ids
        offsets = [[(a, b) if special == 0 else (0, 0) for (a, b), special in zip(e.offsets, e.special_tokens_mask)]
                   for e in encodings]
        return Batch(ids, mask, types, offsets)


class Runtime(Protocol):
    def hidden(self, batch: Batch) -> np.ndarray:
        """Token states (texts, tokens, dimension) of a tokenized batch."""
        ...


class TorchRuntime:
    """The transformer under PyTorch (transformers.AutoModel, safetensors weights only)."""

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        import torch

        if threads:
            torch.set_num_threads(threads)
        self._model = load_transformer(folder)
        self._types = "token_type_ids" in _forward_parameters(self._model)

    def hidden(self, batch: Batch) -> np.ndarray:
        import torch

        inputs = {"input_ids": torch.from_numpy(batch.ids), "attention_mask": torch.from_numpy(batch.mask)}
        if self._types:
            inputs["token_type_ids"] = torch.from_numpy(batch.type_ids)
        with torch.inference_mode():
            return self._model(**inputs).last_hidden_state.float().numpy()


def load_transformer(folder: Path) -> Any:
    """transformers.AutoModel from a local folder: safetensors only, no remote code, no bars."""
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return AutoModel.from_pretrained(str(folder), use_safetensors=True, local_files_only=True,
                                         trust_remote_code=False).eval()
    except Exception as exc:  # noqa: BLE001 - whatever transformers raises for a broken folder is a model problem
        raise ModelError(f"cannot load model: {type(exc).__name__}: {exc}", path=str(folder)) from None
    finally:
        if bars:
            hf_logging.enable_progress_bar()


def _forward_parameters(model: Any) -> set[str]:
    import inspect

    return set(inspect.signature(model.forward).parameters)


class OnnxRuntime:
    """An exported transformer under ONNX Runtime (CPU)."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise ModelError(f"cannot load ONNX model: {exc}", path=str(path)) from None
        self._inputs = {i.name for i in self._session.get_inputs()}

    def hidden(self, batch: Batch) -> np.ndarray:
        feed = {"input_ids": batch.ids, "attention_mask": batch.mask, "token_type_ids": batch.type_ids}
        return self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]


def pool(hidden: np.ndarray, mask: np.ndarray, layout: ModelLayout) -> np.ndarray:
    """One vector per text from its token states (mean of real tokens, or the first token)."""
    if layout.pooling == "cls":
        vectors = hidden[:, 0, :].astype(np.float32)
    else:
        weights = mask[..., None].astype(np.float32)
        vectors = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    return normalise(vectors.astype(np.float32))


def pool_spans(hidden: np.ndarray, offsets: list[Span], spans: Sequence[Span]) -> np.ndarray:
    """One unit vector per character span of a text: the mean of the states of its tokens
    (a zero row for a span with no token, e.g. past the model's length)."""
    out = np.zeros((len(spans), hidden.shape[-1]), np.float32)
    if not spans:
        return out
    hidden = hidden[: len(offsets)]  # the text's own tokens (the batch is padded)
    starts = np.array([a for a, _ in offsets])
    ends = np.array([b for _, b in offsets])
    real = ends > starts
    for row, (a, b) in enumerate(spans):
        inside = real & (starts >= a) & (ends <= b)
        if inside.any():
            out[row] = hidden[inside].mean(axis=0)
    return normalise(out)


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    np.maximum(norms, 1e-12, out=norms)
    vectors /= norms
    return vectors


class SentenceTransformerRuntime:
    """Any other sentence-transformers layout, through the library (sentence vectors only)."""

    def __init__(self, folder: Path, device: str = "cpu", threads: int | None = None) -> None:
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        if threads:
            torch.set_num_threads(threads)
        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            self._model = SentenceTransformer(str(folder), device=device, local_files_only=True,
                                              trust_remote_code=False, model_kwargs={"use_safetensors": True})
        except Exception as exc:  # noqa: BLE001 - a broken config or tokenizer, whatever it raises, is a model problem
            raise ModelError(f"cannot load model: {type(exc).__name__}: {exc}", path=str(folder)) from None
        finally:
            if bars:
                hf_logging.enable_progress_bar()
        self._model.eval()

    @property
    def dimension(self) -> int:
        model = self._model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter() or model.encode(["x"], convert_to_numpy=True).shape[1])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            vectors = self._model.encode(list(texts), batch_size=len(texts), convert_to_numpy=True,
                                         show_progress_bar=False)
        return normalise(np.asarray(vectors, dtype=np.float32))
