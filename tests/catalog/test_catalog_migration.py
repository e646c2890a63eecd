"""Stable identifiers: ids never reused, public uids, the schema version, and the migration of a
catalog made before schema versions (schema 1, `tests/data/catalog_schema_v1.sql`, dumped from a
database that the code of commit ca75328 created)."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from competencymap.catalog import Catalog, CatalogError, NotFound
from competencymap.catalog.tables import SCHEMA_VERSION

V1_SQL = Path(__file__).resolve().parents[1] / "data" / "catalog_schema_v1.sql"
NOW = "2026-01-05 10:00:00.000000"
CREDENTIAL = {
    "title": "Stable ids", "issuer": "Example College", "description": "d",
    "learning_outcomes": ["Write SQL queries", "Explain results"], "duration_hours": 3,
    "delivery_mode": "online", "credit": "credit", "assessment_type": "quiz",
}
POSTING = {"title": "Analyst", "employer": "Example Ltd", "text": "Write SQL queries."}


def _v1_database(path: Path) -> None:
    """A schema-1 catalog with rows the way the old code stored them, including a deleted top id."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys=ON")  # as the old code ran it: the delete below cascades
    con.executescript(V1_SQL.read_text(encoding="utf-8"))
    for cid in (1, 2, 3):
        con.execute(
            "INSERT INTO credentials (id, title, issuer, description, duration_hours, delivery_mode, credit, "
            "assessment_type, stackability, endorsing_partners, url, language, created_at, updated_at) "
            "VALUES (?, ?, 'Old College', 'd', 10, 'online', 'credit', 'quiz', '', '[]', NULL, 'en', ?, ?)",
            (cid, f"Old credential {cid}", NOW, NOW),
        )
        for position in (1, 2):
            con.execute("INSERT INTO outcomes (id, credential_id, position, text) VALUES (?, ?, ?, ?)",
                        (cid * 10 + position, cid, position, f"outcome {position} of {cid}"))
    con.execute(
        "INSERT INTO tags (id, credential_id, outcome_id, competency_iri, framework, label, score, evidence, state, "
        "source, decided_by, decided_at, created_at) VALUES (7, 2, 21, 'http://example.org/sql', 'esco', 'SQL', 0.9, "
        "?, 'accepted', 'suggested', 'Dana', ?, ?)",
        (json.dumps({"outcome": "outcome 1 of 2"}), NOW, NOW),
    )
    con.execute("INSERT INTO postings (id, title, employer, text, posted_on, location, created_at) "
                "VALUES (5, 'Analyst', 'Example Ltd', 'Write SQL.', '2026-01-02', '', ?)", (NOW,))
    con.execute("DELETE FROM credentials WHERE id = 3")  # schema 1 would give id 3 again
    con.commit()
    con.close()


def test_migration_from_schema_1_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    _v1_database(path)
    catalog = Catalog(f"sqlite:///{path}")
    first, second = catalog.list_credentials()
    assert [first.id, second.id] == [1, 2] and second.title == "Old credential 2"
    assert [o.id for o in second.learning_outcomes] == [21, 22]
    assert uuid.UUID(first.uid).version == 4 and first.uid != second.uid
    tags = catalog.list_tags(2)
    assert [(t.id, t.state, t.decided_by, t.evidence) for t in tags] == [(7, "accepted", "Dana", {"outcome": "outcome 1 of 2"})]
    posting = catalog.get_posting(5)
    assert posting.text == "Write SQL." and uuid.UUID(posting.uid).version == 4
    assert catalog.find_credential(second.uid).id == 2
    # A schema-1 file keeps no trace of the deleted id 3, so it is given once more; from here on
    # AUTOINCREMENT remembers (the uid was never reused at all).
    new = catalog.create_credential(CREDENTIAL)
    assert new.id == 3
    catalog.delete_credential(new.id)
    new = catalog.create_credential(CREDENTIAL)
    assert new.id == 4
    catalog.delete_credential(2)
    with pytest.raises(NotFound):
        catalog.list_tags(2)
    catalog.close()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    assert con.execute("SELECT value FROM catalog_meta WHERE key = 'schema_version'").fetchone() == (SCHEMA_VERSION,)
    assert not [n for (n,) in con.execute("SELECT name FROM sqlite_master") if n.startswith("_v1_")]
    assert "AUTOINCREMENT" in con.execute("SELECT sql FROM sqlite_master WHERE name = 'tags'").fetchone()[0]
    con.close()
    again = Catalog(f"sqlite:///{path}")  # opening a migrated catalog changes nothing
    assert [c.uid for c in again.list_credentials()] == [first.uid, new.uid]
    again.close()


