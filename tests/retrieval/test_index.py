"""CompetencyIndex over a small real slice of ESCO: build, search, save/load, refusals, reuse."""

from __future__ import annotations

import csv
import dataclasses
import io
import zipfile
from pathlib import Path

import numpy as np
import orjson
import pytest

from competencymap._common.errors import IndexNotReady
from competencymap.encoding.encoder import DEFAULT_MODEL, Encoder
from competencymap.model.framework import KIND_GROUP, KIND_UNTYPED, Competency, Framework
from competencymap.retrieval.vector_index import CompetencyIndex, IndexEntry, content_checksum, framework_entries

pytestmark = pytest.mark.model

ESCO_ZIP = Path(__file__).resolve().parents[2] / "data" / "esco" / "esco-v1.1.1-classification-en-csv.zip"
PYTHON = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"
SEEDS = ("Python (computer programming)", "Java (computer programming)", "prepare bread products", "SQL",
         "operating systems")  # the last has hidden labels that are not also alternative labels
EXTRA = 25  # skills sharing a word with the seeds: real distractors


def _lines(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split("\n") if v.strip())


def _esco_slice() -> list[Competency]:
    with zipfile.ZipFile(ESCO_ZIP) as archive, archive.open("skills_en.csv") as handle:
        rows = list(csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8")))
    words = {w.lower() for seed in SEEDS for w in seed.replace("(", " ").replace(")", " ").split() if len(w) > 3}
    chosen = [r for r in rows if r["preferredLabel"] in SEEDS]
    chosen += [r for r in rows if r not in chosen and words & set(r["preferredLabel"].lower().split())][:EXTRA]
    return [
        Competency(
            iri=r["conceptUri"],
            framework="esco",
            kind=r["skillType"] or KIND_UNTYPED,
            pref_label=r["preferredLabel"],
            alt_labels=_lines(r["altLabels"]),
            hidden_labels=_lines(r["hiddenLabels"]),
            description=r["description"].strip(),
        )
        for r in chosen
    ]


def _framework(skills: list[Competency], version: str = "v1.1.1") -> Framework:
    group = Competency("http://data.europa.eu/esco/isced-f/0613", "esco", KIND_GROUP, "software and applications development and analysis")
    framework = Framework(id="esco", iri="http://data.europa.eu/esco/concept-scheme/skills", title="ESCO", version=version)
    framework.competencies = {c.iri: c for c in [group, *skills]}
    return framework


class CountingEncoder:
    """An Encoder that records which texts it was asked to encode."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder
        self.name, self.checksum = encoder.name, encoder.checksum
        self.seen: list[str] = []

    @property
    def dimension(self) -> int:
        return self._encoder.dimension

    def encode(self, texts, **options):  # type: ignore[no-untyped-def]
        self.seen.extend(texts)
        return self._encoder.encode(texts, **options)


@pytest.fixture(scope="module")
def skills() -> list[Competency]:
    found = _esco_slice()
    assert PYTHON in {c.iri for c in found} and len(found) == len(SEEDS) + EXTRA
    return found


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return Encoder()


@pytest.fixture(scope="module")
def framework(skills: list[Competency]) -> Framework:
    return _framework(skills)


@pytest.fixture(scope="module")
def built(framework: Framework, encoder: Encoder) -> CompetencyIndex:
    return CompetencyIndex.build(framework, encoder)


@pytest.fixture()
def saved(built: CompetencyIndex, tmp_path: Path) -> Path:
    folder = CompetencyIndex.folder_for(tmp_path, "esco", built.manifest["model"])
    built.save(folder)
    return folder


def test_build_indexes_every_text_of_skills_only(built: CompetencyIndex, framework: Framework) -> None:
    m = built.manifest
    skills = framework.skills()
    assert m["competency_count"] == len(skills) == len(framework.competencies) - 1
    assert {e.iri for e in built.entries} == {c.iri for c in skills}  # the skill group is not indexed
    expected = sum(len({t for _, t in c.texts(hidden=True)}) for c in skills)
    assert m["vector_count"] == len(built.entries) == expected == built.vectors().shape[0]
    assert m["field_counts"]["hidden_label"] >= 1 and sum(m["field_counts"].values()) == expected
    assert m["model"] == DEFAULT_MODEL and m["dimension"] == 384 and m["framework_version"] == "v1.1.1"
    assert m["content_checksum"] == content_checksum(built.entries) and m["built_at"].endswith("+00:00")
    assert m["encoded"] == len({e.text for e in built.entries}) and m["reused"] == 0
    np.testing.assert_allclose(np.linalg.norm(built.vectors(), axis=1), 1.0, atol=1e-5)


def test_search_says_which_text_matched(built: CompetencyIndex, encoder: Encoder) -> None:
    queries = encoder.encode(["Python programming", "baking bread"])
    python, bread = built.search(queries, 3)
    assert python[0].iri == PYTHON and len(python) == 3
    assert IndexEntry(python[0].iri, python[0].field, python[0].text) in built.entries_for(PYTHON)
    assert python[0].score >= python[1].score >= python[2].score
    assert len({h.iri for h in python}) == 3
    assert "bread" in bread[0].text.lower()
    described = built.search(queries[0], 2, fields=["description"])[0]
    assert described[0].iri == PYTHON and described[0].field == "description"
    assert described[0].text == built.entries_for(PYTHON)[-1].text


def test_search_score_is_the_best_text_of_the_competency(built: CompetencyIndex, encoder: Encoder) -> None:
    query = encoder.encode(["software development in Python"])
    hit = built.search(query, 1)[0][0]
    assert hit.score == pytest.approx(float((vectors_of(built, hit.iri) @ query[0]).max()), abs=1e-5)


def test_search_fetches_more_texts_until_k_competencies(built: CompetencyIndex, encoder: Encoder) -> None:
    query = encoder.encode(["Python (computer programming)"])
    hits = built.search(query, 20, per_query_texts=3)[0]
    assert len(hits) == 20 == len({h.iri for h in hits})
    everything = built.search(query, 10_000)[0]
    assert len(everything) == built.manifest["competency_count"]
    assert [h.iri for h in everything[:20]] == [h.iri for h in hits]


def test_search_rejects_wrong_dimension_and_unknown_fields(built: CompetencyIndex) -> None:
    with pytest.raises(IndexNotReady, match="dimension 384"):
        built.search(np.zeros((1, 10), np.float32), 3)
    with pytest.raises(IndexNotReady, match="'scope_note' not in this index"):
        built.search(np.zeros((1, 384), np.float32), 3, fields=["scope_note"])


def vectors_of(index: CompetencyIndex, iri: str) -> np.ndarray:
    """A competency's text vectors, rows in the order of its entries (as the matcher's dense view reads them)."""
    rows = [row for row, entry in enumerate(index.entries) if entry.iri == iri]
    return np.asarray(index.vectors())[rows]


def test_entries_and_pref_label_matrix(built: CompetencyIndex, framework: Framework) -> None:
    assert vectors_of(built, PYTHON).shape == (len(built.entries_for(PYTHON)), 384)
    iris, matrix = built.pref_label_matrix()
    assert len(iris) == len(framework.skills()) == matrix.shape[0]
    row = iris.index(PYTHON)
    np.testing.assert_array_equal(matrix[row], vectors_of(built, PYTHON)[0])
    with pytest.raises(IndexNotReady, match="not in the esco index"):
        built.entries_for("http://example.org/none")


def test_save_load_round_trip(built: CompetencyIndex, saved: Path, framework: Framework, encoder: Encoder) -> None:
    assert saved.name == DEFAULT_MODEL and saved.parent.name == "esco"
    assert {p.name for p in saved.iterdir()} == {
        "manifest.json", "entries.json", "vectors.npy", "pref_label.faiss", "alt_label.faiss", "hidden_label.faiss", "description.faiss"
    }
    loaded = CompetencyIndex.load(saved, framework, encoder)
    assert loaded.entries == built.entries and loaded.manifest == built.manifest
    np.testing.assert_array_equal(loaded.vectors(), built.vectors())
    query = encoder.encode(["write SQL queries"])
    assert loaded.search(query, 5) == built.search(query, 5)


@pytest.mark.parametrize(
    "change",
    [
        lambda skills: (_framework(skills, version="v1.2.0"), "framework version 'v1.1.1' but it is now 'v1.2.0'"),
        lambda skills: (_framework(skills[:-1]), f"competency count {len(skills)} but it is now {len(skills) - 1}"),
        lambda skills: (
            _framework([dataclasses.replace(skills[0], pref_label="x"), *skills[1:]]),
            "the framework's texts changed since the index was built",
        ),
    ],
    ids=["version", "count", "texts"],
)
def test_load_refuses_another_framework(saved: Path, skills, encoder: Encoder, change) -> None:  # type: ignore[no-untyped-def]
    other, message = change(skills)
    with pytest.raises(IndexNotReady) as caught:
        CompetencyIndex.load(saved, other, encoder)
    text = str(caught.value)
    assert message in text and "run `competencymap index build`" in text and str(saved) in text


def test_load_refuses_another_model(saved: Path, framework: Framework, encoder: Encoder) -> None:
    other = CountingEncoder(encoder)
    other.checksum = "0" * 64
    with pytest.raises(IndexNotReady, match="model checksum '[0-9a-f]{64}' but it is now '0000"):
        CompetencyIndex.load(saved, framework, other)  # type: ignore[arg-type]
    other = CountingEncoder(encoder)
    other.name = "paraphrase-multilingual"
    with pytest.raises(IndexNotReady, match=f"model {DEFAULT_MODEL!r} but it is now 'paraphrase-multilingual'"):
        CompetencyIndex.load(saved, framework, other)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["description.faiss", "entries.json", "vectors.npy"])
def test_load_refuses_tampered_files(saved: Path, framework: Framework, encoder: Encoder, name: str) -> None:
    path = saved / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(IndexNotReady, match=f"{name} is corrupt or was modified"):
        CompetencyIndex.load(saved, framework, encoder)


def test_load_refuses_missing_or_broken_manifest(saved: Path, framework: Framework, encoder: Encoder) -> None:
    (saved / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexNotReady, match="not valid JSON"):
        CompetencyIndex.load(saved, framework, encoder)
    (saved / "manifest.json").unlink()
    with pytest.raises(IndexNotReady, match="no index here"):
        CompetencyIndex.load(saved, framework, encoder)


def test_load_refuses_a_manifest_edited_to_fit(saved: Path, framework: Framework, encoder: Encoder) -> None:
    manifest = orjson.loads((saved / "manifest.json").read_bytes())
    manifest["content_checksum"] = "0" * 64
    (saved / "manifest.json").write_bytes(orjson.dumps(manifest))
    with pytest.raises(IndexNotReady, match="entries.json does not match the manifest"):
        CompetencyIndex.load(saved, framework, encoder)


def test_previous_index_vectors_are_reused(built: CompetencyIndex, skills: list[Competency], encoder: Encoder) -> None:
    changed = dataclasses.replace(skills[1], description="Write and maintain programs in a new way.")
    new = Competency("http://example.org/skill/new", "esco", KIND_UNTYPED, "program in Python", ("Python scripting",))
    framework = _framework([skills[0], changed, *skills[2:], new])
    counting = CountingEncoder(encoder)
    rebuilt = CompetencyIndex.build(framework, counting, previous=built)  # type: ignore[arg-type]
    assert sorted(counting.seen) == sorted({"Write and maintain programs in a new way.", "program in Python", "Python scripting"} - {e.text for e in built.entries})
    assert rebuilt.encoded == len(counting.seen) == rebuilt.manifest["encoded"]
    assert rebuilt.reused == len({e.text for e in rebuilt.entries}) - rebuilt.encoded > 0
    assert rebuilt.entries == framework_entries(framework, rebuilt.fields)
    before = {e.text: row for row, e in enumerate(built.entries)}
    for row, entry in enumerate(rebuilt.entries):
        if entry.text in before:
            np.testing.assert_array_equal(rebuilt.vectors()[row], built.vectors()[before[entry.text]])
        else:
            np.testing.assert_allclose(rebuilt.vectors()[row], encoder.encode([entry.text])[0], atol=1e-5)


def test_previous_index_of_another_model_is_not_reused(built: CompetencyIndex, framework: Framework, encoder: Encoder) -> None:
    counting = CountingEncoder(encoder)
    counting.checksum = "f" * 64
    rebuilt = CompetencyIndex.build(framework, counting, fields=["pref_label"], previous=built)  # type: ignore[arg-type]
    assert rebuilt.reused == 0 and len(counting.seen) == len(framework.skills())


def test_inverted_file_search_for_large_fields(built: CompetencyIndex, framework: Framework, encoder: Encoder, tmp_path: Path) -> None:
    ivf = CompetencyIndex.build(framework, encoder, previous=built, flat_limit=40)
    plans = ivf.manifest["search"]
    assert plans["alt_label"]["kind"] == "ivf" and plans["hidden_label"]["kind"] == "flat"
    query = encoder.encode(["Python programming"])
    assert ivf.search(query, 1)[0][0].iri == PYTHON
    ivf.save(tmp_path / "ivf")
    loaded = CompetencyIndex.load(tmp_path / "ivf", framework, encoder)
    np.testing.assert_array_equal(loaded.vectors(), built.vectors())
    assert loaded.search(query, 3) == ivf.search(query, 3)


def test_entries_are_grouped_by_field_then_iri(framework: Framework) -> None:
    entries = framework_entries(framework, ("description", "pref_label"))
    fields = [e.field for e in entries]
    assert fields == sorted(fields)  # 'description' block, then 'pref_label' block
    first = [e.iri for e in entries if e.field == "pref_label"]
    assert first == sorted(first)


def test_folder_for_uses_a_safe_model_slug(tmp_path: Path) -> None:
    folder = CompetencyIndex.folder_for(tmp_path, "sfs", "sentence-transformers/All MiniLM")
    assert folder == tmp_path / "sfs" / "sentence-transformers-all-minilm"
