"""What the demand routes and the demand jobs both take from a request: a safe name for an
uploaded postings file, a stored posting as a record, the check that occupations can be
counted, and the check of group-by column names."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from competencymap._common.errors import CompetencyMapError
from competencymap.service.deps import Service
from competencymap.service.errors import ApiError
from competencymap.workflows.demand.options import OCCUPATIONS
from competencymap.workflows.demand.table import DemandTable
from competencymap.workflows.postings_io import postings_format


def upload_name(filename: str | None) -> str:
    """A safe file name keeping the upload's suffixes (they tell the format); 415 for others."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename or "").name)[-100:].lstrip(".") or "postings"
    try:
        postings_format(base)
    except CompetencyMapError as exc:
        raise ApiError(415, "unsupported_media_type", f"{filename or 'upload'}: {exc.message}") from None
    return base


def stored_posting(posting: Any) -> dict[str, Any]:
    """A catalog posting as the record the demand count reads."""
    return {
        "text": posting.text,
        "title": posting.title,
        "employer": posting.employer,
        "posted_on": posting.posted_on.isoformat() if posting.posted_on else None,
        "location": posting.location,
        "id": str(posting.id),
    }


def check_occupations(service: Service) -> None:
    """by_occupation maps titles onto ESCO occupations: served, or ESCO served with the index built."""
    if OCCUPATIONS in service.frameworks:
        return
    base = OCCUPATIONS.split("-", 1)[0]
    ready = base in service.frameworks and (service.engine.index_folder(OCCUPATIONS) / "manifest.json").is_file()
    if not ready:
        raise CompetencyMapError(
            f"by_occupation needs the {OCCUPATIONS!r} index: serve it (--framework esco,sfs,{OCCUPATIONS}) "
            f"or build it (competencymap index build --framework {OCCUPATIONS})"
        )


MAX_GROUP_BY = 5  # group-by columns per job


def check_group_by(names: Sequence[str]) -> list[str]:
    """Group-by column names, each once; 422 naming the problem for too many, a name too long or
    with control characters, or a name that is already a column of the demand table (its
    values would be lost). Whether the postings have the column is checked when they are read."""
    wanted = list(dict.fromkeys(name.strip() for name in names if name.strip()))
    taken = set(DemandTable([], 0, [], by_month=True, by_occupation=True).columns())
    if len(wanted) > MAX_GROUP_BY:
        raise ApiError(422, "validation_error", f"group_by: at most {MAX_GROUP_BY} columns, not {len(wanted)}")
    for name in wanted:
        if len(name) > 100 or any(ord(c) < 32 or ord(c) == 127 for c in name):
            raise ApiError(422, "validation_error", f"group_by: {name[:100]!r} is not a column name")
        if name.lower() in taken:
            raise ApiError(422, "validation_error",
                           f"group_by: {name!r} is a column of the demand table itself; group by another column")
    return wanted
