"""The one CSV writer of the project: a text cell that a spreadsheet program would run as a
formula is written with a leading apostrophe.

A cell starting with =, +, -, @, a tab or a carriage return is read as a formula by Excel,
LibreOffice and Google Sheets (`=HYPERLINK("http://evil.example","x")` in a posting's region
becomes a live link in `demand.csv`). Only text is escaped: numbers are written as numbers, so
-3 stays -3.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value`, or for text a spreadsheet would run as a formula, the text after an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeWriter:
    """A `csv.writer` whose rows go through :func:`safe_cell`."""

    def __init__(self, stream: IO[str], **options: Any) -> None:
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream: IO[str], *, lineterminator: str = "\n", **options: Any) -> SafeWriter:
    """A CSV writer on `stream` that escapes formula cells (`options` as for `csv.writer`)."""
    return SafeWriter(stream, lineterminator=lineterminator, **options)
