"""The simple CSV framework loader: id,label,description,broader[,alt_labels]."""

from __future__ import annotations

from pathlib import Path

import pytest

from competencymap._common.errors import FrameworkError
from competencymap.frameworks.simple_csv import load_simple_csv
from competencymap.model import framework as model

GOOD = """\
id,label,description,broader,alt_labels,owner
web,Web development,"Building sites, apps and services for the web",,web dev|web programming,team a
frontend,Front-end development,Building the parts of a site users see,web,front end|UI development,
https://example.org/skills/css,CSS,Styling web pages,frontend|web,,

api,API design,,web,API design|interface design,team b
"""


def write(tmp_path: Path, text: str, name: str = "skills.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def error_of(path: Path, **kwargs: object) -> FrameworkError:
    with pytest.raises(FrameworkError) as caught:
        load_simple_csv(path, name=kwargs.pop("name", "mine"), **kwargs)  # type: ignore[arg-type]
    assert path.name in str(caught.value), "the message must name the file"
    return caught.value


def test_loads_rows(tmp_path: Path) -> None:
    fw = load_simple_csv(write(tmp_path, GOOD), name="mine")
    assert fw.id == "mine"
    assert fw.iri == "urn:competencymap:mine"
    assert fw.language == "en"
    assert list(fw.competencies) == [
        "urn:competencymap:mine:web",
        "urn:competencymap:mine:frontend",
        "https://example.org/skills/css",
        "urn:competencymap:mine:api",
    ]
    web = fw.competencies["urn:competencymap:mine:web"]
    assert web.pref_label == "Web development"
    assert web.description == "Building sites, apps and services for the web"
    assert web.alt_labels == ("web dev", "web programming")
    assert web.kind == model.KIND_SKILL
    assert web.framework == "mine"
    css = fw.competencies["https://example.org/skills/css"]
    assert css.broader == ("urn:competencymap:mine:frontend", "urn:competencymap:mine:web")
    api = fw.competencies["urn:competencymap:mine:api"]
    assert api.alt_labels == ("interface design",)  # the label itself is not repeated
    assert api.description == ""
    assert [c.pref_label for c in fw.broader_chain("https://example.org/skills/css")] == [
        "Front-end development", "Web development",
    ]


def test_minimal_header_with_bom_and_language(tmp_path: Path) -> None:
    path = write(tmp_path, "ID,Label\nkiss,Garder ça simple\n", encoding="utf-8-sig")
    fw = load_simple_csv(path, name="fr-skills", language="fr")
    assert fw.language == "fr"
    assert fw.competencies["urn:competencymap:fr-skills:kiss"].pref_label == "Garder ça simple"


def test_ids_are_made_safe_for_iris(tmp_path: Path) -> None:
    fw = load_simple_csv(write(tmp_path, "id,label\nteam work,Teamwork\n"), name="mine")
    assert list(fw.competencies) == ["urn:competencymap:mine:team%20work"]


def test_empty_file(tmp_path: Path) -> None:
    assert "empty" in str(error_of(write(tmp_path, "")))


def test_header_only(tmp_path: Path) -> None:
    assert "no rows" in str(error_of(write(tmp_path, "id,label\n")))


@pytest.mark.parametrize("header", ["name,description\n", "id,description\n", "label\n"])
def test_header_without_id_or_label(tmp_path: Path, header: str) -> None:
    error = error_of(write(tmp_path, header + "a,b\n"))
    assert error.line == 1
    assert "header lacks" in str(error)


def test_duplicate_ids(tmp_path: Path) -> None:
    error = error_of(write(tmp_path, "id,label\na,A\nb,B\na,Again\n"))
    assert error.line == 4
    assert "duplicate id 'a' (first on line 2)" in str(error)


def test_dangling_broader(tmp_path: Path) -> None:
    error = error_of(write(tmp_path, "id,label,broader\na,A,\nb,B,a|nowhere\n"))
    assert error.line == 3
    assert "'nowhere'" in str(error)


def test_self_broader(tmp_path: Path) -> None:
    assert error_of(write(tmp_path, "id,label,broader\na,A,a\n")).line == 2


def test_empty_label(tmp_path: Path) -> None:
    error = error_of(write(tmp_path, "id,label\na,A\nb,  \n"))
    assert error.line == 3


def test_empty_id(tmp_path: Path) -> None:
    assert error_of(write(tmp_path, "id,label\n,A\n")).line == 2


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("id,label\na,Caf\u00e9\n".encode("latin-1"))
    assert "UTF-8" in str(error_of(path))


def test_missing_file(tmp_path: Path) -> None:
    error_of(tmp_path / "absent.csv")


def test_bad_name_and_language(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    with pytest.raises(FrameworkError, match="bad framework name"):
        load_simple_csv(path, name="My Skills")
    with pytest.raises(FrameworkError, match="unknown language"):
        load_simple_csv(path, name="mine", language="english please")
