"""The ESCO CSV loader: the bundled v1.1.1 release, the excerpt fixture, and bad input."""

from __future__ import annotations

import csv
import io
import logging
import shutil
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from competencymap._common.config import PROJECT_ROOT
from competencymap._common.errors import FrameworkError
from competencymap.frameworks.esco_csv import load_esco_csv
from competencymap.frameworks.esco_vocab import ESCO_IRI, ESCO_LICENCE
from competencymap.model.framework import (
    KIND_GROUP,
    KIND_ISCO_GROUP,
    KIND_KNOWLEDGE,
    KIND_OCCUPATION,
    KIND_SKILL,
    KIND_UNTYPED,
    REL_ESSENTIAL,
    REL_OPTIONAL,
    REL_SKILL_OPTIONAL,
    Relation,
)

RELEASE = PROJECT_ROOT / "data" / "esco"
EXCERPT = Path(__file__).resolve().parents[1] / "data" / "esco_excerpt_csv"
SKILL = "http://data.europa.eu/esco/skill/"
GUITAR_COMPONENTS = SKILL + "00cd1d60-782f-48e7-9a7b-b518f2b146b8"
GUITAR_TYPES = SKILL + "827aedbf-ab78-43f7-86e3-62d99a449a02"
ICT_SAFETY = SKILL + "426ceaba-6867-481c-bb6b-aee3933da7d2"
GROUP = SKILL + "2ad2ee1c-afc9-402f-91ab-c9c0911b209d"
STRINGED_MAKER = "http://data.europa.eu/esco/occupation/0a94df75-6e31-4277-a326-1b01e56b6cb3"
GUITAR_MAKER = "http://data.europa.eu/esco/occupation/82ea66b0-0f9c-44ed-94bc-0c5b829531b3"
ISCO_7312 = "http://data.europa.eu/esco/isco/C7312"
WITHDRAWN_OCCUPATION = "http://data.europa.eu/esco/occupation/a9e54177-a185-404d-b6e6-15663d31137e"


@pytest.fixture(scope="module")
def release():
    return load_esco_csv(RELEASE)


def _release_rows(name: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(RELEASE / "esco-v1.1.1-relations-csv.zip") as archive:
        with archive.open(name) as raw:
            return list(csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline="")))


# -- the bundled release ------------------------------------------------------------------


def test_release_counts(release):
    skills = release.skills()
    kinds = Counter(c.kind for c in release.competencies.values())
    assert len(skills) == 13_896
    assert kinds[KIND_SKILL] == 10_831 and kinds[KIND_KNOWLEDGE] == 3_059 and kinds[KIND_UNTYPED] == 6
    assert kinds[KIND_GROUP] == 640
    occupation_kinds = Counter(o.kind for o in release.occupations.values())
    assert occupation_kinds == {KIND_OCCUPATION: 3_007, KIND_ISCO_GROUP: 619}
    assert sum(len(c.alt_labels) for c in skills) == 97_483
    assert Counter(c.reuse_level for c in skills)["cross-sector"] == 3_754


def test_release_metadata(release):
    assert (release.id, release.iri, release.title) == ("esco", ESCO_IRI, "ESCO")
    assert (release.version, release.language, release.source) == ("1.1.1", "en", "esco")
    assert release.licence == ESCO_LICENCE
    assert release.languages == ("en",)


def test_release_occupation_skill_relations_follow_the_file(release):
    """All 123,855 rows (64,946 essential, 58,909 optional), the 67 naming a withdrawn occupation too."""
    rows = _release_rows("occupationSkillRelations.csv")
    assert len(rows) == 123_855
    assert Counter(r["relationType"] for r in rows) == {"essential": 64_946, "optional": 58_909}
    types = {"essential": REL_ESSENTIAL, "optional": REL_OPTIONAL}
    expected = {(r["occupationUri"], r["skillUri"], types[r["relationType"]]) for r in rows}
    loaded = [(r.source, r.target, r.type) for r in release.relations if r.type in types.values()]
    assert len(loaded) == 123_855 and set(loaded) == expected
    withdrawn = [row for row in loaded if row[0] not in release.occupations]
    assert len(withdrawn) == 67 and {row[0] for row in withdrawn} == {WITHDRAWN_OCCUPATION}


def test_release_withdrawn_occupation_is_not_made_up(release):
    """Named by the hierarchy and 67 relations, absent from occupations_en.csv: no Occupation for it."""
    assert WITHDRAWN_OCCUPATION not in release.occupations and release.concept(WITHDRAWN_OCCUPATION) is None
    assert not any(WITHDRAWN_OCCUPATION in o.broader for o in release.occupations.values())
    assert release.stats()["occupations"] == 3_007


