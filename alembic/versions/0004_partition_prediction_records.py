"""Prediction records range-partitioned by event time on PostgreSQL; SQLite is unchanged.

PostgreSQL cannot turn a table into a partitioned one in place, so the upgrade renames the
old table, creates ``prediction_records`` as ``PARTITION BY RANGE (timestamp_us)`` with the
same columns, creates one partition per UTC day that holds rows, moves the rows, and only
then builds the keys and the index (faster than maintaining them row by row). The id
sequence carries over, so ids stay unique. A partitioned table's unique constraints must
include the partition key: records become unique on (model, request id, timestamp) and the
primary key is ``(id, timestamp_us)``.

The downgrade moves the rows back into one table; where two records share a (model,
request id) with different timestamps (possible only after the upgrade), the first stored
is kept.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "prediction_records"
_DAY_US = 86_400_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _keys(primary: str, unique: str) -> list[str]:
    """Primary key, unique key, foreign keys and time index of ``prediction_records``."""
    return [
        f"ALTER TABLE {_TABLE} ADD CONSTRAINT pk_{_TABLE} PRIMARY KEY ({primary})",
        f"ALTER TABLE {_TABLE} ADD CONSTRAINT uq_{_TABLE}_{unique.replace(', ', '_')} "
        f"UNIQUE ({unique})",
        f"ALTER TABLE {_TABLE} ADD CONSTRAINT fk_{_TABLE}_model_id_models "
        "FOREIGN KEY (model_id) REFERENCES models (id) ON DELETE CASCADE",
        f"ALTER TABLE {_TABLE} ADD CONSTRAINT fk_{_TABLE}_model_version_id_model_versions "
        "FOREIGN KEY (model_version_id) REFERENCES model_versions (id) ON DELETE CASCADE",
        f"CREATE INDEX ix_{_TABLE}_model_time ON {_TABLE} (model_id, timestamp_us)",
    ]


def _set_aside(old_name: str, unique: str) -> None:
    """Rename the records table to ``old_name``, and its index-backed names with it."""
    suffix = old_name.removeprefix(_TABLE)
    op.execute(f"ALTER TABLE {_TABLE} RENAME TO {old_name}")
    op.execute(f"ALTER TABLE {old_name} RENAME CONSTRAINT pk_{_TABLE} TO pk_{_TABLE}{suffix}")
    uq = f"uq_{_TABLE}_{unique.replace(', ', '_')}"
    op.execute(f"ALTER TABLE {old_name} RENAME CONSTRAINT {uq} TO {uq}{suffix}")
    op.execute(f"ALTER INDEX ix_{_TABLE}_model_time RENAME TO ix_{_TABLE}_model_time{suffix}")


def _day_partition(day: int) -> str:
    name = f"{_TABLE}_p{(_EPOCH + dt.timedelta(days=day)):%Y%m%d}"
    return (
        f"CREATE TABLE {name} PARTITION OF {_TABLE} "
        f"FOR VALUES FROM ({day * _DAY_US}) TO ({(day + 1) * _DAY_US})"
    )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    old = f"{_TABLE}_unpartitioned"
    _set_aside(old, "model_id, request_id")
    op.execute(
        f"CREATE TABLE {_TABLE} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
        "PARTITION BY RANGE (timestamp_us)"
    )
    op.execute(f"ALTER SEQUENCE {_TABLE}_id_seq OWNED BY {_TABLE}.id")
    days = bind.execute(
        sa.text(f"SELECT DISTINCT floor(timestamp_us / {_DAY_US}.0)::bigint FROM {old}")
    ).scalars()
    for day in sorted(days):
        op.execute(_day_partition(int(day)))
    op.execute(f"INSERT INTO {_TABLE} SELECT * FROM {old}")
    op.execute(f"DROP TABLE {old}")
    for statement in _keys("id, timestamp_us", "model_id, request_id, timestamp_us"):
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    old = f"{_TABLE}_partitioned"
    _set_aside(old, "model_id, request_id, timestamp_us")
    op.execute(f"CREATE TABLE {_TABLE} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    op.execute(f"ALTER SEQUENCE {_TABLE}_id_seq OWNED BY {_TABLE}.id")
    op.execute(
        f"INSERT INTO {_TABLE} SELECT DISTINCT ON (model_id, request_id) * FROM {old} "
        "ORDER BY model_id, request_id, id"
    )
    op.execute(f"DROP TABLE {old}")
    for statement in _keys("id", "model_id, request_id"):
        op.execute(statement)
