"""Comma-separated option values (`--framework esco,sfs`, `COMPETENCYMAP_FRAMEWORKS=esco,sfs`, a
form's `frameworks` field) read one way everywhere."""

from __future__ import annotations

from collections.abc import Iterable


def split_list(value: str | Iterable[str] | None) -> list[str]:
    """The names in a comma-separated value, or in several such values (a repeated option):
    each stripped, empty ones dropped, the first of duplicates kept, in order."""
    if value is None:
        return []
    values = [value] if isinstance(value, str) else list(value)
    return list(dict.fromkeys(name.strip() for text in values for name in text.split(",") if name.strip()))