def test_release_skill_relations_and_order(release):
    rows = _release_rows("skillSkillRelations.csv")
    skill_relations = [r for r in release.relations if r.type.startswith("skill-")]
    assert len(skill_relations) == len(rows) == 5_899
    assert release.relations == sorted(release.relations, key=lambda r: (r.source, r.target, r.type))
    assert len(set(release.relations)) == len(release.relations)


def test_release_is_consistent(release):
    """Every relation and broader link names a concept of the framework, in the right pillar,
    but for the relations of the one withdrawn occupation."""
    for rel in release.relations:
        assert rel.target in release.competencies
        assert rel.source in (release.occupations if rel.type in (REL_ESSENTIAL, REL_OPTIONAL)
                              else release.competencies) or rel.source == WITHDRAWN_OCCUPATION
    for c in release.competencies.values():
        assert all(b in release.competencies for b in c.broader)
        assert list(c.broader) == sorted(set(c.broader))
        assert list(c.alt_labels) == sorted(set(c.alt_labels)) and "" not in c.alt_labels
    for o in release.occupations.values():
        assert all(b in release.occupations for b in o.broader)


def test_release_sample_skill(release):
    skill = release.competencies[GUITAR_COMPONENTS]
    assert skill.pref_label == "produce guitar components"
    assert (skill.kind, skill.reuse_level, skill.status) == (KIND_SKILL, "sector-specific", "released")
    assert skill.broader == (GROUP,)
    assert skill.schemes == ("http://data.europa.eu/esco/concept-scheme/member-skills",
                             "http://data.europa.eu/esco/concept-scheme/skills")
    assert "build guitar components" in skill.alt_labels
    assert release.competencies[GROUP].code == "S6.5.1"
    assert release.occupations[GUITAR_MAKER].isco_group == "7312"
    assert release.occupations[GUITAR_MAKER].code == "7312.6.1"
    assert release.occupations[ISCO_7312].code == "7312"


# -- the excerpt --------------------------------------------------------------------------


def test_excerpt_loads():
    framework = load_esco_csv(EXCERPT)
    assert len(framework.skills()) == 5 and framework.competencies[GROUP].kind == KIND_GROUP
    assert framework.competencies[ICT_SAFETY].kind == KIND_UNTYPED
    assert framework.competencies[GUITAR_TYPES].kind == KIND_KNOWLEDGE
    skill = framework.competencies[GUITAR_COMPONENTS]
    assert skill.hidden_labels == ("make gutar components",)
    assert skill.alt_labels[0] == "build guitar components" and len(skill.alt_labels) == 7
    assert framework.competencies[GROUP].scope_note.startswith("Excludes:\n- Operation")
    assert framework.occupations[GUITAR_MAKER].broader == (STRINGED_MAKER,)
    assert framework.occupations[STRINGED_MAKER].broader == (ISCO_7312,)
    assert framework.occupations[ISCO_7312].broader == ()  # C731 is not in the excerpt
    assert len(framework.relations) == 9
    assert Relation(GUITAR_COMPONENTS, GUITAR_TYPES, REL_SKILL_OPTIONAL) in framework.relations
    assert framework.version == ""


def test_excerpt_from_zips_reads_the_version(tmp_path):
    names = sorted(p.name for p in EXCERPT.iterdir())
    relation_files = {n for n in names if not n.endswith("_en.csv")}
    for zip_name, members in (("esco-v1.1.1-classification-en-csv.zip", set(names) - relation_files),
                              ("esco-v1.1.1-relations-csv.zip", relation_files)):
        with zipfile.ZipFile(tmp_path / zip_name, "w") as archive:
            for name in members:
                archive.write(EXCERPT / name, name)
    framework = load_esco_csv(tmp_path)
    assert framework.version == "1.1.1"
    assert framework.competencies == load_esco_csv(EXCERPT).competencies
    assert load_esco_csv(tmp_path, version="9.9").version == "9.9"


def test_one_zip_holding_everything(tmp_path):
    archive_path = tmp_path / "esco_v1.1.1_all.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        for path in EXCERPT.iterdir():
            archive.write(path, f"release/{path.name}")
    framework = load_esco_csv(archive_path)
    assert framework.version == "1.1.1" and framework.source == "esco_v1.1.1_all.zip"
    assert len(framework.competencies) == 6


# -- bad input ----------------------------------------------------------------------------


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "release"
    shutil.copytree(EXCERPT, folder)
    return folder


def _append(path: Path, line: str) -> None:
    with open(path, "a", encoding="utf-8", newline="") as handle:
        handle.write(line)


