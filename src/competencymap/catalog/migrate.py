"""The catalog schema version and the migrations between versions.

``catalog_meta`` holds ``schema_version``. A database without that table but with a
``credentials`` table was made before versions existed: version 1. Version 2 adds a public
``uid`` (UUID4) to credentials and postings, makes every table AUTOINCREMENT on SQLite (so a
deleted id is never given again) and starts the catalog version counter. Version 3 adds
``tags.carried_from``: the outcome's earlier wording under which a kept decision was made (NULL
for every tag stored before; see ``Catalog.revise_credential``).

SQLite cannot add AUTOINCREMENT to a table in place, so version 1 tables are rebuilt: renamed
aside, created anew, their rows copied with their ids, the old tables dropped, the foreign keys
checked, all in one ``BEGIN IMMEDIATE`` transaction (foreign key enforcement off meanwhile, as
SQLite's documented procedure for changing a table asks). Another process starting at the same
time waits on the lock, then finds the new version and does nothing. On other databases
(PostgreSQL) the uid columns are added in place; their sequences never reuse ids anyway.

Version 2 becomes 3 in place on every database (``ALTER TABLE tags ADD COLUMN``), under the write
lock, so concurrent first starts add the column once. A version 1 SQLite catalog is rebuilt with
the current tables at once; a version 1 catalog elsewhere goes to 2, then to 3.

A version 1 SQLite file keeps no trace of rows deleted from the top of a table, so the first id
after the migration may be one such a row had; from then on no id is given twice, and uids never.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, inspect, text

from competencymap.catalog.tables import META_CATALOG, META_SCHEMA, SCHEMA_VERSION, Base, MetaRow, new_uid

V1_TABLES = ("credentials", "outcomes", "tags", "postings")  # dependency order (parents first)
UID_TABLES = ("credentials", "postings")


class SchemaError(Exception):
    """The database's schema is one this code cannot use (raised as CatalogError by the caller)."""


def schema_version(connection: Connection) -> int | None:
    """The version of the catalog schema in this database: None when it holds no catalog yet."""
    tables = set(inspect(connection).get_table_names())
    if MetaRow.__tablename__ in tables:
        row = connection.execute(
            text("SELECT value FROM catalog_meta WHERE key = :key"), {"key": META_SCHEMA}
        ).first()
        if row is not None:
            return int(row[0])
    if "credentials" in tables:
        return 1
    return None


def ensure_schema(engine: Engine, writer: Engine) -> None:
    """Create a new catalog, or bring an older one to :data:`SCHEMA_VERSION` (idempotent)."""
    with engine.connect() as connection:
        version = schema_version(connection)
        connection.rollback()
    if version == SCHEMA_VERSION:
        return
    if version is not None and version > SCHEMA_VERSION:
        raise SchemaError(
            f"the catalog schema is version {version}, newer than this competencymap understands "
            f"({SCHEMA_VERSION}); upgrade competencymap"
        )
    if version == 1:
        if engine.dialect.name == "sqlite":
            _sqlite_from_v1(writer)  # rebuilds with the current tables: version 3 at once
        else:
            _generic_from_v1(writer)  # version 2
    if version in (1, 2):
        _from_v2(writer)
        return
    with writer.begin() as connection:
        Base.metadata.create_all(connection)
        _set_meta(connection, META_SCHEMA, SCHEMA_VERSION)
        _set_meta(connection, META_CATALOG, 0, only_if_missing=True)


def _set_meta(connection: Connection, key: str, value: int, *, only_if_missing: bool = False) -> None:
    found = connection.execute(text("SELECT value FROM catalog_meta WHERE key = :key"), {"key": key}).first()
    if found is None:
        connection.execute(text("INSERT INTO catalog_meta (key, value) VALUES (:key, :value)"), {"key": key, "value": value})
    elif not only_if_missing:
        connection.execute(text("UPDATE catalog_meta SET value = :value WHERE key = :key"), {"key": key, "value": value})


