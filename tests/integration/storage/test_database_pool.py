"""The test databases behind the ``engine`` fixture are as good as freshly migrated ones.

:mod:`tests.database_pool` reuses migrated databases instead of migrating one per test; these
tests check that what a test leaves behind (rows, advanced sequences, open transactions, a
changed schema) never reaches the next one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage import FeatureSpec, create_engine, create_session_factory, register_model
from storage.migrations import current_revision, head_revision, schema_differences
from storage.partitions import DAY_US, ensure_covered, list_partitions
from storage.types import FeatureKind
from tests.conftest import postgres_server
from tests.database_pool import MigratedState, PostgresPool, SchemaChangedError, SqliteTemplate

pytestmark = pytest.mark.integration

INDEX = "ix_prediction_records_model_time"


def add_model(engine: Engine, name: str) -> int:
    with create_session_factory(engine).begin() as session:
        handle = register_model(
            session,
            name=name,
            task="regression",
            version="1",
            features=(FeatureSpec("x", FeatureKind.NUMERIC),),
        )
    return handle.model_id


def model_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(sa.text("SELECT count(*) FROM models")) or 0)


def indexes(engine: Engine) -> set[str]:
    return {index["name"] for index in sa.inspect(engine).get_indexes("prediction_records")}


def test_the_engine_fixture_is_at_the_newest_revision_with_no_rows(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    assert schema_differences(engine) == []
    assert model_count(engine) == 0
    assert add_model(engine, "first") == 1  # sequences start where a fresh migration's do


def test_emptying_in_place_deletes_every_row_and_restarts_the_ids(engine: Engine) -> None:
    state = MigratedState.of(engine)
    add_model(engine, "first")
    assert add_model(engine, "second") == 2

    state.empty(engine)

    assert model_count(engine) == 0
    assert add_model(engine, "third") == 1
    assert current_revision(engine) == head_revision()


def test_emptying_in_place_refuses_a_changed_schema(engine: Engine) -> None:
    state = MigratedState.of(engine)
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP INDEX {INDEX}"))

    with pytest.raises(SchemaChangedError, match="changed the schema"):
        state.empty(engine)


@pytest.fixture
def pool() -> Iterator[PostgresPool]:
    pool = PostgresPool(postgres_server())
    yield pool
    pool.close()


@pytest.mark.postgres
def test_a_reused_postgres_database_has_no_rows_and_restarted_sequences(
    pool: PostgresPool,
) -> None:
    url = pool.acquire()
    engine = create_engine(url)
    add_model(engine, "first")
    assert add_model(engine, "second") == 2
    left_open = engine.connect()  # a session a careless test left inside a transaction
    left_open.execute(sa.text("SELECT * FROM models FOR UPDATE"))
    pool.release(url)

    again = pool.acquire()

    assert again == url  # reused, not migrated anew
    left_open.invalidate()  # its server session was ended to free the rows it locked
    engine.dispose()
    engine = create_engine(again)
    try:
        assert model_count(engine) == 0
        assert add_model(engine, "third") == 1
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
        pool.release(again)


@pytest.mark.postgres
def test_a_postgres_database_whose_schema_changed_is_replaced(pool: PostgresPool) -> None:
    url = pool.acquire()
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP INDEX {INDEX}"))
    finally:
        engine.dispose()
    pool.release(url)

    again = pool.acquire()

    assert again != url
    engine = create_engine(again)
    try:
        assert INDEX in indexes(engine)
        assert schema_differences(engine) == []
    finally:
        engine.dispose()
        pool.release(again)
    gone = create_engine(url)
    try:
        with pytest.raises(sa.exc.OperationalError, match="does not exist"):
            gone.connect()
    finally:
        gone.dispose()


@pytest.mark.postgres
def test_partitions_inserts_created_are_dropped_and_the_database_reused(
    pool: PostgresPool,
) -> None:
    # Inserts create record partitions on demand: that is data, not a schema change.
    url = pool.acquire()
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            ensure_covered(connection, np.array([0, 3 * DAY_US], dtype=np.int64))
            assert len(list_partitions(connection)) == 2
    finally:
        engine.dispose()
    pool.release(url)

    again = pool.acquire()

    assert again == url  # reused, not migrated anew
    engine = create_engine(again)
    try:
        with engine.connect() as connection:
            assert list_partitions(connection) == []
        assert schema_differences(engine) == []
    finally:
        engine.dispose()
        pool.release(again)


def test_each_sqlite_copy_starts_from_the_migrated_template(tmp_path: Path) -> None:
    template = SqliteTemplate(tmp_path / "template")
    first = create_engine(template.copy_to(tmp_path / "first.db"))
    try:
        add_model(first, "first")
        with first.begin() as connection:
            connection.execute(sa.text(f"DROP INDEX {INDEX}"))
    finally:
        first.dispose()

    second = create_engine(template.copy_to(tmp_path / "second.db"))
    try:
        assert model_count(second) == 0
        assert INDEX in indexes(second)
        assert current_revision(second) == head_revision()
    finally:
        second.dispose()
