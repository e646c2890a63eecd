"""Shared fixtures: a small real slice of ESCO written as a user framework CSV."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ESCO_ZIP = ROOT / "data" / "esco" / "esco-v1.1.1-classification-en-csv.zip"

# Labels a mapping test relies on, plus every skill whose label shares a word with them, so
# the slice has real distractors.
SLICE_SEEDS = ("PostgreSQL", "Java (computer programming)", "JavaScript", "Python (computer programming)",
               "SQL", "use spreadsheets software", "communication", "teamwork principles",
               "prepare bread products", "drive vehicles", "perform data analysis", "manage budgets")


def _esco_skill_rows() -> list[dict[str, str]]:
    with zipfile.ZipFile(ESCO_ZIP) as archive:
        name = next(n for n in archive.namelist() if n.endswith("skills_en.csv"))
        with archive.open(name) as handle:
            return list(csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8")))


@pytest.fixture(scope="session")
def esco_slice_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~150 real ESCO skills as a simple CSV (id=ESCO IRI, label, description, alt_labels)."""
    rows = _esco_skill_rows()
    words = {w.lower() for seed in SLICE_SEEDS for w in seed.replace("(", " ").replace(")", " ").split() if len(w) > 3}
    chosen = [r for r in rows if r["preferredLabel"] in SLICE_SEEDS]
    chosen += [r for r in rows if r not in chosen and words & set(r["preferredLabel"].lower().split())][:140]
    path = tmp_path_factory.mktemp("slice") / "esco_slice.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "label", "description", "alt_labels"])
        for r in chosen:
            alts = " | ".join(a.strip() for a in r["altLabels"].split("\n") if a.strip())
            writer.writerow([r["conceptUri"], r["preferredLabel"], r["description"], alts])
    return path


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the ONNX export of the model for the whole session (made on first use)."""
    folder = tmp_path_factory.mktemp("models")
    os.environ["COMPETENCYMAP_MODELS"] = str(folder)
    return folder


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh COMPETENCYMAP_HOME so tests never touch the repository's indexes/."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("COMPETENCYMAP_HOME", str(folder))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return folder


@pytest.fixture(scope="session")
def built_home(tmp_path_factory: pytest.TempPathFactory, esco_slice_csv: Path) -> Path:
    """A home with the ESCO slice registered as 'mini' and its index built (shared, read-only)."""
    from competencymap._common.config import load_settings
    from competencymap.engine import CompetencyMap

    folder = tmp_path_factory.mktemp("built") / "home"
    folder.mkdir()
    app = CompetencyMap(load_settings(home=folder))
    app.store.add(esco_slice_csv, name="mini")
    app.build_index("mini")
    app.build_index("sfs")
    return folder


@pytest.fixture(scope="session")
def full_app() -> object:
    """The engine on the full bundled ESCO and Skills for Success with the repository's indexes,
    built first when missing (about a minute and a half on two cores; CI builds them once)."""
    from competencymap._common.config import load_settings
    from competencymap.engine import CompetencyMap

    app = CompetencyMap(load_settings(home=ROOT / "indexes"))
    for name in ("esco", "sfs"):
        app.index(name, build=True)
    return app