def _columns(connection: Connection, table: str) -> list[str]:
    return [column["name"] for column in inspect(connection).get_columns(table)]


def _sqlite_from_v1(writer: Engine) -> None:
    with writer.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")  # outside a transaction, or it has no effect
        try:
            with connection.begin():  # BEGIN IMMEDIATE: the write lock, held to the end
                if schema_version(connection) != 1:
                    return  # another process migrated it while this one waited
                _rebuild_sqlite_tables(connection)
                problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise SchemaError(f"migration to schema {SCHEMA_VERSION} broke foreign keys: {problems[:3]}")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


def _rebuild_sqlite_tables(connection: Connection) -> None:
    present = set(inspect(connection).get_table_names())
    old = [name for name in V1_TABLES if name in present]
    columns = {name: _columns(connection, name) for name in old}
    for name in old:
        for index in inspect(connection).get_indexes(name):
            if index["name"]:
                connection.exec_driver_sql(f'DROP INDEX IF EXISTS "{index["name"]}"')
        connection.exec_driver_sql(f'ALTER TABLE "{name}" RENAME TO "_v1_{name}"')
    Base.metadata.create_all(connection)
    for name in old:
        names = ", ".join(f'"{c}"' for c in columns[name])
        if name in UID_TABLES:
            connection.exec_driver_sql(
                f'INSERT INTO "{name}" ({names}, uid) SELECT {names}, \'v1-\' || id FROM "_v1_{name}" ORDER BY id'
            )
            _fill_uids(connection, name)
        else:
            connection.exec_driver_sql(f'INSERT INTO "{name}" ({names}) SELECT {names} FROM "_v1_{name}" ORDER BY id')
    for name in reversed(old):
        connection.exec_driver_sql(f'DROP TABLE "_v1_{name}"')
    _set_meta(connection, META_SCHEMA, SCHEMA_VERSION)
    _set_meta(connection, META_CATALOG, 0, only_if_missing=True)


def _fill_uids(connection: Connection, table: str) -> None:
    ids = [row[0] for row in connection.execute(text(f'SELECT id FROM "{table}"'))]
    if ids:
        connection.execute(text(f'UPDATE "{table}" SET uid = :uid WHERE id = :id'),
                           [{"uid": new_uid(), "id": i} for i in ids])


def _generic_from_v1(writer: Engine) -> None:
    """PostgreSQL and others: add the uid columns in place, in one transaction."""
    with writer.begin() as connection:
        connection.execute(text("LOCK TABLE credentials IN ACCESS EXCLUSIVE MODE"))
        if schema_version(connection) != 1:
            return
        for table in UID_TABLES:
            if "uid" not in _columns(connection, table):
                connection.execute(text(f"ALTER TABLE {table} ADD COLUMN uid VARCHAR(36)"))
            _fill_uids(connection, table)
            connection.execute(text(f"ALTER TABLE {table} ALTER COLUMN uid SET NOT NULL"))
            connection.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT uq_{table}_uid UNIQUE (uid)"))
        Base.metadata.create_all(connection)  # catalog_meta
        _set_meta(connection, META_SCHEMA, 2)
        _set_meta(connection, META_CATALOG, 0, only_if_missing=True)


def _from_v2(writer: Engine) -> None:
    """Version 2 to 3: tags get their nullable ``carried_from`` column (every database, in place)."""
    with writer.begin() as connection:  # SQLite: BEGIN IMMEDIATE, the write lock held to the end
        if connection.dialect.name != "sqlite":
            connection.execute(text("LOCK TABLE tags IN ACCESS EXCLUSIVE MODE"))
        if schema_version(connection) != 2:
            return  # another process migrated it while this one waited
        if "carried_from" not in _columns(connection, "tags"):
            connection.execute(text("ALTER TABLE tags ADD COLUMN carried_from TEXT"))
        _set_meta(connection, META_SCHEMA, 3)
