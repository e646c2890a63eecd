"""Encoder backends: the ONNX export is derived once, checksummed and refused when altered; every
backend gives the model's vectors; phrases get vectors from their statement's forward pass;
the lexical index cache round-trips and refuses altered files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from competencymap._common.config import load_settings
from competencymap._common.errors import CompetencyMapError, ModelError
from competencymap.encoding.encoder import Encoder
from competencymap.encoding.onnx_export import INT8, MANIFEST
from competencymap.mapping.statement_vectors import StatementEncoder
from competencymap.retrieval.lexical import LexicalIndex

TEXTS = ["Write SQL queries", "bake bread and pastries", "Manage a team of nurses in a long-term care home", "R"]


@pytest.fixture(scope="module")
def encoders(model_cache: Path) -> dict[str, Encoder]:
    return {name: Encoder(backend=name, cache_dir=model_cache) for name in ("torch", "onnx", "onnx-int8")}


@pytest.mark.model
def test_backends_agree_with_torch(encoders: dict[str, Encoder]) -> None:
    reference = encoders["torch"].encode(TEXTS)
    exact = encoders["onnx"].encode(TEXTS)
    quantized = encoders["onnx-int8"].encode(TEXTS)
    assert np.min(np.sum(reference * exact, axis=1)) > 0.9999
    assert np.min(np.sum(reference * quantized, axis=1)) > 0.97
    np.testing.assert_allclose(np.linalg.norm(quantized, axis=1), 1.0, atol=1e-5)


@pytest.mark.model
@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_a_vector_does_not_depend_on_its_neighbours(encoders: dict[str, Encoder], backend: str) -> None:
    encoder = encoders[backend]
    together = encoder.encode(TEXTS * 20)
    alone = np.vstack([encoder.encode([t]) for t in TEXTS])
    np.testing.assert_array_equal(together[: len(TEXTS)], alone)


@pytest.mark.model
def test_the_export_is_made_once_with_a_manifest(encoders: dict[str, Encoder]) -> None:
    folder = encoders["onnx-int8"].onnx_folder()
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["source_weights_sha256"] == encoders["onnx-int8"].checksum
    assert set(manifest["files"]) == {"model.onnx", "model-int8.onnx"}
    assert manifest["quantization"]["per_channel"] is True


@pytest.mark.model
def test_an_altered_onnx_file_is_refused(tmp_path: Path, model_cache: Path, encoders: dict[str, Encoder]) -> None:
    source = encoders["onnx-int8"].onnx_folder()
    cache = tmp_path / "models"
    copy = cache / source.relative_to(model_cache)
    copy.parent.mkdir(parents=True)
    copy.mkdir()
    for item in source.iterdir():
        (copy / item.name).write_bytes(item.read_bytes())
    data = bytearray((copy / INT8).read_bytes())
    data[len(data) // 2] ^= 0x01
    (copy / INT8).write_bytes(bytes(data))
    encoder = Encoder(backend="onnx-int8", cache_dir=cache)
    with pytest.raises(ModelError, match="does not match the sha256 in its manifest"):
        encoder.encode(["x"])


@pytest.mark.model
def test_an_export_of_other_weights_is_refused(tmp_path: Path, model_cache: Path, encoders: dict[str, Encoder]) -> None:
    source = encoders["onnx"].onnx_folder()
    copy = tmp_path / "models" / source.relative_to(model_cache)
    copy.mkdir(parents=True)
    for item in source.iterdir():
        (copy / item.name).write_bytes(item.read_bytes())
    manifest = json.loads((copy / MANIFEST).read_text(encoding="utf-8"))
    manifest["source_weights_sha256"] = "0" * 64
    (copy / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ModelError, match="other weights"):
        Encoder(backend="onnx", cache_dir=tmp_path / "models").encode(["x"])


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ModelError, match="unknown backend 'gpu'"):
        Encoder(backend="gpu")
    with pytest.raises(CompetencyMapError, match="unknown backend"):
        load_settings(backend="gpu")


@pytest.mark.model
def test_phrase_vectors_come_from_the_statement_pass(encoders: dict[str, Encoder]) -> None:
    encoder = encoders["onnx"]
    statement = "Experience with PostgreSQL and Java"
    vectors = StatementEncoder(encoder).encode([statement])[0]
    assert [p[0] for p in vectors.phrases] == ["Experience with PostgreSQL", "Java"]
    assert vectors.phrase_vectors.shape == (2, encoder.dimension)
    np.testing.assert_allclose(vectors.vector, encoder.encode([statement])[0], atol=1e-5)
    alone = encoder.encode(["Java", "bake bread"])
    assert float(vectors.phrase_vectors[1] @ alone[0]) > float(vectors.phrase_vectors[1] @ alone[1]) + 0.2


@pytest.mark.model
def test_statement_cache_is_bounded_and_counts_hits(encoders: dict[str, Encoder]) -> None:
    cache = StatementEncoder(encoders["onnx-int8"], capacity=3)
    first = cache.encode(TEXTS)
    assert len(cache) == 3 and cache.misses == 4
    again = cache.encode(TEXTS[1:])
    assert cache.hits == 3
    for a, b in zip(first[1:], again):
        np.testing.assert_array_equal(a.vector, b.vector)


def test_lexical_cache_round_trip_and_refusal(tmp_path: Path, esco_slice_csv: Path) -> None:
    from competencymap.frameworks.simple_csv import load_simple_csv

    framework = load_simple_csv(esco_slice_csv, name="mini")
    built = LexicalIndex.build(framework)
    built.save(tmp_path / "lexical", "abc")
    loaded = LexicalIndex.load(tmp_path / "lexical", "abc")
    assert loaded is not None
    for text in ["Experience with PostgreSQL and Java", "bake bread", "SQL, Python (computer programming)"]:
        assert loaded.exact(text) == built.exact(text)
        for found, expected in zip(loaded.bm25_top(text, 20), built.bm25_top(text, 20)):
            np.testing.assert_array_equal(found, expected)
    assert loaded.competency_iris == built.competency_iris
    assert LexicalIndex.load(tmp_path / "lexical", "other") is None
    exact = tmp_path / "lexical" / "exact.json"
    exact.write_bytes(exact.read_bytes().replace(b"postgresql", b"postgresqm", 1))
    assert LexicalIndex.load(tmp_path / "lexical", "abc") is None
