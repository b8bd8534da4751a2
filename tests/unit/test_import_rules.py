"""The house's import rules, checked on every module's source.

Each top-level package may import only what ``docs/architecture.md`` allows. Imports are
read from the syntax tree, so imports inside functions and ``TYPE_CHECKING`` blocks count
too: a rule that holds only at run time would still tangle the type graph.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("monitor", "collectors", "detectors", "storage", "dashboards", "serving")

#: Package -> top-level modules it must never import (project packages and libraries).
FORBIDDEN: dict[str, frozenset[str]] = {
    "detectors": frozenset(
        {"monitor", "collectors", "storage", "dashboards", "serving", "sqlalchemy", "alembic",
         "psycopg", "fastapi", "starlette", "uvicorn", "httpx", "pandas", "evidently",
         "apscheduler", "prometheus_client", "typer", "rich"}
    ),
    "storage": frozenset(
        {"monitor", "collectors", "dashboards", "serving", "detectors", "fastapi", "starlette",
         "uvicorn", "httpx", "apscheduler", "evidently", "typer", "rich"}
    ),
    "serving": frozenset({"storage", "monitor", "collectors", "dashboards", "sqlalchemy"}),
    "collectors": frozenset({"monitor", "dashboards", "serving", "detectors"}),
    "dashboards": frozenset({"monitor", "collectors", "serving"}),
    "monitor": frozenset(),
}  # fmt: skip


def imported_modules(source: str) -> set[str]:
    """Top-level names of every module imported by ``source`` (absolute imports only)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def violations(package: str, files: list[Path]) -> list[str]:
    found = []
    for path in files:
        for name in sorted(imported_modules(path.read_text()) & FORBIDDEN[package]):
            where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            found.append(f"{where} imports {name}")
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_package_respects_import_rules(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no modules found under {package}/"
    assert violations(package, files) == []


def test_relative_imports_are_not_used() -> None:
    """Relative imports would hide a crossing from the check above."""
    relative = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.level > 0
    ]
    assert relative == []


def test_checker_sees_every_kind_of_import(tmp_path: Path) -> None:
    source = (
        "from __future__ import annotations\n"
        "import sqlalchemy.orm\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from storage.models import Model\n"
        "def f() -> None:\n"
        "    import pandas as pd\n"
    )
    module = tmp_path / "bad.py"
    module.write_text(source)
    assert imported_modules(source) >= {"sqlalchemy", "storage", "pandas", "typing"}
    assert violations("detectors", [module]) == [
        f"{module} imports pandas",
        f"{module} imports sqlalchemy",
        f"{module} imports storage",
    ]
