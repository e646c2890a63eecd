"""The languages an embedding model reads, as its model card declares them.

A Hugging Face model folder's ``README.md`` opens with a front matter whose ``language`` key
lists ISO 639-1 codes (``language: en``, or a list of ``- fr`` items); ``multilingual`` among
them means every language. A folder that declares nothing is taken as English, like the bundled
models (all-MiniLM-L6-v2 and its adapted version, trained on English). A model that reads more
declares it in its card; the mapping then maps text in those languages too
(`statements.language.Readable`).
"""

from __future__ import annotations

import re
from pathlib import Path

ENGLISH_ONLY = ("en",)
EVERY_LANGUAGE: tuple[str, ...] = ()  # what "multilingual" declares

_FRONT = re.compile(r"\A---\s*\n(.*?)\n---", re.S)
_KEY = re.compile(r"^language:[ \t]*(.*)$", re.M)
_ITEM = re.compile(r"^[ \t]*-[ \t]*([A-Za-z-]+)[ \t]*$")


def declared_languages(folder: Path) -> tuple[str, ...]:
    """The languages the model card in `folder` declares (``()``: every language; none declared or
    no card: English only)."""
    card = folder / "README.md"
    try:
        front = _FRONT.match(card.read_text(encoding="utf-8", errors="replace")[:20_000])
    except OSError:
        return ENGLISH_ONLY
    if front is None:
        return ENGLISH_ONLY
    codes = _codes(front.group(1))
    if not codes:
        return ENGLISH_ONLY
    return EVERY_LANGUAGE if "multilingual" in codes else tuple(dict.fromkeys(codes))


def _codes(front: str) -> list[str]:
    """The values of the ``language`` key: inline (``en``, ``[en, fr]``) or as list items below it."""
    key = _KEY.search(front)
    if key is None:
        return []
    inline = key.group(1).strip().strip("[]")
    if inline:
        return [c.strip().strip("'\"").lower() for c in inline.split(",") if c.strip()]
    out = []
    for line in front[key.end():].lstrip("\n").splitlines():
        item = _ITEM.match(line)
        if item is None:
            break
        out.append(item.group(1).lower())
    return out
