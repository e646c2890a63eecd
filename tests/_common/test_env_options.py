"""COMPETENCYMAP_* variables and comma-separated options: one reader each, a bad value named."""

from __future__ import annotations

from pathlib import Path

import pytest

from competencymap._common.config import env_bool, env_float, env_int, env_list, env_path, env_value, load_settings
from competencymap._common.errors import CompetencyMapError
from competencymap._common.options import split_list


def test_split_list_strips_drops_empties_and_keeps_the_first_of_duplicates() -> None:
    assert split_list(" esco, sfs,,esco , ") == ["esco", "sfs"]
    assert split_list(("esco,sfs", "mini", "sfs")) == ["esco", "sfs", "mini"]
    assert split_list(None) == [] and split_list("") == [] and split_list(()) == []


def test_typed_readers() -> None:
    env = {"A": " 7 ", "B": "yes", "C": "0.25", "D": "~/x", "E": "a, b,a", "BLANK": "  "}
    assert env_int("A", 1, environ=env) == 7 and env_int("MISSING", 3, environ=env) == 3
    assert env_bool("B", False, environ=env) is True and env_bool("BLANK", True, environ=env) is True
    assert env_float("C", 1.0, environ=env) == 0.25
    assert env_path("D", environ=env) == Path("~/x").expanduser()
    assert env_list("E", environ=env) == ["a", "b"] and env_list("BLANK", ("z",), environ=env) == ["z"]
    assert env_value("BLANK", env) is None


@pytest.mark.parametrize("read, message", [
    (lambda env: env_int("COMPETENCYMAP_X", 1, minimum=1, environ=env), "COMPETENCYMAP_X must be a positive whole number, not 'bad'"),
    (lambda env: env_bool("COMPETENCYMAP_X", False, environ=env), "COMPETENCYMAP_X must be true or false, not 'bad'"),
    (lambda env: env_float("COMPETENCYMAP_X", 1.0, environ=env), "COMPETENCYMAP_X must be a number, not 'bad'"),
])
def test_a_bad_value_names_the_variable_and_the_value(read, message: str) -> None:
    with pytest.raises(CompetencyMapError) as caught:
        read({"COMPETENCYMAP_X": "bad"})
    assert caught.value.message == message


def test_settings_name_the_bad_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COMPETENCYMAP_CONFIG", raising=False)
    monkeypatch.setenv("COMPETENCYMAP_STATEMENT_CACHE", "lots")
    with pytest.raises(CompetencyMapError, match="COMPETENCYMAP_STATEMENT_CACHE must be a whole number of at least 0, not 'lots'"):
        load_settings()
    monkeypatch.setenv("COMPETENCYMAP_STATEMENT_CACHE", "10")
    monkeypatch.setenv("COMPETENCYMAP_HOME", str(tmp_path / "home"))
    settings = load_settings()
    assert settings.statement_cache == 10 and settings.home == tmp_path / "home"
