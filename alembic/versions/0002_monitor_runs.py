"""Monitor runs: result statuses follow the detectors' (ok, warning, alarm), run duration.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 01:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW = "status IN ('ok', 'warning', 'alarm', 'insufficient_data', 'error')"
_OLD = "status IN ('ok', 'drift', 'insufficient_data', 'error')"


def upgrade() -> None:
    op.execute("UPDATE monitor_results SET status = 'alarm' WHERE status = 'drift'")
    with op.batch_alter_table("monitor_results", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_monitor_results_status_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_monitor_results_status_known"), _NEW)
        batch_op.add_column(sa.Column("duration_seconds", sa.Double(), nullable=True))


def downgrade() -> None:
    op.execute("UPDATE monitor_results SET status = 'drift' WHERE status IN ('warning', 'alarm')")
    with op.batch_alter_table("monitor_results", schema=None) as batch_op:
        batch_op.drop_column("duration_seconds")
        batch_op.drop_constraint(op.f("ck_monitor_results_status_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_monitor_results_status_known"), _OLD)
