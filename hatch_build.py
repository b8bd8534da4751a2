"""Ship the alembic migration scripts inside the wheel as ``storage/_migrations``.

Only for a regular wheel: an editable install runs them from the checkout's ``alembic/``
folder, so nothing is copied into site-packages (a copied ``storage/`` folder there would sit
beside the checkout's ``storage`` package).
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class MigrationsBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds ``alembic/`` and ``alembic.ini`` to standard wheels."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version != "standard":
            return
        build_data["force_include"]["alembic"] = "storage/_migrations"
        build_data["force_include"]["alembic.ini"] = "storage/_migrations/alembic.ini"
