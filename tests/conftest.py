"""Fixtures shared by every test: databases on both back ends, seeded randomness.

Tests that take ``database_url`` or ``engine`` run once on SQLite (a file in ``tmp_path``)
and once on PostgreSQL, in a fresh database created for the test from
``DRIFTLINE_TEST_DATABASE_URL`` and dropped afterwards. ``.ci/run`` always sets that
variable; without it the PostgreSQL runs are skipped with a reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from storage import create_engine, sqlite_url
from storage.migrations import upgrade

POSTGRES_ENV = "DRIFTLINE_TEST_DATABASE_URL"


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


@contextmanager
def new_postgres_database() -> Iterator[str]:
    """Create a new, empty PostgreSQL database; drop it on exit (skips without one)."""
    base = postgres_base_url()
    if base is None:
        if os.environ.get("DRIFTLINE_REQUIRE_POSTGRES"):
            pytest.fail(f"DRIFTLINE_REQUIRE_POSTGRES is set but {POSTGRES_ENV} is not")
        pytest.skip(f"{POSTGRES_ENV} is not set")
    url = make_url(base).set(drivername="postgresql+psycopg")
    name = f"{url.database}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test."""
    with new_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty database on each back end."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path_factory.mktemp("sqlite") / "driftline.db")
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
def empty_engine(database_url: str) -> Iterator[Engine]:
    """An engine on an empty database (no tables)."""
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(empty_engine: Engine) -> Engine:
    """An engine on a database migrated to the newest revision."""
    upgrade(empty_engine)
    return empty_engine
