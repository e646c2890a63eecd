"""Framework dispatch, the JSON cache and FrameworkStore."""

from __future__ import annotations

import gzip
import os
import shutil
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest

from competencymap import frameworks as loading
from competencymap._common.checksum import file_sha256
from competencymap._common.config import Settings
from competencymap._common.errors import FrameworkError, UnknownFramework
from competencymap.frameworks import cache, names
from competencymap.frameworks.store import FrameworkStore
from competencymap.model.framework import (
    KIND_COMPONENT,
    KIND_GROUP,
    KIND_ISCO_GROUP,
    KIND_KNOWLEDGE,
    KIND_SKILL,
    REL_ESSENTIAL,
    REL_SKILL_OPTIONAL,
    Competency,
    Framework,
    Level,
    Occupation,
    Relation,
)

DATA = Path(__file__).resolve().parents[1] / "data"
REPO_DATA = Path(__file__).resolve().parents[2] / "data"
SIMPLE_CSV = DATA / "store_simple.csv"


def sample_framework(framework_id: str = "sample") -> Framework:
    """A framework using every field of every model type with non-default values."""
    group = Competency(
        iri="http://example.org/g1", framework=framework_id, kind=KIND_GROUP, pref_label="Group",
        code="S1", schemes=("http://example.org/scheme",),
    )
    skill = Competency(
        iri="http://example.org/s1", framework=framework_id, kind=KIND_SKILL, pref_label="Weld metal",
        alt_labels=("welding", "join metal"), hidden_labels=("weldin",), description="Join parts.",
        broader=("http://example.org/g1", "http://example.org/g2"), status="obsolete",
        reuse_level="sector-specific", code="", schemes=("http://example.org/scheme", "http://x/c"),
        scope_note="Includes arc welding. “Quotes” ünïcode",
    )
    part = Competency(
        iri="http://example.org/s1/c1", framework=framework_id, kind=KIND_COMPONENT,
        pref_label="Prepare joints", broader=("http://example.org/s1",),
    )
    knowledge = Competency(
        iri="http://example.org/k1", framework=framework_id, kind=KIND_KNOWLEDGE, pref_label="Metallurgy",
    )
    isco = Occupation(
        iri="http://example.org/isco/7212", framework=framework_id, pref_label="Welders",
        kind=KIND_ISCO_GROUP, code="7212",
    )
    occupation = Occupation(
        iri="http://example.org/o1", framework=framework_id, pref_label="welder", code="7212.1",
        isco_group="7212", alt_labels=("welding operator",), hidden_labels=("weldr",),
        description="Welds things.", broader=("http://example.org/isco/7212",), status="released",
    )
    return Framework(
        id=framework_id, iri="http://example.org/scheme", title="Sample", version="1.0",
        language="en", source="made by hand", licence="CC0",
        competencies={c.iri: c for c in (group, skill, part, knowledge)},
        occupations={o.iri: o for o in (isco, occupation)},
        relations=[
            Relation("http://example.org/o1", "http://example.org/s1", REL_ESSENTIAL),
            Relation("http://example.org/s1", "http://example.org/k1", REL_SKILL_OPTIONAL, 0.125),
            Relation("http://example.org/s1", "http://other.org/x", "exactMatch", 1.0),
            Relation("http://example.org/k1", "http://example.org/s1", REL_ESSENTIAL, 0.1 + 0.2),
        ],
        levels=[Level("http://example.org/s1/l1", "http://example.org/s1", 1, "Level 1", "Basic.")],
        languages=("en", "fr"),
    )


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    path = tmp_path / "source.ttl"
    path.write_text("# stands in for a framework source\n")
    return path


# -- cache ------------------------------------------------------------------------------


def test_cache_round_trips_every_field(tmp_path: Path, source: Path) -> None:
    original = sample_framework()
    cache.save_cached(original, tmp_path / "c", [source])
    loaded = cache.load_cached(tmp_path / "c", [source])
    assert loaded == original
    assert list(loaded.competencies) == list(original.competencies)
    skill = loaded.competencies["http://example.org/s1"]
    assert isinstance(skill.alt_labels, tuple) and isinstance(skill.broader, tuple)
    assert isinstance(skill.schemes, tuple) and isinstance(loaded.languages, tuple)
    assert loaded.relations[0].score is None
    assert loaded.relations[3].score == 0.1 + 0.2
    assert type(loaded.levels[0].rank) is int


