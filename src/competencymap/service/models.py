"""Request and response bodies. Every field carries a description (it shows in the OpenAPI
document). The catalog's own pydantic models are reused with descriptions added, so the API
validates exactly what the library validates."""

from __future__ import annotations

import re
import types
from copy import copy
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from fastapi import Form
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, create_model

from competencymap._common.text import MAX_TEXT_CHARS
from competencymap.catalog.schemas import (
    DATE_PATTERN,
    Clean,
    Credential,
    CredentialIn,
    CredentialUpdate,
    Iri,
    Outcome,
    OutcomeChanges,
    Person,
    Posting,
    PostingIn,
    PostingText,
    Tag,
    text_rules,
)

MAX_TOP_K = 50
MAX_ID = 2**63 - 1  # ids are 64-bit database integers
_REQUIRED = text_rules(required=True)
_OPTIONAL = text_rules(required=False)


def _whole_number(value: Any) -> Any:
    """33.0 as 33: JSON Schema counts a number with no fraction as an integer, so the API does too
    (still strict otherwise: no strings, no booleans, no fractions)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


WholeNumber = BeforeValidator(_whole_number)


def _form_whole_number(value: Any) -> Any:
    """A form field's "33.0" or "3.3e1" as 33 and "null" as None, as JSON has them (a form sends every value as
    text; the OpenAPI document states the field as an integer or null)."""
    if isinstance(value, str) and value.strip() == "null":  # the document's null, as a form can only write it
        return None
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*", value):
        number = float(value)
        if number.is_integer() and abs(number) < 2**63:
            return int(number)
    return value


FormWholeNumber = BeforeValidator(_form_whole_number)
# A form's comma-separated framework names: no control characters and at least one name (an empty
# list is refused, as `frameworks: []` is in JSON; leaving the field out means every served one).
FRAMEWORK_LIST_PATTERN = r"^[^\x00-\x1f\x7f]*[^\x00-\x1f\x7f\s,][^\x00-\x1f\x7f]*$"

# The demand options of the two upload forms (`POST /analytics/demand/upload`, `POST /jobs/demand/upload`).
FormFrameworks = Annotated[str | None, Form(max_length=500, pattern=FRAMEWORK_LIST_PATTERN,
                                            description="Comma-separated served frameworks; default: all served.")]
FormByMonth = Annotated[bool, Form(description="One block of rows per month posted.")]
FormByOccupation = Annotated[bool, Form(description="One block of rows per posting's best ESCO occupation.")]
FormRollup = Annotated[bool, Form(description="Also count skill groups and Skills for Success skills.")]
FormFast = Annotated[bool, Form(description="Cheaper mapping for large files.")]
FormTopN = Annotated[int | None, Form(ge=1, le=10_000, description="Keep the n most demanded rows of each block."),
                     FormWholeNumber]
FormGroupBy = Annotated[str | None, Form(max_length=500, description="Comma-separated columns of the postings file "
                                                                     "(e.g. region, source): one block of rows per "
                                                                     "value, as `competencymap demand --group-by`.")]
IdValue = Annotated[int, Field(ge=1, le=MAX_ID, strict=True), WholeNumber]  # the validator runs first
ID_DIGITS = len(str(MAX_ID))


def parse_id(text: str) -> int | None:
    """The id `text` names (ASCII digits, 1 to MAX_ID: the API's rule), or None: what the web
    page uses for ids in its addresses and forms, so a bad id is a readable page, never a 500."""
    if not text or len(text) > ID_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


FrameworkName = Annotated[str, Field(min_length=1, max_length=100, json_schema_extra=_REQUIRED), Clean]
MapText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS, json_schema_extra=_REQUIRED), Clean]
OptionalText = Annotated[str, Field(max_length=300, json_schema_extra=_OPTIONAL), Clean]
FrameworkNames = Annotated[
    list[FrameworkName] | None,
    Field(
        default=None,
        min_length=1,
        max_length=10,
        description="Served framework names (see GET /frameworks); absent or null: every served framework; "
        "an empty list is refused (422).",
    ),
]
TopK = Annotated[int, Field(ge=1, le=MAX_TOP_K, strict=True), WholeNumber]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- errors ---------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    field: str = Field(description="Dotted path of the offending field, e.g. `learning_outcomes.2`.")
    in_: str | None = Field(None, alias="in", description="Where the field is: body, query or path.")
    message: str = Field(description="What is wrong with it.")
    type: str = Field(description="Machine-readable error code from the validator.")


class ErrorBody(BaseModel):
    type: str = Field(description="Error class: validation_error, not_found, payload_too_large, unauthorized, ...")
    message: str = Field(description="One readable line saying what went wrong.")
    field: str | None = Field(None, description="For 413 and 422: the first field that is wrong (dotted path).")
    details: list[ErrorDetail] | None = Field(None, description="For 413 and 422 of a body: every field that is wrong.")


class ErrorResponse(BaseModel):
    error: ErrorBody = Field(description="The error.")


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entries documenting error statuses of a route."""
    text = {
        400: "Input the library refuses (e.g. an empty text).",
        401: "Missing or wrong X-API-Key (only when the service has an API key).",
        403: "A browser request from another site without the form token (CSRF check).",
        404: "Unknown id, framework or IRI.",
        409: "The write conflicts with stored data.",
        413: "More input than the documented limit: a text over its maxLength (`error.field` names it), "
             "too many postings, or too large a body.",
        415: "Unsupported content type.",
        422: "Malformed body or parameter, or a text with control characters or lone surrogates; `error.field` names it.",
        503: "The service itself is missing something (an index, its database).",
    }
    return {status: {"model": ErrorResponse, "description": text[status]} for status in statuses}


# -- frameworks and competencies ----------------------------------------------------------------


class FrameworkInfo(BaseModel):
    name: str = Field(description="Name used in requests, e.g. `esco`, `sfs`.")
    title: str | None = Field(description="Title of the framework (None until it has been loaded once).")
    version: str | None = Field(description="Version of the release, e.g. `v1.1.1`.")
    language: str = Field(description="Label language.")
    bundled: bool = Field(description="True for frameworks shipped with competencymap.")
    source: str | None = Field(description="Where the framework comes from.")
    licence: str | None = Field(description="Licence of the framework data.")
    served: bool = Field(description="True when this service loaded it: requests may name only served frameworks.")
    index: str = Field(description="`ready` for served frameworks; `not served` otherwise.")
    counts: dict[str, Any] | None = Field(description="Counts per kind and relation type (as `frameworks stats`).")


class FrameworkList(BaseModel):
    served: list[str] = Field(description="Names of the served frameworks, the default for requests.")
    frameworks: list[FrameworkInfo] = Field(description="Every framework known to this installation.")


class ConceptRef(BaseModel):
    iri: str = Field(description="IRI of the concept.")
    label: str | None = Field(description="Preferred label (None when the concept is in no served framework).")
    kind: str | None = Field(description="Kind: skill/competence, knowledge, skill group, occupation, ...")
    framework: str | None = Field(description="Served framework holding the concept, if any.")


class ConceptList(BaseModel):
    count: int = Field(description="How many there are in all.")
    items: list[ConceptRef] = Field(description="The first of them, in framework order.")


class OccupationLinks(BaseModel):
    count: int = Field(description="How many occupations have this relation to the competency.")
    items: list[ConceptRef] = Field(description="The first `occupations_limit` of them, by label.")


class RelatedOccupations(BaseModel):
    essential: OccupationLinks = Field(description="Occupations for which the competency is essential.")
    optional: OccupationLinks = Field(description="Occupations for which the competency is optional.")


class CrossMapping(BaseModel):
    type: str = Field(description="SKOS mapping relation: exactMatch, closeMatch, broadMatch, narrowMatch, relatedMatch.")
    direction: Literal["outgoing", "incoming"] = Field(
        description="`outgoing`: this competency is the source of the relation; `incoming`: the target."
    )
    origin: Literal["framework", "crosswalk"] = Field(
        description="`framework`: stated in the framework's data; `crosswalk`: computed by competencymap."
    )
    score: float | None = Field(description="Similarity behind a computed mapping; None for stated ones.")
    concept: ConceptRef = Field(description="The concept at the other end.")


class LevelInfo(BaseModel):
    iri: str = Field(description="IRI of the level.")
    rank: int = Field(description="1 is the entry level.")
    label: str = Field(description="Label of the level.")
    description: str = Field(description="What the level means.")


class CompetencyDetail(BaseModel):
    iri: str = Field(description="The competency IRI, the identifier everywhere.")
    framework: str = Field(description="Served framework holding it.")
    kind: str = Field(description="skill/competence, knowledge, skill, skill group or component.")
    pref_label: str = Field(description="Preferred label.")
    alt_labels: list[str] = Field(description="Alternative labels.")
    hidden_labels: list[str] = Field(description="Hidden labels (misspellings, old names).")
    description: str = Field(description="Definition of the competency.")
    scope_note: str = Field(description="Scope note, if any.")
    status: str = Field(description="Publication status, e.g. released.")
    reuse_level: str = Field(description="ESCO reuse level: transversal, cross-sector, sector-specific, occupation-specific.")
    code: str = Field(description="Notation, where the framework has one.")
    broader: list[ConceptRef] = Field(description="Broader chain, nearest first.")
    narrower: ConceptList = Field(description="Concepts directly under it (capped by occupations_limit), with the full count.")
    skill_groups: list[ConceptRef] = Field(description="Every skill group above it, nearest first (ESCO).")
    levels: list[LevelInfo] = Field(description="Proficiency levels (Skills for Success).")
    occupations: RelatedOccupations = Field(description="Occupations related to it, capped, with full counts.")
    mappings: list[CrossMapping] = Field(description="Cross-framework mappings, stated and computed.")


class Evidence(BaseModel):
    method: str = Field(
        description="One of: exact (a label found verbatim in the text), label (a label or alternative label is close "
                    "in meaning), description (the description is close), verb (the statement's verbs ask for "
                    "this kind of competency) or crosswalk (a confident match in a linked framework supports it).")
    field: str = Field(description="What matched: the framework field (pref_label, alt_label, description, ...); "
                                   "`kind` for verb, the link type (exactMatch, ...) "
                                   "for crosswalk.")
    text: str = Field(description="The framework text that matched (verb: the verbs and the kind they ask for; "
                                  "crosswalk: the supporting concept's label).")
    score: float = Field(description="Strength of this piece of evidence.")
    span: list[int] | None = Field(description="[start, end) character offsets of the input text that matched "
                                               "(null for verb and crosswalk).")
    query: str = Field(description="The input text (statement or phrase) that matched (verb: the verbs; "
                                   "crosswalk: the supporting concept's IRI).")


class RankedMatch(BaseModel):
    iri: str = Field(description="Competency IRI.")
    label: str = Field(description="Preferred label.")
    score: float = Field(description="Fused score; higher is better.")
    framework: str = Field(description="Framework of the competency.")


class Match(RankedMatch):
    kind: str = Field(description="Kind of the competency.")
    confident: bool = Field(description="True when the score reaches the calibrated confidence threshold.")
    evidence: list[Evidence] = Field(description="Why it matched.")


class ProfileMatch(Match):
    grouped_under: str | None = Field(description="For a near duplicate of a better entry of the same statement (a "
                                                   "preferred label close to it): that entry's IRI; it keeps its own "
                                                   "rank and is grouped under that entry for display, never hidden. "
                                                   "Null for an entry standing on its own.")


class SearchResponse(BaseModel):
    query: str = Field(description="The query as given.")
    framework: str = Field(description="The framework searched.")
    matches: list[Match] = Field(description="Best first.")


# -- mapping ------------------------------------------------------------------------------------


class MapRequest(_Body):
    text: MapText = Field(
        description=f"Learning outcomes or a job posting, at most {MAX_TEXT_CHARS:,} characters (413 beyond); "
        "not blank, no control characters but tab, line feed, carriage return and form feed.",
        examples=["Write SQL queries against a PostgreSQL database and explain the results to managers."],
    )
    frameworks: FrameworkNames
    top_k: TopK = Field(10, description=f"Matches per statement and per framework profile (1 to {MAX_TOP_K}).")
    kind: Literal["auto", "outcomes", "posting"] = Field(
        "auto", description="How to split the text: outcomes (one per line), posting (drops boilerplate), auto."
    )


class StatementMatches(BaseModel):
    text: str = Field(description="The statement.")
    start: int = Field(description="Start offset in the input text.")
    end: int = Field(description="End offset in the input text.")
    framework: str = Field(description="Framework these matches come from.")
    matches: list[Match] = Field(description="Best first.")


class Dropped(BaseModel):
    text: str = Field(description="Text left out of the mapping.")
    start: int = Field(description="Start offset in the input text.")
    end: int = Field(description="End offset in the input text.")
    reason: str = Field(description="Rule that dropped it (salary, benefits, how to apply, ...), or its language: "
                                    "\"French text: not mapped with the bundled English model\".")
    language: str | None = Field(default=None, description="Its detected language (ISO 639-1) when it was judged; "
                                                           "null when too short to judge or not detected.")


class LineStatement(BaseModel):
    text: str = Field(description="A statement of the line that was mapped.")
    start: int = Field(description="Start offset in the input text.")
    end: int = Field(description="End offset in the input text.")
    role: str = Field(description="Its role: duty, requirement, asset or outcome.")


class LineReport(BaseModel):
    text: str = Field(description="The line, as written (bullet included).")
    start: int = Field(description="Start offset in the input text.")
    end: int = Field(description="End offset in the input text.")
    role: Literal["title", "heading", "company", "benefits", "boilerplate", "context", "duty", "requirement",
                  "asset", "outcome"] = Field(
        description="What the line is: title, heading, company (about us), benefits, boilerplate (equal "
                    "opportunity, how to apply), context (reporting to, location, salary, schedule), duty, "
                    "requirement, asset (welcome, not required) or outcome (a learning outcome).")
    under: str | None = Field(description="The heading it sits under (the title before the first heading); null "
                                          "when neither.")
    outcome: Literal["mapped", "asset", "dropped", "no_match"] = Field(
        description="What became of it: `mapped` (a confident match), `asset` (mapped as optional), `dropped` "
                    "(never mapped; `reason` says why) or `no_match` (mapped, nothing confident: see "
                    "`candidates`).")
    reason: str | None = Field(description="For a dropped line: the rule or role that dropped it (title, heading, "
                                           "company, salary, benefits, equal_opportunity, context, ...); else null.")
    language: str | None = Field(default=None, description="The line's detected language (ISO 639-1); null when "
                                                           "too short to judge (\"SQL\") or not detected.")
    statements: list[LineStatement] = Field(description="Its statements that were mapped.")
    matches: list[RankedMatch] = Field(description="Its confident matches, best first (at most top_k).")
    candidates: list[RankedMatch] = Field(description="With no confident match: its best three matches per "
                                                      "framework; else empty.")


class MapResponse(BaseModel):
    frameworks: list[str] = Field(description="Frameworks mapped onto.")
    matches: list[RankedMatch] = Field(description="The whole text ranked, best first: each framework's best "
                                                   "top_k, frameworks in the order asked (the profile without evidence): "
                                                   "every competency ranked, near duplicates included; for a "
                                                   "one-statement text, its statement's ranking.")
    statements: list[StatementMatches] = Field(description="One entry per statement and framework.")
    profile: dict[str, list[ProfileMatch]] = Field(description="Per framework: the whole text's competencies, best "
                                                              "first, near duplicates grouped, none removed.")
    dropped: list[Dropped] = Field(description="Text left out: title, headings, company, benefits, boilerplate "
                                               "and context lines (postings).")
    lines: list[LineReport] = Field(description="Every non-blank line of the text, in order, with its role and "
                                                "what became of it: every line is accounted for.")
    language: str | None = Field(default=None, description="The language most of the text is in (ISO 639-1); null "
                                                           "when nothing was long enough to judge.")
    not_read: int = Field(default=0, description="Statements left out because the model does not read their "
                                                 "language (each is in `dropped` with its reason).")


# -- catalog (the library's models with descriptions) -------------------------------------------


def _strip_none(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _schema_extras(annotation: Any) -> dict[str, Any]:
    """The JSON Schema extras an `Annotated` type's Field metadata states."""
    out: dict[str, Any] = {}
    if get_origin(annotation) is Annotated:
        for meta in get_args(annotation)[1:]:
            extra = getattr(meta, "json_schema_extra", None)
            if isinstance(extra, dict):
                out.update(extra)
    return out


def described(
    base: type[BaseModel],
    name: str,
    descriptions: dict[str, str],
    *,
    types_: dict[str, Any] | None = None,
    not_null: tuple[str, ...] = (),
) -> Any:
    """A subclass of `base` whose fields carry `descriptions` (validation unchanged).

    `types_` replaces field types (nested models with descriptions); `not_null` removes None
    from the schema of optional fields that refuse null anyway.
    """
    missing = set(base.model_fields) - set(descriptions)
    if missing:
        raise TypeError(f"{name}: no description for {', '.join(sorted(missing))}")
    fields: dict[str, Any] = {}
    for field_name, info in base.model_fields.items():
        new = copy(info)
        new.description = descriptions[field_name]
        annotation = (types_ or {}).get(field_name, info.annotation)
        if field_name in not_null:
            annotation = _strip_none(annotation)
            extras = _schema_extras(annotation)
            if extras and not new.json_schema_extra:  # the rules the stripped type states (pattern, uniqueItems)
                new.json_schema_extra = extras
        fields[field_name] = (annotation, new)
    return create_model(name, __base__=base, __module__=__name__, __doc__=base.__doc__, **fields)


_CREDENTIAL_FIELDS = {
    "title": "Title of the micro-credential (1 to 300 characters).",
    "issuer": "Issuing institution.",
    "description": "What the micro-credential is about (up to 20,000 characters).",
    "learning_outcomes": "Ordered learning outcomes, one statement each, no duplicates (up to 100).",
    "duration_hours": "Learning time in hours (more than 0).",
    "delivery_mode": "online, in_person or hybrid.",
    "credit": "credit or non_credit.",
    "assessment_type": "How learners are assessed.",
    "stackability": "How it stacks with other credentials (pathways).",
    "endorsing_partners": "Employers or bodies endorsing it.",
    "url": "Public http(s) page of the micro-credential.",
    "language": "Language of the credential: en or fr.",
}
CredentialCreate = described(CredentialIn, "CredentialCreate", _CREDENTIAL_FIELDS)
CredentialPatch = described(
    CredentialUpdate,
    "CredentialPatch",
    {k: f"{v} Omit to keep." for k, v in _CREDENTIAL_FIELDS.items()}
    | {"learning_outcomes": "Replaces the ordered list; unchanged texts keep their id and tags. Omit to keep.",
       "url": "Public http(s) page; null clears it. Omit to keep."},
    not_null=tuple(k for k in _CREDENTIAL_FIELDS if k != "url"),
)
OutcomeOut = described(
    Outcome,
    "OutcomeOut",
    {"id": "Outcome id (tags refer to it).", "position": "1-based order within the credential.", "text": "The outcome."},
)
CredentialOut = described(
    Credential,
    "CredentialOut",
    _CREDENTIAL_FIELDS
    | {
        "id": "Credential id (never given again after a delete).",
        "uid": "Public identifier (UUID4): never reused, named by exports; prefer it in links.",
        "learning_outcomes": "Ordered learning outcomes with their ids.",
        "created_at": "When it was stored (UTC).",
        "updated_at": "When it last changed (UTC).",
    },
    types_={"learning_outcomes": list[OutcomeOut]},  # type: ignore[valid-type]
)
TagOut = described(
    Tag,
    "TagOut",
    {
        "id": "Tag id.",
        "credential_id": "Credential the tag belongs to.",
        "outcome_id": "Outcome it tags; null for a tag on the whole credential.",
        "competency_iri": "The competency IRI (the alignment target in exports).",
        "framework": "Framework of the competency.",
        "label": "Preferred label of the competency.",
        "score": "Mapping score of a suggestion; null for manual tags.",
        "evidence": "Why it was suggested (outcome text, evidence from the mapper) or a manual note.",
        "state": "suggested, accepted or rejected.",
        "source": "suggested (by the mapper) or manual.",
        "decided_by": "Who accepted or rejected it.",
        "decided_at": "When it was accepted or rejected (UTC).",
        "created_at": "When it was stored (UTC).",
        "carried_from": "The outcome's earlier wording this decision was made under, when the outcome was "
                        "reworded since (the decision was kept); null otherwise, and again once someone decides.",
    },
)
OutcomeChangesOut = described(
    OutcomeChanges,
    "OutcomeChangesOut",
    {
        "reworded": "Outcomes paired with their new wording (same position, old text listed nowhere).",
        "removed": "Outcomes deleted with their tags.",
        "kept_decisions": "Accepted or rejected tags kept on reworded outcomes (marked carried_from).",
        "dropped_suggestions": "Undecided suggestions of reworded or removed outcomes (suggest again).",
        "deleted_accepted": "Accepted tags deleted with the removed outcomes.",
        "deleted_rejected": "Rejected tags deleted with the removed outcomes.",
    },
)
CredentialUpdated = create_model(
    "CredentialUpdated",
    __base__=CredentialOut,
    __module__=__name__,
    outcome_changes=(OutcomeChangesOut, Field(description="What the new learning_outcomes did to the tags "
                                                          "(all zero when the list was not given).")),
)
_POSTING_FIELDS = {
    "title": "Job title.",
    "employer": "Employer name.",
    "text": "Full posting text (up to 100,000 characters).",
    "posted_on": "Date posted (YYYY-MM-DD).",
    "location": "Where the job is.",
}
PostingCreate = described(PostingIn, "PostingCreate", _POSTING_FIELDS)
PostingOut = described(
    Posting, "PostingOut", _POSTING_FIELDS | {"id": "Posting id (never given again after a delete).",
                                              "uid": "Public identifier (UUID4), never reused.",
                                              "created_at": "When it was stored (UTC)."}
)


class CredentialPage(BaseModel):
    items: list[CredentialOut] = Field(description="Credentials in id order.")  # type: ignore[valid-type]
    total: int = Field(description="How many credentials match in all.")
    limit: int = Field(description="Page size used.")
    offset: int = Field(description="Offset used.")


class PostingPage(BaseModel):
    items: list[PostingOut] = Field(description="Postings in id order.")  # type: ignore[valid-type]
    total: int = Field(description="How many postings are stored.")
    limit: int = Field(description="Page size used.")
    offset: int = Field(description="Offset used.")


class SuggestTagsRequest(_Body):
    frameworks: FrameworkNames
    top_k: Annotated[int, WholeNumber] = Field(5, ge=1, le=20, strict=True, description="Suggestions per outcome and framework (1 to 20).")
    min_score: float = Field(  # type: ignore[assignment]
        None, ge=0, le=10, strict=True, allow_inf_nan=False,
        description="Keep only suggestions scoring at least this much; omit to keep the top_k.",
    )
    confident_only: bool = Field(False, strict=True, description="Keep only suggestions above the calibrated confidence threshold.")


class SuggestTagsResponse(BaseModel):
    credential_id: int = Field(description="The credential tagged.")
    frameworks: list[str] = Field(description="Frameworks the outcomes were mapped onto.")
    outcomes: int = Field(description="How many outcomes were mapped.")
    tags: list[TagOut] = Field(description="The suggestions stored (existing decisions are kept).")  # type: ignore[valid-type]


class TagList(BaseModel):
    credential_id: int = Field(description="The credential.")
    counts: dict[str, int] = Field(description="Tags per state.")
    tags: list[TagOut] = Field(description="Credential-level tags first, then by outcome position, best score first.")  # type: ignore[valid-type]


class TagDecision(_Body):
    state: Literal["accepted", "rejected"] = Field(description="The decision.")
    decided_by: Person = Field(description="Who decides (kept with the time of the decision).")


class ManualTag(_Body):
    competency_iri: Iri = Field(description="IRI of a competency in a served framework.")
    outcome_id: IdValue = Field(None, description="Outcome to tag; omit to tag the whole credential.")  # type: ignore[assignment]
    framework: FrameworkName = Field(None, description="Framework of the competency; omit to find it by IRI.")  # type: ignore[assignment]
    decided_by: Person = Field(description="Who adds the tag (it is stored as accepted by them).")
    note: Annotated[str, Field(max_length=2000, json_schema_extra=_OPTIONAL), Clean] = Field(  # type: ignore[assignment]
        None, description="Why the tag was added (kept as evidence).")


# -- postings, matching and demand ---------------------------------------------------------------


class MatchRequest(_Body):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"oneOf": [{"required": ["text"]}, {"required": ["posting_id"]}]}
    )

    posting_id: IdValue = Field(  # type: ignore[assignment]
        None, description="A stored posting to match; give exactly one of this and `text`."
    )
    text: MapText = Field(  # type: ignore[assignment]
        None, description=f"A posting text to match (at most {MAX_TEXT_CHARS:,} characters, 413 beyond); "
        "give exactly one of this and `posting_id`."
    )
    frameworks: FrameworkNames
    top_k: Annotated[int, WholeNumber] = Field(10, ge=1, le=MAX_TOP_K, strict=True,
                       description="Credentials listed, best first (1 to 50); the stack uses all.")
    title: OptionalText = Field("", description="The posting's title, used as context with `text` (a stored "
                                "posting's own title is used).")


