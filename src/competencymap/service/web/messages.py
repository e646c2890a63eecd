"""Every text the web page shows, by language: `messages/<lang>.json` (English and French).

Templates and routes call a `Messages` object with a key and named values:
``t("designer.saved", who="Dana")``. A key missing from a language falls back to English; a key
missing from English is a bug and raises KeyError, so a typo never reaches a page silently.

The page's language is the one the person chose (the language switch sets a cookie; a ``lang``
query parameter works too), else the first of the browser's Accept-Language that has a file
(`choose`).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent / "messages"
DEFAULT_LANGUAGE = "en"
#: Each language's name in itself, as the language switch shows it.
AUTONYMS = {"en": "English", "fr": "Français"}


@cache
def _table(language: str) -> dict[str, str]:
    path = FOLDER / f"{language}.json"
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def languages() -> list[str]:
    """The languages with a messages file."""
    return sorted(p.stem for p in FOLDER.glob("*.json"))


class Messages:
    """The texts of one language, called as ``t(key, **values)``."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        self.language = language if language in languages() else DEFAULT_LANGUAGE
        self.table = _table(self.language)
        self.fallback = _table(DEFAULT_LANGUAGE)

    def __call__(self, key: str, **values: Any) -> str:
        text = self.table.get(key)
        if text is None:
            text = self.fallback[key]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self.table or key in self.fallback


def known(language: str | None) -> bool:
    """True for a language with a messages file."""
    return bool(language) and language in languages()


def choose(chosen: str | None, accept_language: str | None) -> Messages:
    """The texts of the language the person chose (query parameter or cookie), else of the browser's."""
    if chosen and known(chosen.lower()):
        return Messages(chosen.lower())
    return messages_for(accept_language)


def messages_for(accept_language: str | None) -> Messages:
    """The first language of an Accept-Language header that has a messages file (else English)."""
    known = set(languages())
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower().split("-")[0]
        if code in known:
            return Messages(code)
    return Messages(DEFAULT_LANGUAGE)
