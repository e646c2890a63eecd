"""The catalog: credentials, outcomes, tags and postings in SQLite (file and memory)."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import create_engine, text

from competencymap._common.config import Settings
from competencymap._common.errors import CompetencyMapError
from competencymap.catalog import (
    Catalog,
    CatalogError,
    CredentialIn,
    InvalidValue,
    NotFound,
    read_catalog_postings,
    read_credentials_file,
    repository,
)
from competencymap.catalog.tables import Base

DATA = Path(__file__).resolve().parents[2] / "data"
ESCO = "http://data.europa.eu/esco/skill/"


def credential_data(**changes: object) -> dict:
    data = {
        "title": "Spreadsheet Modelling for Small Business",
        "issuer": "Example Polytechnic",
        "description": "Build and check financial models in spreadsheets.",
        "learning_outcomes": [
            "Build a monthly cash-flow model using spreadsheet formulas",
            "Check a model for errors using auditing tools",
            "Present model results to a non-specialist audience",
        ],
        "duration_hours": 24,
        "delivery_mode": "online",
        "credit": "non_credit",
        "assessment_type": "Portfolio of two models",
        "stackability": "Counts toward a business analytics certificate.",
        "endorsing_partners": ["Example Chamber of Commerce"],
        "url": "https://example.org/spreadsheets",
    }
    data.update(changes)
    return data


def tag(n: int, score: float | None = 0.5, **changes: object) -> dict:
    data = {
        "competency_iri": f"{ESCO}{n:04d}",
        "framework": "esco",
        "label": f"skill {n}",
        "score": score,
        "evidence": {"field": "pref_label", "text": f"matched {n}"},
    }
    data.update(changes)
    return data


# Set to a PostgreSQL URL (e.g. postgresql+psycopg://user@localhost/test) to run the
# database tests against PostgreSQL as well; its catalog tables are dropped before each test.
POSTGRES_URL = os.environ.get("COMPETENCYMAP_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite"] + (["postgresql"] if POSTGRES_URL else []))
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    engine = create_engine(POSTGRES_URL)
    Base.metadata.drop_all(engine)
    engine.dispose()
    return POSTGRES_URL


@pytest.fixture
def catalog(db_url: str):
    with Catalog(db_url) as cat:
        yield cat


def table_count(url: str, table: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    finally:
        engine.dispose()


# ---- credentials -------------------------------------------------------------------


def test_create_and_get_round_trip(catalog: Catalog) -> None:
    created = catalog.create_credential(credential_data())
    got = catalog.get_credential(created.id)
    assert got == created
    assert [o.position for o in got.learning_outcomes] == [1, 2, 3]
    assert got.learning_outcomes[0].text.startswith("Build a monthly")
    assert got.duration_hours == 24.0 and got.credit == "non_credit" and got.language == "en"
    assert got.endorsing_partners == ["Example Chamber of Commerce"]
    assert got.created_at.tzinfo is not None and got.created_at == got.updated_at


def test_input_is_normalised(catalog: Catalog) -> None:
    created = catalog.create_credential(
        credential_data(title="  Spreadsheet   Modelling ", learning_outcomes=["  Build  a model "])
    )
    assert created.title == "Spreadsheet Modelling"
    assert [o.text for o in created.learning_outcomes] == ["Build a model"]


@pytest.mark.parametrize(
    "changes",
    [
        {"delivery_mode": "by_mail"},
        {"credit": "yes"},
        {"duration_hours": 0},
        {"duration_hours": float("nan")},
        {"language": "de"},
        {"url": "ftp://example.org/x"},
        {"url": "not a url"},
        {"title": "   "},
        {"learning_outcomes": ["Build a model", "build a  model"]},
        {"learning_outcomes": ["ok", ""]},
        {"unknown_field": 1},
    ],
)
def test_invalid_credentials_are_refused(catalog: Catalog, changes: dict) -> None:
    with pytest.raises(ValidationError):
        catalog.create_credential(credential_data(**changes))
    assert catalog.count_credentials() == 0


def test_unknown_ids_raise_not_found(catalog: Catalog) -> None:
    assert issubclass(NotFound, CompetencyMapError)
    for call in (
        lambda: catalog.get_credential(404),
        lambda: catalog.update_credential(404, {"title": "x"}),
        lambda: catalog.delete_credential(404),
        lambda: catalog.list_tags(404),
        lambda: catalog.add_suggested_tags(404, None, [tag(1)]),
        lambda: catalog.set_tag_state(404, "accepted", "ana"),
        lambda: catalog.get_tag(404),
        lambda: catalog.get_posting(404),
        lambda: catalog.delete_posting(404),
    ):
        with pytest.raises(NotFound, match="404 not found"):
            call()


def test_outcome_of_another_credential_is_not_found(catalog: Catalog) -> None:
    first = catalog.create_credential(credential_data())
    second = catalog.create_credential(credential_data(title="Other"))
    foreign = second.learning_outcomes[0].id
    with pytest.raises(NotFound, match=f"outcome {foreign} not found in credential {first.id}"):
        catalog.add_suggested_tags(first.id, foreign, [tag(1)])
    with pytest.raises(NotFound):
        catalog.add_manual_tag(first.id, foreign, tag(1), decided_by="ana")


def test_list_count_search_and_pages(catalog: Catalog) -> None:
    for n in range(5):
        catalog.create_credential(credential_data(title=f"Course {n}", issuer="North College" if n % 2 else "South"))
    assert catalog.count_credentials() == 5
    assert [c.title for c in catalog.list_credentials(limit=2, offset=1)] == ["Course 1", "Course 2"]
    assert {c.title for c in catalog.list_credentials(search="north")} == {"Course 1", "Course 3"}
    assert catalog.count_credentials(search="NORTH") == 2
    assert catalog.count_credentials(search="%") == 0  # wildcards are matched literally
    for bad in ({"limit": 0}, {"limit": 5000}, {"offset": -1}, {"limit": "10"}):
        with pytest.raises(InvalidValue):
            catalog.list_credentials(**bad)


def test_partial_update_changes_only_given_fields(catalog: Catalog) -> None:
    created = catalog.create_credential(credential_data())
    updated = catalog.update_credential(created.id, {"title": "New title", "url": None})
    assert updated.title == "New title" and updated.url is None
    assert updated.description == created.description
    assert updated.learning_outcomes == created.learning_outcomes
    assert updated.updated_at > created.updated_at and updated.created_at == created.created_at
    with pytest.raises(ValidationError):
        catalog.update_credential(created.id, {"title": None})
    with pytest.raises(ValidationError):
        catalog.update_credential(created.id, {"duration_hours": -3})
    assert catalog.get_credential(created.id).title == "New title"


def test_replacing_outcomes_keeps_tags_of_unchanged_texts(catalog: Catalog, db_url: str) -> None:
    created = catalog.create_credential(credential_data())
    first, second, third = created.learning_outcomes
    catalog.add_suggested_tags(created.id, first.id, [tag(1)])
    kept = catalog.add_suggested_tags(created.id, second.id, [tag(2)])[0]
    catalog.set_tag_state(kept.id, "accepted", "ana")
    catalog.add_suggested_tags(created.id, third.id, [tag(3)])

    # A new first outcome (the old first is listed nowhere: a rewording of it), a new second one
    # (the old second is still listed, further down: not a rewording), the old third dropped.
    new_texts = ["Present model results to a slide audience", "Write a new outcome", second.text]
    revision = catalog.revise_credential(created.id, {"learning_outcomes": new_texts})
    updated = revision.credential

    assert [o.text for o in updated.learning_outcomes] == new_texts
    assert [o.position for o in updated.learning_outcomes] == [1, 2, 3]
    assert [o.id for o in updated.learning_outcomes][0::2] == [first.id, second.id]
    assert updated.learning_outcomes[1].id not in {first.id, second.id, third.id}
    tags = catalog.list_tags(created.id)
    assert [(t.id, t.outcome_id, t.state, t.carried_from) for t in tags] == [(kept.id, second.id, "accepted", None)]
    assert table_count(db_url, "outcomes") == 3
    changes = revision.changes
    assert (changes.reworded, changes.removed, changes.kept_decisions, changes.dropped_suggestions) == (1, 1, 0, 2)
    assert changes.deleted_decisions == 0


def _decided(catalog: Catalog, credential_id: int, outcome_id: int, first: int) -> list[int]:
    """Three tags on one outcome: accepted, rejected and still suggested; their ids."""
    made = catalog.add_suggested_tags(credential_id, outcome_id, [tag(first), tag(first + 1), tag(first + 2)])
    catalog.set_tag_state(made[0].id, "accepted", "ana")
    catalog.set_tag_state(made[1].id, "rejected", "ana")
    return [t.id for t in made]


def test_a_reworded_outcome_keeps_its_decisions(catalog: Catalog) -> None:
    created = catalog.create_credential(credential_data())
    first, second, third = created.learning_outcomes
    accepted, rejected, undecided = _decided(catalog, created.id, second.id, 10)
    other = _decided(catalog, created.id, third.id, 20)
    reworded = "Check a spreadsheet model for errors with auditing tools"

    revision = catalog.revise_credential(created.id, {"learning_outcomes": [first.text, reworded, third.text]})

    assert [(o.id, o.text) for o in revision.credential.learning_outcomes][1] == (second.id, reworded)
    changes = revision.changes
    assert (changes.reworded, changes.kept_decisions, changes.dropped_suggestions, changes.removed) == (1, 2, 1, 0)
    tags = {t.id: t for t in catalog.list_tags(created.id)}
    assert undecided not in tags and set(other) <= set(tags)
    assert (tags[accepted].state, tags[accepted].decided_by, tags[accepted].carried_from) == ("accepted", "ana", second.text)
    assert (tags[rejected].state, tags[rejected].carried_from) == ("rejected", second.text)
    assert all(tags[i].carried_from is None for i in other)  # the untouched outcome's tags are not marked

    # Suggesting again keeps the kept decisions (still marked); the dropped one comes back undecided.
    again = catalog.add_suggested_tags(created.id, second.id, [tag(10), tag(12)])
    assert (again[0].id, again[0].state, again[0].carried_from) == (accepted, "accepted", second.text)
    assert again[1].state == "suggested" and again[1].carried_from is None

    # Reworded once more: the mark still names the wording the decision was made under.
    catalog.update_credential(created.id, {"learning_outcomes": [first.text, "Audit spreadsheet models", third.text]})
    assert catalog.get_tag(accepted).carried_from == second.text
    # A new decision is made under the present wording: the mark goes.
    assert catalog.set_tag_state(rejected, "accepted", "ben").carried_from is None


def test_removing_an_outcome_says_how_many_decisions_went(catalog: Catalog) -> None:
    created = catalog.create_credential(credential_data())
    first, second, third = created.learning_outcomes
    _decided(catalog, created.id, third.id, 30)
    catalog.add_manual_tag(created.id, third.id, tag(40), decided_by="ana")
    catalog.add_manual_tag(created.id, None, tag(41), decided_by="ana")  # the credential's own: untouched

    revision = catalog.revise_credential(created.id, {"learning_outcomes": [first.text, second.text]})

    changes = revision.changes
    assert (changes.removed, changes.reworded, changes.kept_decisions) == (1, 0, 0)
    assert (changes.deleted_accepted, changes.deleted_rejected, changes.dropped_suggestions) == (2, 1, 1)
    assert changes.deleted_decisions == 3
    assert [t.competency_iri for t in catalog.list_tags(created.id)] == [tag(41)["competency_iri"]]


def test_outcomes_pair_by_text_then_by_position(catalog: Catalog) -> None:
    created = catalog.create_credential(credential_data())
    a, b, c = created.learning_outcomes
    # An outcome inserted at the top takes nobody's place: every old text is still listed.
    inserted = catalog.revise_credential(created.id, {"learning_outcomes": ["New first", a.text, b.text, c.text]})
    assert [o.id for o in inserted.credential.learning_outcomes][1:] == [a.id, b.id, c.id]
    assert (inserted.changes.reworded, inserted.changes.removed) == (0, 0)
    # Moved and reworded at once: not the same position, so the old outcome goes and the new is new.
    moved = catalog.revise_credential(created.id, {"learning_outcomes": ["New first", b.text, "A reworded"]})
    ids = [o.id for o in moved.credential.learning_outcomes]
    assert ids[1] == b.id and ids[2] not in {a.id, c.id}
    assert (moved.changes.reworded, moved.changes.removed) == (0, 2)
    # A title-only update changes no outcome.
    assert catalog.revise_credential(created.id, {"title": "Renamed"}).changes.removed == 0


def test_accept_every_confident_suggestion(catalog: Catalog) -> None:
    created = catalog.create_credential(credential_data())
    outcome = created.learning_outcomes[0].id
    sure, unsure, decided, elsewhere = catalog.add_suggested_tags(created.id, outcome, [
        tag(1, evidence={"confident": True}), tag(2, evidence={"confident": False}),
        tag(3, evidence={"confident": True}), tag(4, evidence={})])
    other = catalog.add_suggested_tags(created.id, created.learning_outcomes[1].id, [tag(5, evidence={"confident": True})])
    catalog.set_tag_state(decided.id, "rejected", "ana")

    accepted = catalog.accept_confident(created.id, "ben")

    assert [t.id for t in accepted] == [sure.id, other[0].id]
    assert all(t.state == "accepted" and t.decided_by == "ben" for t in accepted)
    states = {t.id: t.state for t in catalog.list_tags(created.id)}
    assert (states[unsure.id], states[decided.id], states[elsewhere.id]) == ("suggested", "rejected", "suggested")
    assert catalog.accept_confident(created.id, "ben") == []  # idempotent
    with pytest.raises(InvalidValue):
        catalog.accept_confident(created.id, " ")
    with pytest.raises(NotFound):
        catalog.accept_confident(404, "ben")


def test_delete_credential_removes_outcomes_and_tags(catalog: Catalog, db_url: str) -> None:
    keep = catalog.create_credential(credential_data(title="Keep"))
    gone = catalog.create_credential(credential_data(title="Gone"))
    catalog.add_suggested_tags(gone.id, gone.learning_outcomes[0].id, [tag(1), tag(2)])
    catalog.add_suggested_tags(gone.id, None, [tag(3)])
    catalog.add_suggested_tags(keep.id, None, [tag(3)])
    catalog.delete_credential(gone.id)
    with pytest.raises(NotFound):
        catalog.get_credential(gone.id)
    assert table_count(db_url, "outcomes") == 3
    assert table_count(db_url, "tags") == 1


# ---- tags ------------------------------------------------------------------------


def test_suggestions_are_idempotent_and_never_override_decisions(catalog: Catalog) -> None:
    cred = catalog.create_credential(credential_data())
    outcome = cred.learning_outcomes[0].id
    first = catalog.add_suggested_tags(cred.id, outcome, [tag(1, 0.4), tag(2, 0.3), tag(3, 0.2)])
    assert [t.state for t in first] == ["suggested"] * 3 and {t.source for t in first} == {"suggested"}
    accepted = catalog.set_tag_state(first[0].id, "accepted", "ana")
    rejected = catalog.set_tag_state(first[1].id, "rejected", "ben")

    again = catalog.add_suggested_tags(
        cred.id,
        outcome,
        [tag(1, 0.99, label="other label"), tag(2, 0.99), tag(3, 0.9, label="refreshed"), tag(4, 0.1)],
    )
    assert [t.id for t in again[:3]] == [t.id for t in first]
    assert again[0] == accepted  # decision, label and score untouched
    assert again[1] == rejected
    assert again[2].label == "refreshed" and again[2].score == 0.9 and again[2].state == "suggested"
    assert again[3].competency_iri == f"{ESCO}0004"
    assert len(catalog.list_tags(cred.id)) == 4


def test_same_competency_in_one_batch_is_stored_once(catalog: Catalog) -> None:
    cred = catalog.create_credential(credential_data())
    tags = catalog.add_suggested_tags(cred.id, None, [tag(7, 0.2), tag(7, 0.8)])
    assert tags[0] == tags[1] and tags[0].score == 0.2
    assert len(catalog.list_tags(cred.id)) == 1


def test_credential_level_tags_are_unique_too(catalog: Catalog) -> None:
    cred = catalog.create_credential(credential_data())
    catalog.add_suggested_tags(cred.id, None, [tag(1)])
    catalog.add_suggested_tags(cred.id, None, [tag(1)])
    catalog.add_suggested_tags(cred.id, cred.learning_outcomes[0].id, [tag(1)])
    assert sorted((t.outcome_id or 0) for t in catalog.list_tags(cred.id)) == [0, cred.learning_outcomes[0].id]


def test_decisions_record_who_and_when(catalog: Catalog) -> None:
    cred = catalog.create_credential(credential_data())
    suggested = catalog.add_suggested_tags(cred.id, None, [tag(1)])[0]
    before = datetime.now(UTC)
    decided = catalog.set_tag_state(suggested.id, "rejected", "  Ana  Silva ")
    assert decided.state == "rejected" and decided.decided_by == "Ana Silva"
    assert decided.decided_at is not None and decided.decided_at >= before
    assert catalog.get_tag(suggested.id) == decided
    with pytest.raises(InvalidValue, match="tag state"):
        catalog.set_tag_state(suggested.id, "maybe", "ana")
    with pytest.raises(InvalidValue, match="decided_by"):
        catalog.set_tag_state(suggested.id, "accepted", "  ")
    assert catalog.get_tag(suggested.id) == decided


def test_manual_tags_are_accepted_decisions(catalog: Catalog) -> None:
    cred = catalog.create_credential(credential_data())
    outcome = cred.learning_outcomes[1].id
    manual = catalog.add_manual_tag(cred.id, outcome, tag(9, score=None), decided_by="ana")
    assert (manual.state, manual.source, manual.decided_by) == ("accepted", "manual", "ana")
    assert catalog.add_suggested_tags(cred.id, outcome, [tag(9, 0.7)])[0] == manual

    rejected = catalog.add_suggested_tags(cred.id, outcome, [tag(10)])[0]
    catalog.set_tag_state(rejected.id, "rejected", "ben")
    revived = catalog.add_manual_tag(cred.id, outcome, tag(10), decided_by="ana")
    assert revived.id == rejected.id and revived.state == "accepted" and revived.decided_by == "ana"


def test_accepted_tags_for_several_outcomes_in_one_call(catalog: Catalog) -> None:
    cred = catalog.create_credential(credential_data())
    o1, o2, _ = (o.id for o in cred.learning_outcomes)
    suggested = catalog.add_suggested_tags(cred.id, o1, [tag(1, 0.4)])[0]
    version = catalog.catalog_version()
    tags = catalog.add_accepted_tags(cred.id, [(o1, [tag(1), tag(2), tag(2)]), (o2, [tag(3)])], decided_by="reviewer")
    assert [(t.outcome_id, t.competency_iri) for t in tags] == [(o1, tag(1)["competency_iri"]),
                                                                 (o1, tag(2)["competency_iri"]),
                                                                 (o2, tag(3)["competency_iri"])]
    assert all(t.state == "accepted" and t.decided_by == "reviewer" for t in tags)
    assert tags[0].id == suggested.id and tags[1].source == "manual"  # an existing tag is decided, not doubled
    assert catalog.catalog_version() > version
    with pytest.raises(NotFound):
        catalog.add_accepted_tags(cred.id, [(999_999, [tag(4)])], decided_by="reviewer")
    assert len(catalog.list_tags(cred.id)) == 3  # nothing written by the failed call


def test_list_tags_order_filter_and_accepted_competencies(catalog: Catalog) -> None:
    cred = catalog.create_credential(credential_data())
    o1, o2, _ = (o.id for o in cred.learning_outcomes)
    catalog.add_suggested_tags(cred.id, o2, [tag(1, 0.9), tag(2, 0.8)])
    catalog.add_suggested_tags(cred.id, o1, [tag(3, 0.1), tag(1, 0.6), tag(4, None)])
    catalog.add_suggested_tags(cred.id, None, [tag(5, 0.2)])
    listed = catalog.list_tags(cred.id)
    assert [(t.outcome_id, t.competency_iri[-1]) for t in listed] == [
        (None, "5"), (o1, "1"), (o1, "3"), (o1, "4"), (o2, "1"), (o2, "2"),
    ]
    for t in listed:
        if t.competency_iri[-1] in "12":
            catalog.set_tag_state(t.id, "accepted", "ana")
    accepted = catalog.list_tags(cred.id, state="accepted")
    assert len(accepted) == 3
    assert [(t.outcome_id, t.competency_iri[-1]) for t in catalog.accepted_competencies(cred.id)] == [
        (o1, "1"), (o2, "2"),
    ]
    assert catalog.list_tags(cred.id, state="rejected") == []
    with pytest.raises(InvalidValue):
        catalog.list_tags(cred.id, state="yes")


@pytest.mark.parametrize(
    "bad",
    [
        {"competency_iri": "not an iri"},
        {"competency_iri": ""},
        {"framework": ""},
        {"label": " "},
        {"score": float("inf")},
        {"evidence": {"span": {1, 2}}},
        {"extra": "field"},
    ],
)
def test_an_invalid_tag_in_a_batch_writes_nothing(catalog: Catalog, db_url: str, bad: dict) -> None:
    cred = catalog.create_credential(credential_data())
    batch = [tag(1), tag(2), tag(3, **bad), tag(4)]
    with pytest.raises(ValidationError):
        catalog.add_suggested_tags(cred.id, cred.learning_outcomes[0].id, batch)
    assert table_count(db_url, "tags") == 0


def test_a_failure_half_way_through_a_batch_writes_nothing(
    catalog: Catalog, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cred = catalog.create_credential(credential_data())
    outcome = cred.learning_outcomes[0].id
    catalog.add_suggested_tags(cred.id, outcome, [tag(1)])
    real = repository._upsert_suggestion
    calls = []

    def fail_on_third(session, *args):  # type: ignore[no-untyped-def]
        calls.append(args)
        if len(calls) == 3:
            session.flush()  # the first two rows really reached the database
            raise RuntimeError("simulated crash")
        return real(session, *args)

    monkeypatch.setattr(repository, "_upsert_suggestion", fail_on_third)
    with pytest.raises(RuntimeError, match="simulated crash"):
        catalog.add_suggested_tags(cred.id, outcome, [tag(2), tag(3), tag(4), tag(5)])
    assert len(calls) == 3
    assert table_count(db_url, "tags") == 1


def test_a_database_error_half_way_through_an_import_writes_nothing(catalog: Catalog, db_url: str) -> None:
    good = CredentialIn.model_validate(credential_data())
    # model_construct skips validation, so only the table's CHECK constraint stops it.
    bad = CredentialIn.model_construct(**{**good.model_dump(), "duration_hours": -5.0})
    with pytest.raises(CatalogError, match="conflicts with stored data"):
        catalog.import_credentials([good, good, bad])
    assert table_count(db_url, "credentials") == 0
    assert table_count(db_url, "outcomes") == 0


def test_lists_must_be_lists(catalog: Catalog) -> None:
    cred = catalog.create_credential(credential_data())
    with pytest.raises(InvalidValue):
        catalog.add_suggested_tags(cred.id, None, tag(1))  # type: ignore[arg-type]


# ---- postings -------------------------------------------------------------------------


def test_postings_crud(catalog: Catalog) -> None:
    posting = catalog.create_posting(
        {"title": "Data Analyst", "employer": "Acme", "text": "Requirements:\n- SQL", "posted_on": "2026-02-03",
         "location": "Ottawa, ON"}
    )
    assert posting.posted_on == date(2026, 2, 3) and posting.text == "Requirements:\n- SQL"
    catalog.create_posting({"title": "Cook", "employer": "Diner", "text": "Cook things"})
    assert catalog.get_posting(posting.id) == posting
    assert [p.title for p in catalog.list_postings()] == ["Data Analyst", "Cook"]
    assert [p.title for p in catalog.list_postings(employer="Diner")] == ["Cook"]
    assert catalog.count_postings() == 2
    catalog.delete_posting(posting.id)
    with pytest.raises(NotFound):
        catalog.get_posting(posting.id)
    with pytest.raises(ValidationError):
        catalog.create_posting({"title": "x", "employer": "y", "text": "", "posted_on": "yesterday"})


# ---- storage ----------------------------------------------------------------------------


def test_data_survives_reopening(db_url: str) -> None:
    first = Catalog(db_url)
    cred = first.create_credential(credential_data())
    tagged = first.add_suggested_tags(cred.id, cred.learning_outcomes[0].id, [tag(1)])[0]
    first.set_tag_state(tagged.id, "accepted", "ana")
    first.close()
    del first

    second = Catalog(db_url)
    assert second.get_credential(cred.id) == cred
    assert second.accepted_competencies(cred.id)[0].decided_by == "ana"
    if db_url.startswith("sqlite"):
        with sqlite3.connect(db_url.removeprefix("sqlite:///")) as con:
            assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    second.close()


def test_concurrent_writers_all_land(db_url: str) -> None:
    Catalog(db_url).close()  # schema first, as an application would at start-up
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with Catalog(db_url) as cat:  # one engine per thread, like separate processes
                for i in range(25):
                    created = cat.create_credential(credential_data(title=f"w{n}-{i}"))
                    cat.add_suggested_tags(created.id, None, [tag(i), tag(100 + i)])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Catalog(db_url) as cat:
        assert cat.count_credentials() == 100
        titles = {c.title for c in cat.list_credentials(limit=1000)}
    assert titles == {f"w{n}-{i}" for n in range(4) for i in range(25)}
    assert table_count(db_url, "tags") == 200


def test_concurrent_first_use_creates_the_schema_once(db_url: str) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_and_write(n: int) -> None:
        try:
            barrier.wait()
            with Catalog(db_url) as cat:
                cat.create_posting({"title": f"t{n}", "employer": "e", "text": "x"})
        except BaseException as exc:  # noqa: BLE001 - collected and asserted empty after the threads join
            errors.append(exc)

    threads = [threading.Thread(target=open_and_write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert table_count(db_url, "postings") == 4


def test_concurrent_identical_suggestions_store_one_tag(db_url: str) -> None:
    with Catalog(db_url) as cat:
        cred = cat.create_credential(credential_data())
    outcome = cred.learning_outcomes[0].id
    errors: list[BaseException] = []

    def suggest() -> None:
        try:
            with Catalog(db_url) as cat:
                for _ in range(10):
                    cat.add_suggested_tags(cred.id, outcome, [tag(1), tag(2), tag(3)])
        except BaseException as exc:  # noqa: BLE001 - collected and asserted empty after the threads join
            errors.append(exc)

    threads = [threading.Thread(target=suggest) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert table_count(db_url, "tags") == 3


def _process_writer(url: str, worker: int) -> None:
    with Catalog(url) as cat:
        for i in range(15):
            cat.create_posting({"title": f"p{worker}-{i}", "employer": "E", "text": "x"})


def test_concurrent_processes_all_land(db_url: str) -> None:
    Catalog(db_url).close()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_process_writer, args=(db_url, n)) for n in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    assert table_count(db_url, "postings") == 45


def test_in_memory_database_works() -> None:
    with Catalog("sqlite://") as cat:
        cred = cat.create_credential(credential_data())
        assert cat.get_credential(cred.id).title == cred.title


def test_from_settings_uses_the_home_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPETENCYMAP_DATABASE_URL", raising=False)
    with Catalog.from_settings(Settings(home=tmp_path / "home")) as cat:
        cat.create_posting({"title": "t", "employer": "e", "text": "x"})
    assert (tmp_path / "home" / "competencymap.sqlite").is_file()


def test_bad_database_urls_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="not a database URL"):
        Catalog("catalog.sqlite")
    with pytest.raises(CatalogError, match="cannot open database"):
        Catalog("nosuchdb://user:secret@host/db")
    try:
        Catalog("nosuchdb://user:secret@host/db")
    except CatalogError as exc:
        assert "secret" not in str(exc)


# ---- bundled sample data ------------------------------------------------------------------


def test_sample_credentials_are_valid() -> None:
    credentials = read_credentials_file(DATA / "catalog" / "sample_credentials.json")
    assert len(credentials) == 12
    assert len({c.title for c in credentials}) == 12
    for credential in credentials:
        assert 4 <= len(credential.learning_outcomes) <= 7, credential.title
        assert credential.assessment_type and credential.stackability
    assert {c.delivery_mode for c in credentials} == {"online", "in_person", "hybrid"}
    assert {c.credit for c in credentials} == {"credit", "non_credit"}


def test_sample_postings_are_valid() -> None:
    postings = read_catalog_postings(DATA / "postings" / "sample_postings.jsonl")
    assert 25 <= len(postings) <= 40
    dates = sorted(p.posted_on for p in postings if p.posted_on)
    assert len(dates) == len(postings)
    assert dates[0].year == dates[-1].year == 2026
    assert len({d.month for d in dates}) == 6
    assert all(p.location for p in postings)


def test_sample_data_loads_into_a_catalog(catalog: Catalog) -> None:
    stored = catalog.import_credentials(read_credentials_file(DATA / "catalog" / "sample_credentials.json"))
    postings = catalog.import_postings(read_catalog_postings(DATA / "postings" / "sample_postings.jsonl"))
    assert catalog.count_credentials() == 12 and catalog.count_postings() == len(postings)
    assert all(o.position == n for c in stored for n, o in enumerate(c.learning_outcomes, 1))


def test_file_errors_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "postings.jsonl"
    good = json.dumps({"title": "t", "employer": "e", "text": "x"})
    path.write_text(f"{good}\n\n{{broken\n", encoding="utf-8")
    with pytest.raises(CompetencyMapError) as info:
        read_catalog_postings(path)
    assert info.value.line == 3 and str(path) in str(info.value)

    path.write_text(f"{good}\n" + json.dumps({"title": "t", "employer": "e"}) + "\n", encoding="utf-8")
    with pytest.raises(CompetencyMapError, match="text: Field required") as info:
        read_catalog_postings(path)
    assert info.value.line == 2

    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps([credential_data(), credential_data(credit="maybe")]), encoding="utf-8")
    with pytest.raises(CompetencyMapError, match="credential #2: credit"):
        read_credentials_file(creds)
    with pytest.raises(CompetencyMapError, match="file not found"):
        read_credentials_file(tmp_path / "missing.json")
