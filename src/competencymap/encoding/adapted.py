"""Adapted models: a verified base model plus a verified LoRA adapter, merged once into a model folder.

An adapter folder holds `adapter.safetensors` and `adapter.json` (written by `training.py`: the
base weights' sha256, the scale, how it was trained). Loading one:

1. the adapter file's sha256 must equal the expected one — the bundled adapter's is fixed in
   code, a user's adapter's is the one its `adapter.json` records;
2. the base model must be the one the adapter was trained on (its verified sha256);
3. the merged weights W + scale * B @ A are written once, as safetensors, beside a copy of the
   base folder's configuration and tokenizer, under `<model cache>/adapted/<name>-<adapter sha>/`,
   with a manifest recording the sha256 of the base, the adapter and the merged weights. Every later
   load checks the merged file against that manifest and refuses it when it differs.

The merged folder is an ordinary sentence-transformers folder, so every backend (torch, ONNX,
int8 ONNX) runs it the same way as the base model.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from competencymap._common.checksum import file_sha256
from competencymap._common.errors import ModelError
from competencymap.encoding.training import ADAPTER_FILE, ADAPTER_META

MANIFEST = "adapted.json"
WEIGHTS = "model.safetensors"
FORMAT = "competencymap-lora"


@dataclass(frozen=True)
class Adapter:
    folder: Path
    sha256: str  # of adapter.safetensors, verified
    base_sha256: str  # the weights it was trained on
    scale: float
    meta: dict[str, Any]


def is_adapter_folder(folder: Path) -> bool:
    return (folder / ADAPTER_FILE).is_file() and (folder / ADAPTER_META).is_file()


def read_adapter(folder: Path, expected_sha256: str | None = None) -> Adapter:
    """The adapter in `folder`, its file verified against `expected_sha256` (else against the sha256
    its own description records)."""
    meta_path = folder / ADAPTER_META
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        raise ModelError(f"{ADAPTER_META} is missing or not valid JSON", path=str(folder)) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelError(f"{ADAPTER_META} does not describe a {FORMAT} adapter", path=str(meta_path))
    expected = expected_sha256 or str(meta.get("adapter_sha256") or "")
    actual = file_sha256(folder / ADAPTER_FILE)
    if actual != expected:
        raise ModelError(f"adapter checksum mismatch (sha256 {actual}, expected {expected}); refusing to load a "
                         "modified adapter", path=str(folder / ADAPTER_FILE))
    try:
        scale = float(meta["scale"])
        base = str(meta["base_sha256"])
    except (KeyError, TypeError, ValueError):
        raise ModelError(f"{ADAPTER_META} lacks its scale or base_sha256", path=str(meta_path)) from None
    return Adapter(folder, actual, base, scale, meta)


def merged_folder(adapter: Adapter, base: Path, base_sha256: str, cache: Path, name: str) -> tuple[Path, str]:
    """(folder, weights sha256) of the base model with the adapter merged in, made once and verified
    against its manifest on every call."""
    if adapter.base_sha256 != base_sha256:
        raise ModelError(f"adapter was trained on base weights {adapter.base_sha256[:16]}…, not on the verified "
                         f"{base_sha256[:16]}… of {base}", path=str(adapter.folder))
    folder = Path(cache) / "adapted" / f"{name}-{adapter.sha256[:16]}"
    manifest = _manifest(folder)
    if manifest is None:
        _build(adapter, base, folder)
        manifest = _manifest(folder)
        assert manifest is not None
    if manifest.get("adapter_sha256") != adapter.sha256 or manifest.get("base_sha256") != base_sha256:
        raise ModelError(f"{MANIFEST} was made from another adapter or base; delete the folder to merge again",
                         path=str(folder))
    actual = file_sha256(folder / WEIGHTS)
    if actual != manifest.get("model_sha256"):
        raise ModelError(f"merged weights changed since they were made (sha256 {actual}); refusing to load them, "
                         "delete the folder to merge again", path=str(folder / WEIGHTS))
    return folder, actual


def _manifest(folder: Path) -> dict[str, Any] | None:
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ModelError(f"{MANIFEST} is not valid JSON; delete the folder to merge again", path=str(folder)) from None
    return value if isinstance(value, dict) else None


def _build(adapter: Adapter, base: Path, folder: Path) -> None:
    """Write the merged model folder atomically (a temporary sibling renamed into place)."""
    from safetensors.numpy import load_file, save_file

    from competencymap.encoding.lora import load_adapter, merge

    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        shutil.copytree(base, work, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(WEIGHTS, "*.onnx", ".*", "README.md"))
        weights = merge(load_file(str(base / WEIGHTS)), load_adapter(adapter.folder / ADAPTER_FILE), adapter.scale)
        save_file(weights, str(work / WEIGHTS), metadata={"format": "pt"})
        manifest = {"base_sha256": adapter.base_sha256, "adapter_sha256": adapter.sha256,
                    "model_sha256": file_sha256(work / WEIGHTS), "adapter": adapter.meta}
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(work, folder)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
