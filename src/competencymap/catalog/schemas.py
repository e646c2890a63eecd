"""Pydantic v2 models: what the catalog accepts and what it returns.

Input models (``*In``, ``CredentialUpdate``) validate and normalise user data;
output models (``Credential``, ``Outcome``, ``Tag``, ``Posting``) are plain
snapshots of stored rows, safe to serialise and to share between threads. The
HTTP API reuses these models as request and response bodies.

The credential fields follow what the eCampusOntario micro-credential framework
asks of a micro-credential: title, issuer, description, learning outcomes,
duration, delivery mode, credit status, assessment, stackability (pathways) and
endorsing partners.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, TypeAdapter, field_validator

DeliveryMode = Literal["online", "in_person", "hybrid"]
CreditStatus = Literal["credit", "non_credit"]
Language = Literal["en", "fr"]
TagState = Literal["suggested", "accepted", "rejected"]
TagSource = Literal["suggested", "manual"]

_HTTP_URL = TypeAdapter(HttpUrl)


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _http_url(value: str) -> str:
    """Accept only absolute http(s) URLs; keep the text as given."""
    _HTTP_URL.validate_python(value)
    return value


def _absolute_iri(value: str) -> str:
    scheme, sep, rest = value.partition(":")
    if not sep or not rest or not scheme[:1].isalpha() or any(ch.isspace() for ch in value):
        raise ValueError("must be an absolute IRI such as http://data.europa.eu/esco/skill/...")
    return value


def _json_object(value: dict[str, Any]) -> dict[str, Any]:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"evidence must be JSON-serialisable: {exc}") from None
    return value


Title = Annotated[str, AfterValidator(_one_line), Field(min_length=1, max_length=300)]
ShortText = Annotated[str, AfterValidator(_one_line), Field(min_length=1, max_length=300)]
LongText = Annotated[str, Field(max_length=20_000)]
OutcomeText = Annotated[str, AfterValidator(_one_line), Field(min_length=1, max_length=2_000)]
HttpUrlText = Annotated[str, Field(max_length=2_000), AfterValidator(_http_url)]
Iri = Annotated[str, Field(min_length=3, max_length=1_000), AfterValidator(_absolute_iri)]
Person = Annotated[str, AfterValidator(_one_line), Field(min_length=1, max_length=200)]


def _outcome_list(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for text in values:
        key = text.casefold()
        if key in seen:
            raise ValueError(f"learning outcome listed twice: {text!r}")
        seen.add(key)
    return values


def _partner_list(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


Outcomes = Annotated[list[OutcomeText], Field(max_length=100), AfterValidator(_outcome_list)]
Partners = Annotated[list[ShortText], Field(max_length=100), AfterValidator(_partner_list)]
Hours = Annotated[float, Field(gt=0, le=100_000, allow_inf_nan=False)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CredentialIn(_Input):
    """A new micro-credential. Learning outcomes are given as ordered texts."""

    title: Title
    issuer: ShortText
    description: Annotated[LongText, Field(min_length=1)]
    learning_outcomes: Outcomes = Field(default_factory=list)
    duration_hours: Hours
    delivery_mode: DeliveryMode
    credit: CreditStatus
    assessment_type: ShortText
    stackability: LongText = ""
    endorsing_partners: Partners = Field(default_factory=list)
    url: HttpUrlText | None = None
    language: Language = "en"


class CredentialUpdate(_Input):
    """A partial update: only the fields present are changed.

    ``learning_outcomes``, when present, replaces the whole ordered list. An
    outcome whose text is unchanged keeps its id and its tags (whatever its new
    position); outcomes whose text is no longer listed are deleted with their
    tags; new or edited texts become new outcomes without tags.
    """

    title: Title | None = None
    issuer: ShortText | None = None
    description: Annotated[LongText, Field(min_length=1)] | None = None
    learning_outcomes: Outcomes | None = None
    duration_hours: Hours | None = None
    delivery_mode: DeliveryMode | None = None
    credit: CreditStatus | None = None
    assessment_type: ShortText | None = None
    stackability: LongText | None = None
    endorsing_partners: Partners | None = None
    url: HttpUrlText | None = None
    language: Language | None = None

    @field_validator("*", mode="after")
    @classmethod
    def _no_null_for_required(cls, value: Any, info: Any) -> Any:
        if value is None and info.field_name != "url":
            raise ValueError("may be omitted but not null")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the caller set (``url=None`` clears the URL)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class TagIn(_Input):
    """A competency proposed for an outcome (or for the whole credential)."""

    competency_iri: Iri
    framework: Annotated[str, Field(min_length=1, max_length=50)]
    label: Annotated[str, AfterValidator(_one_line), Field(min_length=1, max_length=500)]
    score: Annotated[float, Field(allow_inf_nan=False)] | None = None
    evidence: Annotated[dict[str, Any], AfterValidator(_json_object)] = Field(default_factory=dict)


class PostingIn(_Input):
    """A job posting as an employer wrote it."""

    title: Title
    employer: ShortText
    text: Annotated[LongText, Field(min_length=1, max_length=100_000)]
    posted_on: date | None = None
    location: Annotated[str, AfterValidator(_one_line), Field(max_length=300)] = ""


class _Output(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class Outcome(_Output):
    id: int
    position: int  # 1-based order within the credential
    text: str


class Credential(_Output):
    id: int
    uid: str  # public identifier (UUID4), never reused; exports name it
    title: str
    issuer: str
    description: str
    learning_outcomes: list[Outcome]
    duration_hours: float
    delivery_mode: DeliveryMode
    credit: CreditStatus
    assessment_type: str
    stackability: str
    endorsing_partners: list[str]
    url: str | None
    language: Language
    created_at: datetime
    updated_at: datetime

    def outcome(self, outcome_id: int) -> Outcome | None:
        return next((o for o in self.learning_outcomes if o.id == outcome_id), None)


class Tag(_Output):
    id: int
    credential_id: int
    outcome_id: int | None  # None: a tag on the credential as a whole
    competency_iri: str
    framework: str
    label: str
    score: float | None
    evidence: dict[str, Any]
    state: TagState
    source: TagSource
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime


class Posting(_Output):
    id: int
    uid: str  # public identifier (UUID4), never reused
    title: str
    employer: str
    text: str
    posted_on: date | None
    location: str
    created_at: datetime



class AcceptedTags(_Output):
    """One credential's accepted tags, one per competency IRI (the first in list_tags order)."""

    credential_id: int
    uid: str
    title: str
    tags: list[Tag]


class AcceptedSnapshot(_Output):
    """Every credential that has accepted tags, in id order, with the catalog version they were
    read at (one transaction: a credential deleted meanwhile is simply absent)."""

    version: int
    credentials: list[AcceptedTags]