class NeedOut(BaseModel):
    iri: str = Field(description="Competency IRI the posting needs.")
    label: str = Field(description="Preferred label.")
    framework: str = Field(description="Framework of the competency.")
    score: float = Field(description="Mapping score; a need's weight in coverage shares.")
    optional: bool = Field(False, description="Named only by lines that call it an asset; never counted in a share.")
    support: int = Field(1, description="Statements of the posting behind this need.")
    related: list[str] = Field(default_factory=list, description="Near duplicates folded into this need (IRIs).")
    evidence: list[Evidence] = Field(description="Why the posting needs it (the posting text that matched).")


class NeedRef(BaseModel):
    iri: str = Field(description="Competency IRI of the need.")
    label: str = Field(description="Preferred label of the need.")


class CoverageOut(BaseModel):
    need: str = Field(description="IRI of the need met.")
    need_label: str = Field(description="Label of the need met.")
    tag_iri: str = Field(description="IRI of the credential's accepted tag that meets it.")
    tag_label: str = Field(description="Label of that tag.")
    relation: Literal["same", "broader", "narrower", "sibling", "crosswalk"] = Field(
        description="How the tag relates to the need (strongest kept): same competency, the need's broader "
        "concept, a narrower one, a sibling under a skill, or a cross-framework mapping."
    )


