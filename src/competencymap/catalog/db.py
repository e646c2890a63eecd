"""Engines and sessions for the catalog database.

SQLite (the default, a file under ``Settings.home``) and any other SQLAlchemy URL
(PostgreSQL in production) are supported. For SQLite every connection runs with
WAL journaling, a busy timeout and foreign keys on, and SQLAlchemy (not the
sqlite3 module) emits BEGIN: ``BEGIN IMMEDIATE`` for write transactions, so
concurrent writers from several threads or processes queue on the write lock
instead of failing with "database is locked", and plain ``BEGIN`` for reads.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from competencymap._common.errors import CompetencyMapError

BUSY_TIMEOUT_SECONDS = 60.0
WRITE_OPTION = "competencymap_write"
SCHEMA_ATTEMPTS = 20


class CatalogError(CompetencyMapError):
    """The catalog database cannot be opened, or a write conflicts with stored data."""


def make_engine(url: str) -> Engine:
    """An engine for `url`, configured for safe concurrent use (see module notes)."""
    parsed = _parse_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed)
        return create_engine(parsed, pool_pre_ping=True)
    except (NoSuchModuleError, ArgumentError, ImportError) as exc:
        raise CatalogError(f"cannot open database {safe_url(url)}: {exc}") from None


def create_schema(engine: Engine) -> None:
    """Create missing tables, or migrate an older catalog to the current schema version.

    Idempotent, and safe when several processes start at once (see ``migrate``)."""
    from competencymap.catalog.migrate import SchemaError, ensure_schema

    for attempt in range(SCHEMA_ATTEMPTS):
        try:
            ensure_schema(engine, write_engine(engine))
            return
        except SchemaError as exc:
            raise CatalogError(f"{safe_url(engine.url)}: {exc}") from None
        except DBAPIError as exc:
            # SQLite answers "locked" without waiting while another first start switches the
            # file to WAL; try again shortly rather than fail that start.
            if attempt + 1 == SCHEMA_ATTEMPTS or "locked" not in _reason(exc):
                raise CatalogError(
                    f"cannot create the catalog schema on {safe_url(engine.url)}: {_reason(exc)}"
                ) from exc
            time.sleep(0.05 * (attempt + 1))


def write_engine(engine: Engine) -> Engine:
    """The same engine, marked so that its transactions take the write lock up front."""
    return engine.execution_options(**{WRITE_OPTION: True})


def safe_url(url: str | URL) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"


@contextmanager
def transaction(bind: Engine) -> Iterator[Session]:
    """A session inside one transaction: committed on success, rolled back on any error.

    Pass :func:`write_engine` of the engine for transactions that write.
    Database errors (locked beyond the timeout, server unreachable, constraint
    conflicts) surface as one-line :class:`CatalogError` messages.
    """
    try:
        with Session(bind, expire_on_commit=False) as session, session.begin():
            yield session
    except IntegrityError as exc:
        raise CatalogError(f"write conflicts with stored data: {_reason(exc)}") from exc
    except DBAPIError as exc:
        raise CatalogError(f"database error on {safe_url(bind.url)}: {_reason(exc)}") from exc


def _parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise CatalogError(f"not a database URL: {url!r} (expected e.g. sqlite:///catalog.sqlite)") from None


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or "mode=memory" in str(url)
    if in_memory:
        # One shared connection: fine for tests, no concurrency.
        engine = create_engine(url, connect_args={"check_same_thread": False}, poolclass=StaticPool)
    else:
        if not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False}
        )
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # Take BEGIN away from the sqlite3 module; _sqlite_on_begin emits it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _sqlite_on_begin(connection) -> None:
    mode = "IMMEDIATE" if connection.get_execution_options().get(WRITE_OPTION) else "DEFERRED"
    connection.exec_driver_sql(f"BEGIN {mode}")


def _reason(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
