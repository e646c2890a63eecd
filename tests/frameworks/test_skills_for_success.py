"""The bundled Skills for Success and Essential Skills schemes, read with the SKOS loader."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from competencymap.exports.openbadges import concept_code
from competencymap.frameworks.skos import load_skos
from competencymap.model import framework as model

FOLDER = Path(__file__).resolve().parents[2] / "data" / "skills_for_success"
SFS_FILE = FOLDER / "skills_for_success.ttl"
ES_FILE = FOLDER / "essential_skills.ttl"
SFS = "https://w3id.org/competencymap/sfs/"
ES = "https://w3id.org/competencymap/essential-skills/"
SKOS = "http://www.w3.org/2004/02/skos/core#"

# Skill -> (English name, French name): the nine French names confirmed for dataset 0.2.0.
SKILLS = {
    "adaptability": ("Adaptability", "Adaptabilité"),
    "collaboration": ("Collaboration", "Collaboration"),
    "communication": ("Communication", "Communication"),
    "creativity-and-innovation": ("Creativity and innovation", "Créativité et innovation"),
    "digital": ("Digital", "Compétences numériques"),
    "numeracy": ("Numeracy", "Calcul"),
    "problem-solving": ("Problem solving", "Résolution de problèmes"),
    "reading": ("Reading", "Lecture"),
    "writing": ("Writing", "Rédaction"),
}
# Components whose headings our sources give (facts.md section 2); the rest are left out.
COMPONENTS = {
    "adaptability": 5,
    "collaboration": 4,
    "communication": 3,
    "creativity-and-innovation": 0,
    "digital": 6,
    "numeracy": 4,
    "problem-solving": 4,
    "reading": 3,
    "writing": 0,
}
LEVELS = {
    "reading": ["Level 1", "Level 2", "Level 3", "Level 4", "Level 5"],
    "writing": ["Level 1", "Level 2", "Level 3", "Level 4", "Level 5"],
    "communication": ["Entry", "Intermediate", "Advanced"],
}


@pytest.fixture(scope="module")
def sfs() -> model.Framework:
    return load_skos(SFS_FILE)


@pytest.fixture(scope="module")
def es() -> model.Framework:
    return load_skos(ES_FILE)


def skill_key(iri: str) -> str:
    return iri.removeprefix(SFS).split("/")[0]


def test_scheme_metadata(sfs: model.Framework) -> None:
    assert sfs.id == "sfs"
    assert sfs.iri == SFS
    assert sfs.title == "Skills for Success"
    assert "2021-05" in sfs.version and "dataset 0.2.0" in sfs.version
    assert sfs.source.startswith("https://www.canada.ca/")
    assert "MIT" in sfs.licence and "canada.ca" in sfs.licence
    assert sfs.languages == ("en", "fr")


def test_nine_skills_with_english_names(sfs: model.Framework) -> None:
    skills = {c.iri: c for c in sfs.competencies.values() if c.kind == model.KIND_SKILL}
    assert sorted(skills) == sorted(SFS + key for key in SKILLS)
    for key, (english, _) in SKILLS.items():
        skill = skills[SFS + key]
        assert skill.pref_label == english
        assert skill.broader == ()
        assert skill.framework == "sfs"
        assert len(skill.description) > 40
        assert skill.alt_labels, f"{key} has no alternative labels"
        assert "Example: " in skill.scope_note


def test_components_per_skill(sfs: model.Framework) -> None:
    components = [c for c in sfs.competencies.values() if c.kind == model.KIND_COMPONENT]
    assert len(components) == sum(COMPONENTS.values()) == 29
    counts = {key: 0 for key in COMPONENTS}
    for component in components:
        key = skill_key(component.iri)
        counts[key] += 1
        assert component.broader == (SFS + key,)
        assert component.iri.startswith(f"{SFS}{key}/c")
        assert component.description
    assert counts == COMPONENTS
    assert sfs.competencies[SFS + "digital/c6"].pref_label == "Update and upgrade your skill set"
    assert sfs.competencies[SFS + "reading/c1"].pref_label == "Identify the task that requires reading"


def test_every_skill_records_what_is_unknown() -> None:
    """Each skill says in an editorial note how many components are known."""
    notes: dict[str, list[str]] = {}
    for quad in ox.parse(path=str(SFS_FILE)):
        if quad.predicate.value == SKOS + "editorialNote" and quad.subject.value.removeprefix(SFS) in SKILLS:
            notes.setdefault(quad.subject.value.removeprefix(SFS), []).append(quad.object.value)
    assert sorted(notes) == sorted(SKILLS)
    for key, texts in notes.items():
        assert any(t.startswith("Components:") for t in texts), key
        assert any(t.startswith("Proficiency levels:") for t in texts), key
    assert any("unknown" in t for t in notes["creativity-and-innovation"] if t.startswith("Components:"))


def test_levels_only_where_known(sfs: model.Framework) -> None:
    found: dict[str, list[str]] = {}
    for level in sfs.levels:
        key = skill_key(level.competency)
        found.setdefault(key, []).append(level.label)
        assert level.iri == f"{SFS}{key}/level/{level.rank}"
        assert level.description
    assert found == LEVELS
    assert [lv.rank for lv in sfs.levels if skill_key(lv.competency) == "communication"] == [1, 2, 3]


def test_french_names(sfs: model.Framework) -> None:
    fr = load_skos(SFS_FILE, language="fr")
    assert fr.id == "sfs"
    assert fr.language == "fr"
    assert fr.title == "Compétences pour réussir"
    for key, (_, french) in SKILLS.items():
        assert fr.competencies[SFS + key].pref_label == french
    assert len(fr.competencies) == len(sfs.competencies)
    # Components have no French names in our sources: the English heading stands in, and no
    # component carries a French label in the file.
    assert fr.competencies[SFS + "digital/c5"].pref_label == "Apply safe and responsible practices online"
    french_components = [
        quad.subject.value for quad in ox.parse(path=str(SFS_FILE))
        if quad.predicate.value == SKOS + "prefLabel" and getattr(quad.object, "language", None) == "fr"
        and "/" in quad.subject.value.removeprefix(SFS)
    ]
    assert french_components == []


def test_component_descriptions_in_our_words(sfs: model.Framework) -> None:
    """Each component has a description of its own (not its heading), sourced on the concept."""
    components = [c for c in sfs.competencies.values() if c.kind == model.KIND_COMPONENT]
    for component in components:
        assert len(component.description) > 40, component.iri
        assert component.description != component.pref_label
    digital_c5 = sfs.competencies[SFS + "digital/c5"].description
    assert "personal data" in digital_c5 and "devices" in digital_c5
    assert "estimating" in sfs.competencies[SFS + "numeracy/c4"].description
    assert "non-verbal" in sfs.competencies[SFS + "communication/c1"].description
    assert "biases" in sfs.competencies[SFS + "problem-solving/c2"].description
    sources = {
        quad.subject.value for quad in ox.parse(path=str(SFS_FILE))
        if quad.predicate.value == "http://purl.org/dc/terms/source"
    }
    assert {c.iri for c in components} <= sources


def test_level_statements_say_what_rises_and_where_from(sfs: model.Framework) -> None:
    by_iri = {level.iri: level for level in sfs.levels}
    reading_1 = by_iri[SFS + "reading/level/1"].description
    assert "Essential Skills" in reading_1 and "not confirmed" in reading_1
    assert "one piece of information" in reading_1
    assert "Pre-SFS" in by_iri[SFS + "writing/level/3"].description
    assert "Stage II" in by_iri[SFS + "communication/level/2"].description


def test_codes_unique_across_the_framework(sfs: model.Framework) -> None:
    codes = [c.code for c in sfs.competencies.values()]
    assert all(codes) and len(set(codes)) == len(codes)
    assert sfs.competencies[SFS + "digital"].code == "digital"
    assert sfs.competencies[SFS + "digital/c5"].code == "digital.c5"
    assert sfs.competencies[SFS + "adaptability/c5"].code == "adaptability.c5"
    level_codes = {
        quad.subject.value: quad.object.value for quad in ox.parse(path=str(SFS_FILE))
        if quad.predicate.value == SKOS + "notation" and "/level/" in quad.subject.value
    }
    assert len(level_codes) == len(sfs.levels) == 13
    assert level_codes[SFS + "reading/level/2"] == "reading.level.2"
    assert not set(level_codes.values()) & set(codes)


def test_export_codes_are_the_notations(sfs: model.Framework) -> None:
    """Exports derive a concept's code from its IRI; it must equal the notation in the file."""
    for concept in sfs.competencies.values():
        assert concept_code(concept.iri) == concept.code
    for level in sfs.levels:
        assert concept_code(level.iri) == level.iri.removeprefix(SFS).replace("/", ".")


