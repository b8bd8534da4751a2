"""Packaging checks: the six top-level packages are this checkout's, typed, importable without
heavy side effects, with honest ``__all__`` lists; the migrations and console script are found.

PyPI has unrelated distributions named ``storage``, ``detectors`` and ``collectors``: if one
of them were installed in the environment, ``import storage`` could pick it up instead.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import pkgutil
import sys
import tomllib
from pathlib import Path

import pytest

from storage.migrations import script_location
from tests.import_probe import packages_loaded_by

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("monitor", "collectors", "detectors", "storage", "dashboards", "serving")
HEAVY = ("fastapi", "uvicorn", "evidently", "sklearn")


def _modules() -> list[str]:
    names: list[str] = []
    for package in PACKAGES:
        names.append(package)
        path = [str(REPO / package)]
        names.extend(info.name for info in pkgutil.walk_packages(path, prefix=f"{package}."))
    return names


MODULES = _modules()


def test_the_packages_are_walked() -> None:
    """Guard for the parametrisation below: walking finds the modules we know exist."""
    assert {"monitor.cli", "monitor.project.loader", "storage.engine"} <= set(MODULES)
    assert {"storage.models.records", "storage.repositories.models"} <= set(MODULES)


@pytest.mark.parametrize("package", PACKAGES)
def test_package_resolves_inside_the_checkout(package: str) -> None:
    spec = importlib.util.find_spec(package)

    assert spec is not None, f"{package} is not importable"
    assert spec.origin is not None, f"{package} is a namespace package: add an __init__.py"
    origin = Path(spec.origin).resolve()
    assert origin == REPO / package / "__init__.py", origin
    assert "site-packages" not in origin.parts


@pytest.mark.parametrize("package", PACKAGES)
def test_package_ships_py_typed(package: str) -> None:
    assert (REPO / package / "py.typed").is_file(), f"{package}/py.typed is missing"


@pytest.mark.parametrize("module", MODULES)
def test_every_name_in_all_exists(module: str) -> None:
    imported = importlib.import_module(module)
    names = getattr(imported, "__all__", ())

    assert all(isinstance(name, str) for name in names), names
    assert len(set(names)) == len(names), f"duplicates in {module}.__all__"
    missing = [name for name in names if not hasattr(imported, name)]
    assert missing == [], f"{module}.__all__ names missing attributes: {missing}"


def test_migration_scripts_are_the_checkouts() -> None:
    location = script_location()

    assert location.resolve() == REPO / "alembic"
    assert (location / "env.py").is_file()
    versions = [p for p in (location / "versions").glob("*.py") if p.name != "__init__.py"]
    assert versions, f"no revision under {location / 'versions'}"
    # A plain folder: a regular package named alembic would shadow the alembic library.
    assert not (location / "__init__.py").exists()


def test_console_script_is_declared() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))

    assert pyproject["project"]["scripts"]["driftline"] == "monitor.cli:main"


def test_console_script_is_installed() -> None:
    (entry_point,) = importlib.metadata.entry_points(group="console_scripts", name="driftline")

    assert entry_point.value == "monitor.cli:main"
    assert callable(entry_point.load())
    assert Path(sys.executable).with_name("driftline").is_file()


@pytest.mark.parametrize("package", PACKAGES)
def test_import_has_no_heavy_side_effects(package: str, tmp_path: Path) -> None:
    loaded = packages_loaded_by(f"import {package}", HEAVY, tmp_path)

    assert loaded == [], f"import {package} imported {loaded}"


def test_the_side_effect_check_can_see_a_heavy_import(tmp_path: Path) -> None:
    """The probe above can fail: it reports sklearn, which monitor.demo.training imports."""
    assert packages_loaded_by("import monitor.demo.training", HEAVY, tmp_path) == ["sklearn"]