class CredentialCoverage(BaseModel):
    credential_id: int = Field(description="Credential id.")
    title: str = Field(description="Credential title.")
    coverage: float = Field(description="Share of the required need weight (sum of need scores) the credential meets "
                            "(same, broader or narrower), 0 to 1.")
    covered: list[CoverageOut] = Field(description="Required needs met, each with the tag that meets it.")
    uncovered: list[NeedRef] = Field(description="Required needs the credential does not meet.")
    related: list[CoverageOut] = Field(default_factory=list, description="Links shown but not counted: a sibling or "
                                       "crosswalk tag, or an optional need met.")


class PostingRef(BaseModel):
    id: int | None = Field(description="Stored posting id; null when the text was given.")
    title: str | None = Field(description="Title of the stored posting; null when the text was given.")
    characters: int = Field(description="Length of the posting text.")


class MatchResponse(BaseModel):
    posting: PostingRef = Field(description="The posting matched.")
    frameworks: list[str] = Field(description="Frameworks the posting was mapped onto.")
    needs: list[NeedOut] = Field(description="The posting's required needs, best first: confident profile entries "
                                 "per framework (the best 3 of the first framework when none is confident), near "
                                 "duplicates folded, with evidence.")
    optional_needs: list[NeedOut] = Field(default_factory=list, description="Needs named only by asset lines "
                                          "(\"French is an asset\"): shown, never counted.")
    credentials: list[CredentialCoverage] = Field(
        description="Catalog credentials meeting at least one required need, by coverage, at most top_k."
    )
    credentials_matching: int = Field(description="How many credentials meet at least one need (before top_k).")
    related_credentials: list[CredentialCoverage] = Field(
        default_factory=list, description="Credentials whose tags are only related to needs (sibling, crosswalk or an "
        "optional need): coverage 0, never counted as covering; at most top_k."
    )
    stack: list[int] = Field(description="Credential ids, in the order a greedy weighted set cover picks them.")
    stack_method: str = Field(description="How the stack is found (greedy: small, not guaranteed the smallest).")
    stack_covered: list[str] = Field(description="IRIs of the needs the stack meets, in need order.")
    uncovered_by_catalog: list[NeedRef] = Field(description="Needs no credential in the catalog meets.")
    coverage_rule: str = Field(description="When a need counts as met.")
    notes: list[str] = Field(description="Remarks, e.g. a crosswalk that could not be used.")
    language: str | None = Field(default=None, description="The language most of the posting is in (ISO 639-1); "
                                                           "null when nothing was long enough to judge.")
    not_read: list[Dropped] = Field(default_factory=list, description="Statements not mapped because the model does "
                                    "not read their language (French with the bundled English model), with the reason.")


