"""`competencymap frameworks ...` through the CLI, on small fixtures and a temporary home."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from competencymap.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
REPO_DATA = Path(__file__).resolve().parents[2] / "data"
ESCO_SKILL = "http://data.europa.eu/esco/skill/00e895f4-b9d3-4a1a-8c36-baf10fbfb982"
ESCO_OCCUPATION = "http://data.europa.eu/esco/occupation/01bcac9f-7881-4664-bd63-dea700e3b117"
SFS_READING = "https://w3id.org/competencymap/sfs/reading"


@pytest.fixture()
def env(tmp_path: Path, monkeypatch) -> dict[str, str]:
    """A temporary home and a data folder with a small ESCO slice and the SfS schemes."""
    data = tmp_path / "data"
    shutil.copytree(DATA / "store_esco", data / "esco")
    (data / "skills_for_success").mkdir(parents=True)
    for name in ("skills_for_success.ttl", "essential_skills.ttl"):
        shutil.copy(REPO_DATA / "skills_for_success" / name, data / "skills_for_success" / name)
    values = {"COMPETENCYMAP_HOME": str(tmp_path / "home"), "COMPETENCYMAP_DATA": str(data)}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for name in ("COMPETENCYMAP_LANGUAGE", "COMPETENCYMAP_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no competencymap.toml of the checkout is picked up
    return values


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["frameworks", *args], prog_name="competencymap")


def run_json(*args: str) -> object:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def assert_one_error_line(result: Result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if not line.startswith("loading ")]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# -- list / load / stats ----------------------------------------------------------------


def test_list_shows_bundled_frameworks(env: dict) -> None:
    result = run("list")
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.stdout.splitlines()[1:]]
    assert names == ["esco", "sfs", "essential-skills"]
    rows = run_json("list")
    assert [row["name"] for row in rows] == names
    assert all(row["cached"] is False for row in rows)


def test_load_registers_and_summarises(env: dict, tmp_path: Path) -> None:
    path = tmp_path / "Team Skills.csv"
    shutil.copy(DATA / "store_simple.csv", path)
    result = run("load", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "team-skills (en): team-skills — 3 skills, 0 skill groups, 0 occupations, 0 relations"
    assert result.stderr.startswith("loading ")
    rows = run_json("list")
    assert rows[-1]["name"] == "team-skills" and rows[-1]["cached"] is True
    assert run_json("stats", "team-skills")["team-skills"]["skills"] == 3


def test_load_with_name_and_language(env: dict) -> None:
    result = run("load", str(DATA / "store_scheme.ttl"), "--name", "garments", "--language", "en")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("garments (en): Garment Skills — 2 skills")


def test_group_language_wins_over_the_registered_one(env: dict) -> None:
    assert run("load", str(DATA / "store_simple.csv"), "--name", "mine").exit_code == 0
    assert run_json("stats", "mine")["mine"]["language"] == "en"
    assert run_json("--language", "fr", "stats", "mine")["mine"]["language"] == "fr"


def test_stats_reports_headline_numbers(env: dict) -> None:
    stats = run_json("stats")
    assert list(stats) == ["esco", "sfs", "essential-skills"]
    esco = stats["esco"]
    assert esco["skills"] == 6 and esco["skill_groups"] == 6 and esco["occupations"] == 1
    assert esco["occupation_skill_relations"] == 6 and esco["skill_skill_relations"] == 1
    assert esco["competencies_by_kind"] == {"knowledge": 5, "skill group": 6, "skill/competence": 1}
    assert esco["relations_by_type"]["essential"] == 5
    sfs = stats["sfs"]
    assert sfs["skills"] == 9
    assert len(sfs["components_per_skill"]) == 9
    assert sum(sfs["components_per_skill"].values()) == sfs["components"] > 0
    assert sfs["components_per_skill"]["Digital"] >= 1
    assert sfs["levels"] > 0 and "fr" in sfs["languages"]


def test_stats_text_and_second_run_uses_the_cache(env: dict) -> None:
    first = run("stats", "esco")
    assert first.exit_code == 0 and "loading esco" in first.stderr
    assert "occupation-skill relations:" in first.stdout
    second = run("stats", "esco")
    assert second.exit_code == 0 and second.stderr == ""
    assert second.stdout == first.stdout


def test_home_and_data_options_override_the_environment(env: dict, tmp_path: Path) -> None:
    home = tmp_path / "other-home"
    result = CliRunner().invoke(main, ["frameworks", "--home", str(home), "stats", "sfs", "--json"])
    assert result.exit_code == 0, result.output
    assert (home / "frameworks" / "sfs-en" / "manifest.json").is_file()
    assert not (Path(env["COMPETENCYMAP_HOME"]) / "frameworks" / "sfs-en").exists()
    empty = tmp_path / "empty-data"
    empty.mkdir()
    missing = CliRunner().invoke(main, ["frameworks", "--data", str(empty), "stats", "sfs"])
    assert_one_error_line(missing, "skills_for_success.ttl", "no such file")


# -- show -------------------------------------------------------------------------------


def test_show_an_esco_skill(env: dict) -> None:
    run("load", str(DATA / "store_scheme.ttl"), "--name", "garments")
    details = run_json("show", ESCO_SKILL)
    assert details["pref_label"] == "manufacture wearing apparel products"
    assert details["framework"] == "esco" and details["kind"] == "skill/competence"
    assert details["status"] == "released"
    assert [b["label"] for b in details["broader"]] == [
        "fabricating garments and textile products", "assembling and fabricating products",
    ]
    [optional] = details["occupations"]["optional"]["items"]
    assert (optional["iri"], optional["label"], optional["framework"]) == (
        ESCO_OCCUPATION, "clothing development manager", "esco")
    assert details["occupations"]["essential"] == {"count": 0, "items": []}
    assert "type" not in details and "in_framework" not in details  # a framework's competency: the API's shape
    [mapping] = details["mappings"]
    assert mapping["type"] == "closeMatch" and mapping["concept"]["framework"] == "garments"
    text = run("show", ESCO_SKILL, "--framework", "esco")
    assert text.exit_code == 0
    assert "optional for (1):" in text.stdout and "broader: fabricating garments" in text.stdout


WITHDRAWN = "http://data.europa.eu/esco/occupation/a9e54177-a185-404d-b6e6-15663d31137e"


def _add_withdrawn_occupation(env: dict) -> None:
    """As ESCO v1.1.1 does: an occupation named by the hierarchy and by relations, with no row."""
    folder = Path(env["COMPETENCYMAP_DATA"]) / "esco"
    with open(folder / "broaderRelationsOccPillar.csv", "a", encoding="utf-8") as handle:
        handle.write(f"Occupation,{WITHDRAWN},Occupation,{ESCO_OCCUPATION}\n")
    with open(folder / "occupationSkillRelations.csv", "a", encoding="utf-8") as handle:
        handle.write(f"{WITHDRAWN},essential,skill/competence,{ESCO_SKILL}\n")


def test_show_a_skill_of_a_withdrawn_occupation(env: dict) -> None:
    _add_withdrawn_occupation(env)
    details = run_json("show", ESCO_SKILL)
    assert details["occupations"]["essential"]["items"] == [
        {"iri": WITHDRAWN, "label": None, "kind": None, "framework": None}
    ]
    text = run("show", ESCO_SKILL)
    assert text.exit_code == 0, text.output
    assert f"essential for (1):\n    - (withdrawn or unknown) <{WITHDRAWN}>" in text.stdout
    assert run_json("stats", "esco")["esco"]["occupations"] == 1  # not made up


def test_show_a_withdrawn_occupation(env: dict) -> None:
    _add_withdrawn_occupation(env)
    details = run_json("show", WITHDRAWN)
    assert (details["type"], details["framework"], details["in_framework"]) == ("occupation", "esco", False)
    assert details["pref_label"] == "" and details["broader"] == []
    assert [item["iri"] for item in details["skills"]["essential"]["items"]] == [ESCO_SKILL]
    text = run("show", WITHDRAWN, "--framework", "esco")
    assert text.exit_code == 0, text.output
    assert text.stdout.startswith(f"(withdrawn or unknown)  <{WITHDRAWN}>\n")
    assert "named only by relations: not a concept of esco" in text.stdout
    assert "essential skills (1):\n    - manufacture wearing apparel products" in text.stdout


def test_show_caps_long_lists(env: dict) -> None:
    details = run_json("show", ESCO_OCCUPATION, "--limit", "2")
    assert details["type"] == "occupation"
    assert details["skills"]["essential"]["count"] == 5
    assert len(details["skills"]["essential"]["items"]) == 2
    text = run("show", ESCO_OCCUPATION, "--limit", "2")
    assert "... and 3 more" in text.stdout


def test_show_an_sfs_skill_with_components_levels_and_mappings(env: dict) -> None:
    details = run_json("show", SFS_READING)
    assert details["framework"] == "sfs" and details["pref_label"] == "Reading"
    assert details["narrower"]["count"] >= 1
    assert details["levels"]
    assert any(m["concept"]["framework"] == "essential-skills" for m in details["mappings"])


# -- export -----------------------------------------------------------------------------


def test_export_writes_rdf(env: dict, tmp_path: Path) -> None:
    pytest.importorskip("competencymap.frameworks.rdf_export")
    out = tmp_path / "sfs.nt"
    result = run("export", "sfs", "--format", "ntriples", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert out.is_file() and SFS_READING in out.read_text()
    default = run("export", "essential-skills")
    assert default.exit_code == 0, default.output
    assert (tmp_path / "essential-skills-en.ttl").is_file()


# -- errors: one line, exit 1, no traceback ---------------------------------------------


def test_missing_file(env: dict, tmp_path: Path) -> None:
    assert_one_error_line(run("load", str(tmp_path / "nothing.ttl")), "nothing.ttl", "no such file")


def test_empty_file(env: dict, tmp_path: Path) -> None:
    for name in ("empty.ttl", "empty.csv"):
        (tmp_path / name).write_text("")
        assert_one_error_line(run("load", str(tmp_path / name)), name, "empty file")


def test_malformed_rdf(env: dict, tmp_path: Path) -> None:
    path = tmp_path / "broken.ttl"
    path.write_text("@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n<a> skos:prefLabel \"x\" ;;; <<\n")
    assert_one_error_line(run("load", str(path)), "broken.ttl")
    gz = tmp_path / "broken.rdf.gz"
    gz.write_bytes(gzip.compress(b"<rdf:RDF><unclosed"))
    assert_one_error_line(run("load", str(gz)), "broken.rdf.gz")


def test_malformed_csv(env: dict, tmp_path: Path) -> None:
    path = tmp_path / "skills.csv"
    path.write_text("id,label\na,\n")
    assert_one_error_line(run("load", str(path)), "skills.csv:2", "empty label")
    header = tmp_path / "header.csv"
    header.write_text("code,name\na,b\n")
    assert_one_error_line(run("load", str(header)), "header.csv", "id,label")
    esco_table = tmp_path / "esco"
    shutil.copytree(DATA / "store_esco", esco_table)
    skills = esco_table / "skills_en.csv"
    skills.write_text(skills.read_text() + "a,b\n")
    assert_one_error_line(run("load", str(esco_table), "--name", "broken"), "skills_en.csv")


def test_unknown_language(env: dict) -> None:
    assert_one_error_line(run("--language", "fr", "stats", "esco"), "unknown language 'fr'", "found en")
    assert_one_error_line(run("load", str(DATA / "store_simple.csv"), "--language", "no such"), "unknown language")
    assert_one_error_line(run("load", str(DATA / "store_scheme.ttl"), "--language", "de"))


def test_not_a_framework(env: dict, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    assert_one_error_line(run("load", str(notes)), "notes.txt", "unknown file type")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.csv").write_text("x,y\n")
    assert_one_error_line(run("load", str(folder)), "folder", "not a framework")
    no_scheme = tmp_path / "plain.ttl"
    no_scheme.write_text("<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n")
    assert_one_error_line(run("load", str(no_scheme)), "plain.ttl", "not a framework")


def test_duplicate_iris(env: dict, tmp_path: Path) -> None:
    path = tmp_path / "dupes.csv"
    path.write_text("id,label\na,First\na,Second\n")
    assert_one_error_line(run("load", str(path)), "dupes.csv:3", "duplicate")


def test_dangling_relations(env: dict, tmp_path: Path) -> None:
    path = tmp_path / "dangling.csv"
    path.write_text("id,label,broader\na,A,\nb,B,nowhere\n")
    assert_one_error_line(run("load", str(path)), "dangling.csv:3", "nowhere")
    release = tmp_path / "release"
    shutil.copytree(DATA / "store_esco", release)
    relations = release / "occupationSkillRelations.csv"
    relations.write_text(
        relations.read_text()
        + "http://data.europa.eu/esco/occupation/01bcac9f-7881-4664-bd63-dea700e3b117,essential,knowledge,"
        "http://data.europa.eu/esco/skill/not-there\n"
    )
    assert_one_error_line(run("load", str(release), "--name", "release"), "occupationSkillRelations.csv",
                          "skill/not-there")


def test_unknown_framework_name(env: dict) -> None:
    assert_one_error_line(run("stats", "nope"), "unknown framework 'nope'", "esco, sfs, essential-skills")
    assert_one_error_line(run("show", ESCO_SKILL, "--framework", "nope"), "unknown framework 'nope'")
    assert_one_error_line(run("export", "nope"), "unknown framework 'nope'")


def test_unknown_iri(env: dict) -> None:
    assert_one_error_line(run("show", "http://example.org/none"), "unknown IRI http://example.org/none")
    assert_one_error_line(run("show", ESCO_SKILL, "--framework", "sfs"), "not in sfs")


def test_bundled_name_and_duplicate_name(env: dict, tmp_path: Path) -> None:
    assert_one_error_line(run("load", str(DATA / "store_simple.csv"), "--name", "esco"), "bundled framework name")
    assert run("load", str(DATA / "store_simple.csv"), "--name", "mine").exit_code == 0
    other = tmp_path / "other.csv"
    shutil.copy(DATA / "store_simple.csv", other)
    assert_one_error_line(run("load", str(other), "--name", "mine"), "already registered")
    assert_one_error_line(run("load", str(other), "--name", "Bad Name"), "bad framework name")


def test_usage_errors_read_well(env: dict) -> None:
    for args, fragment in (
        (("load",), "Missing argument 'PATH'"),
        (("export", "sfs", "--format", "jsonld"), "Invalid value for '--format'"),
        (("show",), "Missing argument 'IRI'"),
        (("nosuch",), "No such command 'nosuch'"),
    ):
        result = run(*args)
        assert result.exit_code == 2
        assert "Traceback" not in result.output
        assert result.stderr.startswith("Usage: competencymap frameworks")
        assert fragment in result.stderr


# -- the real console script ------------------------------------------------------------


def test_console_script_in_a_subprocess(env: dict) -> None:
    script = Path(sys.executable).parent / "competencymap"
    if not script.exists():
        pytest.skip("the competencymap console script is not installed in this environment")
    environment = {**os.environ, **env}
    done = subprocess.run(
        [str(script), "frameworks", "stats", "sfs", "--json"],
        capture_output=True, text=True, env=environment, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout)["sfs"]["skills"] == 9
    failed = subprocess.run(
        [str(script), "frameworks", "show", "http://example.org/none", "--framework", "sfs"],
        capture_output=True, text=True, env=environment, timeout=120, check=False,
    )
    assert failed.returncode == 1
    assert failed.stderr.strip() == "error: unknown IRI http://example.org/none: not in sfs"


# -- the full bundled release -----------------------------------------------------------


@pytest.mark.full
def test_full_bundled_esco_stats(tmp_path: Path, monkeypatch) -> None:
    """The issue's done-check: the bundled defaults give ESCO v1.1.1's own counts, all
    123,855 occupation-skill relations included (67 of them name the withdrawn occupation)."""
    if not (REPO_DATA / "esco").is_dir():
        pytest.skip("bundled ESCO data not present")
    monkeypatch.setenv("COMPETENCYMAP_HOME", str(tmp_path / "home"))
    for name in ("COMPETENCYMAP_DATA", "COMPETENCYMAP_LANGUAGE", "COMPETENCYMAP_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    esco = run_json("stats", "esco")["esco"]
    assert (esco["skills"], esco["occupations"], esco["skill_groups"]) == (13_896, 3_007, 640)
    assert esco["occupation_skill_relations"] == 123_855
    assert esco["relations_by_type"]["essential"] == 64_946 and esco["relations_by_type"]["optional"] == 58_909
    assert esco["skill_skill_relations"] == 5_899 and esco["version"] == "1.1.1"
    assert run_json("stats", "esco")["esco"] == esco  # again, from the cache
