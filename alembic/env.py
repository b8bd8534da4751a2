"""Alembic environment for Driftline.

Runs on a connection handed over by :mod:`storage.migrations` (``config.attributes
["connection"]``), or, when alembic is run by hand, on an engine built from
``DRIFTLINE_DATABASE_URL`` (default: the embedded SQLite file). SQLite migrations use batch
mode so that ALTERs become table copies.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import Connection

from alembic import context
from storage.engine import create_engine, sqlite_url
from storage.migrations import comparison_options
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
        **comparison_options(connection),
    )
    with context.begin_transaction():
        context.run_migrations()


def _run() -> None:
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _configure(connection)
        return
    url = os.environ.get("DRIFTLINE_DATABASE_URL") or sqlite_url(
        Path(os.environ.get("DRIFTLINE_DATA_DIR", ".driftline")) / "driftline.db"
    )
    engine = create_engine(url)
    try:
        with engine.connect() as new_connection:
            _configure(new_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Driftline migrations run online only: give them a database URL.")
_run()
