"""Online learning: snapshots, updates, examples and events of models that learn online,
and an index of labels in arrival order per model (what the learner reads).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _model_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["model_id"], ["models.id"], name=op.f(f"fk_{table}_model_id_models"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_index(
        "ix_ground_truth_labels_model_arrival", "ground_truth_labels", ["model_id", "id"]
    )
    op.create_table(
        "online_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("base_version", sa.String(length=63), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=63), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("examples", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('good', 'pending', 'rolled_back')",
            name=op.f("ck_online_snapshots_status_known"),
        ),
        _model_fk("online_snapshots"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_online_snapshots")),
        sa.UniqueConstraint(
            "model_id",
            "base_version",
            "sequence",
            name=op.f("uq_online_snapshots_model_id_base_version_sequence"),
        ),
    )
    op.create_table(
        "online_updates",
        sa.Column("id", _BIGINT_PK, nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("base_version", sa.String(length=63), nullable=False),
        sa.Column("base_sequence", sa.Integer(), nullable=False),
        sa.Column("learnt", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("prequential_before", sa.Double(), nullable=True),
        sa.Column("batch_metric", sa.Double(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('applied', 'replayed', 'rolled_back')",
            name=op.f("ck_online_updates_status_known"),
        ),
        _model_fk("online_updates"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_online_updates")),
    )
    op.create_index(
        "ix_online_updates_lineage",
        "online_updates",
        ["model_id", "base_version", "base_sequence"],
        unique=False,
    )
    op.create_table(
        "online_examples",
        sa.Column("id", _BIGINT_PK, nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=255), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        _model_fk("online_examples"),
        sa.ForeignKeyConstraint(
            ["update_id"],
            ["online_updates.id"],
            name=op.f("fk_online_examples_update_id_online_updates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_online_examples")),
        sa.UniqueConstraint(
            "model_id", "request_id", name=op.f("uq_online_examples_model_id_request_id")
        ),
    )
    op.create_table(
        "online_events",
        sa.Column("id", _BIGINT_PK, nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("base_version", sa.String(length=63), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("frozen", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=63), nullable=False),
        sa.Column("details", _JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('alarm', 'freeze', 'unfreeze', 'rollback')",
            name=op.f("ck_online_events_kind_known"),
        ),
        _model_fk("online_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_online_events")),
    )
    op.create_index("ix_online_events_model", "online_events", ["model_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_online_events_model", table_name="online_events")
    op.drop_table("online_events")
    op.drop_table("online_examples")
    op.drop_index("ix_online_updates_lineage", table_name="online_updates")
    op.drop_table("online_updates")
    op.drop_table("online_snapshots")
    op.drop_index("ix_ground_truth_labels_model_arrival", table_name="ground_truth_labels")
