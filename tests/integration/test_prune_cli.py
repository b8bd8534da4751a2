"""Tests of ``driftline db prune``, run as a real process on SQLite and PostgreSQL.

Mistakes the command refuses with one line run in this process (``driftline_in_process``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage import (
    PredictionBatch,
    create_engine,
    create_session_factory,
    insert_predictions,
    register_model,
    upsert_labels,
)
from storage.models import GroundTruthLabel, PredictionRecord
from storage.schema import FeatureSpec
from storage.types import FeatureKind, Task, utc_now
from tests.database_pool import PostgresPool
from tests.integration.test_cli import (
    Run,
    assert_ok,
    assert_user_error,
    driftline,
    driftline_in_process,
    listed_commands,
)

pytestmark = pytest.mark.integration

#: Keep the INFO lines of opening the database off stderr, so error output is exactly one line.
QUIET = {"DRIFTLINE_LOG_LEVEL": "WARNING"}
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def micros(moment: dt.datetime) -> int:
    return (moment - EPOCH) // dt.timedelta(microseconds=1)


def seed(engine: Engine) -> None:
    """Models churn and fraud, each with records 40 days, 10 days and 1 hour old.

    Churn also has an old label on its oldest record; the CLI runs against the real clock,
    so the ages are relative to now.
    """
    now = utc_now()
    ages = (dt.timedelta(days=40), dt.timedelta(days=10), dt.timedelta(hours=1))
    for name in ("churn", "fraud"):
        with create_session_factory(engine)() as session:
            model = register_model(
                session,
                name=name,
                task=Task.REGRESSION,
                version="v1",
                features=[FeatureSpec("age", FeatureKind.NUMERIC)],
            )
            session.commit()
        batch = PredictionBatch(
            request_ids=[f"{name}-40d", f"{name}-10d", f"{name}-1h"],
            timestamps_us=[micros(now - age) for age in ages],
            features={"age": [1.0, 2.0, 3.0]},
            predictions=[0.1, 0.2, 0.3],
        )
        insert_predictions(engine, model, batch)
        if name == "churn":
            upsert_labels(engine, model, ["churn-40d"], [1.0])
    with engine.begin() as connection:
        connection.execute(sa.update(GroundTruthLabel).values(received_at=now - ages[0]))


def stored(url: str) -> tuple[list[str], list[str]]:
    """Request ids of the records and of the labels left, sorted."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            records = connection.execute(sa.select(PredictionRecord.request_id)).scalars()
            labels = connection.execute(sa.select(GroundTruthLabel.request_id)).scalars()
            return sorted(records), sorted(labels)
    finally:
        engine.dispose()


def prune(cwd: Path, url: str, *args: str, env: dict[str, str] | None = None) -> Run:
    return driftline(cwd, "--database-url", url, "db", "prune", *args, env={**QUIET, **(env or {})})


def refused(cwd: Path, url: str, *args: str, env: dict[str, str] | None = None) -> str:
    """The one error line of ``db prune`` run in this process."""
    environment = {**QUIET, **(env or {})}
    run = driftline_in_process(cwd, "--database-url", url, "db", "prune", *args, env=environment)
    return assert_user_error(run)


ALL = (
    ["churn-10d", "churn-1h", "churn-40d", "fraud-10d", "fraud-1h", "fraud-40d"],
    ["churn-40d"],
)


def test_help_lists_prune(tmp_path: Path) -> None:
    run = driftline_in_process(tmp_path, "db", "--help")

    assert_ok(run)
    assert "prune" in listed_commands(run.stdout), run.transcript


