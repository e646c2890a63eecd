"""The streaming ESCO RDF loader: the excerpt in every format, languages, and bad input."""

from __future__ import annotations

import gzip
import logging
import shutil
import zipfile
from pathlib import Path

import pytest
from pyoxigraph import RdfFormat, parse, serialize

from competencymap._common.config import PROJECT_ROOT
from competencymap._common.errors import FrameworkError
from competencymap.frameworks.esco_csv import load_esco_csv
from competencymap.frameworks.esco_rdf import load_esco_rdf, looks_like_esco_rdf
from competencymap.model.framework import KIND_ISCO_GROUP, KIND_KNOWLEDGE, KIND_UNTYPED, REL_ESSENTIAL, Relation

DATA = Path(__file__).resolve().parents[1] / "data"
EXCERPT = DATA / "esco_excerpt.ttl"
EXCERPT_CSV = DATA / "esco_excerpt_csv"
SKILL = "http://data.europa.eu/esco/skill/"
GUITAR_COMPONENTS = SKILL + "00cd1d60-782f-48e7-9a7b-b518f2b146b8"
GUITAR_TYPES = SKILL + "827aedbf-ab78-43f7-86e3-62d99a449a02"
MUSICAL_INSTRUMENTS = SKILL + "29d4aaba-99f9-4733-bd74-ad558f2ae3a7"
GROUP = SKILL + "2ad2ee1c-afc9-402f-91ab-c9c0911b209d"
GUITAR_MAKER = "http://data.europa.eu/esco/occupation/82ea66b0-0f9c-44ed-94bc-0c5b829531b3"
ISCO_7312 = "http://data.europa.eu/esco/isco/C7312"


@pytest.fixture(scope="module")
def from_csv():
    return load_esco_csv(EXCERPT_CSV)


def _same(a, b) -> None:
    assert a.competencies == b.competencies
    assert a.occupations == b.occupations
    assert sorted(a.relations, key=repr) == sorted(b.relations, key=repr)
    assert a.relations == b.relations  # both already sorted


# -- the excerpt --------------------------------------------------------------------------


def test_excerpt_rdf_equals_excerpt_csv(from_csv):
    framework = load_esco_rdf(EXCERPT)
    _same(framework, from_csv)
    assert (framework.id, framework.language, framework.source) == ("esco", "en", "esco_excerpt.ttl")
    assert framework.licence == from_csv.licence and framework.iri == from_csv.iri


def test_excerpt_details():
    framework = load_esco_rdf(EXCERPT)
    components = framework.competencies[GUITAR_COMPONENTS]
    assert components.pref_label == "produce guitar components"  # not the en-us twin
    assert components.hidden_labels == ("make gutar components",)
    assert "fabriquer des composants de guitare" not in components.alt_labels
    types = framework.competencies[GUITAR_TYPES]  # labels only as skos-xl nodes
    assert types.kind == KIND_KNOWLEDGE and types.pref_label == "types of guitars"
    assert "brands of guitars" in types.alt_labels and len(types.alt_labels) == 8
    assert types.description.startswith("There are two main guitar categories")  # text before language
    assert framework.competencies[MUSICAL_INSTRUMENTS].description.endswith("possible combinations.")  # not en-us
    assert framework.competencies[SKILL + "426ceaba-6867-481c-bb6b-aee3933da7d2"].kind == KIND_UNTYPED
    group = framework.competencies[GROUP]
    assert group.is_group and group.code == "S6.5.1" and group.scope_note.startswith("Excludes:")
    isco = framework.occupations[ISCO_7312]
    assert isco.kind == KIND_ISCO_GROUP and isco.code == "7312"
    assert framework.occupations[GUITAR_MAKER].isco_group == "7312"
    assert set(framework.concept(GUITAR_MAKER).broader) == {"http://data.europa.eu/esco/occupation/"
                                                            "0a94df75-6e31-4277-a326-1b01e56b6cb3"}


def test_french_labels():
    framework = load_esco_rdf(EXCERPT, language="FR")
    assert framework.language == "fr" and framework.languages == ("fr",)
    assert framework.competencies[GUITAR_COMPONENTS].pref_label == "produire des composants de guitare"
    assert framework.competencies[GUITAR_COMPONENTS].alt_labels == ("fabriquer des composants de guitare",)
    assert framework.competencies[GUITAR_COMPONENTS].description.startswith("Choisir le bois de lutherie")
    assert framework.competencies[GUITAR_TYPES].pref_label == "types de guitares"  # from a skos-xl node
    assert framework.competencies[GUITAR_TYPES].alt_labels == ("catégories de guitares",)
    assert framework.occupations[GUITAR_MAKER].pref_label == "luthier en guitares/luthière en guitares"
    assert framework.occupations[ISCO_7312].pref_label == "Facteurs et accordeurs d'instruments de musique"
    assert framework.competencies[MUSICAL_INSTRUMENTS].description == ""  # no French description
    assert len(framework.competencies) == 6 and len(framework.relations) == 9


