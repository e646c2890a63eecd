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

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    TypeAdapter,
    ValidationInfo,
    computed_field,
    field_validator,
)
from pydantic_core import PydanticCustomError

from competencymap._common.errors import InputTextError
from competencymap._common.text import check_text

DeliveryMode = Literal["online", "in_person", "hybrid"]
CreditStatus = Literal["credit", "non_credit"]
Language = Literal["en", "fr"]
TagState = Literal["suggested", "accepted", "rejected"]
TagSource = Literal["suggested", "manual"]

_HTTP_URL = TypeAdapter(HttpUrl)


# What every stored text may hold, stated as JSON Schema patterns (the API's document shows them):
# no control character but tab, line feed, carriage return and form feed; and, where a text is
# required, at least one character that is not white space.
_ALLOWED = r"[^\x00-\x08\x0b\x0e-\x1f\x7f]"
TEXT_PATTERN = rf"^{_ALLOWED}*$"
NONBLANK_PATTERN = rf"^{_ALLOWED}*[^\s\x00-\x08\x0b\x0e-\x1f\x7f]{_ALLOWED}*$"
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2099, 12, 31)
DATE_PATTERN = r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


def clean_text(value: str, info: ValidationInfo) -> str:
    """The one text check (`competencymap._common.text.check_text`) as a pydantic validator: a lone
    surrogate or a control character is a validation error of type `invalid_text`."""
    field = info.field_name or "text"
    try:
        check_text(value, field, limit=len(value), empty_ok=True)
    except InputTextError as exc:
        reason = exc.message.removeprefix(f"{field} ")
        raise PydanticCustomError("invalid_text", "{reason}", {"reason": reason}) from None
    return value


Clean = AfterValidator(clean_text)


def text_rules(*, required: bool) -> dict[str, Any]:
    """The JSON Schema extras stating the text rule (pattern) of a field."""
    return {"pattern": NONBLANK_PATTERN if required else TEXT_PATTERN}


def _sane_date(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"must be a date from {EARLIEST_DATE} to {LATEST_DATE}")
    return value


PostedOn = Annotated[date, AfterValidator(_sane_date), Field(json_schema_extra={"pattern": DATE_PATTERN})]


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


_REQUIRED = text_rules(required=True)
_OPTIONAL = text_rules(required=False)
Title = Annotated[str, Field(min_length=1, max_length=300, json_schema_extra=_REQUIRED), Clean, AfterValidator(_one_line)]
ShortText = Annotated[str, Field(min_length=1, max_length=300, json_schema_extra=_REQUIRED), Clean, AfterValidator(_one_line)]
LongText = Annotated[str, Field(max_length=20_000, json_schema_extra=_OPTIONAL), Clean]
RequiredLongText = Annotated[str, Field(min_length=1, max_length=20_000, json_schema_extra=_REQUIRED), Clean]
OutcomeText = Annotated[str, Field(min_length=1, max_length=2_000, json_schema_extra=_REQUIRED), Clean, AfterValidator(_one_line)]
HTTP_URL_RULE = {"pattern": r"^https?://[^\s/?#]+([/?#]\S*)?$"}  # stated here; _http_url checks it
HttpUrlText = Annotated[str, Field(min_length=1, max_length=2_000, json_schema_extra=HTTP_URL_RULE), Clean,
                        AfterValidator(_http_url)]
Iri = Annotated[str, Field(min_length=3, max_length=1_000, pattern=r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f]+$"), Clean,
                AfterValidator(_absolute_iri)]
Person = Annotated[str, Field(min_length=1, max_length=200, json_schema_extra=_REQUIRED), Clean, AfterValidator(_one_line)]
OneLine = Annotated[str, Field(max_length=300, json_schema_extra=_OPTIONAL), Clean, AfterValidator(_one_line)]
PostingText = Annotated[str, Field(min_length=1, max_length=100_000, json_schema_extra=_REQUIRED), Clean]


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


Outcomes = Annotated[list[OutcomeText], Field(max_length=100, json_schema_extra={"uniqueItems": True}),
                     AfterValidator(_outcome_list)]  # each once, ignoring case
Partners = Annotated[list[ShortText], Field(max_length=100), AfterValidator(_partner_list)]
Hours = Annotated[float, Field(gt=0, le=100_000, allow_inf_nan=False)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CredentialIn(_Input):
    """A new micro-credential. Learning outcomes are given as ordered texts."""

    title: Title
    issuer: ShortText
    description: RequiredLongText
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

    ``learning_outcomes``, when present, replaces the whole ordered list, paired with the old
    one by these rules, in order:

    1. An outcome whose text is unchanged keeps its id and its tags (whatever its new position).
    2. A reworded outcome: a new text at position *n* where the old outcome *n*'s text is no
       longer listed anywhere. It keeps its id and its decided tags (accepted or rejected), each
       marked ``carried_from`` the wording it was decided under; its undecided suggestions are
       dropped (suggest again to get ones for the new wording).
    3. Any other new text is a new outcome without tags.
    4. An old outcome paired with nothing is deleted with its tags; the update's
       :class:`OutcomeChanges` counts the decisions deleted so none is lost unsaid.
    """

    title: Title | None = None
    issuer: ShortText | None = None
    description: RequiredLongText | None = None
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
    framework: Annotated[str, Field(min_length=1, max_length=50, json_schema_extra=_REQUIRED), Clean]
    label: Annotated[str, Field(min_length=1, max_length=500, json_schema_extra=_REQUIRED), Clean, AfterValidator(_one_line)]
    score: Annotated[float, Field(allow_inf_nan=False)] | None = None
    evidence: Annotated[dict[str, Any], AfterValidator(_json_object)] = Field(default_factory=dict)


class PostingIn(_Input):
    """A job posting as an employer wrote it."""

    title: Title
    employer: ShortText
    text: PostingText
    posted_on: PostedOn | None = None
    location: OneLine = ""


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
    carried_from: str | None = None  # the outcome's earlier wording this decision was made under (kept on rewording)


class OutcomeChanges(_Output):
    """What a new outcome list did to the tags (see :class:`CredentialUpdate` for the rules)."""

    reworded: int = 0  # outcomes paired with their new wording (same position)
    removed: int = 0  # outcomes deleted with their tags
    kept_decisions: int = 0  # accepted or rejected tags kept on a reworded outcome
    dropped_suggestions: int = 0  # undecided suggestions of reworded or removed outcomes (suggest again)
    deleted_accepted: int = 0  # accepted tags deleted with the removed outcomes
    deleted_rejected: int = 0  # rejected tags deleted with the removed outcomes

    @computed_field  # type: ignore[prop-decorator]
    @property
    def deleted_decisions(self) -> int:
        """Accepted and rejected tags deleted with the removed outcomes."""
        return self.deleted_accepted + self.deleted_rejected


class CredentialRevision(_Output):
    """A credential after an update, with what its new outcome list did to the tags."""

    credential: Credential
    changes: OutcomeChanges


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