def test_cache_round_trips_an_empty_framework(tmp_path: Path, source: Path) -> None:
    empty = Framework(id="empty", iri="http://example.org/e", title="Empty")
    cache.save_cached(empty, tmp_path / "c", [source])
    assert cache.load_cached(tmp_path / "c", [source]) == empty


def test_manifest_records_sources_counts_and_checksum(tmp_path: Path, source: Path) -> None:
    framework = sample_framework()
    cache.save_cached(framework, tmp_path / "c", [source])
    manifest = orjson.loads((tmp_path / "c" / "manifest.json").read_bytes())
    assert manifest["framework"] == "sample"
    assert manifest["iri"] == framework.iri and manifest["version"] == "1.0"
    assert manifest["language"] == "en"
    assert manifest["counts"] == framework.stats()
    assert manifest["cache_format"] == cache.CACHE_FORMAT
    assert manifest["created"].endswith("+00:00")
    [entry] = manifest["sources"]
    assert entry["path"] == str(source.resolve())
    assert entry["size"] == source.stat().st_size
    assert entry["sha256"] == file_sha256(source)
    assert manifest["framework_sha256"] == file_sha256(tmp_path / "c" / "framework.json")


def test_absent_cache_is_none(tmp_path: Path, source: Path) -> None:
    assert cache.load_cached(tmp_path / "nothing", [source]) is None


