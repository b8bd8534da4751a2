"""Tests of :mod:`storage.migrations` on SQLite and PostgreSQL.

The migration scripts must build exactly what the ORM models declare (what ``alembic check``
verifies), downgrade cleanly and name every constraint by the naming convention.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage.errors import MigrationError
from storage.migrations import (
    check,
    current_revision,
    downgrade,
    head_revision,
    schema_differences,
    script_location,
    upgrade,
)
from storage.models import Base
from storage.models.base import applies_to

pytestmark = pytest.mark.integration

VERSIONS = Path(__file__).resolve().parents[3] / "alembic" / "versions"

#: Every table Driftline owns, written out independently of the models.
TABLES = {
    "alert_events",
    "alert_rules",
    "alerts",
    "api_tokens",
    "channels",
    "deliveries",
    "delivery_attempts",
    "feature_categories",
    "ground_truth_labels",
    "model_versions",
    "models",
    "monitor_results",
    "monitors",
    "notification_log",
    "online_events",
    "online_examples",
    "online_snapshots",
    "online_updates",
    "prediction_records",
    "reference_datasets",
    "silences",
}


def driftline_tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def revisions_in_files() -> list[str]:
    """The ``revision = "..."`` value of every migration script, read without importing it."""
    found = []
    for path in sorted(VERSIONS.glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            target = getattr(node, "target", None) or getattr(node, "targets", [None])[0]
            if isinstance(target, ast.Name) and target.id == "revision":
                value = node.value  # type: ignore[attr-defined]
                assert isinstance(value, ast.Constant)
                assert isinstance(value.value, str)
                found.append(value.value)
    return found


def test_head_revision_is_the_newest_script_revision() -> None:
    revisions = revisions_in_files()

    assert len(revisions) == len(set(revisions))
    assert head_revision() == max(revisions)


def test_script_location_is_the_checkout_alembic_folder() -> None:
    assert script_location() == VERSIONS.parent


def test_upgrade_creates_exactly_the_models(empty_engine: Engine) -> None:
    assert current_revision(empty_engine) is None
    assert driftline_tables(empty_engine) == set()

    upgrade(empty_engine)

    assert current_revision(empty_engine) == head_revision()
    assert driftline_tables(empty_engine) == TABLES
    assert set(Base.metadata.tables) == TABLES
    assert schema_differences(empty_engine) == []


def test_schema_differences_detects_drift(empty_engine: Engine) -> None:
    # The check must be able to fail: a database missing an index is reported.
    upgrade(empty_engine)
    with empty_engine.begin() as connection:
        connection.execute(sa.text("DROP INDEX ix_prediction_records_model_time"))

    differences = schema_differences(empty_engine)

    assert len(differences) == 1
    assert "ix_prediction_records_model_time" in repr(differences)


def test_downgrade_to_base_then_upgrade_again(empty_engine: Engine) -> None:
    upgrade(empty_engine)

    downgrade(empty_engine, "base")

    assert driftline_tables(empty_engine) == set()
    assert current_revision(empty_engine) is None

    upgrade(empty_engine)

    assert driftline_tables(empty_engine) == TABLES
    assert current_revision(empty_engine) == head_revision()
    assert schema_differences(empty_engine) == []


def test_upgrade_twice_is_a_no_op(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    upgrade(empty_engine)

    assert current_revision(empty_engine) == head_revision()
    assert driftline_tables(empty_engine) == TABLES


def test_constraints_follow_the_naming_convention(engine: Engine) -> None:
    inspector = sa.inspect(engine)
    table = "prediction_records"

    # PostgreSQL partitions the records by time, and its unique keys must hold the time.
    key = "_timestamp_us" if engine.dialect.name == "postgresql" else ""
    assert inspector.get_pk_constraint(table)["name"] == "pk_prediction_records"
    assert {u["name"] for u in inspector.get_unique_constraints(table)} == {
        f"uq_prediction_records_model_id_request_id{key}"
    }
    assert {f["name"] for f in inspector.get_foreign_keys(table)} == {
        "fk_prediction_records_model_id_model_versions"  # (model, version): one lookup a row
    }
    assert {c["name"] for c in inspector.get_check_constraints(table)} == {
        "ck_prediction_records_status_known"
    }
    assert {u["name"] for u in inspector.get_unique_constraints("feature_categories")} == {
        "uq_feature_categories_model_id_feature_value"
    }
    assert {c["name"] for c in inspector.get_check_constraints("models")} == {"ck_models_task"}


def test_every_constraint_in_the_database_is_named_by_convention(engine: Engine) -> None:
    inspector = sa.inspect(engine)
    for table in sorted(TABLES):
        assert inspector.get_pk_constraint(table)["name"] == f"pk_{table}"
        named = [("uq", u["name"]) for u in inspector.get_unique_constraints(table)]
        named += [("fk", f["name"]) for f in inspector.get_foreign_keys(table)]
        named += [("ck", c["name"]) for c in inspector.get_check_constraints(table)]
        for prefix, name in named:
            assert name is not None, f"unnamed {prefix} constraint on {table}"
            assert name.startswith(f"{prefix}_{table}_"), (table, name)


def test_database_constraint_names_match_the_models(engine: Engine) -> None:
    # alembic's comparison ignores CHECK constraints and constraint names; compare them here.
    inspector = sa.inspect(engine)
    for table in sorted(TABLES):
        in_database = {inspector.get_pk_constraint(table)["name"]}
        in_database |= {u["name"] for u in inspector.get_unique_constraints(table)}
        in_database |= {f["name"] for f in inspector.get_foreign_keys(table)}
        in_database |= {c["name"] for c in inspector.get_check_constraints(table)}
        declared = {
            str(c.name)
            for c in Base.metadata.tables[table].constraints
            if applies_to(c, engine.dialect.name)
        }
        assert in_database == declared, table


def test_alembic_check_passes_at_head_and_fails_on_drift(empty_engine: Engine) -> None:
    # alembic's own `check` command, as `driftline db check` runs it: clean at head, and
    # an error naming the difference once the database no longer matches the models.
    upgrade(empty_engine)
    check(empty_engine)

    with empty_engine.begin() as connection:
        connection.execute(sa.text("DROP INDEX ix_prediction_records_model_time"))

    with pytest.raises(MigrationError, match="ix_prediction_records_model_time"):
        check(empty_engine)


def test_a_record_names_a_version_of_its_own_model_and_goes_with_the_model(
    engine: Engine,
) -> None:
    from storage import PredictionBatch, create_session_factory, insert_predictions, register_model
    from storage.schema import FeatureSpec
    from storage.types import FeatureKind, Task

    features = [FeatureSpec("x", FeatureKind.NUMERIC)]
    with create_session_factory(engine).begin() as session:
        churn = register_model(
            session, name="churn", task=Task.REGRESSION, version="1", features=features
        )
        fraud = register_model(
            session, name="fraud", task=Task.REGRESSION, version="1", features=features
        )
    insert = sa.text(
        "INSERT INTO prediction_records (model_id, model_version_id, request_id, timestamp_us,"
        " sample_key, status) VALUES (:model, :version, :request, 0, 0.5, 0)"
    )
    batch = PredictionBatch(request_ids=["ok"], timestamps_us=[0], features={"x": [1.0]})
    assert insert_predictions(engine, churn, batch).inserted == 1  # makes the partition
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(
            insert, {"model": churn.model_id, "version": fraud.version_id, "request": "crossed"}
        )
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM models WHERE name = 'churn'"))
        left = connection.execute(sa.text("SELECT count(*) FROM prediction_records")).scalar()
    assert left == 0
