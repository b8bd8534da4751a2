"""Migrated test databases without migrating once per test.

Creating, migrating and dropping a PostgreSQL database costs about a second; SQLite's
migration a tenth of one. Tests that take the ``engine`` fixture only need a database at the
newest revision holding no rows, so:

- SQLite: the schema is migrated once into a template file, and each test gets a copy.
- PostgreSQL: migrated databases are kept in a pool. Before a database is handed out again,
  every other connection to it is ended, every row deleted and every sequence restarted, so
  it is indistinguishable from a freshly migrated one. If a test changed the schema itself
  (any table, column, index, constraint, type, function, trigger or the revision differs
  from right after the migration), the database is dropped and a new one migrated instead.
  Partitions of the records table are not schema in that sense: inserts create them on
  demand, so they are left out of the comparison, and those created since the migration
  are dropped when the database is emptied.

:class:`MigratedState` does the emptying; fixtures that share one database between tests
(one app per back end for a whole directory) use it directly, on either back end.
"""

from __future__ import annotations

import graphlib
import shutil
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError

from storage import create_engine, sqlite_url
from storage.migrations import upgrade

__all__ = [
    "MigratedState",
    "PostgresPool",
    "SchemaChangedError",
    "SqliteTemplate",
    "postgres_database",
]

_PG_USER_SCHEMAS = (
    "SELECT oid FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp%'"
)
#: Tables and indexes that are partitions of another (made at run time, not by migrations).
_PG_PARTITIONS = "SELECT oid FROM pg_class WHERE relispartition"
#: One text naming every schema object a test could add, drop or alter.
_PG_FINGERPRINT = f"""
SELECT md5(coalesce(string_agg(item, E'\\n' ORDER BY item), '')) FROM (
  SELECT 'rel ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text AS item
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relnamespace IN ({_PG_USER_SCHEMAS}) AND NOT c.relispartition
  UNION ALL
  SELECT 'col ' || c.oid::regclass::text || '.' || a.attname || ' '
         || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull::text || ' '
         || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE c.relnamespace IN ({_PG_USER_SCHEMAS}) AND a.attnum > 0 AND NOT a.attisdropped
     AND NOT c.relispartition
  UNION ALL
  SELECT 'con ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
   WHERE connamespace IN ({_PG_USER_SCHEMAS}) AND conrelid NOT IN ({_PG_PARTITIONS})
  UNION ALL
  SELECT 'idx ' || indexrelid::regclass::text || ' ' || pg_get_indexdef(indexrelid) FROM pg_index
   WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace IN ({_PG_USER_SCHEMAS}))
     AND indrelid NOT IN ({_PG_PARTITIONS})
  UNION ALL
  SELECT 'typ ' || typname FROM pg_type WHERE typnamespace IN ({_PG_USER_SCHEMAS})
     AND typrelid NOT IN ({_PG_PARTITIONS})
     AND typelem NOT IN (SELECT reltype FROM pg_class WHERE relispartition AND reltype <> 0)
  UNION ALL
  SELECT 'fun ' || oid::regprocedure::text FROM pg_proc WHERE pronamespace IN ({_PG_USER_SCHEMAS})
  UNION ALL
  SELECT 'trg ' || tgname FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT 'ext ' || extname FROM pg_extension
) AS objects
"""
_PG_TABLES = f"""
SELECT c.relname FROM pg_class c
 WHERE c.relkind IN ('r', 'p') AND c.relnamespace IN ({_PG_USER_SCHEMAS}) AND NOT c.relispartition
"""
_PG_FOREIGN_KEYS = f"""
SELECT referencing.relname, referenced.relname FROM pg_constraint
  JOIN pg_class referencing ON referencing.oid = conrelid
  JOIN pg_class referenced ON referenced.oid = confrelid
 WHERE contype = 'f' AND connamespace IN ({_PG_USER_SCHEMAS})
"""
_PG_SEQUENCES = f"""
SELECT c.oid::regclass::text FROM pg_class c
 WHERE c.relkind = 'S' AND c.relnamespace IN ({_PG_USER_SCHEMAS})
"""
#: Partitions of partitioned tables, by name.
_PG_PARTITION_NAMES = f"""
SELECT c.oid::regclass::text FROM pg_class c
 WHERE c.relkind IN ('r', 'p') AND c.relispartition
   AND c.relnamespace IN ({_PG_USER_SCHEMAS})
"""
_PG_OTHER_SESSIONS = """
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid()
"""
_SQLITE_FINGERPRINT = (
    "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master "
    "WHERE name <> 'sqlite_sequence' ORDER BY type, name"
)
_SQLITE_TABLES = (
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'"
)
#: Rows that belong to the schema itself, not to a test.
_KEPT_TABLES = frozenset({"alembic_version"})


