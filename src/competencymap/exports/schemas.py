"""The official JSON schemas the project checks documents against, kept in data/standards/.

* Open Badges 3.0: 1EdTech's ``AchievementCredential`` schema (JSON Schema 2019-09), which also
  defines ``Achievement`` and ``Alignment``.
* CASE 1.1: 1EdTech's ``getCFPackage`` response schema (JSON Schema 2020-12), which defines
  the package forms of ``CFDocument``, ``CFItem`` and ``CFAssociation``.

See data/standards/README.md for provenance and licences.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft201909Validator, Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from competencymap._common.config import PROJECT_ROOT
from competencymap._common.errors import CompetencyMapError

STANDARDS = PROJECT_ROOT / "data" / "standards"
OPENBADGES_SCHEMA = STANDARDS / "openbadges-3.0" / "achievementcredential.schema.json"
CASE_SCHEMA = STANDARDS / "case-1.1" / "cfpackage.schema.json"


class DocumentError(CompetencyMapError):
    """A document that is not the standard it claims to be (or not one the project reads)."""


@cache
def _schema(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CompetencyMapError(f"cannot read the bundled schema: {exc}", path=str(path)) from None


@cache
def _validator(path: Path, definition: str | None) -> Draft201909Validator | Draft202012Validator:
    schema = _schema(path)
    cls = Draft202012Validator if "2020-12" in schema.get("$schema", "") else Draft201909Validator
    if definition is not None:
        schema = {"$schema": schema["$schema"], "$ref": f"#/$defs/{definition}", "$defs": schema["$defs"]}
    return cls(schema, format_checker=FormatChecker())


def schema_errors(document: Any, schema: Path, definition: str | None = None) -> list[str]:
    """Every way `document` fails the schema (or one of its `$defs`), as 'where: message' lines."""
    validator = _validator(schema, definition)
    errors = sorted(validator.iter_errors(document), key=lambda e: (list(e.absolute_path), e.message))
    return [_line(error) for error in errors]


def check(document: Any, schema: Path, what: str, *, definition: str | None = None, path: str | None = None) -> None:
    """Raise DocumentError naming the first problem when `document` fails the schema."""
    errors = schema_errors(document, schema, definition)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise DocumentError(f"not a valid {what}: {errors[0]}{more}", path=path)


def check_openbadge_credential(document: Any, *, path: str | None = None) -> None:
    """The document is an Open Badges 3.0 OpenBadgeCredential (AchievementCredential)."""
    check(document, OPENBADGES_SCHEMA, "Open Badges 3.0 OpenBadgeCredential", path=path)


def check_achievement(document: Any, *, path: str | None = None) -> None:
    """The document is an Open Badges 3.0 Achievement."""
    check(document, OPENBADGES_SCHEMA, "Open Badges 3.0 Achievement", definition="Achievement", path=path)


def check_case_package(document: Any, *, path: str | None = None) -> None:
    """The document is a CASE 1.1 CFPackage."""
    check(document, CASE_SCHEMA, "CASE 1.1 CFPackage", path=path)


def _line(error: ValidationError) -> str:
    where = ".".join(str(part) for part in error.absolute_path) or "(document)"
    message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return f"{where}: {message}"
