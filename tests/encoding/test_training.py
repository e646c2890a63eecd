"""Training pairs, the batch schedule, and a tiny real training run: deterministic, verified, loadable."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from competencymap._common.errors import InputTextError, ModelError
from competencymap.encoding.encoder import Encoder
from competencymap.encoding.training import (
    ADAPTER_FILE,
    ADAPTER_META,
    Pair,
    TrainSettings,
    read_pairs,
    schedule,
    train,
    write_pairs,
)


def test_pairs_round_trip(tmp_path: Path) -> None:
    pairs = [Pair("fix the sink", "plumbing", "k1", frozenset({"k1", "k2"}), "g1", "bake bread"), Pair("a", "b")]
    write_pairs(pairs, tmp_path / "p.jsonl")
    assert read_pairs(tmp_path / "p.jsonl") == pairs


@pytest.mark.parametrize("line, problem", [
    ("not json", "line 2 is not JSON"),
    ('["a", "b"]', "line 2 is not a JSON object"),
    ('{"anchor": "a"}', "line 2 needs a non-empty 'anchor' and 'positive'"),
    ('{"anchor": "a", "positive": "b", "also": "k"}', "line 2: 'also' must be a list"),
])
def test_a_bad_line_is_named(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"anchor": "a", "positive": "b"}\n' + line + "\n")
    with pytest.raises(InputTextError, match=problem):
        read_pairs(path)


def test_an_empty_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "p.jsonl").write_text("\n")
    with pytest.raises(InputTextError, match="no pairs"):
        read_pairs(tmp_path / "p.jsonl")


def _pairs(n: int) -> list[Pair]:
    return [Pair(f"text {i}", f"skill {i % 37}", group=f"g{i % 5}") for i in range(n)]


def test_schedule_is_fixed_by_the_seed_and_never_repeats_a_competency_in_a_batch() -> None:
    pairs = _pairs(500)
    first = schedule(pairs, TrainSettings(seed=1, batch_size=16))
    assert first == schedule(pairs, TrainSettings(seed=1, batch_size=16))
    assert first != schedule(pairs, TrainSettings(seed=2, batch_size=16))
    for batch in first:
        assert len({p.concept for p in batch}) == len(batch)
    assert sum(len(b) for b in first) >= 490  # at most a handful left over at the ends


def test_group_batches_put_siblings_together() -> None:
    pairs = [Pair(f"t{i}", f"s{i}", group=f"g{i % 10}") for i in range(640)]
    grouped = schedule(pairs, TrainSettings(batch_size=16, group_batches=1.0))
    mixed = schedule(pairs, TrainSettings(batch_size=16, group_batches=0.0))
    def groups(batches: list[list[Pair]]) -> float:
        return float(np.mean([len({p.group for p in b}) for b in batches]))
    assert groups(grouped) < 3 < groups(mixed)


@pytest.mark.model
def test_a_tiny_run_is_deterministic_and_loads_as_a_verified_model(tmp_path: Path) -> None:
    stock = Encoder("all-MiniLM-L6-v2", backend="torch", cache_dir=tmp_path / "cache")
    pairs = [Pair("write SQL queries", "SQL", "sql"), Pair("bake sourdough loaves", "prepare bread products", "bread"),
             Pair("drive a forklift", "operate forklift", "forklift"), Pair("chat with guests", "communication", "c")]
    settings = TrainSettings(batch_size=4, epochs=2, threads=1, learning_rate=1e-2)
    train(stock.folder, stock.checksum, pairs, tmp_path / "one", settings)
    train(stock.folder, stock.checksum, pairs, tmp_path / "two", settings)
    one, two = (tmp_path / "one" / ADAPTER_FILE).read_bytes(), (tmp_path / "two" / ADAPTER_FILE).read_bytes()
    assert one == two
    meta = json.loads((tmp_path / "one" / ADAPTER_META).read_text())
    assert meta["base_sha256"] == stock.checksum and meta["steps"] == len(schedule(pairs, settings))

    adapted = Encoder(str(tmp_path / "one"), backend="torch", cache_dir=tmp_path / "cache")
    assert adapted.checksum != stock.checksum
    texts = ["write SQL queries", "bake sourdough loaves"]
    assert not np.allclose(adapted.encode(texts), stock.encode(texts), atol=1e-4)
    again = Encoder(str(tmp_path / "one"), backend="torch", cache_dir=tmp_path / "cache")
    assert again.checksum == adapted.checksum and again.folder == adapted.folder  # merged once

    merged = adapted.folder / "model.safetensors"
    with merged.open("r+b") as handle:  # a changed merged file is refused
        handle.seek(-100, 2)
        byte = handle.read(1)
        handle.seek(-100, 2)
        handle.write(bytes([byte[0] ^ 1]))
    with pytest.raises(ModelError, match="merged weights changed"):
        Encoder(str(tmp_path / "one"), backend="torch", cache_dir=tmp_path / "cache")

    with (tmp_path / "one" / ADAPTER_FILE).open("r+b") as handle:  # a changed adapter is refused
        handle.seek(-10, 2)
        handle.write(b"\x00" * 10)
    with pytest.raises(ModelError, match="adapter checksum mismatch"):
        Encoder(str(tmp_path / "one"), backend="torch", cache_dir=tmp_path / "cache")


@pytest.mark.model
def test_an_adapter_for_other_base_weights_is_refused(tmp_path: Path) -> None:
    stock = Encoder("all-MiniLM-L6-v2", backend="torch", cache_dir=tmp_path / "cache")
    pairs = [Pair("a b", "c"), Pair("d e", "f")]
    train(stock.folder, "f" * 64, pairs, tmp_path / "other", TrainSettings(batch_size=2, threads=1))
    with pytest.raises(ModelError, match="trained on base weights"):
        Encoder(str(tmp_path / "other"), backend="torch", cache_dir=tmp_path / "cache")
