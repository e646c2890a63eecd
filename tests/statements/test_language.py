"""The language of statements and lines, and text the model cannot read set aside with its reason."""

from __future__ import annotations

import pytest

from competencymap.mapping.lines import DROPPED, account
from competencymap.mapping.pipeline import map_texts, not_read, split_text
from competencymap.mapping.results import MappingResult
from competencymap.statements.language import Readable, detect, judgeable, language_name, main_language, set_aside
from competencymap.statements.segment import Statement

FRENCH_POSTING = """Chauffeur-livreur, classe 1

Responsabilités :
- Conduire un camion de classe 1 en toute sécurité
- Effectuer l'inspection avant départ du véhicule
- Utiliser l'équipement de signalisation
- Interpréter les feux de circulation
"""

MIXED_POSTING = """Delivery Driver

What you'll do:
- Drive a class 1 truck safely across Ontario
- Effectuer l'inspection avant départ du véhicule
- Load and unload freight at customer sites

What you bring:
- French is an asset
- Bilingual (English and French) is an asset
- SQL
- Python
- AWS, GCP, Azure
"""
REASON = "French text: not mapped with the bundled English model"


@pytest.mark.parametrize("text", ["Utiliser l'équipement de signalisation", "Interpréter les feux de circulation",
                                  "Vous devez posséder un permis de conduire valide", "Service à la clientèle"])
def test_french_lines_are_french(text: str) -> None:
    assert detect(text) == "fr"


@pytest.mark.parametrize("text", ["French is an asset", "Bilingual (English and French) is an asset",
                                  "Drive a class 1 truck safely across Ontario", "Team player with a positive attitude"])
def test_english_lines_naming_french_are_english(text: str) -> None:
    assert detect(text) == "en"


@pytest.mark.parametrize("text", ["Good communication skills", "Customer service experience required",
                                  "Fluent in French and English"])
def test_english_lines_are_never_flagged(text: str) -> None:
    assert detect(text) in ("en", "") and Readable().reads(detect(text))  # English, or not sure: kept


@pytest.mark.parametrize("text", ["SQL", "Python", "Java, Python, SQL", "AWS, GCP, Azure", "Montréal, QC", "Chauffeur"])
def test_short_lines_are_not_judged(text: str) -> None:
    assert not judgeable(text) and detect(text) == ""


def test_readable_languages_and_reasons() -> None:
    english = Readable()
    assert english.reads("en") and english.reads("") and not english.reads("fr")
    assert english.reason("fr") == REASON
    assert Readable(frozenset()).reads("fr")  # a multilingual model reads every language
    assert Readable(frozenset({"en", "fr"}), "the model m").reason("es") == "Spanish text: not mapped with the model m"
    assert language_name("xx") == "xx"


def test_set_aside_keeps_what_the_model_reads() -> None:
    texts = ["Conduire un camion de classe 1 en toute sécurité", "Drive a class 1 truck safely across Ontario", "SQL"]
    kept, unread = set_aside([Statement(t, 0, len(t)) for t in texts], Readable())
    assert [s.text for s in kept] == texts[1:] and [s.language for s in kept] == ["en", ""]
    assert [(s.text, s.language, s.reason) for s in unread] == [(texts[0], "fr", REASON)]


def test_a_french_posting_has_no_statement_to_map() -> None:
    reading = split_text(FRENCH_POSTING, "posting", Readable())
    assert reading.statements == []
    unread = not_read(reading)
    assert [s.text for s in unread] == [line[2:] for line in FRENCH_POSTING.splitlines() if line.startswith("- ")]
    assert {s.reason for s in unread} == {REASON} and main_language(unread) == "fr"
    title = next(s for s in reading.dropped if s.text.startswith("Chauffeur"))
    assert title.reason == "title"  # a dropped title keeps its own reason


def test_a_mixed_posting_drops_only_its_french_line() -> None:
    reading = split_text(MIXED_POSTING, "posting", Readable())
    assert [s.text for s in not_read(reading)] == ["Effectuer l'inspection avant départ du véhicule"]
    kept = [s.text for s in reading.statements]
    for text in ("French is an asset", "Bilingual (English and French) is an asset", "SQL", "Python",
                 "AWS, GCP, Azure", "Drive a class 1 truck safely across Ontario"):
        assert text in kept


def test_without_readable_nothing_is_detected_or_dropped() -> None:
    reading = split_text(FRENCH_POSTING, "posting")
    assert len(reading.statements) == 4 and not_read(reading) == []
    assert all(s.language == "" for s in reading.statements)


def test_mapping_results_and_lines_carry_the_language() -> None:
    result: MappingResult = map_texts([MIXED_POSTING], [], encoder=None, kind="posting", readable=Readable())[0]  # type: ignore[arg-type]
    assert result.language == "en"
    assert [s.text for s in result.not_read] == ["Effectuer l'inspection avant départ du véhicule"]
    assert all(s in result.dropped for s in result.not_read)
    lines = {r.line.text: r for r in account(result)}
    french = lines["- Effectuer l'inspection avant départ du véhicule"]
    assert (french.outcome, french.reason, french.language) == (DROPPED, REASON, "fr")
    assert lines["- French is an asset"].outcome != DROPPED and lines["- SQL"].language == ""
    whole = map_texts([FRENCH_POSTING], [], encoder=None, kind="posting", readable=Readable())[0]  # type: ignore[arg-type]
    assert whole.language == "fr" and whole.statements == [] and len(whole.not_read) == 4