def test_changed_source_makes_cache_stale(tmp_path: Path, source: Path) -> None:
    cache.save_cached(sample_framework(), tmp_path / "c", [source])
    text = source.read_text()
    source.write_text(text.replace("stands", "STANDS"))  # same size, new content
    os.utime(source, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
    assert cache.load_cached(tmp_path / "c", [source]) is None


def test_touched_but_unchanged_source_is_still_fresh(tmp_path: Path, source: Path) -> None:
    cache.save_cached(sample_framework(), tmp_path / "c", [source])
    os.utime(source, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
    assert cache.load_cached(tmp_path / "c", [source]) == sample_framework()


def test_unchanged_size_and_mtime_skip_hashing(tmp_path: Path, source: Path, monkeypatch) -> None:
    cache.save_cached(sample_framework(), tmp_path / "c", [source])

    def no_hashing(path: Path) -> str:
        raise AssertionError(f"hashed {path}")

    monkeypatch.setattr(cache, "file_sha256", no_hashing)
    assert cache.load_cached(tmp_path / "c", [source]) is not None


def test_other_sources_make_cache_stale(tmp_path: Path, source: Path) -> None:
    cache.save_cached(sample_framework(), tmp_path / "c", [source])
    other = tmp_path / "other.ttl"
    other.write_text("x")
    assert cache.load_cached(tmp_path / "c", [other]) is None
    assert cache.load_cached(tmp_path / "c", [source, other]) is None
    assert cache.load_cached(tmp_path / "c", []) is None


def test_new_cache_format_makes_cache_stale(tmp_path: Path, source: Path, monkeypatch) -> None:
    cache.save_cached(sample_framework(), tmp_path / "c", [source])
    monkeypatch.setattr(cache, "CACHE_FORMAT", cache.CACHE_FORMAT + 1)
    assert cache.load_cached(tmp_path / "c", [source]) is None


def test_edited_framework_json_makes_cache_stale(tmp_path: Path, source: Path) -> None:
    cache.save_cached(sample_framework(), tmp_path / "c", [source])
    target = tmp_path / "c" / "framework.json"
    target.write_bytes(target.read_bytes().replace(b"Weld metal", b"Weld steel"))
    assert cache.load_cached(tmp_path / "c", [source]) is None


def test_failed_write_leaves_old_cache_and_no_temp_files(tmp_path: Path, source: Path, monkeypatch) -> None:
    folder = tmp_path / "c"
    cache.save_cached(sample_framework(), folder, [source])
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(cache.os, "replace", failing_replace)
    changed = sample_framework()
    changed.title = "Changed"
    with pytest.raises(OSError):
        cache.save_cached(changed, folder, [source])
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert cache.load_cached(folder, [source]).title == "Sample"


def test_framework_json_without_matching_manifest_is_stale(tmp_path: Path, source: Path, monkeypatch) -> None:
    """An interruption between the two renames leaves a cache that is never used."""
    folder = tmp_path / "c"
    cache.save_cached(sample_framework(), folder, [source])
    real_replace = os.replace

    def replace_only_framework(src, dst):
        if str(dst).endswith("manifest.json"):
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(cache.os, "replace", replace_only_framework)
    changed = sample_framework()
    changed.title = "Changed"
    with pytest.raises(KeyboardInterrupt):
        cache.save_cached(changed, folder, [source])
    monkeypatch.undo()
    assert cache.load_cached(folder, [source]) is None
    assert sorted(p.name for p in folder.iterdir()) == ["framework.json", "manifest.json"]


# -- dispatch ---------------------------------------------------------------------------


def test_dispatch_recognises_each_kind(tmp_path: Path) -> None:
    assert loading.framework_kind(SIMPLE_CSV) == "simple-csv"
    esco_folder = tmp_path / "unpacked"
    esco_folder.mkdir()
    (esco_folder / "skills_en.csv").write_text("conceptType,conceptUri\n")
    assert loading.framework_kind(esco_folder) == "esco-csv"
    esco_zip = tmp_path / "classification.zip"
    with zipfile.ZipFile(esco_zip, "w") as archive:
        archive.writestr("skills_en.csv", "conceptType,conceptUri\n")
        archive.writestr("skillGroups_en.csv", "conceptType,conceptUri\n")
    assert loading.framework_kind(esco_zip) == "esco-csv"
    for name in ("a.ttl", "b.nt", "c.rdf", "d.owl", "e.xml", "f.jsonld", "g.json", "h.n3", "i.TTL"):
        path = tmp_path / name
        path.write_text("x")
        assert loading.framework_kind(path) == "rdf", name
    gz = tmp_path / "scheme.ttl.gz"
    gz.write_bytes(gzip.compress(b"x"))
    assert loading.framework_kind(gz) == "rdf"
    rdf_zip = tmp_path / "scheme.zip"
    with zipfile.ZipFile(rdf_zip, "w") as archive:
        archive.writestr("dir/scheme.rdf", "x")
        archive.writestr("README.txt", "x")
    assert loading.framework_kind(rdf_zip) == "rdf"


def test_dispatch_finds_the_bundled_esco_release() -> None:
    if not (REPO_DATA / "esco").is_dir():
        pytest.skip("bundled ESCO data not present")
    assert loading.framework_kind(REPO_DATA / "esco") == "esco-csv"
    with pytest.raises(FrameworkError, match="unknown language 'de'.*found en"):
        loading.framework_kind(REPO_DATA / "esco", "de")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.ttl", None, "no such file"),
        ("empty.ttl", b"", "empty file"),
        ("empty.csv", b"", "empty file"),
        ("notes.txt", b"hello", "unknown file type"),
        ("table.csv", b"code,name\nA,B\n", "expected a header with id,label"),
        ("skills_en.csv", b"conceptType,conceptUri\n", "pass the folder or zip"),
        ("latin1.csv", "id,label\n1,caf\xe9\n".encode("latin-1") + b"\xff\xfe" * 10, None),
        ("broken.zip", b"PK not really", "not a readable zip"),
    ],
)
def test_dispatch_errors_name_the_file(tmp_path: Path, name: str, content: bytes | None, message: str | None) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    if message is None:  # the header is valid; the loader judges the rest
        assert loading.framework_kind(path) == "simple-csv"
        return
    with pytest.raises(FrameworkError, match=message) as caught:
        loading.framework_kind(path)
    assert str(path) in caught.value.line_text()


def test_dispatch_rejects_folders_and_zips_that_hold_no_framework(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "notes.txt").write_text("x")
    with pytest.raises(FrameworkError, match="not a framework"):
        loading.framework_kind(folder)
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("a.ttl", "x")
        archive.writestr("b.ttl", "x")
    with pytest.raises(FrameworkError, match="holds 2 RDF files"):
        loading.framework_kind(two)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("a.txt", "x")
    with pytest.raises(FrameworkError, match="not a framework"):
        loading.framework_kind(other)


