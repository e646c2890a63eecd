"""The languages a model folder's card declares."""

from __future__ import annotations

from pathlib import Path

import pytest

from competencymap.encoding.model_languages import ENGLISH_ONLY, EVERY_LANGUAGE, declared_languages


@pytest.mark.parametrize(("card", "expected"), [
    ("---\nlanguage: en\nlicense: apache-2.0\n---\n# m", ("en",)),
    ("---\nlanguage:\n- fr\n- en\ntags:\n- x\n---\n", ("fr", "en")),
    ("---\nlanguage: [de, en]\n---\n", ("de", "en")),
    ("---\nlanguage:\n  - multilingual\n  - ar\n---\n", EVERY_LANGUAGE),
    ("---\nlicense: mit\n---\n", ENGLISH_ONLY),
    ("# no front matter\nlanguage: fr\n", ENGLISH_ONLY),
])
def test_declared_languages(tmp_path: Path, card: str, expected: tuple[str, ...]) -> None:
    (tmp_path / "README.md").write_text(card, encoding="utf-8")
    assert declared_languages(tmp_path) == expected


def test_a_folder_without_a_card_is_english(tmp_path: Path) -> None:
    assert declared_languages(tmp_path) == ENGLISH_ONLY
