"""A credential's competency tags as CSV, one row per tag, for review in a spreadsheet."""

from __future__ import annotations

import io
from collections.abc import Sequence

from competencymap._common.csv_safe import csv_writer
from competencymap.catalog.schemas import Credential, Tag
from competencymap.exports.openbadges import ExportError

COLUMNS = (
    "credential_id",
    "credential_title",
    "outcome_position",
    "outcome_text",
    "framework",
    "competency_iri",
    "label",
    "score",
    "state",
    "decided_by",
    "decided_at",
)


def tags_to_csv(credential: Credential, tags: Sequence[Tag]) -> str:
    """CSV text (header + one row per tag, in the given order; RFC 4180 quoting, CRLF rows).

    Credential-level tags have empty outcome columns; empty score and decision
    cells mean "none". Text cells that a spreadsheet would run as a formula are
    prefixed with an apostrophe (`competencymap._common.csv_safe`).
    """
    outcomes = {o.id: o for o in credential.learning_outcomes}
    buffer = io.StringIO()
    writer = csv_writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for tag in tags:
        writer.writerow(_row(credential, tag, outcomes))
    return buffer.getvalue()


def _row(credential: Credential, tag: Tag, outcomes: dict) -> list[object]:
    if tag.credential_id != credential.id:
        raise ExportError(f"tag {tag.id} belongs to credential {tag.credential_id}, not {credential.id}")
    outcome = None
    if tag.outcome_id is not None:
        outcome = outcomes.get(tag.outcome_id)
        if outcome is None:
            raise ExportError(
                f"tag {tag.id} refers to outcome {tag.outcome_id}, which credential {credential.id} lacks"
            )
    return [
        credential.id,
        credential.title,
        "" if outcome is None else outcome.position,
        "" if outcome is None else outcome.text,
        tag.framework,
        tag.competency_iri,
        tag.label,
        "" if tag.score is None else tag.score,
        tag.state,
        "" if tag.decided_by is None else tag.decided_by,
        "" if tag.decided_at is None else tag.decided_at.isoformat(),
    ]