MONTH_PATTERN = r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$"


def _real_date(value: str | None) -> str | None:
    from datetime import date

    if value is not None and len(value) == 10:
        date.fromisoformat(value)  # ValueError (422) for e.g. 2026-02-30
    return value


class DemandPosting(_Body):
    title: OptionalText = Field("", description="Job title.")
    employer: OptionalText = Field("", description="Employer.")
    text: PostingText = Field(description=f"Posting text (at most {MAX_TEXT_CHARS:,} characters; 413 beyond).")
    posted_on: Annotated[str, AfterValidator(_real_date)] = Field(  # type: ignore[assignment]
        None, max_length=10, pattern=f"{MONTH_PATTERN}|{DATE_PATTERN}",
        description="Date posted, YYYY-MM-DD (a real date) or YYYY-MM, years 1900 to 2099 (for by_month).",
    )
    location: OptionalText = Field("", description="Where the job is.")
    id: Annotated[str, Field(max_length=200, json_schema_extra=_OPTIONAL), Clean] = Field(  # type: ignore[assignment]
        None, description="Your identifier of the posting.")


class DemandRequest(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [
            {"required": ["postings"]},
            {"required": ["posting_ids"]},
            {"required": ["all_stored"], "properties": {"all_stored": {"const": True}}},
        ]},
    )

    postings: list[DemandPosting] = Field(None, min_length=1,  # type: ignore[arg-type]
                                          description="Postings to analyse (give exactly one source).")
    posting_ids: list[IdValue] = Field(None, min_length=1,  # type: ignore[arg-type]
                                       description="Stored postings to analyse (give exactly one source).")
    all_stored: bool = Field(False, strict=True, description="Analyse every stored posting (give exactly one source).")
    frameworks: FrameworkNames
    by_month: bool = Field(False, strict=True, description="One block of rows per month posted (posted_on, YYYY-MM-DD).")
    by_occupation: bool = Field(
        False, strict=True, description="One block of rows per posting's best ESCO occupation (needs the esco-occupations index)."
    )
    rollup: bool = Field(True, strict=True, description="Also count ESCO skill groups (by level) and Skills for Success skills.")
    fast: bool = Field(False, strict=True, description="Cheaper mapping (statements only, no phrase queries) for large batches.")
    top_n: Annotated[int, WholeNumber] = Field(  # type: ignore[assignment]
        None, ge=1, le=10_000, strict=True,
        description="Keep the n most demanded rows of each month/occupation/framework/level block.",
    )


