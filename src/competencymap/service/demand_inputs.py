"""What the demand routes and the demand jobs both take from a request: a safe name for an
uploaded postings file, a stored posting as a record, and the check that occupations can be
counted."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from competencymap._common.errors import CompetencyMapError
from competencymap.service.deps import Service
from competencymap.service.errors import ApiError
from competencymap.workflows.demand.options import OCCUPATIONS
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
