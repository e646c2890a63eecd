"""The catalog: micro-credentials with their outcomes and competency tags, and job postings.

One :class:`Catalog` wraps one database. Every public method runs in its own
transaction and returns pydantic snapshots (never live ORM rows), so a method
either writes everything it was asked to or nothing, and its result can be
used after the call from any thread.

Rules worth knowing:

* Outcomes are positioned 1, 2, 3... Replacing the outcome list keeps the id
  and tags of every outcome whose text is unchanged, and the id and decisions of
  an outcome reworded in place; :meth:`Catalog.revise_credential` counts what was
  kept and deleted. See :class:`CredentialUpdate` for the rules.
* :meth:`Catalog.add_suggested_tags` is idempotent. A competency already tagged
  on the same outcome keeps its state and decision; only a suggestion no one
  has decided on yet is refreshed (label, score, evidence).
* A tag's decision records who and when (:meth:`Catalog.set_tag_state`); a
  manual tag is an accepted decision by its author. A new decision clears the
  mark of a decision carried over from an outcome's earlier wording.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from competencymap._common.config import Settings
from competencymap._common.errors import CompetencyMapError
from competencymap.catalog.db import CatalogError, create_schema, make_engine, safe_url, transaction, write_engine
from competencymap.catalog.schemas import (
    AcceptedSnapshot,
    AcceptedTags,
    Credential,
    CredentialIn,
    CredentialRevision,
    CredentialUpdate,
    OutcomeChanges,
    Posting,
    PostingIn,
    Tag,
    TagIn,
    TagState,
)
from competencymap.catalog.tables import (
    META_CATALOG,
    CredentialRow,
    MetaRow,
    OutcomeRow,
    PostingRow,
    TagRow,
    new_uid,
    utcnow,
)

MAX_PAGE = 1000
_STATE = TypeAdapter(TagState)
M = TypeVar("M", bound=BaseModel)


class NotFound(CatalogError):
    """A credential, outcome, tag or posting id that is not in the catalog (HTTP 404)."""


class InvalidValue(CatalogError):
    """An argument the catalog cannot accept (HTTP 422)."""


class Catalog:
    """The catalog stored in one database (any SQLAlchemy URL; SQLite by default)."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._writer = write_engine(self.engine)
        create_schema(self.engine)

    @classmethod
    def from_settings(cls, settings: Settings) -> Catalog:
        """The catalog at ``settings.database_url``."""
        return cls(settings.database_url)

    def __repr__(self) -> str:
        return f"Catalog({safe_url(self.engine.url)!r})"

    def close(self) -> None:
        """Close pooled connections. The catalog can still be used afterwards."""
        self.engine.dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ---- credentials ---------------------------------------------------------

    def create_credential(self, data: CredentialIn | Mapping[str, Any]) -> Credential:
        """Store a new credential with its learning outcomes."""
        return self.import_credentials([data])[0]

    def import_credentials(self, items: Iterable[CredentialIn | Mapping[str, Any]]) -> list[Credential]:
        """Store several credentials in one transaction: all of them or none."""
        valid = [_coerce(CredentialIn, item) for item in _sequence(items, "credentials")]
        now = utcnow()
        with self._write() as session:
            rows = [_new_credential_row(item, now) for item in valid]
            session.add_all(rows)
            session.flush()
            _touch(session)
            return [Credential.model_validate(row) for row in rows]

    def get_credential(self, credential_id: int) -> Credential:
        with self._read() as session:
            return Credential.model_validate(_credential_row(session, credential_id))

    def list_credentials(self, *, limit: int = 100, offset: int = 0, search: str | None = None) -> list[Credential]:
        """Credentials in id order; `search` matches title or issuer, case-insensitively."""
        query = select(CredentialRow).options(selectinload(CredentialRow.learning_outcomes))
        query = _search(query, search).order_by(CredentialRow.id)
        query = query.limit(_limit(limit)).offset(_offset(offset))
        with self._read() as session:
            return [Credential.model_validate(row) for row in session.scalars(query)]

    def count_credentials(self, *, search: str | None = None) -> int:
        query = _search(select(func.count()).select_from(CredentialRow), search)
        with self._read() as session:
            return int(session.scalar(query) or 0)

    def update_credential(self, credential_id: int, changes: CredentialUpdate | Mapping[str, Any]) -> Credential:
        """Change only the given fields; see :class:`CredentialUpdate` for the outcome rule."""
        return self.revise_credential(credential_id, changes).credential

    def revise_credential(
        self, credential_id: int, changes: CredentialUpdate | Mapping[str, Any]
    ) -> CredentialRevision:
        """:meth:`update_credential`, also saying what a new outcome list did to the tags:
        decisions kept on reworded outcomes, and decisions deleted with removed ones."""
        fields = _coerce(CredentialUpdate, changes).changes()
        outcomes = fields.pop("learning_outcomes", None)
        report = OutcomeChanges()
        with self._write() as session:
            row = _credential_row(session, credential_id)
            for name, value in fields.items():
                setattr(row, name, value)
            if outcomes is not None:
                report = _replace_outcomes(session, row, outcomes)
            if fields or outcomes is not None:
                row.updated_at = utcnow()
                _touch(session)
            session.flush()
            return CredentialRevision(credential=Credential.model_validate(row), changes=report)

    def delete_credential(self, credential_id: int) -> None:
        """Delete a credential with its outcomes and tags."""
        with self._write() as session:
            session.delete(_credential_row(session, credential_id))
            _touch(session)

    # ---- tags ------------------------------------------------------------------

    def add_suggested_tags(
        self, credential_id: int, outcome_id: int | None, tags: Sequence[TagIn | Mapping[str, Any]]
    ) -> list[Tag]:
        """Record suggested competencies for an outcome (or, with ``outcome_id=None``, the credential).

        Idempotent: returns one tag per input item, in input order. A competency
        already tagged there keeps its state, source and decision; only a
        suggestion nobody has decided on is refreshed with the new label, score
        and evidence. Everything is validated before anything is written, and a
        failure part-way leaves the catalog unchanged.
        """
        items = [_coerce(TagIn, tag) for tag in _sequence(tags, "tags")]
        now = utcnow()
        with self._write() as session:
            _require_target(session, credential_id, outcome_id)
            done: dict[str, TagRow] = {}
            for item in items:
                if item.competency_iri not in done:
                    done[item.competency_iri] = _upsert_suggestion(session, credential_id, outcome_id, item, now)
            _touch(session)
            return [Tag.model_validate(done[item.competency_iri]) for item in items]

    def add_manual_tag(
        self,
        credential_id: int,
        outcome_id: int | None,
        tag: TagIn | Mapping[str, Any],
        *,
        decided_by: str,
    ) -> Tag:
        """A competency a person chose: stored as accepted, with who and when.

        If the competency is already tagged there (for example as a suggestion
        or after a rejection), that tag becomes accepted by `decided_by`.
        """
        item = _coerce(TagIn, tag)
        who = _person(decided_by)
        now = utcnow()
        with self._write() as session:
            _require_target(session, credential_id, outcome_id)
            row = _find_tag(session, credential_id, outcome_id, item.competency_iri)
            if row is None:
                row = _insert_tag(session, _new_tag_row(credential_id, outcome_id, item, now, source="manual"))
            _decide(row, "accepted", who, now)
            session.flush()
            _touch(session)
            return Tag.model_validate(row)

    def add_accepted_tags(
        self,
        credential_id: int,
        by_outcome: Sequence[tuple[int | None, Sequence[TagIn | Mapping[str, Any]]]],
        *,
        decided_by: str,
    ) -> list[Tag]:
        """:meth:`add_manual_tag` for several outcomes in ONE transaction: each competency stored
        as accepted by `decided_by` (an existing tag there becomes accepted); one tag per
        (outcome, IRI), in input order."""
        batches = [(outcome_id, [_coerce(TagIn, t) for t in _sequence(items, "tags")]) for outcome_id, items in by_outcome]
        who = _person(decided_by)
        now = utcnow()
        out: list[Tag] = []
        with self._write() as session:
            for outcome_id, items in batches:
                _require_target(session, credential_id, outcome_id)
                done: dict[str, TagRow] = {}
                for item in items:
                    if item.competency_iri in done:
                        continue
                    row = _find_tag(session, credential_id, outcome_id, item.competency_iri)
                    if row is None:
                        row = _insert_tag(session, _new_tag_row(credential_id, outcome_id, item, now, source="manual"))
                    _decide(row, "accepted", who, now)
                    done[item.competency_iri] = row
                session.flush()
                out += [Tag.model_validate(row) for row in done.values()]
            _touch(session)
        return out

    def set_tag_state(self, tag_id: int, state: str, decided_by: str) -> Tag:
        """Accept or reject a tag (or put it back to 'suggested'), recording who and when."""
        new_state = _tag_state(state)
        who = _person(decided_by)
        with self._write() as session:
            row = session.get(TagRow, tag_id)
            if row is None:
                raise NotFound(f"tag {tag_id} not found")
            _decide(row, new_state, who, utcnow())
            session.flush()
            _touch(session)
            return Tag.model_validate(row)

    def accept_confident(self, credential_id: int, decided_by: str) -> list[Tag]:
        """Accept every suggestion of the credential still undecided and marked confident, as
        `decided_by`, in one transaction; returns the tags accepted now (none the second time)."""
        who = _person(decided_by)
        now = utcnow()
        with self._write() as session:
            _credential_row(session, credential_id)
            query = select(TagRow).where(TagRow.credential_id == credential_id, TagRow.state == "suggested")
            rows = [row for row in session.scalars(query) if is_confident(row.evidence)]
            for row in rows:
                _decide(row, "accepted", who, now)
            session.flush()
            if rows:
                _touch(session)
            return [Tag.model_validate(row) for row in sorted(rows, key=lambda r: r.id)]

    def get_tag(self, tag_id: int) -> Tag:
        with self._read() as session:
            row = session.get(TagRow, tag_id)
            if row is None:
                raise NotFound(f"tag {tag_id} not found")
            return Tag.model_validate(row)

    def list_tags(self, credential_id: int, state: str | None = None) -> list[Tag]:
        """A credential's tags: credential-level first, then by outcome position, best score first."""
        wanted = None if state is None else _tag_state(state)
        with self._read() as session:
            credential = _credential_row(session, credential_id)
            positions = {o.id: o.position for o in credential.learning_outcomes}
            query = select(TagRow).where(TagRow.credential_id == credential_id)
            if wanted is not None:
                query = query.where(TagRow.state == wanted)
            rows = list(session.scalars(query))
        rows.sort(key=lambda r: _tag_order(r, positions))
        return [Tag.model_validate(row) for row in rows]

    def accepted_competencies(self, credential_id: int) -> list[Tag]:
        """Accepted tags, one per competency IRI (the first in :meth:`list_tags` order)."""
        unique: dict[str, Tag] = {}
        for tag in self.list_tags(credential_id, state="accepted"):
            unique.setdefault(tag.competency_iri, tag)
        return list(unique.values())

    def add_suggestions(
        self, credential_id: int, by_outcome: Sequence[tuple[int | None, Sequence[TagIn | Mapping[str, Any]]]]
    ) -> list[Tag]:
        """:meth:`add_suggested_tags` for several outcomes in ONE transaction (same rules)."""
        batches = [(outcome_id, [_coerce(TagIn, t) for t in _sequence(items, "tags")]) for outcome_id, items in by_outcome]
        now = utcnow()
        out: list[Tag] = []
        with self._write() as session:
            for outcome_id, items in batches:
                _require_target(session, credential_id, outcome_id)
                done: dict[str, TagRow] = {}
                for item in items:
                    if item.competency_iri not in done:
                        done[item.competency_iri] = _upsert_suggestion(session, credential_id, outcome_id, item, now)
                session.flush()
                out += [Tag.model_validate(row) for row in done.values()]
            _touch(session)
        return out

    def catalog_version(self) -> int:
        """A number that changes whenever a credential, an outcome or a tag is written."""
        with self._read() as session:
            return _version(session)

    def accepted_snapshot(self) -> AcceptedSnapshot:
        """Every credential with accepted tags and their tags, in ONE query and transaction."""
        query = (
            select(TagRow, CredentialRow.uid, CredentialRow.title, OutcomeRow.position)
            .join(CredentialRow, CredentialRow.id == TagRow.credential_id)
            .outerjoin(OutcomeRow, OutcomeRow.id == TagRow.outcome_id)
            .where(TagRow.state == "accepted")
            .order_by(TagRow.credential_id)
        )
        with self._read() as session:
            version = _version(session)
            rows = list(session.execute(query))
        grouped: dict[int, tuple[str, str, list[tuple[TagRow, int]]]] = {}
        for tag_row, uid, title, position in rows:
            grouped.setdefault(tag_row.credential_id, (uid, title, []))[2].append((tag_row, position or 0))
        credentials = []
        for credential_id, (uid, title, tagged) in grouped.items():
            tagged.sort(key=lambda pair: _snapshot_order(*pair))
            unique: dict[str, Tag] = {}
            for tag_row, _ in tagged:
                unique.setdefault(tag_row.competency_iri, Tag.model_validate(tag_row))
            credentials.append(AcceptedTags(credential_id=credential_id, uid=uid, title=title, tags=list(unique.values())))
        return AcceptedSnapshot(version=version, credentials=credentials)

    def find_credential(self, uid: str) -> Credential:
        """The credential with this public uid (NotFound otherwise)."""
        query = select(CredentialRow).options(selectinload(CredentialRow.learning_outcomes)).where(CredentialRow.uid == uid)
        with self._read() as session:
            row = session.scalars(query).first()
            if row is None:
                raise NotFound(f"credential {uid} not found")
            return Credential.model_validate(row)

    # ---- postings ---------------------------------------------------------------

    def create_posting(self, data: PostingIn | Mapping[str, Any]) -> Posting:
        return self.import_postings([data])[0]

    def import_postings(self, items: Iterable[PostingIn | Mapping[str, Any]]) -> list[Posting]:
        """Store several postings in one transaction: all of them or none."""
        valid = [_coerce(PostingIn, item) for item in _sequence(items, "postings")]
        now = utcnow()
        with self._write() as session:
            rows = [PostingRow(**item.model_dump(), uid=new_uid(), created_at=now) for item in valid]
            session.add_all(rows)
            session.flush()
            return [Posting.model_validate(row) for row in rows]

    def get_posting(self, posting_id: int) -> Posting:
        with self._read() as session:
            return Posting.model_validate(_posting_row(session, posting_id))

    def list_postings(self, *, limit: int = 100, offset: int = 0, employer: str | None = None) -> list[Posting]:
        """Postings in id order, optionally only one employer's (exact name)."""
        query = select(PostingRow)
        if employer is not None:
            query = query.where(PostingRow.employer == employer)
        query = query.order_by(PostingRow.id).limit(_limit(limit)).offset(_offset(offset))
        with self._read() as session:
            return [Posting.model_validate(row) for row in session.scalars(query)]

    def all_postings(self, *, limit: int) -> list[Posting]:
        """Up to `limit` + 1 stored postings in id order, read in one transaction (the caller
        refuses more than `limit`)."""
        query = select(PostingRow).order_by(PostingRow.id).limit(int(limit) + 1)
        with self._read() as session:
            return [Posting.model_validate(row) for row in session.scalars(query)]

    def count_postings(self) -> int:
        with self._read() as session:
            return int(session.scalar(select(func.count()).select_from(PostingRow)) or 0)

    def delete_posting(self, posting_id: int) -> None:
        with self._write() as session:
            session.delete(_posting_row(session, posting_id))

    # ---- transactions -------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with transaction(self.engine) as session:
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with transaction(self._writer) as session:
            yield session