def test_missing_file_is_named(tmp_path):
    folder = _copy(tmp_path)
    (folder / "occupationSkillRelations.csv").unlink()
    with pytest.raises(FrameworkError, match="missing occupationSkillRelations.csv") as error:
        load_esco_csv(folder)
    assert error.value.path == str(folder)


def test_classification_zip_alone_names_the_relations_file():
    with pytest.raises(FrameworkError, match="missing broaderRelationsSkillPillar.csv"):
        load_esco_csv(RELEASE / "esco-v1.1.1-classification-en-csv.zip")


def test_other_language_names_the_missing_file():
    with pytest.raises(FrameworkError, match="missing skills_fr.csv"):
        load_esco_csv(EXCERPT, language="fr")


def test_not_a_release(tmp_path):
    with pytest.raises(FrameworkError, match="no such file"):
        load_esco_csv(tmp_path / "nothing")
    text = tmp_path / "skills.txt"
    text.write_text("hello")
    with pytest.raises(FrameworkError, match="expected a folder or a .zip"):
        load_esco_csv(text)


def test_duplicate_iri_names_file_and_line(tmp_path):
    folder = _copy(tmp_path)
    _append(folder / "occupations_en.csv",
            f"Occupation,{GUITAR_MAKER},7312,guitar maker again,,,released,,,,,,,7312.6.9\n")
    with pytest.raises(FrameworkError, match="duplicate concept") as error:
        load_esco_csv(folder)
    assert error.value.path.endswith("occupations_en.csv")
    assert error.value.line == 30  # the header, two multi-line records, then this row
    assert str(error.value).startswith(f"{error.value.path}:30: duplicate concept {GUITAR_MAKER}")


def test_duplicate_iri_across_files(tmp_path):
    folder = _copy(tmp_path)
    _append(folder / "skillGroups_en.csv", f"SkillGroup,{GUITAR_TYPES},a group,,,released,,,,,S9\n")
    with pytest.raises(FrameworkError, match=r"duplicate concept \S+ \(first at .*skills_en\.csv:10\)"):
        load_esco_csv(folder)


def test_dangling_relation_names_file_and_line(tmp_path):
    folder = _copy(tmp_path)
    unknown = SKILL + "00000000-0000-0000-0000-000000000000"
    _append(folder / "occupationSkillRelations.csv", f"{GUITAR_MAKER},essential,knowledge,{unknown}\n")
    with pytest.raises(FrameworkError, match=f"relation names {unknown}, which is not a known skill") as error:
        load_esco_csv(folder)
    assert error.value.path.endswith("occupationSkillRelations.csv") and error.value.line == 10


def test_relation_with_an_occupation_where_a_skill_belongs(tmp_path):
    folder = _copy(tmp_path)
    _append(folder / "skillSkillRelations.csv", f"{GUITAR_COMPONENTS},skill/competence,optional,,{GUITAR_MAKER}\n")
    with pytest.raises(FrameworkError, match="not a known skill") as error:
        load_esco_csv(folder)
    assert error.value.line == 3


WITHDRAWN = "http://data.europa.eu/esco/occupation/ffffffff-0000-0000-0000-000000000000"


def test_withdrawn_concept_relations_are_kept(tmp_path, caplog):
    """As the v1.1.1 release does: an occupation known only to the hierarchy file. Its relations
    are kept and logged; its broader row is skipped; no Occupation is made up for it."""
    folder = _copy(tmp_path)
    _append(folder / "broaderRelationsOccPillar.csv", f"Occupation,{WITHDRAWN},Occupation,{STRINGED_MAKER}\n")
    _append(folder / "occupationSkillRelations.csv", f"{WITHDRAWN},essential,knowledge,{GUITAR_TYPES}\n")
    with caplog.at_level(logging.INFO):
        framework = load_esco_csv(folder)
    assert len(framework.relations) == 10
    assert Relation(WITHDRAWN, GUITAR_TYPES, REL_ESSENTIAL) in framework.relations
    assert WITHDRAWN not in framework.occupations
    assert framework.occupations == load_esco_csv(EXCERPT).occupations
    assert "kept relation rows naming 1 withdrawn concept(s)" in caplog.text
    assert "(occupationSkillRelations.csv: 1)" in caplog.text
    assert "broaderRelationsOccPillar.csv: 2" in caplog.text  # its broader row, and one the excerpt cut


def test_withdrawn_concept_only_as_a_broader_target_is_kept(tmp_path):
    """The hierarchy names it on either side of a broader row."""
    folder = _copy(tmp_path)
    _append(folder / "broaderRelationsOccPillar.csv", f"Occupation,{GUITAR_MAKER},Occupation,{WITHDRAWN}\n")
    _append(folder / "occupationSkillRelations.csv", f"{WITHDRAWN},optional,knowledge,{GUITAR_TYPES}\n")
    assert Relation(WITHDRAWN, GUITAR_TYPES, REL_OPTIONAL) in load_esco_csv(folder).relations


