"""Stable identifiers for exported documents: the same input always gets the same UUID."""

from __future__ import annotations

import uuid
from typing import Any

# A fixed namespace so a credential, framework or mapping always gets the same uuid5.
NAMESPACE = uuid.UUID("6f1c2a52-8d0e-5b8e-9a51-3c2f0e4b7d10")


def stable_uuid(*parts: str) -> uuid.UUID:
    """A name-based UUID (version 5) of the parts joined by '|'."""
    return uuid.uuid5(NAMESPACE, "|".join(parts))


def credential_uuid(credential: Any) -> uuid.UUID:
    """The credential's public `uid` when the catalog has one, else a UUID derived from its
    issuer, numeric id and creation time (stable for the life of the stored credential)."""
    uid = getattr(credential, "uid", None)
    if uid:
        return uid if isinstance(uid, uuid.UUID) else uuid.UUID(str(uid))
    return stable_uuid("achievement", credential.issuer, str(credential.id), credential.created_at.isoformat())