def test_dispatch_checks_language_and_name(tmp_path: Path) -> None:
    folder = tmp_path / "esco"
    folder.mkdir()
    (folder / "skills_en.csv").write_text("conceptType,conceptUri\n")
    with pytest.raises(FrameworkError, match="unknown language 'fr'"):
        loading.load_framework(folder, language="fr")
    with pytest.raises(FrameworkError, match="unknown language"):
        loading.load_framework(SIMPLE_CSV, language="english!")
    with pytest.raises(FrameworkError, match="bad framework name"):
        loading.load_framework(SIMPLE_CSV, name="My Skills")


def test_slug_and_rename() -> None:
    assert names.slug("My Skills v2") == "my-skills-v2"
    assert names.slug("***") == "framework"
    renamed = loading.rename_framework(sample_framework(), "other")
    assert renamed.id == "other"
    assert {c.framework for c in renamed.competencies.values()} == {"other"}
    assert {o.framework for o in renamed.occupations.values()} == {"other"}
    assert renamed.relations == sample_framework().relations


def test_source_files_lists_folder_contents(tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_text("x")
    (tmp_path / "a.zip").write_text("x")
    (tmp_path / ".hidden").write_text("x")
    assert [p.name for p in loading.source_files(tmp_path)] == ["a.zip", "b.csv"]
    assert loading.source_files(tmp_path / "b.csv") == [tmp_path / "b.csv"]


def test_dispatch_reads_only_the_csv_header_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"id,lab\xe9l\n")
    with pytest.raises(FrameworkError, match="not UTF-8") as caught:
        loading.framework_kind(path)
    assert caught.value.line == 1


# -- the store --------------------------------------------------------------------------


def make_data(folder: Path) -> Path:
    """A data folder laid out like the repository's: a small ESCO slice and the SfS schemes."""
    shutil.copytree(DATA / "store_esco", folder / "esco")
    (folder / "skills_for_success").mkdir(parents=True)
    for name in ("skills_for_success.ttl", "essential_skills.ttl"):
        shutil.copy(REPO_DATA / "skills_for_success" / name, folder / "skills_for_success" / name)
    return folder


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", data=make_data(tmp_path / "data"))


@pytest.fixture()
def user_csv(tmp_path: Path) -> Path:
    path = tmp_path / "user" / "My Skills.csv"
    path.parent.mkdir()
    shutil.copy(SIMPLE_CSV, path)
    return path


def no_source_loading(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("loaded from source instead of the cache")

    monkeypatch.setattr(loading, "load_framework", refuse)


def test_names_are_the_bundled_frameworks_first(settings: Settings) -> None:
    assert FrameworkStore(settings).names() == ["esco", "sfs", "essential-skills"]


def test_get_loads_caches_and_reuses(settings: Settings, monkeypatch) -> None:
    messages: list[str] = []
    store = FrameworkStore(settings, on_load=messages.append)
    esco = store.get("esco")
    assert esco.id == "esco" and len(esco.skills()) == 6
    assert len(messages) == 1 and "esco" in messages[0]
    assert store.get("esco") is esco  # kept in the store object
    assert (settings.framework_cache / "esco-en" / "framework.json").is_file()
    assert (settings.framework_cache / "esco-en" / "manifest.json").is_file()

    no_source_loading(monkeypatch)
    again: list[str] = []
    fresh = FrameworkStore(settings, on_load=again.append)
    assert fresh.get("esco") == esco
    assert again == []
    assert fresh.is_cached("esco")


def test_cache_keeps_relations_of_a_withdrawn_occupation(settings: Settings, monkeypatch) -> None:
    """As in ESCO v1.1.1: an occupation named by the hierarchy and by relations, with no row."""
    occupation = "http://data.europa.eu/esco/occupation/01bcac9f-7881-4664-bd63-dea700e3b117"
    skill = "http://data.europa.eu/esco/skill/39a25537-5057-4c0b-8141-32851e1cd886"
    folder = settings.data / "esco"
    with open(folder / "broaderRelationsOccPillar.csv", "a", encoding="utf-8") as handle:
        handle.write(f"Occupation,{WITHDRAWN},Occupation,{occupation}\n")
    with open(folder / "occupationSkillRelations.csv", "a", encoding="utf-8") as handle:
        handle.write(f"{WITHDRAWN},optional,knowledge,{skill}\n")
    esco = FrameworkStore(settings).get("esco")
    assert Relation(WITHDRAWN, skill, "optional") in esco.relations and WITHDRAWN not in esco.occupations
    no_source_loading(monkeypatch)
    assert FrameworkStore(settings).get("esco") == esco


def test_threads_share_one_load(settings: Settings) -> None:
    messages: list[str] = []
    store = FrameworkStore(settings, on_load=messages.append)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: store.get("esco"), range(4)))
    assert all(result is results[0] for result in results)
    assert len(messages) == 1


