"""`competencymap model pairs` and `model train` through the CLI, on a small ESCO slice and a tiny run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from competencymap.cli import main
from competencymap.encoding.training import ADAPTER_FILE, ADAPTER_META, read_pairs

DATA = Path(__file__).resolve().parents[1] / "data"
REPO_DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home and a data folder holding a small ESCO slice and the bundled SkillSkape training split."""
    data = tmp_path / "data"
    shutil.copytree(DATA / "store_esco", data / "esco")
    shutil.copytree(REPO_DATA / "training", data / "training")
    monkeypatch.setenv("COMPETENCYMAP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COMPETENCYMAP_DATA", str(data))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_pairs_come_from_esco_and_skillskape(env: Path) -> None:
    done = CliRunner().invoke(main, ["model", "pairs", "--out", str(env / "pairs.jsonl")])
    assert done.exit_code == 0, done.output
    pairs = read_pairs(env / "pairs.jsonl")
    assert pairs and all(p.key.startswith("http://data.europa.eu/esco/skill/") for p in pairs)
    assert "labels matched no ESCO skill" in done.output  # the slice lacks most SkillSkape skills: counted, not hidden
    again = CliRunner().invoke(main, ["model", "pairs", "--out", str(env / "again.jsonl")])
    assert again.exit_code == 0 and (env / "again.jsonl").read_bytes() == (env / "pairs.jsonl").read_bytes()


def test_pairs_need_a_source(env: Path) -> None:
    done = CliRunner().invoke(main, ["model", "pairs", "--out", str(env / "p.jsonl"), "--no-esco", "--no-skillskape"])
    assert done.exit_code == 2 and "no pairs" in done.output


def test_train_names_a_bad_pairs_line(env: Path) -> None:
    (env / "bad.jsonl").write_text('{"anchor": "a", "positive": "b"}\n{"anchor": 3}\n')
    done = CliRunner().invoke(main, ["model", "train", "--pairs", str(env / "bad.jsonl"), "--out", str(env / "out")])
    assert done.exit_code != 0 and "line 2" in done.output and "Traceback" not in done.output


@pytest.mark.model
def test_train_writes_an_adapter_the_engine_loads(env: Path) -> None:
    lines = [{"anchor": a, "positive": p} for a, p in [("write SQL queries", "SQL"), ("bake bread", "prepare bread products"),
                                                      ("drive a forklift", "operate forklift"), ("talk to guests", "communication")]]
    (env / "pairs.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    done = CliRunner().invoke(main, ["model", "train", "--pairs", str(env / "pairs.jsonl"), "--out", str(env / "adapter"),
                                     "--batch-size", "2", "--threads", "1"])
    assert done.exit_code == 0, done.output
    meta = json.loads((env / "adapter" / ADAPTER_META).read_text())
    assert meta["adapter_sha256"] in done.output and (env / "adapter" / ADAPTER_FILE).is_file()
    info = CliRunner().invoke(main, ["model", "info", "--model", str(env / "adapter"), "--backend", "torch"])
    assert info.exit_code == 0, info.output
    assert json.loads(info.stdout)["model"] == "adapter"
