"""Errors a user can act on. Each renders as one readable line."""

from __future__ import annotations


class CompetencyMapError(Exception):
    """Base class: an error caused by input or configuration, not a bug."""

    def __init__(
        self, message: str, *, path: str | None = None, line: int | None = None, field: str | None = None
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.field = field  # the input field at fault, when one is (the API names it)
        super().__init__(self.line_text())

    def line_text(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        return f"{where}{self.message}"


class FrameworkError(CompetencyMapError):
    """A framework file is missing, malformed or inconsistent."""


class UnknownFramework(CompetencyMapError):
    """A framework name that is not loaded."""


class ModelError(CompetencyMapError):
    """The embedding model cannot be found or fails verification."""


class IndexNotReady(CompetencyMapError):
    """A vector index is missing or does not fit the framework or model."""


class InputTextError(CompetencyMapError):
    """Text given for mapping is empty, too long or malformed."""


class TextTooLong(InputTextError):
    """A text over the length limit (the API answers 413)."""