class DemandRowOut(BaseModel):
    month: str | None = Field(None, description="YYYY-MM or `unknown` (only with by_month).")
    occupation: str | None = Field(None, description="ESCO occupation IRI (only with by_occupation).")
    occupation_label: str | None = Field(None, description="Its label; `(none)` when no occupation matched.")
    framework: str = Field(description="Framework of the row's competency.")
    level: str = Field(description="`competency`, `group level N` (ESCO skill groups, 1 = top) or `sfs` (a Skills for Success skill).")
    iri: str = Field(description="IRI of the competency, group or Skills for Success skill.")
    label: str = Field(description="Its preferred label.")
    postings: int = Field(description="Postings that need it (each posting counts once per row).")
    share: float = Field(description="postings / postings in the same month and occupation block.")
    credentials_supply: int | None = Field(
        None, description="Catalog credentials with an accepted tag meeting it (matching rule); null without a catalog."
    )


class DemandCell(BaseModel):
    month: str | None = Field(None, description="Month of the block (by_month).")
    occupation: str | None = Field(None, description="Occupation IRI of the block (by_occupation).")
    postings: int = Field(description="Postings in the block.")


class DemandMeta(BaseModel):
    model_config = ConfigDict(extra="allow")

    postings: int = Field(description="Postings analysed.")
    frameworks: list[str] = Field(description="Frameworks the postings were mapped onto.")
    by_month: bool = Field(description="Rows are split by month.")
    by_occupation: bool = Field(description="Rows are split by occupation.")
    rollup: bool | None = Field(None, description="Skill-group and Skills for Success roll-ups are included.")
    pipeline: str | None = Field(None, description="`full`, or `fast (phrases off)`.")
    needs: str | None = Field(None, description="What counts as a posting's need.")
    share: str | None = Field(None, description="How `share` is computed.")
    supply: str | None = Field(None, description="How `credentials_supply` is computed.")
    catalog_credentials_with_accepted_tags: int | None = Field(
        None, description="Credentials in the catalog that have accepted tags (the supply side: "
                          "`credentials_supply` counts among these)."
    )
    catalog_credentials: int | None = Field(
        None, description="Credentials in the catalog in all, tagged or not (a row's share of the catalog is "
                          "credentials_supply / catalog_credentials)."
    )
    cells: list[DemandCell] | None = Field(None, description="Postings per month/occupation block.")
    notes: list[str] = Field(default_factory=list, description="Remarks, e.g. a roll-up that was not available.")


class DemandResponse(BaseModel):
    meta: DemandMeta = Field(description="What was counted and how.")
    columns: list[str] = Field(description="Columns of the table, in order (also the CSV header).")
    rows: list[DemandRowOut] = Field(description="By block (month, occupation), framework, level, then most needed first.")