def test_language_codes_are_case_insensitive(settings: Settings) -> None:
    store = FrameworkStore(settings)
    assert store.get("esco", language="EN") is store.get("esco")
    with pytest.raises(FrameworkError, match="unknown language"):
        store.get("esco", language="e n")


def test_bundled_sfs_has_nine_skills(settings: Settings) -> None:
    sfs = FrameworkStore(settings).get("sfs")
    skills = [c for c in sfs.skills() if c.kind != KIND_COMPONENT]
    assert sfs.id == "sfs" and len(skills) == 9


def test_changed_source_is_loaded_again(settings: Settings) -> None:
    FrameworkStore(settings).get("esco")
    skills_file = settings.data / "esco" / "skills_en.csv"
    skills_file.write_text(skills_file.read_text().replace("properties of fabrics", "properties of cloth"))
    messages: list[str] = []
    labels = {c.pref_label for c in FrameworkStore(settings, on_load=messages.append).get("esco").skills()}
    assert "properties of cloth" in labels and messages


def test_unknown_name_lists_the_known_ones(settings: Settings) -> None:
    with pytest.raises(UnknownFramework, match="unknown framework 'nope'; known: esco, sfs, essential-skills"):
        FrameworkStore(settings).get("nope")


def test_language_comes_from_settings(settings: Settings) -> None:
    store = FrameworkStore(settings.with_(language="fr"))
    with pytest.raises(FrameworkError, match="unknown language 'fr'"):
        store.get("esco")
    assert store.get("esco", language="en").language == "en"
    assert not (settings.framework_cache / "esco-fr").exists()


def test_missing_bundled_source_names_the_file(settings: Settings) -> None:
    (settings.data / "skills_for_success" / "skills_for_success.ttl").unlink()
    with pytest.raises(FrameworkError, match="skills_for_success.ttl: no such file"):
        FrameworkStore(settings).get("sfs")


def test_add_registers_a_user_framework(settings: Settings, user_csv: Path, monkeypatch) -> None:
    store = FrameworkStore(settings)
    framework = store.add(user_csv)
    assert framework.id == "my-skills"
    assert len(framework.competencies) == 3
    assert store.names() == ["esco", "sfs", "essential-skills", "my-skills"]
    registry = orjson.loads((settings.framework_cache / "registry.json").read_bytes())
    assert registry == {"my-skills": {"path": str(user_csv.resolve()), "language": "en"}}

    no_source_loading(monkeypatch)
    other = FrameworkStore(settings)
    assert other.names()[-1] == "my-skills"
    assert other.get("my-skills") == framework


def test_add_with_a_name_renames_the_framework(settings: Settings) -> None:
    store = FrameworkStore(settings)
    garments = store.add(DATA / "store_scheme.ttl", name="garments")
    assert garments.id == "garments"
    assert {c.framework for c in garments.competencies.values()} == {"garments"}
    copy = store.add(settings.data / "esco", name="esco-copy")  # the bundled folder under a new name
    assert copy.id == "esco-copy"
    assert {c.framework for c in copy.competencies.values()} == {"esco-copy"}
    assert store.names()[3:] == ["garments", "esco-copy"]


def test_add_the_bundled_source_gives_the_bundled_framework(settings: Settings) -> None:
    store = FrameworkStore(settings)
    assert store.add(settings.data / "esco") is store.get("esco")
    assert store.names() == ["esco", "sfs", "essential-skills"]


def test_add_refuses_bundled_names(settings: Settings, tmp_path: Path) -> None:
    store = FrameworkStore(settings)
    with pytest.raises(FrameworkError, match="'sfs' is a bundled framework name"):
        store.add(SIMPLE_CSV, name="sfs")
    copy = tmp_path / "esco-release"
    shutil.copytree(DATA / "store_esco", copy)
    with pytest.raises(FrameworkError, match="'esco' is a bundled framework name"):
        store.add(copy)  # the ESCO loader calls it 'esco'
    assert store.names() == ["esco", "sfs", "essential-skills"]
    assert not (settings.framework_cache / "registry.json").exists()
    esco_cache = settings.framework_cache / "esco-en"
    assert not esco_cache.exists(), "the refused framework must not replace the bundled cache"