def test_all_identifiers_in_one_namespace(sfs: model.Framework) -> None:
    assert all(iri.startswith(SFS) for iri in sfs.competencies)
    assert all(level.iri.startswith(SFS) for level in sfs.levels)
    assert sfs.relations == []


def test_essential_skills(es: model.Framework) -> None:
    assert es.id == "essential-skills"
    assert es.iri == ES
    skills = sorted(c.pref_label for c in es.competencies.values() if c.kind == model.KIND_SKILL)
    assert skills == [
        "Continuous Learning", "Digital Technology", "Document Use", "Numeracy",
        "Oral Communication", "Reading", "Thinking", "Working with Others", "Writing",
    ]
    parts = [c for c in es.competencies.values() if c.kind == model.KIND_COMPONENT]
    assert len(parts) == 6
    assert {c.broader for c in parts} == {(ES + "thinking",)}
    assert es.competencies[ES + "digital-technology"].alt_labels == ("Computer Use",)


def test_essential_skills_map_onto_existing_sfs_concepts(es: model.Framework, sfs: model.Framework) -> None:
    assert es.relations
    for relation in es.relations:
        assert relation.source in es.competencies
        assert relation.target in sfs.competencies, relation
        assert relation.type in model.MAPPING_TYPES
        assert relation.score is None
    mapped = {r.source for r in es.relations}
    top = {c.iri for c in es.competencies.values() if c.kind == model.KIND_SKILL}
    assert top <= mapped, "every Essential Skill has a successor in Skills for Success"
    targets = {r.target.removeprefix(SFS) for r in es.relations if r.source == ES + "document-use"}
    assert targets == {"reading", "writing", "numeracy"}
    assert (ES + "continuous-learning", SFS + "adaptability", "broadMatch") in {
        (r.source, r.target, r.type) for r in es.relations
    }
    # Creativity and innovation is new: nothing maps onto it.
    assert SFS + "creativity-and-innovation" not in {r.target for r in es.relations}
