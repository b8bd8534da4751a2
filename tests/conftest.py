"""Fixtures shared by every test: databases on both back ends, seeded randomness.

Tests that take ``database_url`` or ``engine`` run once on SQLite (a file in ``tmp_path``)
and once on PostgreSQL, in a database of their own derived from
``DRIFTLINE_TEST_DATABASE_URL``. ``.ci/run`` always sets that variable; without it the
PostgreSQL runs are skipped with a reason.

A test that takes ``database_url`` alone gets an empty database, created for it and dropped
afterwards. A test that takes ``engine`` gets a database at the newest revision with no rows,
as if migrated for it alone; :mod:`tests.database_pool` makes that cheap (a copy of a
migrated SQLite file; a pooled PostgreSQL database emptied before it is handed out again).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import settings
from sqlalchemy.engine import URL, Engine, make_url

from storage import create_engine, sqlite_url
from tests.database_pool import PostgresPool, SqliteTemplate, postgres_database

POSTGRES_ENV = "DRIFTLINE_TEST_DATABASE_URL"

# Property tests check values, not speed: on a shared 2-core machine running two test
# workers, one example can take longer than hypothesis' default 200 ms deadline, which then
# fails a correct test as flaky. Speed is the benchmarks' business.
settings.register_profile("driftline", deadline=None)
settings.load_profile("driftline")


def postgres_base_url() -> str | None:
    """The PostgreSQL URL tests derive their databases from, if configured."""
    return os.environ.get(POSTGRES_ENV) or None


@pytest.fixture
def global_random_seed() -> int:
    """The seed of a test's random data; ``DRIFTLINE_TEST_SEED`` overrides it."""
    return int(os.environ.get("DRIFTLINE_TEST_SEED", "42"))


@pytest.fixture
def rng(global_random_seed: int) -> np.random.Generator:
    return np.random.default_rng(global_random_seed)


def postgres_server() -> URL:
    """The server and database tests derive theirs from (skips or fails without one)."""
    base = postgres_base_url()
    if base is None:
        if os.environ.get("DRIFTLINE_REQUIRE_POSTGRES"):
            pytest.fail(f"DRIFTLINE_REQUIRE_POSTGRES is set but {POSTGRES_ENV} is not")
        pytest.skip(f"{POSTGRES_ENV} is not set")
    return make_url(base).set(drivername="postgresql+psycopg")


@contextmanager
def new_postgres_database() -> Iterator[str]:
    """Create a new, empty PostgreSQL database; drop it on exit (skips without one)."""
    with postgres_database(postgres_server()) as url:
        yield url


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test."""
    with new_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    """A SQLite file at the newest revision, copied for each test that takes ``engine``."""
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[PostgresPool]:
    """PostgreSQL databases at the newest revision, emptied for each test that takes ``engine``."""
    pool = PostgresPool(postgres_server())
    yield pool
    pool.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database of the test's own on each back end: empty, or migrated if it takes ``engine``.

    Migrated means at the newest revision with no rows, exactly as a fresh migration leaves it.
    """
    migrated = "engine" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "driftline.db"
        if migrated:
            template: SqliteTemplate = request.getfixturevalue("migrated_sqlite")
            yield template.copy_to(path)
        else:
            yield sqlite_url(path)
    elif migrated:
        pool: PostgresPool = request.getfixturevalue("migrated_postgres")
        url = pool.acquire()
        yield url
        pool.release(url)
    else:
        yield str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
def empty_engine(database_url: str) -> Iterator[Engine]:
    """An engine on the test's database: empty (no tables) unless the test takes ``engine``."""
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(empty_engine: Engine) -> Engine:
    """An engine on a database at the newest revision, with no rows (see ``database_url``)."""
    return empty_engine
