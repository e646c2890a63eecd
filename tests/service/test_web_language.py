"""The web page in French as well as English: every text in both, the language switch, Skills
for Success names in French, and the warning for posting lines the model cannot read."""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from competencymap._common.config import load_settings
from competencymap.service.app import ServiceOptions, create_app
from competencymap.service.web.messages import FOLDER, Messages, choose
from competencymap.service.web.pages import LANGUAGE_COOKIE

ORIGIN = "http://localhost:8000"
NUMERACY = "https://w3id.org/competencymap/sfs/numeracy"


def _table(language: str) -> dict[str, str]:
    return json.loads((FOLDER / f"{language}.json").read_text(encoding="utf-8"))


def test_french_has_every_english_key_and_no_other() -> None:
    english, french = _table("en"), _table("fr")
    assert sorted(set(english) - set(french)) == [] and sorted(set(french) - set(english)) == []


def test_french_texts_are_translated_with_the_same_placeholders() -> None:
    english, french = _table("en"), _table("fr")
    for key, text in english.items():
        assert set(re.findall(r"\{(\w+)\}", french[key])) == set(re.findall(r"\{(\w+)\}", text)), key
    same = [k for k, text in english.items() if french[k] == text]
    assert len(same) < 15, same  # names (API, CTDL, competencymap) and a few words spelt alike only
    assert Messages("fr")("error.too_long", limit=300, given=400) == "Trop long : au plus 300 caractères (400 saisis)."


def test_choice_then_browser_then_english() -> None:
    assert choose("fr", "en-CA,en").language == "fr"
    assert choose("EN", "fr-CA").language == "en"
    assert choose(None, "fr-CA,fr;q=0.9").language == "fr"
    assert choose("xx", "de").language == "en"


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    opts = ServiceOptions(frameworks=(), database_url=f"sqlite:///{tmp_path / 'catalog.sqlite'}", seed_catalog=True)
    with TestClient(create_app(load_settings(home=tmp_path), options=opts), base_url=ORIGIN) as c:
        yield c


def test_the_page_follows_the_browser_language(client: TestClient) -> None:
    page = client.get("/employer", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"}).text
    assert '<html lang="fr">' in page and "Comparer une offre d&#39;emploi" in page
    assert 'href="/language?lang=en&amp;next=/employer"' in page  # the switch offers English
    assert '<html lang="en">' in client.get("/employer").text


def test_the_switch_keeps_the_chosen_language(client: TestClient) -> None:
    answer = client.get("/language", params={"lang": "fr", "next": "/browse?q=x"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/browse?q=x"
    assert client.cookies.get(LANGUAGE_COOKIE) == "fr"
    page = client.get("/designer", headers={"Accept-Language": "en"}).text  # the choice wins over the browser
    assert '<html lang="fr">' in page and "Microcertifications" in page
    assert '<html lang="en">' in client.get("/designer", params={"lang": "en"}).text  # a query parameter wins
    back = client.get("/language", params={"lang": "en", "next": "https://evil.example/"}, follow_redirects=False)
    assert back.headers["location"] == "/" and client.cookies.get(LANGUAGE_COOKIE) == "en"


def test_an_unknown_page_language_is_a_readable_400(client: TestClient) -> None:
    answer = client.get("/language", params={"lang": "xx"})
    assert answer.status_code == 400 and "“xx”" in html.unescape(answer.text) and "fr (Français)" in answer.text


@pytest.fixture()
def engine_client(built_home: Path, tmp_path: Path) -> Iterator[TestClient]:
    home = tmp_path / "home"
    shutil.copytree(built_home, home)
    opts = ServiceOptions(frameworks=("mini", "sfs"), database_url=f"sqlite:///{tmp_path / 'catalog.sqlite'}",
                          seed_catalog=True)
    with TestClient(create_app(load_settings(home=home), options=opts), base_url=ORIGIN) as c:
        yield c


def test_skills_for_success_names_in_french(engine_client: TestClient) -> None:
    english = engine_client.get("/browse/competency", params={"iri": NUMERACY}).text
    french = engine_client.get("/browse/competency", params={"iri": NUMERACY, "lang": "fr"}).text
    assert "<h1>Numeracy</h1>" in english and "<h1>Calcul</h1>" in french


def test_the_employer_page_flags_lines_it_cannot_read(engine_client: TestClient) -> None:
    page = engine_client.get("/employer").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    posting = ("Data analyst\n\nWhat you'll do:\n- Write SQL queries against PostgreSQL\n"
               "- Rédiger des rapports d'analyse pour la direction\n- Utiliser l'équipement de signalisation\n")
    answer = engine_client.post("/employer", data={"csrf_token": token, "posting": posting, "title": ""},
                                headers={"Origin": ORIGIN, "Accept-Language": "fr-CA"})
    assert answer.status_code == 200, answer.text[:500]
    text = html.unescape(answer.text)
    assert 'data-testid="not-read"' in text and "2 lignes n'ont pas été associées" in text
    assert "Ces lignes sont en français." in text and "<li lang=\"fr\">Utiliser l'équipement de signalisation</li>" in text
    english = engine_client.post("/employer", data={"csrf_token": token, "posting": posting, "title": ""},
                                 headers={"Origin": ORIGIN})
    assert "These lines are in French." in html.unescape(english.text)
