"""docs/operations.md lists every DRIFTLINE_* setting in its settings table."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.settings import ENV_PREFIX, Settings

DOC = Path(__file__).resolve().parents[3] / "docs" / "operations.md"


def settings_table(text: str) -> str:
    """The part of the page under its ``## Settings`` heading."""
    _, found, rest = text.partition("\n## Settings\n")
    assert found, "docs/operations.md has no '## Settings' section"
    return rest.split("\n## ", 1)[0]


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_has_a_row(field: str) -> None:
    variable = f"{ENV_PREFIX}{field.upper()}"
    rows = settings_table(DOC.read_text("utf-8")).splitlines()
    assert any(line.startswith(f"| `{variable}` |") for line in rows), (
        f"docs/operations.md: the settings table has no row for {variable}"
    )


def test_the_table_is_found_under_its_heading() -> None:
    text = "# x\n\n## Settings\n\n| `DRIFTLINE_PORT` | 8000 |\n\n## Next\n\n| `DRIFTLINE_HOST` |\n"
    assert "DRIFTLINE_PORT" in settings_table(text)
    assert "DRIFTLINE_HOST" not in settings_table(text)
