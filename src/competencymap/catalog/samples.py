"""The sample catalog: the bundled credentials with the tags reviewed by hand for them.

``data/catalog/sample_credentials.json`` holds the credentials; ``data/catalog/sample_tags.json``
the competencies a curriculum designer accepted for their learning outcomes, by credential title
and outcome position, with the outcome's text repeated so a file edited on one side only is
caught. :func:`import_sample_catalog` stores both: the credentials, then each reviewed tag as an
accepted tag decided by the file's ``reviewed_by``.

    from competencymap.catalog import Catalog
    from competencymap.catalog.samples import import_sample_catalog
    imported = import_sample_catalog(Catalog("sqlite:///catalog.sqlite"), "data")
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from competencymap._common.errors import CompetencyMapError
from competencymap.catalog.repository import Catalog, read_credentials_file
from competencymap.catalog.schemas import Credential, CredentialIn, Tag, TagIn

SAMPLE_CREDENTIALS = "catalog/sample_credentials.json"  # relative to the data folder
SAMPLE_TAGS = "catalog/sample_tags.json"

Text = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ReviewedTag(_Strict):
    framework: Annotated[str, Field(min_length=1, max_length=50)]
    iri: Text
    label: Text


class ReviewedOutcome(_Strict):
    position: Annotated[int, Field(ge=1)]
    outcome: Text  # the outcome's text as sample_credentials.json words it
    tags: list[ReviewedTag]


class ReviewedCredential(_Strict):
    title: Text
    outcomes: list[ReviewedOutcome]


class ReviewedTags(_Strict):
    """The reviewed tags file: who reviewed, when and how, and the tags per credential outcome."""

    about: str = ""
    reviewed_by: Annotated[str, Field(min_length=1, max_length=200)]
    reviewed_on: date
    provenance: Text
    credentials: list[ReviewedCredential]

    def note(self) -> str:
        """The line stored with each tag (shown beside it on the designer's page)."""
        return f"Reviewed by hand for the sample catalog, {self.reviewed_on.isoformat()} ({self.reviewed_by})."


@dataclass(frozen=True)
class SampleImport:
    credentials: list[Credential]
    tags: list[Tag]


def read_reviewed_tags(path: str | Path) -> ReviewedTags:
    """The reviewed tags file at `path` (CompetencyMapError naming the file and the field)."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CompetencyMapError("file not found", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise CompetencyMapError(f"not valid JSON: {exc.msg}", path=str(path), line=exc.lineno) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CompetencyMapError(f"cannot read file: {exc}", path=str(path)) from None
    try:
        return ReviewedTags.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "value"
        raise CompetencyMapError(f"{where}: {first['msg']}", path=str(path)) from None


Batches = list[tuple[int, list[TagIn]]]  # (outcome position, tags)


def pair_reviewed_tags(credentials: list[CredentialIn], reviewed: ReviewedTags, *, path: str = "") -> list[Batches]:
    """Per credential (in `credentials` order), its reviewed tags by outcome position. Raises
    CompetencyMapError naming the record when a title, a position or an outcome text does not
    match the credentials."""
    by_title = {credential.title: n for n, credential in enumerate(credentials)}
    out: list[Batches] = [[] for _ in credentials]
    note = reviewed.note()
    for entry in reviewed.credentials:
        where = f"credential {entry.title!r}"
        if entry.title not in by_title:
            raise CompetencyMapError(f"{where}: no credential has this title", path=path)
        at = by_title[entry.title]
        outcomes = credentials[at].learning_outcomes
        for item in entry.outcomes:
            if item.position > len(outcomes):
                raise CompetencyMapError(f"{where}: outcome {item.position}: the credential has {len(outcomes)} outcomes",
                                         path=path)
            if outcomes[item.position - 1] != item.outcome:
                raise CompetencyMapError(f"{where}: outcome {item.position}: the text differs from the credential's",
                                         path=path)
            tags = [TagIn(competency_iri=t.iri, framework=t.framework, label=t.label, evidence={"note": note})
                    for t in item.tags]
            out[at].append((item.position, tags))
    return out


def import_sample_catalog(catalog: Catalog, data: str | Path) -> SampleImport:
    """Store the sample credentials of the `data` folder and, when its reviewed tags file is
    there, their reviewed tags as accepted (decided by the file's ``reviewed_by``). Both files
    are read and checked before anything is written."""
    folder = Path(data)
    credentials = read_credentials_file(folder / SAMPLE_CREDENTIALS)
    tags_path = folder / SAMPLE_TAGS
    batches: list[Batches] = [[] for _ in credentials]
    reviewer = ""
    if tags_path.is_file():
        reviewed = read_reviewed_tags(tags_path)
        batches = pair_reviewed_tags(credentials, reviewed, path=str(tags_path))
        reviewer = reviewed.reviewed_by
    stored = catalog.import_credentials(credentials)
    tags: list[Tag] = []
    for credential, batch in zip(stored, batches):
        if batch:
            ids = {o.position: o.id for o in credential.learning_outcomes}
            tags += catalog.add_accepted_tags(credential.id, [(ids[position], items) for position, items in batch],
                                              decided_by=reviewer)
    return SampleImport(stored, tags)
