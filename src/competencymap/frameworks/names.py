"""The names a framework is known by: its short name in the store and its language code."""

from __future__ import annotations

import re

from competencymap._common.errors import FrameworkError

_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$", re.IGNORECASE)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def check_language(language: str) -> None:
    if not isinstance(language, str) or not _LANGUAGE.match(language):
        raise FrameworkError(f"unknown language {language!r}: expected a code such as en, fr or pt-PT")


def check_name(name: str) -> None:
    if not _NAME.match(name):
        raise FrameworkError(
            f"bad framework name {name!r}: use lowercase letters, digits, '-', '_' or '.'"
        )


def slug(text: str) -> str:
    """A framework name made from free text: 'My Skills v2' -> 'my-skills-v2'."""
    value = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return value or "framework"
