"""ONNX files derived from a verified local model: exported once, checksummed, refused when changed.

`ensure_onnx` gives the path of a model's ONNX export (fp32, or dynamically quantized to int8
with per-channel weights for the AVX2 kernels). The files live under
`<cache>/<model slug>/<first 16 hex of the weights' sha256>/` with a `manifest.json` that
records the sha256 of the source weights and of every derived file. A missing export is made
from the local weights (PyTorch's exporter, then ONNX Runtime's quantizer); nothing is ever
downloaded. A file whose sha256 differs from the manifest, or a manifest made from other
weights, is refused.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from competencymap._common.checksum import file_sha256
from competencymap._common.errors import ModelError

FORMAT = 1
MANIFEST = "manifest.json"
FP32 = "model.onnx"
INT8 = "model-int8.onnx"
OPSET = 17
Say = Callable[[str], None]


def export_folder(cache: Path, slug: str, weights_sha256: str) -> Path:
    return Path(cache) / slug / weights_sha256[:16]


def ensure_onnx(model_folder: Path, weights_sha256: str, folder: Path, *, quantized: bool,
                say: Say | None = None) -> Path:
    """The verified ONNX file (int8 when `quantized`) for these weights, exported first if missing."""
    name = INT8 if quantized else FP32
    manifest = read_manifest(folder)
    if manifest is None or name not in manifest.get("files", {}):
        if say:
            say(f"exporting the model to ONNX{' (int8)' if quantized else ''} under {folder}; this runs once")
        export(model_folder, weights_sha256, folder)
        manifest = read_manifest(folder)
    assert manifest is not None
    return verified(folder, manifest, name, weights_sha256)


def read_manifest(folder: Path) -> dict | None:
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ModelError(f"{MANIFEST} is not valid JSON; delete the folder to export again", path=str(folder)) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelError(f"{MANIFEST} is not an ONNX export manifest of format {FORMAT}; delete the folder to export again",
                         path=str(folder))
    return manifest


def verified(folder: Path, manifest: dict, name: str, weights_sha256: str) -> Path:
    """The path of `name` after checking it against the manifest; ModelError otherwise."""
    if manifest.get("source_weights_sha256") != weights_sha256:
        raise ModelError("ONNX export was made from other weights than the verified model; refusing it "
                         "(delete the folder to export again)", path=str(folder))
    path = folder / name
    expected = manifest.get("files", {}).get(name)
    if not path.is_file():
        raise ModelError(f"{name} is missing; delete the folder to export again", path=str(folder))
    if file_sha256(path) != expected:
        raise ModelError(f"{name} does not match the sha256 in its manifest; refusing to load a modified "
                         "ONNX model (delete the folder to export again)", path=str(path))
    return path


def export(model_folder: Path, weights_sha256: str, folder: Path) -> None:
    """Export fp32 and int8 ONNX files of a verified model folder into `folder` (atomically)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
        work = Path(tmp)
        inputs = _export_fp32(model_folder, work / FP32)
        _quantize(work / FP32, work / INT8)
        versions = _versions()
        manifest = {
            "format": FORMAT,
            "source": str(model_folder),
            "source_weights_sha256": weights_sha256,
            "inputs": inputs,
            "opset": OPSET,
            "quantization": {"file": INT8, "method": "onnxruntime.quantization.quantize_dynamic",
                             "weight_type": "QInt8", "per_channel": True, "op_types": ["MatMul"]},
            "files": {name: file_sha256(work / name) for name in (FP32, INT8)},
            "versions": versions,
            "export_seconds": round(time.perf_counter() - started, 2),
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(work, folder)
        work.mkdir()  # TemporaryDirectory removes its own folder on exit


def _export_fp32(model_folder: Path, out: Path) -> list[str]:
    import inspect
    import warnings

    import torch

    from competencymap.encoding.runtimes import load_transformer

    model = load_transformer(model_folder)

    names = ["input_ids", "attention_mask"]
    if "token_type_ids" in inspect.signature(model.forward).parameters:
        names.append("token_type_ids")

    class Hidden(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(names, tensors))).last_hidden_state

    sample = torch.ones((2, 8), dtype=torch.long)
    args = tuple(sample if n != "token_type_ids" else torch.zeros_like(sample) for n in names)
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Hidden(model), args, str(out), input_names=names, output_names=["last_hidden_state"],
                          dynamic_axes=axes, opset_version=OPSET, dynamo=False)
    return names


def _quantize(source: Path, out: Path) -> None:
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)  # the quantizer logs a pre-processing hint at WARNING
    quantize_dynamic(str(source), str(out), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul"])


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("torch", "transformers", "onnx", "onnxruntime"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "absent"
    return out
