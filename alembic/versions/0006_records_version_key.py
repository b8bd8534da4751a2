"""Prediction records reference their model version by one composite foreign key.

A record held two foreign keys, ``model_id → models`` and ``model_version_id →
model_versions``. PostgreSQL checks each foreign key of each inserted row with its own
lookup, and in a bulk insert those two checks were the largest single cost (about 12 µs of
the server's 26 µs a row). One key ``(model_id, model_version_id) → model_versions
(model_id, id)`` is checked with one lookup and is stricter: the version must belong to the
model. Deleting a model still removes its records (through its versions, both ON DELETE
CASCADE). ``model_versions`` gains the unique index on ``(model_id, id)`` the key refers to
(an index, not a constraint: SQLite could add a constraint only by rebuilding the table, and
dropping the old ``model_versions`` would cascade to the records).

SQLite cannot alter foreign keys; its ``prediction_records`` table is rebuilt (nothing
references it).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "prediction_records"
_VERSION_KEY = "ix_model_versions_model_id_id"
_COMPOSITE = "fk_prediction_records_model_id_model_versions"
_MODEL = "fk_prediction_records_model_id_models"
_VERSION = "fk_prediction_records_model_version_id_model_versions"


def upgrade() -> None:
    op.create_index(_VERSION_KEY, "model_versions", ["model_id", "id"], unique=True)
    with op.batch_alter_table(_TABLE) as batch:
        batch.drop_constraint(_MODEL, type_="foreignkey")
        batch.drop_constraint(_VERSION, type_="foreignkey")
        batch.create_foreign_key(
            _COMPOSITE,
            "model_versions",
            ["model_id", "model_version_id"],
            ["model_id", "id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table(_TABLE) as batch:
        batch.drop_constraint(_COMPOSITE, type_="foreignkey")
        batch.create_foreign_key(_MODEL, "models", ["model_id"], ["id"], ondelete="CASCADE")
        batch.create_foreign_key(
            _VERSION, "model_versions", ["model_version_id"], ["id"], ondelete="CASCADE"
        )
    op.drop_index(_VERSION_KEY, table_name="model_versions")
