"""Schema migrations: upgrade, downgrade, current revision and the models-vs-migrations check.

The alembic scripts live in the checkout's ``alembic/`` folder, or inside the installed wheel
as ``storage/_migrations``; :func:`script_location` finds whichever is there.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from alembic import command
from storage.engine import display_url, write_transaction
from storage.errors import DatabaseConnectionError, MigrationError
from storage.models import Base
from storage.models.base import applies_to
from storage.partitions import forget_partitions, list_partitions

__all__ = [
    "check",
    "comparison_options",
    "current_revision",
    "downgrade",
    "head_revision",
    "schema_differences",
    "script_location",
    "upgrade",
]

logger = logging.getLogger(__name__)


def script_location() -> Path:
    """The folder holding ``env.py`` and ``versions/``."""
    package_dir = Path(__file__).resolve().parent
    for candidate in (package_dir.parent / "alembic", package_dir / "_migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    msg = f"migration scripts not found next to {package_dir}: the installation is incomplete"
    raise MigrationError(msg)


def _config(connection: Connection | None = None) -> Config:
    # Alembic prints progress notes to stdout; Driftline logs instead.
    config = Config(stdout=io.StringIO())
    config.set_main_option("script_location", str(script_location()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@contextmanager
def _connected(engine: Engine, *, write: bool = False) -> Iterator[Connection]:
    transaction = write_transaction(engine) if write else engine.begin()
    try:
        with transaction as connection:
            yield connection
    except DBAPIError as exc:
        if exc.connection_invalidated or "connect" in str(exc.orig).lower():
            reason = " ".join(str(exc.orig).split())
            msg = f"cannot connect to database {display_url(engine.url)!r}: {reason}"
            raise DatabaseConnectionError(msg) from None
        raise


def head_revision() -> str:
    """The newest revision of the migration scripts."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the repository always ships revisions
        raise MigrationError("no migration revisions found")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with _connected(engine) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database forward to ``revision`` (default: the newest)."""
    _run(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database back to ``revision`` (``base`` empties it)."""
    _run(engine, "downgrade", revision)


def _run(engine: Engine, direction: str, revision: str) -> None:
    with _connected(engine, write=True) as connection:
        config = _config(connection)
        before = MigrationContext.configure(connection).get_current_revision()
        try:
            if direction == "upgrade":
                command.upgrade(config, revision)
            else:
                command.downgrade(config, revision)
        except CommandError as exc:
            msg = f"cannot {direction} to {revision!r}: {exc}"
            raise MigrationError(msg) from None
        except DBAPIError as exc:
            reason = " ".join(str(exc.orig).split())
            msg = f"cannot {direction} to {revision!r}: the database refused a step: {reason}"
            raise MigrationError(msg) from None
        after = MigrationContext.configure(connection).get_current_revision()
        forget_partitions(connection)  # the layout may have changed under the cache
    if after != before:
        logger.info(
            "migrated %s from revision %s to %s",
            display_url(engine.url),
            before or "empty",
            after or "empty",
        )


def check(engine: Engine) -> None:
    """Run alembic's ``check``: the models and the migrated database must agree.

    Raises
    ------
    MigrationError
        Naming the differences, if autogenerate would write a new migration.
    """
    with _connected(engine) as connection:
        try:
            command.check(_config(connection))
        except CommandError:
            pass
        else:
            return
    found = "; ".join(_describe(diff) for diff in schema_differences(engine))
    msg = f"the database schema and the models differ: {found}"
    raise MigrationError(msg)


def _describe(diff: object) -> str:
    """``add_index ix_name``-style text of one autogenerate difference."""
    if isinstance(diff, list):  # column modifications come as a list of tuples
        return ", ".join(_describe(part) for part in diff)
    if isinstance(diff, tuple) and diff:
        named = [getattr(part, "name", None) for part in diff[1:]]
        names = [str(n) for n in named if n is not None] or [str(p) for p in diff[1:3]]
        return f"{diff[0]} {' '.join(names)}"
    return str(diff)


def comparison_options(connection: Connection) -> dict[str, Any]:
    """The ``include_name`` / ``include_object`` hooks of every models-vs-database comparison.

    They leave out the partitions of ``prediction_records`` (tables of the database the
    models do not declare, made at run time by :mod:`storage.partitions`), and the
    constraints and indexes the models declare for the other back end only.
    """
    partitions = {p.name for p in list_partitions(connection)}
    dialect = connection.dialect.name

    def include_name(name: str | None, type_: str, _parents: Mapping[str, str | None]) -> bool:
        return not (type_ == "table" and name in partitions)

    def include_object(
        item: object, _name: str | None, _type: str, reflected: bool, _other: object
    ) -> bool:
        return reflected or applies_to(item, dialect)

    return {"include_name": include_name, "include_object": include_object}


def schema_differences(engine: Engine) -> list[object]:
    """Differences between the ORM models and the database (empty when they agree).

    Run it on a database upgraded to head to prove the migrations create what the models
    declare; it is what ``alembic check`` runs.
    """
    with _connected(engine) as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                **comparison_options(connection),
            },
        )
        return list(compare_metadata(context, Base.metadata))
