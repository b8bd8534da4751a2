"""What a statement imports, seen from a fresh interpreter (for import-cost tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def packages_loaded_by(statement: str, packages: Sequence[str], directory: Path) -> list[str]:
    """Which of ``packages`` (top-level names) are in ``sys.modules`` after ``statement``,
    run by a new interpreter in ``directory`` without the ``DRIFTLINE_*`` environment."""
    code = (
        "import json, sys\n"
        f"{statement}\n"
        f"packages = {list(packages)!r}\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(packages))))\n"
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
        check=False,
    )
    if completed.returncode != 0:
        raise AssertionError(f"{statement!r} failed:\n{completed.stderr}")
    loaded: list[str] = json.loads(completed.stdout)
    return loaded