def test_german_labels():
    framework = load_esco_rdf(EXCERPT, language="de")
    assert framework.competencies[GUITAR_TYPES].pref_label == "Gitarrenarten"
    assert framework.occupations[GUITAR_MAKER].pref_label == "Gitarrenbauer/Gitarrenbauerin"


@pytest.mark.parametrize("fmt, suffix", [(RdfFormat.N_TRIPLES, ".nt"), (RdfFormat.RDF_XML, ".rdf"),
                                         (RdfFormat.N_QUADS, ".nq")])
def test_other_formats(tmp_path, from_csv, fmt, suffix):
    out = tmp_path / f"excerpt{suffix}"
    serialize(parse(path=str(EXCERPT)), str(out), fmt)
    _same(load_esco_rdf(out), from_csv)


def test_gzip_and_zip(tmp_path, from_csv):
    gz = tmp_path / "esco-v1.1.1.ttl.gz"
    with open(EXCERPT, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    framework = load_esco_rdf(gz)
    _same(framework, from_csv)
    assert framework.version == "1.1.1"  # from the file name
    archive = tmp_path / "dump.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(EXCERPT, "esco/esco_excerpt.ttl")
        zipped.writestr("README.txt", "not RDF")
    _same(load_esco_rdf(archive), from_csv)


def test_version_from_the_scheme(tmp_path):
    dump = tmp_path / "esco-v0.9.ttl"
    dump.write_text(EXCERPT.read_text(encoding="utf-8") + """
<http://data.europa.eu/esco/concept-scheme/skills>
    <http://www.w3.org/2002/07/owl#versionInfo> "v1.1.1" .
""", encoding="utf-8")
    assert load_esco_rdf(dump).version == "1.1.1"
    assert load_esco_rdf(dump, version="x").version == "x"


def test_relations_in_any_one_form_are_found(tmp_path, from_csv):
    """Keep only the AssociationObject nodes: the same relations come out."""
    lines = [line for line in _ntriples(EXCERPT).splitlines()
             if "isEssentialSkillFor" not in line and "isOptionalSkillFor" not in line
             and "relatedEssentialSkill" not in line]
    dump = tmp_path / "only_associations.nt"
    dump.write_text("\n".join(lines) + "\n", encoding="utf-8")
    framework = load_esco_rdf(dump)
    assert len(framework.relations) == 5  # the excerpt gives four pairs only in other forms
    assert set(framework.relations) < set(from_csv.relations)


def test_left_out_links_are_reported(caplog):
    with caplog.at_level(logging.WARNING):
        load_esco_rdf(EXCERPT)
    assert "left out 6 broader links" in caplog.text


def _ntriples(path: Path) -> str:
    return serialize(parse(path=str(path)), format=RdfFormat.N_TRIPLES).decode("utf-8")


# -- sniffing -----------------------------------------------------------------------------


def test_looks_like_esco_rdf(tmp_path):
    assert looks_like_esco_rdf(EXCERPT)
    gz = tmp_path / "dump.nt.gz"
    gz.write_bytes(gzip.compress(_ntriples(EXCERPT).encode("utf-8")))
    assert looks_like_esco_rdf(gz)
    skos = tmp_path / "scheme.ttl"
    skos.write_text("@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n<http://x/a> a skos:Concept .\n")
    assert not looks_like_esco_rdf(skos)
    assert not looks_like_esco_rdf(PROJECT_ROOT / "data" / "esco" / "esco-v1.1.1-relations-csv.zip")
    assert not looks_like_esco_rdf(EXCERPT_CSV / "skills_en.csv")
    assert not looks_like_esco_rdf(tmp_path / "missing.ttl")
    broken = tmp_path / "broken.ttl.gz"
    broken.write_bytes(b"not gzip at all")
    assert not looks_like_esco_rdf(broken)


# -- bad input ----------------------------------------------------------------------------


def test_malformed_rdf_names_file_and_line(tmp_path):
    dump = tmp_path / "broken.ttl"
    lines = EXCERPT.read_text(encoding="utf-8").splitlines()
    lines[40] = lines[40].replace(" ;", " ;;;; <oops", 1)
    dump.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(FrameworkError, match=r"malformed RDF: column \d+: ") as error:
        load_esco_rdf(dump)
    assert error.value.path == str(dump)
    assert error.value.line == 41
    assert str(error.value).startswith(f"{dump}:41: malformed RDF")


def test_malformed_gzip(tmp_path):
    dump = tmp_path / "dump.ttl.gz"
    dump.write_bytes(b"this is not gzip")
    with pytest.raises(FrameworkError, match="cannot read RDF"):
        load_esco_rdf(dump)


def test_empty_file(tmp_path):
    dump = tmp_path / "empty.ttl"
    dump.write_bytes(b"")
    with pytest.raises(FrameworkError, match="file is empty"):
        load_esco_rdf(dump)
    comments = tmp_path / "comments.ttl"
    comments.write_text("# nothing here\n")
    with pytest.raises(FrameworkError, match="no RDF triples"):
        load_esco_rdf(comments)


def test_unknown_language():
    with pytest.raises(FrameworkError, match=r"no labels in language 'xx' \(labels found in: de, en, en-us, fr\)"):
        load_esco_rdf(EXCERPT, language="xx")


def test_not_esco(tmp_path):
    shutil.copy(DATA / "esco_excerpt_csv" / "skills_en.csv", tmp_path / "skills.csv")
    scheme = tmp_path / "scheme.ttl"
    scheme.write_text('@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n'
                      '<http://x/a> a skos:Concept ; skos:prefLabel "a"@en .\n')
    with pytest.raises(FrameworkError, match="not an ESCO dump: no concept is typed esco:Skill"):
        load_esco_rdf(scheme)
    with pytest.raises(FrameworkError, match="unknown RDF file type"):
        load_esco_rdf(tmp_path / "skills.csv")
    with pytest.raises(FrameworkError, match="no such file"):
        load_esco_rdf(tmp_path / "missing.ttl")


def test_zip_with_two_dumps(tmp_path):
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(EXCERPT, "a.ttl")
        zipped.write(EXCERPT, "b.ttl")
    with pytest.raises(FrameworkError, match="expected one RDF file in the zip, found 2 RDF files"):
        load_esco_rdf(archive)


# -- withdrawn concepts -------------------------------------------------------------------

ESCO_MODEL = "http://data.europa.eu/esco/model#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
WITHDRAWN = "http://data.europa.eu/esco/occupation/ffffffff-0000-0000-0000-000000000000"
STRINGED_MAKER = "http://data.europa.eu/esco/occupation/0a94df75-6e31-4277-a326-1b01e56b6cb3"


def _with(tmp_path: Path, extra: str) -> Path:
    dump = tmp_path / "dump.ttl"
    dump.write_text(EXCERPT.read_text(encoding="utf-8") + "\n" + extra, encoding="utf-8")
    return dump


def _relation(source: str = WITHDRAWN) -> str:
    return f"<{GUITAR_TYPES}> <{ESCO_MODEL}isEssentialSkillFor> <{source}> .\n"


def test_withdrawn_occupation_relations_are_kept(tmp_path, from_csv, caplog):
    """Typed esco:Occupation, labelled in no language: as the CSV loader, keep its relations only."""
    dump = _with(tmp_path, f"<{WITHDRAWN}> a <{ESCO_MODEL}Occupation> .\n" + _relation())
    with caplog.at_level(logging.INFO):
        framework = load_esco_rdf(dump)
    assert Relation(WITHDRAWN, GUITAR_TYPES, REL_ESSENTIAL) in framework.relations
    assert len(framework.relations) == len(from_csv.relations) + 1
    assert WITHDRAWN not in framework.occupations and framework.occupations == from_csv.occupations
    assert "kept 1 relation(s) naming a withdrawn concept" in caplog.text
    assert "concepts without a label" not in caplog.text


def test_withdrawn_occupation_known_by_its_broader_link(tmp_path):
    """Untyped, but linked by skos:broader to an occupation: an occupation, as in the CSV hierarchy file."""
    dump = _with(tmp_path, f"<{WITHDRAWN}> <{SKOS}broader> <{STRINGED_MAKER}> .\n" + _relation())
    assert Relation(WITHDRAWN, GUITAR_TYPES, REL_ESSENTIAL) in load_esco_rdf(dump).relations


def test_relation_to_an_iri_the_dump_does_not_declare_is_left_out(tmp_path, from_csv, caplog):
    with caplog.at_level(logging.WARNING):
        framework = load_esco_rdf(_with(tmp_path, _relation()))
    assert framework.relations == from_csv.relations
    assert "1 relations" in caplog.text


def test_occupation_labelled_in_another_language_is_left_out_with_its_relations(tmp_path, from_csv, caplog):
    """Not withdrawn: it has a label, only not in this language (the CSV loader skips such rows too)."""
    extra = f'<{WITHDRAWN}> a <{ESCO_MODEL}Occupation> ; <{SKOS}prefLabel> "luthier"@fr .\n' + _relation()
    with caplog.at_level(logging.WARNING):
        framework = load_esco_rdf(_with(tmp_path, extra))
    assert framework.relations == from_csv.relations
    assert "1 concepts without a label" in caplog.text and "1 relations" in caplog.text
    assert Relation(WITHDRAWN, GUITAR_TYPES, REL_ESSENTIAL) in load_esco_rdf(_with(tmp_path, extra), "fr").relations


def test_withdrawn_occupation_as_a_skill_is_left_out(tmp_path, from_csv):
    """A withdrawn occupation where a skill belongs gives no relation."""
    extra = (f"<{WITHDRAWN}> a <{ESCO_MODEL}Occupation> .\n"
             f"<{GUITAR_MAKER}> <{ESCO_MODEL}relatedEssentialSkill> <{WITHDRAWN}> .\n")
    assert load_esco_rdf(_with(tmp_path, extra)).relations == from_csv.relations