def test_withdrawn_concept_of_the_other_pillar_is_an_error(tmp_path):
    """A withdrawn occupation where a skill belongs is still a dangling relation."""
    folder = _copy(tmp_path)
    _append(folder / "broaderRelationsOccPillar.csv", f"Occupation,{WITHDRAWN},Occupation,{STRINGED_MAKER}\n")
    _append(folder / "occupationSkillRelations.csv", f"{GUITAR_MAKER},essential,knowledge,{WITHDRAWN}\n")
    with pytest.raises(FrameworkError, match=f"relation names {WITHDRAWN}, which is not a known skill") as error:
        load_esco_csv(folder)
    assert error.value.path.endswith("occupationSkillRelations.csv") and error.value.line == 10


def test_unknown_occupation_is_a_dangling_relation(tmp_path):
    folder = _copy(tmp_path)
    _append(folder / "occupationSkillRelations.csv", f"{WITHDRAWN},essential,knowledge,{GUITAR_TYPES}\n")
    with pytest.raises(FrameworkError, match=f"relation names {WITHDRAWN}, which is not a known occupation") as error:
        load_esco_csv(folder)
    assert error.value.path.endswith("occupationSkillRelations.csv") and error.value.line == 10


def test_unlabelled_concept_rows_are_skipped_with_a_warning(tmp_path, caplog):
    """A concept with a row but no preferred label in the language is left out, and so are its relations."""
    folder = _copy(tmp_path)
    _append(folder / "occupations_en.csv", f"Occupation,{WITHDRAWN},7312,,,,released,,,,,,,7312.6.9\n")
    _append(folder / "occupationSkillRelations.csv", f"{WITHDRAWN},essential,knowledge,{GUITAR_TYPES}\n")
    with caplog.at_level(logging.WARNING):
        framework = load_esco_csv(folder)
    assert len(framework.relations) == 9 and WITHDRAWN not in framework.occupations
    assert "occupationSkillRelations.csv: 1" in caplog.text
    assert "skipped 1 concept(s) with no preferred label" in caplog.text


def test_unknown_relation_type(tmp_path):
    folder = _copy(tmp_path)
    _append(folder / "occupationSkillRelations.csv", f"{GUITAR_MAKER},maybe,knowledge,{GUITAR_TYPES}\n")
    with pytest.raises(FrameworkError, match="unknown relationType 'maybe'"):
        load_esco_csv(folder)


def test_unknown_skill_type(tmp_path):
    folder = _copy(tmp_path)
    text = (folder / "skills_en.csv").read_text(encoding="utf-8").replace(",skill/competence,", ",talent,", 1)
    (folder / "skills_en.csv").write_text(text, encoding="utf-8")
    with pytest.raises(FrameworkError, match="unknown skillType 'talent'") as error:
        load_esco_csv(folder)
    assert error.value.line == 2


def test_missing_column(tmp_path):
    folder = _copy(tmp_path)
    text = (folder / "skills_en.csv").read_text(encoding="utf-8").replace("conceptUri", "uri", 1)
    (folder / "skills_en.csv").write_text(text, encoding="utf-8")
    with pytest.raises(FrameworkError, match="missing column.*conceptUri") as error:
        load_esco_csv(folder)
    assert error.value.line == 1


def test_ragged_row(tmp_path):
    folder = _copy(tmp_path)
    _append(folder / "broaderRelationsOccPillar.csv", "Occupation,only-two\n")
    with pytest.raises(FrameworkError, match="expected 4 fields, found 2") as error:
        load_esco_csv(folder)
    assert error.value.line == 5


def test_empty_file(tmp_path):
    folder = _copy(tmp_path)
    (folder / "ISCOGroups_en.csv").write_bytes(b"")
    with pytest.raises(FrameworkError, match="file is empty"):
        load_esco_csv(folder)


def test_versions_that_disagree(tmp_path):
    folder = _copy(tmp_path)
    for version, classification in (("1.1.1", True), ("1.2.0", False)):
        with zipfile.ZipFile(tmp_path / f"esco-v{version}-part.zip", "w") as archive:
            for path in folder.iterdir():
                if path.name.endswith("_en.csv") == classification:
                    archive.write(path, path.name)
    shutil.rmtree(folder)
    with pytest.raises(FrameworkError, match="disagree on the version: 1.1.1, 1.2.0"):
        load_esco_csv(tmp_path)