def _version(session: Session) -> int:
    value = session.scalar(select(MetaRow.value).where(MetaRow.key == META_CATALOG))
    return int(value or 0)


def _touch(session: Session) -> None:
    """Bump the catalog version inside the current write transaction."""
    session.execute(update(MetaRow).where(MetaRow.key == META_CATALOG).values(value=MetaRow.value + 1))


# ---- reading the bundled sample files ---------------------------------------------


def read_credentials_file(path: str | Path) -> list[CredentialIn]:
    """Credentials from a JSON file holding an array of credential objects."""
    path = Path(path)
    text = _read_text(path)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CompetencyMapError(f"not valid JSON: {exc.msg}", path=str(path), line=exc.lineno) from None
    if not isinstance(raw, list):
        raise CompetencyMapError("expected a JSON array of credentials", path=str(path))
    return [_parse(CredentialIn, item, path, f"credential #{n}") for n, item in enumerate(raw, 1)]


def read_catalog_postings(path: str | Path) -> list[PostingIn]:
    """Postings from a JSON Lines file: one posting object per line; blank lines are skipped."""
    path = Path(path)
    postings = []
    for number, line in enumerate(_read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CompetencyMapError(f"not valid JSON: {exc.msg}", path=str(path), line=number) from None
        postings.append(_parse(PostingIn, raw, path, "posting", line=number))
    return postings


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CompetencyMapError("file not found", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CompetencyMapError(f"cannot read file: {exc}", path=str(path)) from None


def _parse(model: type[M], raw: Any, path: Path, what: str, *, line: int | None = None) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "value"
        raise CompetencyMapError(f"{what}: {where}: {first['msg']}", path=str(path), line=line) from None


# ---- helpers ------------------------------------------------------------------------


def _coerce(model: type[M], data: Any) -> M:
    """`data` as a validated `model` (pydantic ValidationError if it is not valid)."""
    if isinstance(data, model):
        return data
    if isinstance(data, BaseModel):
        data = data.model_dump(exclude_unset=True)
    return model.model_validate(data)


def _sequence(items: Any, what: str) -> list[Any]:
    if isinstance(items, (str, bytes, Mapping, BaseModel)) or not isinstance(items, Iterable):
        raise InvalidValue(f"{what} must be a list, not {type(items).__name__}")
    return list(items)


def _limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise InvalidValue(f"limit must be a whole number from 1 to {MAX_PAGE}, not {limit!r}")
    return limit


def _offset(offset: int) -> int:
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidValue(f"offset must be a whole number >= 0, not {offset!r}")
    return offset


def _person(name: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
        raise InvalidValue("decided_by must name who decided (1 to 200 characters)")
    return " ".join(name.split())


def _tag_state(state: str) -> str:
    try:
        return _STATE.validate_python(state)
    except ValidationError:
        raise InvalidValue(f"tag state must be 'suggested', 'accepted' or 'rejected', not {state!r}") from None


def _search(query: Any, search: str | None) -> Any:
    if search is None or not search.strip():
        return query
    term = search.strip()
    return query.where(
        or_(CredentialRow.title.icontains(term, autoescape=True), CredentialRow.issuer.icontains(term, autoescape=True))
    )


def _new_credential_row(item: CredentialIn, now: datetime) -> CredentialRow:
    fields = item.model_dump(exclude={"learning_outcomes"})
    row = CredentialRow(**fields, uid=new_uid(), created_at=now, updated_at=now)
    row.learning_outcomes = [OutcomeRow(position=n, text=text) for n, text in enumerate(item.learning_outcomes, 1)]
    return row


def _replace_outcomes(session: Session, row: CredentialRow, texts: list[str]) -> OutcomeChanges:
    """New ordered outcome list, paired with the old one by the rules of :class:`CredentialUpdate`:
    an unchanged text keeps its row (id, tags); a new text where the old outcome at its position
    is no longer listed is that outcome reworded (its row, its decided tags); what is left is
    deleted with its tags."""
    unclaimed = {outcome.text: outcome for outcome in row.learning_outcomes}
    at_position = {outcome.position: outcome for outcome in row.learning_outcomes}
    listed = set(texts)
    outcomes: list[OutcomeRow] = []
    reworded: list[tuple[OutcomeRow, str]] = []
    for position, text in enumerate(texts, 1):
        outcome = unclaimed.pop(text, None)
        if outcome is None:
            outcome = _reworded(at_position.get(position), listed, unclaimed)
            if outcome is not None:
                reworded.append((outcome, outcome.text))
                outcome.text = text
        outcome = outcome or OutcomeRow(text=text)
        outcome.position = position
        outcomes.append(outcome)
    kept, dropped = _carry_decisions(session, reworded)
    removed = _states(session, [o.id for o in unclaimed.values()])
    row.learning_outcomes = outcomes  # rows left unclaimed are deleted (their tags cascade)
    return OutcomeChanges(reworded=len(reworded), removed=len(unclaimed), kept_decisions=kept,
                          dropped_suggestions=dropped + removed["suggested"],
                          deleted_accepted=removed["accepted"], deleted_rejected=removed["rejected"])


def _reworded(old: OutcomeRow | None, listed: set[str], unclaimed: dict[str, OutcomeRow]) -> OutcomeRow | None:
    """The old outcome at a new text's position, when its own text is listed nowhere any more."""
    if old is None or old.text in listed or unclaimed.get(old.text) is not old:
        return None
    del unclaimed[old.text]
    return old


def _carry_decisions(session: Session, reworded: list[tuple[OutcomeRow, str]]) -> tuple[int, int]:
    """On each reworded outcome: drop the undecided suggestions, mark each decision with the
    wording it was made under (the earliest, when reworded again). Returns (kept, dropped)."""
    kept = dropped = 0
    for outcome, previous in reworded:
        for tag in session.scalars(select(TagRow).where(TagRow.outcome_id == outcome.id)):
            if tag.state == "suggested":
                session.delete(tag)
                dropped += 1
            else:
                tag.carried_from = tag.carried_from or previous
                kept += 1
    return kept, dropped


def _states(session: Session, outcome_ids: list[int]) -> dict[str, int]:
    """How many tags of these outcomes are in each state."""
    counts = dict.fromkeys(("suggested", "accepted", "rejected"), 0)
    if outcome_ids:
        query = select(TagRow.state, func.count()).where(TagRow.outcome_id.in_(outcome_ids)).group_by(TagRow.state)
        for state, count in session.execute(query):
            counts[state] = int(count)
    return counts


def _credential_row(session: Session, credential_id: int) -> CredentialRow:
    row = session.get(CredentialRow, credential_id, options=[selectinload(CredentialRow.learning_outcomes)])
    if row is None:
        raise NotFound(f"credential {credential_id} not found")
    return row


def _posting_row(session: Session, posting_id: int) -> PostingRow:
    row = session.get(PostingRow, posting_id)
    if row is None:
        raise NotFound(f"posting {posting_id} not found")
    return row


def _require_target(session: Session, credential_id: int, outcome_id: int | None) -> None:
    if session.get(CredentialRow, credential_id) is None:
        raise NotFound(f"credential {credential_id} not found")
    if outcome_id is None:
        return
    outcome = session.get(OutcomeRow, outcome_id)
    if outcome is None or outcome.credential_id != credential_id:
        raise NotFound(f"outcome {outcome_id} not found in credential {credential_id}")


def _find_tag(session: Session, credential_id: int, outcome_id: int | None, iri: str) -> TagRow | None:
    outcome_match = TagRow.outcome_id.is_(None) if outcome_id is None else TagRow.outcome_id == outcome_id
    query = select(TagRow).where(TagRow.credential_id == credential_id, outcome_match, TagRow.competency_iri == iri)
    return session.scalars(query).first()


def _new_tag_row(
    credential_id: int, outcome_id: int | None, item: TagIn, now: datetime, *, source: str
) -> TagRow:
    return TagRow(
        credential_id=credential_id,
        outcome_id=outcome_id,
        competency_iri=item.competency_iri,
        framework=item.framework,
        label=item.label,
        score=item.score,
        evidence=item.evidence,
        state="suggested",
        source=source,
        created_at=now,
    )


def _insert_tag(session: Session, row: TagRow) -> TagRow:
    """Insert `row`; if a concurrent writer stored the same tag first, return theirs."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        existing = _find_tag(session, row.credential_id, row.outcome_id, row.competency_iri)
        if existing is None:
            raise
        return existing
    return row


def _upsert_suggestion(
    session: Session, credential_id: int, outcome_id: int | None, item: TagIn, now: datetime
) -> TagRow:
    row = _find_tag(session, credential_id, outcome_id, item.competency_iri)
    if row is None:
        return _insert_tag(session, _new_tag_row(credential_id, outcome_id, item, now, source="suggested"))
    if _undecided(row):
        row.framework, row.label, row.score, row.evidence = item.framework, item.label, item.score, item.evidence
    return row


def is_confident(evidence: Mapping[str, Any] | None) -> bool:
    """Whether a suggestion's stored evidence marks it confident (above its framework's cut-off)."""
    return bool(evidence and evidence.get("confident") is True)


def _undecided(row: TagRow) -> bool:
    return row.state == "suggested" and row.source == "suggested" and row.decided_at is None


def _decide(row: TagRow, state: str, who: str, when: datetime) -> None:
    row.state = state
    row.decided_by = who
    row.decided_at = when
    row.carried_from = None  # decided under the outcome's present wording


def _snapshot_order(row: TagRow, position: int) -> tuple[int, float, int]:
    return _tag_order(row, {row.outcome_id: position} if row.outcome_id is not None else {})


def _tag_order(row: TagRow, positions: dict[int, int]) -> tuple[int, float, int]:
    position = 0 if row.outcome_id is None else positions.get(row.outcome_id, 0)
    score = -row.score if row.score is not None else float("inf")
    return (position, score, row.id)
