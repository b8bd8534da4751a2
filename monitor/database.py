"""Opening the store for a Driftline process: connect, then migrate or check the revision."""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine

from monitor.settings import Settings
from storage import check_connection, create_engine, display_url
from storage.errors import MigrationError
from storage.migrations import current_revision, head_revision, upgrade

__all__ = ["open_database"]

logger = logging.getLogger(__name__)


def open_database(settings: Settings, *, migrate: bool | None = None) -> Engine:
    """An engine on the configured database, with its schema at the newest revision.

    Parameters
    ----------
    migrate
        Upgrade the schema if it is behind (default: ``settings.auto_migrate``). When
        false, a schema that is behind is an error telling the operator what to run.

    Raises
    ------
    storage.DatabaseURLError, storage.DatabaseConnectionError, storage.MigrationError
    """
    engine = create_engine(settings.resolved_database_url())
    try:
        check_connection(engine)
        migrate = settings.auto_migrate if migrate is None else migrate
        if migrate:
            upgrade(engine)
        else:
            current, head = current_revision(engine), head_revision()
            if current != head:
                msg = (
                    f"database {display_url(engine.url)!r} is at schema revision "
                    f"{current or 'none'}, this Driftline needs {head}: "
                    "run 'driftline db upgrade' (or set DRIFTLINE_AUTO_MIGRATE=true)"
                )
                raise MigrationError(msg)
    except BaseException:
        engine.dispose()
        raise
    logger.debug("database %s ready", display_url(engine.url))
    return engine