def test_concurrent_first_opens_migrate_once(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    _v1_database(path)
    errors: list[BaseException] = []
    uids: list[list[str]] = []

    def open_it() -> None:
        try:
            catalog = Catalog(f"sqlite:///{path}")
            uids.append([c.uid for c in catalog.list_credentials()])
            catalog.close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(uids) == 4 and all(u == uids[0] for u in uids)


def test_ids_are_never_reused(tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    first = catalog.create_credential(CREDENTIAL)
    catalog.delete_credential(first.id)
    second = catalog.create_credential(CREDENTIAL)
    assert second.id > first.id and second.uid != first.uid
    assert [o.id for o in second.learning_outcomes][0] > first.learning_outcomes[-1].id
    tag = catalog.add_manual_tag(second.id, None, {"competency_iri": "http://example.org/a", "framework": "x",
                                                   "label": "a"}, decided_by="me")
    catalog.delete_credential(second.id)
    third = catalog.create_credential(CREDENTIAL)
    assert catalog.add_manual_tag(third.id, None, {"competency_iri": "http://example.org/a", "framework": "x",
                                                   "label": "a"}, decided_by="me").id > tag.id
    posting = catalog.create_posting(POSTING)
    catalog.delete_posting(posting.id)
    assert catalog.create_posting(POSTING).id > posting.id
    with pytest.raises(NotFound):
        catalog.find_credential(first.uid)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    catalog = Catalog(url)
    with catalog.engine.begin() as connection:
        connection.execute(text("UPDATE catalog_meta SET value = 99 WHERE key = 'schema_version'"))
    catalog.close()
    with pytest.raises(CatalogError, match="version 99, newer"):
        Catalog(url)


def test_catalog_version_moves_with_every_tag_and_credential_write(tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    seen = [catalog.catalog_version()]
    credential = catalog.create_credential(CREDENTIAL)
    seen.append(catalog.catalog_version())
    tag = catalog.add_suggested_tags(credential.id, credential.learning_outcomes[0].id, [
        {"competency_iri": "http://example.org/a", "framework": "x", "label": "a", "score": 0.5}])[0]
    seen.append(catalog.catalog_version())
    catalog.set_tag_state(tag.id, "accepted", "me")
    seen.append(catalog.catalog_version())
    snapshot = catalog.accepted_snapshot()
    assert snapshot.version == seen[-1]
    assert [(c.credential_id, c.uid, [t.id for t in c.tags]) for c in snapshot.credentials] == [
        (credential.id, credential.uid, [tag.id])]
    catalog.update_credential(credential.id, {"title": "Renamed"})
    seen.append(catalog.catalog_version())
    catalog.create_posting(POSTING)  # postings do not change what the catalog offers
    seen.append(catalog.catalog_version())
    catalog.delete_credential(credential.id)
    seen.append(catalog.catalog_version())
    assert seen == sorted(seen) and len(set(seen)) == len(seen) - 1 and seen[-2] == seen[-3]
    assert catalog.accepted_snapshot().credentials == []


def test_migration_from_schema_2_adds_the_carried_mark(tmp_path: Path) -> None:
    """A schema-2 catalog (tags without `carried_from`) gets the column, its rows intact."""
    path = tmp_path / "v2.sqlite"
    catalog = Catalog(f"sqlite:///{path}")
    credential = catalog.create_credential(CREDENTIAL)
    tag = catalog.add_manual_tag(credential.id, credential.learning_outcomes[0].id, {
        "competency_iri": "http://example.org/sql", "framework": "x", "label": "SQL"}, decided_by="Dana")
    catalog.close()
    con = sqlite3.connect(path)
    con.execute("ALTER TABLE tags DROP COLUMN carried_from")
    con.execute("UPDATE catalog_meta SET value = 2 WHERE key = 'schema_version'")
    con.commit()
    con.close()

    migrated = Catalog(f"sqlite:///{path}")
    kept = migrated.get_tag(tag.id)
    assert (kept.state, kept.decided_by, kept.carried_from) == ("accepted", "Dana", None)
    revision = migrated.revise_credential(credential.id, {"learning_outcomes": ["Write SQL", "Explain results"]})
    assert revision.changes.kept_decisions == 1 and migrated.get_tag(tag.id).carried_from == "Write SQL queries"
    migrated.close()
    con = sqlite3.connect(path)
    assert con.execute("SELECT value FROM catalog_meta WHERE key = 'schema_version'").fetchone() == (3,)
    assert "carried_from" in [row[1] for row in con.execute("PRAGMA table_info(tags)")]
    con.close()
