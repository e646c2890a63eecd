"""The generic SKOS loader: formats, compression, labels, scheme choice and bad input."""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import pytest

from competencymap._common.errors import FrameworkError
from competencymap.frameworks.skos import load_skos
from competencymap.model import framework as model
from competencymap.model.framework import Level, Relation

DATA = Path(__file__).resolve().parents[1] / "data"
SMALL = DATA / "skos_small.ttl"
TWO = DATA / "skos_two_schemes.ttl"
EX = "http://example.org/kitchen/"

PREFIXES = """\
@prefix ex: <http://example.org/x/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix cm: <https://w3id.org/competencymap/vocab#> .
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def turtle(tmp_path: Path, body: str, name: str = "bad.ttl") -> Path:
    return write(tmp_path, name, PREFIXES + body)


def error_of(path: Path, **kwargs: object) -> FrameworkError:
    with pytest.raises(FrameworkError) as caught:
        load_skos(path, **kwargs)
    assert path.name in str(caught.value), "the message must name the file"
    assert "\n" not in str(caught.value)
    return caught.value


# -- a small scheme in three syntaxes -----------------------------------------------------


def test_small_scheme_content() -> None:
    fw = load_skos(SMALL)
    assert fw.id == "kitchen-skills"
    assert fw.iri == EX + "scheme"
    assert fw.title == "Kitchen Skills"
    assert fw.version == "1.2"
    assert fw.source == EX + "source"
    assert fw.licence == EX + "licence"
    assert fw.language == "en"
    assert fw.languages == ("en", "fr")
    assert sorted(fw.competencies) == [EX + n for n in ("baking", "cooking", "knife-skills", "plating")]

    cooking = fw.competencies[EX + "cooking"]
    assert cooking.framework == "kitchen-skills"
    assert cooking.kind == model.KIND_SKILL
    assert cooking.pref_label == "Cooking"
    assert cooking.alt_labels == ("cookery", "food preparation")
    assert cooking.hidden_labels == ("cokking",)
    assert cooking.description == "Preparing food by heating it."
    assert cooking.code == "K1"
    assert cooking.scope_note == "Covers home and professional kitchens."
    assert cooking.broader == ()
    assert cooking.schemes == (EX + "scheme",)

    baking = fw.competencies[EX + "baking"]
    assert baking.broader == (EX + "cooking",)  # from skos:narrower on the parent
    assert baking.scope_note == "Example: Making bread."

    knife = fw.competencies[EX + "knife-skills"]
    assert knife.kind == model.KIND_COMPONENT
    assert knife.pref_label == "Knife skills"  # skos-xl
    assert knife.alt_labels == ("cutting technique",)  # skos-xl
    assert knife.broader == (EX + "cooking",)

    plating = fw.competencies[EX + "plating"]
    assert plating.pref_label == "Plating"  # language-less literal
    assert plating.broader == (EX + "cooking",)

    assert fw.relations == [
        Relation(EX + "baking", "http://example.org/other/pastry", "closeMatch", 0.83),
        Relation(EX + "cooking", "http://example.org/other/cooking", "exactMatch", None),
    ]
    assert fw.levels == [
        Level(EX + "cooking-level-1", EX + "cooking", 1, "Novice", "Follows a simple recipe."),
        Level(EX + "cooking-level-2", EX + "cooking", 2, "Competent", "Adapts recipes to what is at hand."),
    ]
    assert fw.broader_chain(EX + "knife-skills")[0].iri == EX + "cooking"


@pytest.mark.parametrize("suffix", ["rdf", "jsonld"])
def test_same_framework_from_every_syntax(suffix: str) -> None:
    assert load_skos(DATA / f"skos_small.{suffix}") == load_skos(SMALL)
    assert load_skos(DATA / f"skos_small.{suffix}", language="fr") == load_skos(SMALL, language="fr")


def test_french_labels_with_fallbacks() -> None:
    fw = load_skos(SMALL, language="fr")
    assert fw.id == "kitchen-skills"  # the id does not change with the language
    assert fw.title == "Compétences de cuisine"
    labels = {iri.removeprefix(EX): c.pref_label for iri, c in fw.competencies.items()}
    assert labels == {
        "baking": "Pâtisserie",
        "cooking": "Cuisine",
        "knife-skills": "Maniement du couteau",
        "plating": "Plating",
    }
    cooking = fw.competencies[EX + "cooking"]
    assert cooking.alt_labels == ("art culinaire",)
    assert cooking.hidden_labels == ()  # no French hidden label: none, not the English one
    assert cooking.description == "Préparer des aliments en les chauffant."
    assert fw.competencies[EX + "baking"].description == ""
    assert [level.label for level in fw.levels] == ["Débutant", "Competent"]  # names fall back to English


def test_regional_language_tag_matches(tmp_path: Path) -> None:
    path = turtle(tmp_path, 'ex:s a skos:ConceptScheme . ex:c skos:inScheme ex:s ; a skos:Concept ; skos:prefLabel "Colour"@en-GB .', "regional.ttl")
    assert load_skos(path).competencies["http://example.org/x/c"].pref_label == "Colour"


def test_name_sets_the_id() -> None:
    fw = load_skos(SMALL, name="kitchen")
    assert fw.id == "kitchen"
    assert {c.framework for c in fw.competencies.values()} == {"kitchen"}


# -- compressed files ---------------------------------------------------------------------


def test_gzip(tmp_path: Path) -> None:
    packed = tmp_path / "skos_small.ttl.gz"
    with SMALL.open("rb") as source, gzip.open(packed, "wb") as target:
        shutil.copyfileobj(source, target)
    assert load_skos(packed) == load_skos(SMALL)


@pytest.mark.parametrize("suffix", ["ttl", "rdf", "jsonld"])
def test_zip_with_one_rdf_file(tmp_path: Path, suffix: str) -> None:
    packed = tmp_path / "kitchen.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        archive.write(DATA / f"skos_small.{suffix}", f"inside/skos_small.{suffix}")
        archive.writestr("README.txt", "not RDF")
    assert load_skos(packed) == load_skos(SMALL)


def test_zip_with_two_rdf_files(tmp_path: Path) -> None:
    packed = tmp_path / "two.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        archive.write(SMALL, "a.ttl")
        archive.write(SMALL, "b.ttl")
    assert "a.ttl, b.ttl" in str(error_of(packed))


def test_zip_without_rdf(tmp_path: Path) -> None:
    packed = tmp_path / "none.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert "found none" in str(error_of(packed))


def test_corrupt_gzip(tmp_path: Path) -> None:
    path = tmp_path / "broken.ttl.gz"
    path.write_bytes(b"this is not gzip data")
    error_of(path)


# -- several schemes in a file ------------------------------------------------------------


def test_several_schemes_need_a_name() -> None:
    message = str(error_of(TWO))
    assert "alpha <http://example.org/two/alpha>" in message
    assert "beta-skills <http://example.org/two/beta>" in message


@pytest.mark.parametrize(
    ("name", "expected_id", "members"),
    [
        ("alpha", "alpha", ["a1", "a2", "a3"]),  # by cm:shortName; a3 only hangs below a2
        ("beta-skills", "beta-skills", ["b1"]),  # by the slug of its title
        ("http://example.org/two/beta", "beta-skills", ["b1"]),  # by IRI
    ],
)
def test_scheme_picked_by_name(name: str, expected_id: str, members: list[str]) -> None:
    fw = load_skos(TWO, name=name)
    assert fw.id == expected_id
    assert sorted(iri.rsplit("/", 1)[1] for iri in fw.competencies) == members


def test_mapping_stays_with_its_source_scheme() -> None:
    assert load_skos(TWO, name="alpha").relations == []
    assert load_skos(TWO, name="beta-skills").relations == [
        Relation("http://example.org/two/b1", "http://example.org/two/a1", "closeMatch", None)
    ]


def test_unknown_scheme_name() -> None:
    assert "matches none" in str(error_of(TWO, name="gamma"))


def test_ambiguous_scheme_name(tmp_path: Path) -> None:
    path = turtle(tmp_path, """
        ex:s1 a skos:ConceptScheme ; cm:shortName "same" .
        ex:s2 a skos:ConceptScheme ; cm:shortName "same" .
        ex:c a skos:Concept ; skos:inScheme ex:s1 ; skos:prefLabel "C"@en .
    """)
    assert "matches several" in str(error_of(path, name="same"))


# -- bad input ----------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    error_of(tmp_path / "nowhere.ttl")


def test_empty_file(tmp_path: Path) -> None:
    assert "empty" in str(error_of(write(tmp_path, "empty.ttl", "")))


def test_file_with_only_comments(tmp_path: Path) -> None:
    assert "no RDF triples" in str(error_of(write(tmp_path, "comments.ttl", "# nothing here\n")))


def test_malformed_turtle_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.ttl", PREFIXES + 'ex:a a skos:Concept .\nex:b skos:prefLabel "open\n')
    error = error_of(path)
    assert error.line == 5
    assert str(error).startswith(f"{path}:5: malformed RDF")


def test_malformed_rdf_xml(tmp_path: Path) -> None:
    text = (
        '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns:s="http://example.org/s/">\n<rdf:Description rdf:about="http://example.org/a">\n'
        "<s:p>x</s:q>\n</rdf:Description></rdf:RDF>\n"
    )
    assert "malformed RDF" in str(error_of(write(tmp_path, "broken.rdf", text)))


def test_truncated_rdf_xml_holds_no_framework(tmp_path: Path) -> None:
    text = '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n<rdf:Description>\n'
    assert "no RDF triples" in str(error_of(write(tmp_path, "truncated.rdf", text)))


def test_malformed_json_ld(tmp_path: Path) -> None:
    error = error_of(write(tmp_path, "broken.jsonld", '{\n  "@id": "http://example.org/a",\n  oops\n}'))
    assert error.line == 3


def test_json_ld_with_remote_context(tmp_path: Path) -> None:
    path = write(tmp_path, "remote.jsonld", '{"@context": "https://example.org/context.jsonld", "@id": "http://example.org/a"}')
    assert "remote" in str(error_of(path))


def test_unknown_extension(tmp_path: Path) -> None:
    assert "unknown RDF file type" in str(error_of(write(tmp_path, "scheme.txt", "hello")))


def test_no_concept_scheme(tmp_path: Path) -> None:
    path = turtle(tmp_path, 'ex:c a skos:Concept ; skos:prefLabel "C"@en .')
    assert "not a framework" in str(error_of(path))


def test_scheme_without_concepts(tmp_path: Path) -> None:
    path = turtle(tmp_path, 'ex:s a skos:ConceptScheme ; skos:prefLabel "S"@en .')
    assert "not a framework" in str(error_of(path))


def test_malformed_language_code() -> None:
    with pytest.raises(FrameworkError, match="unknown language"):
        load_skos(SMALL, language="")


def test_unknown_language() -> None:
    message = str(error_of(SMALL, language="de"))
    assert "'de'" in message and "en, fr" in message


def test_dangling_broader(tmp_path: Path) -> None:
    path = turtle(tmp_path, """
        ex:s a skos:ConceptScheme .
        ex:c a skos:Concept ; skos:inScheme ex:s ; skos:prefLabel "C"@en ; skos:broader ex:missing .
    """)
    assert "http://example.org/x/missing" in str(error_of(path))


def test_two_preferred_labels_in_one_language(tmp_path: Path) -> None:
    path = turtle(tmp_path, """
        ex:s a skos:ConceptScheme .
        ex:c a skos:Concept ; skos:inScheme ex:s ; skos:prefLabel "One"@en , "Two"@en .
    """)
    assert "2 different skos:prefLabel" in str(error_of(path))


def test_concept_without_label(tmp_path: Path) -> None:
    path = turtle(tmp_path, "ex:s a skos:ConceptScheme . ex:c a skos:Concept ; skos:inScheme ex:s .")
    assert "no skos:prefLabel" in str(error_of(path))


def test_unknown_kind(tmp_path: Path) -> None:
    path = turtle(tmp_path, """
        ex:s a skos:ConceptScheme .
        ex:c a skos:Concept ; skos:inScheme ex:s ; skos:prefLabel "C"@en ; cm:kind "gadget" .
    """)
    assert "cm:kind 'gadget'" in str(error_of(path))


def test_level_without_rank(tmp_path: Path) -> None:
    path = turtle(tmp_path, """
        ex:s a skos:ConceptScheme .
        ex:c a skos:Concept ; skos:inScheme ex:s ; skos:prefLabel "C"@en .
        ex:l a cm:ProficiencyLevel ; cm:levelOf ex:c ; skos:prefLabel "L"@en .
    """)
    assert "cm:rank" in str(error_of(path))


def test_level_without_label(tmp_path: Path) -> None:
    path = turtle(tmp_path, """
        ex:s a skos:ConceptScheme .
        ex:c a skos:Concept ; skos:inScheme ex:s ; skos:prefLabel "C"@en .
        ex:l a cm:ProficiencyLevel ; cm:levelOf ex:c ; cm:rank 1 .
    """)
    assert "has no skos:prefLabel" in str(error_of(path))


def test_mapping_node_with_bad_relation(tmp_path: Path) -> None:
    path = turtle(tmp_path, """
        ex:s a skos:ConceptScheme .
        ex:c a skos:Concept ; skos:inScheme ex:s ; skos:prefLabel "C"@en .
        [] a cm:Mapping ; cm:source ex:c ; cm:target ex:d ; cm:relation skos:broader .
    """)
    assert "not a SKOS mapping property" in str(error_of(path))


def test_mapping_node_with_bad_score(tmp_path: Path) -> None:
    path = turtle(tmp_path, """
        ex:s a skos:ConceptScheme .
        ex:c a skos:Concept ; skos:inScheme ex:s ; skos:prefLabel "C"@en .
        [] a cm:Mapping ; cm:source ex:c ; cm:target ex:d ; cm:relation skos:closeMatch ; cm:score "high" .
    """)
    assert "not a number" in str(error_of(path))


# -- the shape the project's RDF exporter writes -------------------------------------------


def test_reads_the_exporter_shape() -> None:
    fw = load_skos(DATA / "skos_export_style.ttl")
    ex = "http://example.org/exp/"
    assert (fw.id, fw.title, fw.version, fw.licence, fw.source) == (
        "myfw", "My Framework", "3", "CC-BY-4.0", "https://example.org/src",
    )
    assert fw.competencies[ex + "group"].kind == model.KIND_GROUP
    knife = fw.competencies[ex + "knife"]
    assert (knife.kind, knife.status, knife.reuse_level) == (model.KIND_KNOWLEDGE, "obsolete", "cross-sector")
    assert list(fw.occupations) == [ex + "cook"]
    cook = fw.occupations[ex + "cook"]
    assert (cook.kind, cook.pref_label, cook.alt_labels, cook.code, cook.isco_group) == (
        model.KIND_OCCUPATION, "Cook", ("chef",), "5120.1", "5120",
    )
    assert fw.relations == [
        Relation(ex + "cook", ex + "knife", model.REL_ESSENTIAL, None),
        Relation(ex + "knife", ex + "other", "closeMatch", 0.5),  # plain triple and node are one
    ]