def test_add_same_name_replaces_only_from_the_same_path(settings: Settings, user_csv: Path, tmp_path: Path) -> None:
    store = FrameworkStore(settings)
    store.add(user_csv, name="mine")
    user_csv.write_text(user_csv.read_text() + "extra,Extra skill,,\n")
    assert len(store.add(user_csv, name="mine").competencies) == 4
    elsewhere = tmp_path / "elsewhere.csv"
    shutil.copy(SIMPLE_CSV, elsewhere)
    with pytest.raises(FrameworkError, match="already registered from"):
        store.add(elsewhere, name="mine")


def test_failed_add_registers_and_caches_nothing(settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,label,broader\na,A,\nb,B,zzz\n")
    store = FrameworkStore(settings)
    with pytest.raises(FrameworkError, match="broader 'zzz'"):
        store.add(bad)
    assert store.names() == ["esco", "sfs", "essential-skills"]
    assert not settings.framework_cache.exists() or not any(settings.framework_cache.iterdir())


def test_registered_source_that_moved_names_the_file(settings: Settings, user_csv: Path) -> None:
    FrameworkStore(settings).add(user_csv)
    user_csv.unlink()
    with pytest.raises(FrameworkError, match="My Skills.csv: no such file"):
        FrameworkStore(settings).get("my-skills")


def test_malformed_registry_is_an_error(settings: Settings) -> None:
    settings.framework_cache.mkdir(parents=True)
    (settings.framework_cache / "registry.json").write_text("{not json")
    with pytest.raises(FrameworkError, match="registry.json: unreadable framework registry"):
        FrameworkStore(settings).names()


def test_describe_reports_cache_state_and_counts(settings: Settings, user_csv: Path) -> None:
    store = FrameworkStore(settings)
    before = {row["name"]: row for row in store.describe()}
    assert set(before) == {"esco", "sfs", "essential-skills"}
    assert before["esco"]["cached"] is False and before["esco"]["counts"] is None
    store.get("esco")
    store.add(user_csv)
    rows = {row["name"]: row for row in FrameworkStore(settings).describe()}
    esco = rows["esco"]
    assert esco["cached"] is True and esco["bundled"] is True
    assert esco["title"] == "ESCO" and esco["language"] == "en" and esco["licence"]
    assert esco["counts"]["competencies"] == 6 and esco["counts"]["occupations"] == 1
    assert rows["sfs"]["cached"] is False
    mine = rows["my-skills"]
    assert mine["bundled"] is False and mine["cached"] is True
    assert mine["path"] == str(user_csv.resolve())
    assert mine["counts"]["competencies"] == 3


# -- the full bundled release -----------------------------------------------------------


WITHDRAWN = "http://data.europa.eu/esco/occupation/a9e54177-a185-404d-b6e6-15663d31137e"


@pytest.mark.full
def test_full_bundled_frameworks_load_cache_and_count(tmp_path: Path) -> None:
    if not (REPO_DATA / "esco").is_dir():
        pytest.skip("bundled ESCO data not present")
    settings = Settings(home=tmp_path / "home", data=REPO_DATA)
    esco = FrameworkStore(settings).get("esco")
    stats = esco.stats()
    assert stats["competencies"] == 13_896
    assert stats["occupations"] == 3_007
    assert stats["skill_groups"] == 640
    # All 123,855 rows of occupationSkillRelations.csv, the 67 naming the withdrawn occupation
    # (not among the 3,007) included; the cache keeps them too (cached == esco below).
    relations = stats["relations_by_type"]
    assert relations["essential"] + relations["optional"] == 123_855
    assert {r.source for r in esco.relations if r.type == "essential"} - set(esco.occupations) == {WITHDRAWN}

    started = time.perf_counter()
    cached = FrameworkStore(settings).get("esco")
    seconds = time.perf_counter() - started
    assert cached == esco
    assert seconds < 3.0, f"cached ESCO took {seconds:.2f}s"

    sfs = FrameworkStore(settings).get("sfs")
    assert len([c for c in sfs.skills() if c.kind != KIND_COMPONENT]) == 9
