"""``driftline``'s entry module imports only what its help screens need.

Every command imports the store, the settings or the detectors when it runs, so that
``driftline --help``, ``driftline check`` and each test that starts the console script do not
pay for what they never use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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


def loaded_after(statement: str, directory: Path) -> list[str]:
    """The DEFERRED packages loaded by ``statement`` in a new interpreter."""
    code = (
        "import json, sys\n"
        f"{statement}\n"
        f"deferred = {list(DEFERRED)!r}\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(deferred))))\n"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=directory,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded: list[str] = json.loads(completed.stdout)
    return loaded


def test_the_entry_module_defers_the_store_settings_and_detectors(tmp_path: Path) -> None:
    assert loaded_after("import monitor.cli", tmp_path) == []


def test_the_probe_sees_what_a_command_imports(tmp_path: Path) -> None:
    """The check above can fail: loading settings and the store shows up in it."""
    statement = "import monitor.cli, monitor.settings, storage.errors"

    assert {"pydantic_settings", "sqlalchemy", "storage"} <= set(loaded_after(statement, tmp_path))
