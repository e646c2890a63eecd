"""The one check every text entering the library passes: a string, not empty, within the
length limit, no lone surrogates and no control characters (tab, line feed, carriage return
and form feed excepted).

`check_text` raises `InputTextError` naming the field, and `TextTooLong` (a subclass) for a
text over the limit, so the CLI can name the record and the API can answer 413 or 422.
"""

from __future__ import annotations

import re

from competencymap._common.errors import InputTextError, TextTooLong

MAX_TEXT_CHARS = 100_000  # one text given to `map` (a long posting is ~10k characters)

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def check_text(text: object, field: str = "text", *, limit: int = MAX_TEXT_CHARS, empty_ok: bool = False) -> str:
    """`text` itself when it is fit to map; otherwise an `InputTextError` naming `field`."""
    if not isinstance(text, str):
        raise InputTextError(f"{field} must be a string, not {type(text).__name__}", field=field)
    if len(text) > limit:
        raise TextTooLong(f"{field} is {len(text):,} characters; the limit is {limit:,}", field=field)
    if not empty_ok and not text.strip():
        raise InputTextError(f"{field} is empty", field=field)
    problem = text_problem(text)
    if problem:
        raise InputTextError(f"{field} {problem}", field=field)
    return text


def text_problem(text: str) -> str | None:
    """What makes a string unfit to store or map (a lone surrogate, a control character), or None."""
    found = _SURROGATE.search(text)
    if found:
        return f"holds a lone UTF-16 surrogate (U+{ord(found.group()):04X}) at character {found.start()}"
    found = _CONTROL.search(text)
    if found:
        return f"holds the control character U+{ord(found.group()):04X} at character {found.start()}"
    return None
