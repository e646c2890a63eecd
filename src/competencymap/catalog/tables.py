"""SQLAlchemy 2.0 ORM tables of the catalog: credentials, outcomes, tags, postings, meta.

The pydantic models in :mod:`competencymap.catalog.schemas` validate input; these
tables repeat the essential rules as constraints (enumerations, positive hours,
one tag per credential/outcome/competency) so that no other writer can store
rows the library would refuse.

Identifiers are never reused: every table is AUTOINCREMENT on SQLite (PostgreSQL
sequences never go back), and credentials and postings also carry a random public
``uid`` (UUID4) that exports name. ``catalog_meta`` keeps the schema version
(:data:`SCHEMA_VERSION`; see :mod:`competencymap.catalog.migrate`) and the catalog
version, a counter bumped by every write to credentials, outcomes or tags.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

DELIVERY_MODES = ("online", "in_person", "hybrid")
CREDIT_STATUSES = ("credit", "non_credit")
LANGUAGES = ("en", "fr")
TAG_STATES = ("suggested", "accepted", "rejected")
TAG_SOURCES = ("suggested", "manual")
SCHEMA_VERSION = 3  # 1: before versions (no uid, ids could be reused); 2: uids, AUTOINCREMENT, catalog_meta;
# 3: tags.carried_from (a decision kept when its outcome was reworded)
META_SCHEMA = "schema_version"
META_CATALOG = "catalog_version"
_AUTOINCREMENT = {"sqlite_autoincrement": True}


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC without a zone (portable to SQLite); always returns aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; catalog timestamps must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def new_uid() -> str:
    """A new public identifier: a random UUID4 in its canonical text form."""
    return str(uuid.uuid4())


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    pass


class CredentialRow(Base):
    __tablename__ = "credentials"
    __table_args__ = (
        CheckConstraint("duration_hours > 0", name="ck_credentials_duration_positive"),
        CheckConstraint(_one_of("delivery_mode", DELIVERY_MODES), name="ck_credentials_delivery_mode"),
        CheckConstraint(_one_of("credit", CREDIT_STATUSES), name="ck_credentials_credit"),
        CheckConstraint(_one_of("language", LANGUAGES), name="ck_credentials_language"),
        UniqueConstraint("uid", name="uq_credentials_uid"),
        _AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), default=new_uid)
    title: Mapped[str] = mapped_column(String(300))
    issuer: Mapped[str] = mapped_column(String(300), index=True)
    description: Mapped[str] = mapped_column(Text)
    duration_hours: Mapped[float] = mapped_column(Float)
    delivery_mode: Mapped[str] = mapped_column(String(20))
    credit: Mapped[str] = mapped_column(String(20))
    assessment_type: Mapped[str] = mapped_column(String(300))
    stackability: Mapped[str] = mapped_column(Text, default="")
    endorsing_partners: Mapped[list[str]] = mapped_column(JSON, default=list)
    url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    language: Mapped[str] = mapped_column(String(2), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    learning_outcomes: Mapped[list[OutcomeRow]] = relationship(
        back_populates="credential",
        order_by="OutcomeRow.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class OutcomeRow(Base):
    __tablename__ = "outcomes"
    __table_args__ = (CheckConstraint("position >= 1", name="ck_outcomes_position"), _AUTOINCREMENT)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credential_id: Mapped[int] = mapped_column(
        ForeignKey("credentials.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)

    credential: Mapped[CredentialRow] = relationship(back_populates="learning_outcomes")


class TagRow(Base):
    __tablename__ = "tags"
    __table_args__ = (
        UniqueConstraint("credential_id", "outcome_id", "competency_iri", name="uq_tags_outcome_competency"),
        # NULL outcome_id (a credential-level tag) is never equal to NULL in a
        # unique constraint, so credential-level tags get their own partial index.
        Index(
            "uq_tags_credential_level_competency",
            "credential_id",
            "competency_iri",
            unique=True,
            sqlite_where=sql_text("outcome_id IS NULL"),
            postgresql_where=sql_text("outcome_id IS NULL"),
        ),
        Index("ix_tags_credential_state", "credential_id", "state"),
        CheckConstraint(_one_of("state", TAG_STATES), name="ck_tags_state"),
        CheckConstraint(_one_of("source", TAG_SOURCES), name="ck_tags_source"),
        _AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("credentials.id", ondelete="CASCADE"))
    outcome_id: Mapped[int | None] = mapped_column(
        ForeignKey("outcomes.id", ondelete="CASCADE"), nullable=True, index=True
    )
    competency_iri: Mapped[str] = mapped_column(String(1000))
    framework: Mapped[str] = mapped_column(String(50))
    label: Mapped[str] = mapped_column(String(500))
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default="suggested")
    source: Mapped[str] = mapped_column(String(20), default="suggested")
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The outcome's wording the decision was made under, when the outcome was reworded afterwards
    # and the decision kept (see Catalog.revise_credential); NULL once someone decides again.
    carried_from: Mapped[str | None] = mapped_column(Text, nullable=True)


class PostingRow(Base):
    __tablename__ = "postings"
    __table_args__ = (UniqueConstraint("uid", name="uq_postings_uid"), _AUTOINCREMENT)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), default=new_uid)
    title: Mapped[str] = mapped_column(String(300))
    employer: Mapped[str] = mapped_column(String(300), index=True)
    text: Mapped[str] = mapped_column(Text)
    posted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    location: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MetaRow(Base):
    """Named integers about the database itself: the schema version, the catalog version."""

    __tablename__ = "catalog_meta"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