class SchemaChangedError(AssertionError):
    """A test changed the schema of a database other tests go on using."""


def _quoted(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def _tables_and_references(connection: Connection) -> tuple[set[str], list[tuple[str, str]]]:
    """The tables holding rows of tests, and (referencing, referenced) pairs among them."""
    if connection.dialect.name == "postgresql":
        tables = set(connection.execute(sa.text(_PG_TABLES)).scalars())
        references = [(a, b) for a, b in connection.execute(sa.text(_PG_FOREIGN_KEYS))]
    else:
        tables = set(connection.execute(sa.text(_SQLITE_TABLES)).scalars())
        references = [
            (table, str(row.table))
            for table in sorted(tables)
            for row in connection.execute(
                sa.text(f"PRAGMA foreign_key_list({_quoted(connection, table)})")
            )
        ]
    return tables - _KEPT_TABLES, references


def _partitions(connection: Connection) -> set[str]:
    """Partitions of the partitioned tables (as quoted, schema-qualified-if-needed names)."""
    if connection.dialect.name != "postgresql":
        return set()
    return set(connection.execute(sa.text(_PG_PARTITION_NAMES)).scalars())


def _fingerprint(connection: Connection) -> str:
    if connection.dialect.name == "postgresql":
        objects = str(connection.execute(sa.text(_PG_FINGERPRINT)).scalar_one())
    else:
        objects = repr(connection.execute(sa.text(_SQLITE_FINGERPRINT)).all())
    revisions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
    return f"{objects} {sorted(revisions)}"


class MigratedState:
    """What a database looked like right after migrating, and how to bring it back there.

    Build it on a freshly migrated database; :meth:`empty` later deletes every row (the
    revision table's aside) and restarts every sequence, unless the schema changed since.
    """

    def __init__(self, connection: Connection) -> None:
        self.fingerprint = _fingerprint(connection)
        tables, references = _tables_and_references(connection)
        graph: dict[str, set[str]] = {table: set() for table in tables}
        for referencing, referenced in references:
            if referencing != referenced and {referencing, referenced} <= tables:
                graph[referenced].add(referencing)  # delete the referencing rows first
        try:
            self.tables = list(graphlib.TopologicalSorter(graph).static_order())
            self.ordered = True
        except graphlib.CycleError:
            self.tables, self.ordered = sorted(tables), False
        self.partitions = _partitions(connection)
        if connection.dialect.name == "postgresql":
            self.sequences = sorted(connection.execute(sa.text(_PG_SEQUENCES)).scalars())
        else:
            names = connection.execute(sa.text("SELECT name FROM sqlite_master")).scalars()
            self.sequences = ["sqlite_sequence"] if "sqlite_sequence" in set(names) else []

    def matches(self, engine: Engine) -> bool:
        """Whether ``engine``'s database still has the schema and revision it had."""
        try:
            with engine.connect() as connection:
                return _fingerprint(connection) == self.fingerprint
        except DBAPIError:  # e.g. the revision table was dropped
            return False

    def empty(self, engine: Engine) -> None:
        """Delete every row and restart every sequence of ``engine``'s database.

        Raises
        ------
        SchemaChangedError
            If the schema is no longer the migrated one.
        """
        if not self.matches(engine):
            raise SchemaChangedError(f"a test changed the schema of {engine.url!r}")
        with engine.begin() as connection:
            for partition in sorted(_partitions(connection) - self.partitions):
                connection.execute(sa.text(f"DROP TABLE IF EXISTS {partition}"))
            quoted = [_quoted(connection, table) for table in self.tables]
            if self.ordered:  # much faster than TRUNCATE on tables this small
                for table in quoted:
                    connection.execute(sa.text(f"DELETE FROM {table}"))
            elif quoted:
                connection.execute(sa.text(f"TRUNCATE {', '.join(quoted)} CASCADE"))
            for sequence in self.sequences:
                if connection.dialect.name == "postgresql":
                    connection.execute(sa.text(f"ALTER SEQUENCE {sequence} RESTART"))
                else:
                    connection.execute(sa.text(f"DELETE FROM {sequence}"))

    @classmethod
    def of(cls, engine: Engine) -> MigratedState:
        with engine.connect() as connection:
            return cls(connection)


@contextmanager
def postgres_database(base: URL) -> Iterator[str]:
    """Create a new, empty database next to ``base``'s; drop it on exit."""
    name = f"{base.database}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


class _Pooled:
    """One pooled database: its URL, its migrated state, and how to drop it."""

    def __init__(self, url: str, cleanup: ExitStack) -> None:
        self.url = url
        self._cleanup = cleanup
        engine = sa.create_engine(url)
        try:
            self.state = MigratedState.of(engine)
        finally:
            engine.dispose()

    def reset(self) -> bool:
        """End its other sessions and empty it; ``False`` if its schema was changed."""
        engine = sa.create_engine(self.url)
        try:
            with engine.begin() as connection:
                connection.execute(sa.text(_PG_OTHER_SESSIONS))
            try:
                self.state.empty(engine)
            except SchemaChangedError:
                return False
            return True
        finally:
            engine.dispose()

    def drop(self) -> None:
        self._cleanup.close()


class PostgresPool:
    """Migrated PostgreSQL databases, handed out empty one test at a time."""

    def __init__(self, base: URL) -> None:
        self._base = base
        self._free: list[_Pooled] = []
        self._taken: dict[str, _Pooled] = {}

    def acquire(self) -> str:
        """The URL of a migrated database with no rows, for the caller alone."""
        while self._free:
            database = self._free.pop()
            if database.reset():
                self._taken[database.url] = database
                return database.url
            database.drop()
        database = self._new()
        self._taken[database.url] = database
        return database.url

    def release(self, url: str) -> None:
        """Give the database back; it is emptied when next acquired."""
        self._free.append(self._taken.pop(url))

    def close(self) -> None:
        for database in [*self._free, *self._taken.values()]:
            database.drop()
        self._free.clear()
        self._taken.clear()

    def _new(self) -> _Pooled:
        with ExitStack() as cleanup:
            url = cleanup.enter_context(postgres_database(self._base))
            _migrate(url)
            database = _Pooled(url, cleanup.pop_all())
        return database


class SqliteTemplate:
    """A migrated SQLite file that tests copy instead of migrating their own."""

    def __init__(self, folder: Path) -> None:
        self._path = folder / "migrated.db"
        _migrate(sqlite_url(self._path))
        leftovers = [p for p in folder.iterdir() if p != self._path]
        if leftovers:  # a WAL not folded back into the file would be lost by the copy
            raise RuntimeError(f"the SQLite template left {leftovers} behind")

    def copy_to(self, path: Path) -> str:
        """Copy the migrated database to ``path``; return its URL."""
        shutil.copyfile(self._path, path)
        return sqlite_url(path)
