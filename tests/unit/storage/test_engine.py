"""Tests of :mod:`storage.engine`: URL parsing and masking, engine settings, connection errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from storage.engine import (
    check_connection,
    create_engine,
    display_url,
    parse_database_url,
    sqlite_url,
)
from storage.errors import DatabaseConnectionError, DatabaseURLError

SECRET = "hunter2-s3cret"


@pytest.mark.parametrize(
    "url",
    [
        "postgres://alice@db.example.com:5432/drift",
        "postgresql://alice@db.example.com:5432/drift",
        "postgresql+psycopg2://alice@db.example.com:5432/drift",
        "postgresql+psycopg://alice@db.example.com:5432/drift",
    ],
)
def test_postgres_urls_select_psycopg3(url: str) -> None:
    parsed = parse_database_url(url)

    assert parsed.drivername == "postgresql+psycopg"
    assert (parsed.username, parsed.host, parsed.port, parsed.database) == (
        "alice",
        "db.example.com",
        5432,
        "drift",
    )


def test_postgres_password_survives_parsing() -> None:
    parsed = parse_database_url(f"postgres://alice:{SECRET}@db/drift")

    assert parsed.password == SECRET


@pytest.mark.parametrize("url", ["sqlite:///tmp/driftline.db", "sqlite+pysqlite:///x.db"])
def test_sqlite_urls_are_accepted(url: str) -> None:
    assert parse_database_url(url).get_backend_name() == "sqlite"


@pytest.mark.parametrize(
    ("url", "fragments"),
    [
        (f"mysql://root:{SECRET}@db/drift", ["unsupported database 'mysql'", "SQLite or Postgre"]),
        (f"oracle://scott:{SECRET}@db/orcl", ["unsupported database 'oracle'"]),
        ("sqlite+aiosqlite:///x.db", ["unsupported SQLite driver", "sqlite:///PATH"]),
        (f"postgresql://alice:{SECRET}@db.example.com", ["names no database", "/DBNAME"]),
        (f"postgres://alice:{SECRET}@db.example.com/", ["names no database"]),
        ("not a url", ["cannot parse database URL", "sqlite:///", "postgresql://"]),
        (f"post gres://alice:{SECRET}@db/drift", ["cannot parse database URL"]),
    ],
)
def test_unusable_urls_raise_a_clear_error_without_the_password(
    url: str, fragments: list[str]
) -> None:
    with pytest.raises(DatabaseURLError) as caught:
        parse_database_url(url)

    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message
    assert SECRET not in message


@pytest.mark.parametrize(
    "url",
    [
        f"alice:{SECRET}@db.example.com/drift",
        f"postgresql//alice:{SECRET}@db.example.com/drift",
        f"postgresql:/alice:{SECRET}@db.example.com/drift",
    ],
    ids=["no-scheme", "missing-colon", "single-slash"],
)
def test_unparseable_url_message_never_shows_the_password(url: str) -> None:
    # Typos in the scheme are the likeliest malformed URLs; the credentials in them must
    # still be masked in the error.
    with pytest.raises(DatabaseURLError) as caught:
        parse_database_url(url)

    assert SECRET not in str(caught.value)
    assert SECRET not in display_url(url)


def test_non_numeric_port_is_a_database_url_error() -> None:
    url = f"postgresql://alice:{SECRET}@db.example.com:54x2/drift"

    with pytest.raises(DatabaseURLError) as caught:
        parse_database_url(url)

    assert SECRET not in str(caught.value)


def test_display_url_of_a_non_numeric_port_masks_instead_of_raising() -> None:
    shown = display_url(f"postgresql://alice:{SECRET}@db.example.com:54x2/drift")

    assert SECRET not in shown


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            f"postgresql://alice:{SECRET}@db.example.com:5432/drift",
            "postgresql://alice:***@db.example.com:5432/drift",
        ),
        ("postgresql://alice@db.example.com/drift", "postgresql://alice@db.example.com/drift"),
        ("sqlite:////var/lib/driftline.db", "sqlite:////var/lib/driftline.db"),
    ],
)
def test_display_url_masks_only_the_password(url: str, expected: str) -> None:
    assert display_url(url) == expected
    assert display_url(sa.make_url(url)) == expected


def test_sqlite_url_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    assert sqlite_url(Path("data/x.db")) == f"sqlite:///{tmp_path.resolve()}/data/x.db"


def test_create_engine_rejects_unsupported_urls_before_connecting() -> None:
    with pytest.raises(DatabaseURLError, match="unsupported database 'mysql'"):
        create_engine(f"mysql://root:{SECRET}@db/drift")


def test_create_engine_uses_psycopg_for_postgres_scheme() -> None:
    engine = create_engine("postgres://alice@127.0.0.1:1/drift")
    try:
        assert engine.dialect.name == "postgresql"
        assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()


def test_unreachable_postgres_raises_connection_error_without_password() -> None:
    engine = create_engine(f"postgresql://alice:{SECRET}@127.0.0.1:1/drift")
    try:
        with pytest.raises(DatabaseConnectionError) as caught:
            check_connection(engine)
    finally:
        engine.dispose()

    message = str(caught.value)
    assert SECRET not in message
    assert "postgresql+psycopg://alice:***@127.0.0.1:1/drift" in message
    assert "\n" not in message
    assert isinstance(caught.value, ConnectionError)


def test_unopenable_sqlite_file_raises_connection_error(tmp_path: Path) -> None:
    (tmp_path / "driftline.db").mkdir()  # a directory where the file should be
    engine = create_engine(sqlite_url(tmp_path / "driftline.db"))
    try:
        with pytest.raises(DatabaseConnectionError, match="cannot connect to database"):
            check_connection(engine)
    finally:
        engine.dispose()


def test_check_connection_passes_on_a_working_database(tmp_path: Path) -> None:
    engine = create_engine(sqlite_url(tmp_path / "ok.db"))
    try:
        check_connection(engine)
    finally:
        engine.dispose()
    assert (tmp_path / "ok.db").is_file()


def test_sqlite_parent_directory_is_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "driftline.db"

    engine = create_engine(sqlite_url(path))
    try:
        assert path.parent.is_dir()
    finally:
        engine.dispose()


def test_sqlite_pragmas_are_set_on_every_connection(tmp_path: Path) -> None:
    path = tmp_path / "driftline.db"
    engine = create_engine(sqlite_url(path))
    try:
        with engine.connect() as first, engine.connect() as second:
            for connection in (first, second):
                pragma = connection.exec_driver_sql
                assert pragma("PRAGMA journal_mode").scalar() == "wal"
                assert pragma("PRAGMA foreign_keys").scalar() == 1
                assert pragma("PRAGMA busy_timeout").scalar() == 10_000
                assert pragma("PRAGMA synchronous").scalar() == 1  # NORMAL
    finally:
        engine.dispose()
    # WAL is a property of the file: a plain sqlite3 connection sees it too.
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    raw.close()