def test_prune_older_than_deletes_and_says_what(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    seed(engine)

    run = prune(tmp_path, database_url, "--older-than", "5d", "--batch-size", "1")

    assert_ok(run)
    assert "deleted 4 records and 1 labels of every model older than" in run.stdout, run.transcript
    if engine.dialect.name == "postgresql":  # 2 partitions of every model's records, 1 of labels
        assert "in 3 batches (2 whole partitions)" in run.stdout, run.transcript
    else:  # 2 per model, 1 of labels
        assert "in 5 batches" in run.stdout, run.transcript
    assert run.stdout.rstrip().endswith(" s"), run.transcript
    assert stored(database_url) == (["churn-1h", "fraud-1h"], [])


def test_dry_run_counts_and_deletes_nothing(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    seed(engine)

    run = prune(tmp_path, database_url, "--older-than", "20d", "--dry-run")

    assert_ok(run)
    assert "dry run: would delete 2 records and 1 labels of every model" in run.stdout, (
        run.transcript
    )
    if engine.dialect.name == "postgresql":
        assert run.stdout.rstrip().endswith("UTC (1 whole partition)"), run.transcript
    assert stored(database_url) == ALL


@pytest.mark.postgres
def test_exact_deletes_rows_of_a_partition_not_yet_expired(
    tmp_path: Path, migrated_postgres: PostgresPool
) -> None:
    # Records 1 hour old share a partition with newer ones: only --exact removes them.
    url = migrated_postgres.acquire()
    try:
        engine = create_engine(url)
        seed(engine)
        engine.dispose()
        now = utc_now()
        shared = (now - dt.timedelta(minutes=30)).date() == (now - dt.timedelta(hours=1)).date()

        options = ("--database-url", url, "db", "prune", "--older-than", "30m")
        whole = driftline_in_process(tmp_path, *options, env=QUIET)
        exact = driftline_in_process(tmp_path, *options, "--exact", env=QUIET)

        assert_ok(whole)
        assert_ok(exact)
        assert f"deleted {4 if shared else 6} records" in whole.stdout, whole.transcript
        assert f"deleted {2 if shared else 0} records" in exact.stdout, exact.transcript
        assert stored(url) == ([], [])
    finally:
        migrated_postgres.release(url)


def test_model_option_prunes_one_model(tmp_path: Path, database_url: str, engine: Engine) -> None:
    seed(engine)

    run = prune(tmp_path, database_url, "--older-than", "1d12h", "--model", "fraud")

    assert_ok(run)
    assert "deleted 2 records and 0 labels of model 'fraud'" in run.stdout, run.transcript
    records, labels = stored(database_url)
    assert records == ["churn-10d", "churn-1h", "churn-40d", "fraud-1h"]
    assert labels == ["churn-40d"]


def test_without_older_than_the_retention_setting_applies(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    seed(engine)

    default = prune(tmp_path, database_url)  # DRIFTLINE_RETENTION_DAYS defaults to 30
    assert_ok(default)
    assert "deleted 2 records and 1 labels" in default.stdout, default.transcript
    assert stored(database_url) == (["churn-10d", "churn-1h", "fraud-10d", "fraud-1h"], [])

    week = prune(tmp_path, database_url, env={"DRIFTLINE_RETENTION_DAYS": "7"})
    assert_ok(week)
    assert stored(database_url) == (["churn-1h", "fraud-1h"], [])


def test_retention_off_prunes_nothing_and_says_so(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    seed(engine)

    run = prune(tmp_path, database_url, env={"DRIFTLINE_RETENTION_DAYS": ""})

    assert_ok(run)
    assert "retention is off" in run.stdout, run.transcript
    assert stored(database_url) == ALL


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["--older-than", "30"], "--older-than: invalid duration '30'", id="unit"),
        pytest.param(["--older-than", "0d"], "--older-than must be longer than 0s", id="zero"),
        pytest.param(
            ["--older-than", "99999999d"], "--older-than '99999999d' reaches before", id="huge"
        ),
        pytest.param(
            ["--older-than", "1d", "--model", "nope"],
            "unknown model 'nope'; registered models: churn, fraud",
            id="model",
        ),
    ],
)
def test_mistakes_are_one_line(
    tmp_path: Path, database_url: str, engine: Engine, args: list[str], expected: str
) -> None:
    seed(engine)

    line = refused(tmp_path, database_url, *args)

    assert expected in line
    assert stored(database_url) == ALL


def test_a_bad_retention_setting_is_one_line(tmp_path: Path, database_url: str) -> None:
    line = refused(tmp_path, database_url, env={"DRIFTLINE_RETENTION_DAYS": "0"})

    assert line.startswith("error: DRIFTLINE_RETENTION_DAYS: must be a whole number of days")
