"""``driftline``'s entry module imports only what its help screens need.

Every command imports the store, the settings or the detectors when it runs, so that
``driftline --help``, ``driftline check`` and each test that starts the console script do not
pay for what they never use.
"""

from __future__ import annotations

from pathlib import Path

from tests.import_probe import packages_loaded_by

#: Packages none of which ``import monitor.cli`` may load.
DEFERRED = (
    "alembic",
    "detectors",
    "numpy",
    "pandas",
    "psycopg",
    "pydantic_settings",
    "sqlalchemy",
    "storage",
)


def test_the_entry_module_defers_the_store_settings_and_detectors(tmp_path: Path) -> None:
    assert packages_loaded_by("import monitor.cli", DEFERRED, tmp_path) == []


def test_the_probe_sees_what_a_command_imports(tmp_path: Path) -> None:
    """The check above can fail: loading settings and the store shows up in it."""
    statement = "import monitor.cli, monitor.settings, storage.errors"

    assert {"pydantic_settings", "sqlalchemy", "storage"} <= set(
        packages_loaded_by(statement, DEFERRED, tmp_path)
    )
