"""The micro-credential catalog and stored job postings (SQLAlchemy; SQLite or PostgreSQL).

    from competencymap.catalog import Catalog
    catalog = Catalog("sqlite:///catalog.sqlite")        # or Catalog.from_settings(settings)
    credential = catalog.create_credential({...})
    catalog.add_suggested_tags(credential.id, credential.learning_outcomes[0].id, [...])
"""

from competencymap.catalog.db import CatalogError
from competencymap.catalog.repository import (
    Catalog,
    InvalidValue,
    NotFound,
    read_catalog_postings,
    read_credentials_file,
)
from competencymap.catalog.schemas import (
    AcceptedSnapshot,
    AcceptedTags,
    Credential,
    CredentialIn,
    CredentialRevision,
    CredentialUpdate,
    Outcome,
    OutcomeChanges,
    Posting,
    PostingIn,
    Tag,
    TagIn,
)

__all__ = [
    "AcceptedSnapshot",
    "AcceptedTags",
    "Catalog",
    "CatalogError",
    "Credential",
    "CredentialIn",
    "CredentialRevision",
    "CredentialUpdate",
    "InvalidValue",
    "NotFound",
    "Outcome",
    "OutcomeChanges",
    "Posting",
    "PostingIn",
    "Tag",
    "TagIn",
    "read_credentials_file",
    "read_catalog_postings",
]
