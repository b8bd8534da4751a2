"""docs/api/ is what scripts/generate_api_docs.py writes from today's OpenAPI document."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "generate_api_docs.py"
COMMITTED = REPO / "docs" / "api"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_api_docs", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("api-docs")
    _generator().main(["--output-dir", str(folder)])
    return folder


@pytest.mark.parametrize("name", ["monitor.md", "openapi-monitor.json"])
def test_committed_file_matches_the_generator(generated: Path, name: str) -> None:
    committed = COMMITTED / name
    assert committed.is_file(), f"docs/api/{name} is missing: run make docs"
    fresh = (generated / name).read_text("utf-8")
    assert committed.read_text("utf-8") == fresh, (
        f"docs/api/{name} is out of date with the monitor's OpenAPI document: run make docs"
    )


def test_every_operation_is_in_the_reference(generated: Path) -> None:
    document = json.loads((generated / "openapi-monitor.json").read_text("utf-8"))
    text = (generated / "monitor.md").read_text("utf-8")
    for path, item in document["paths"].items():
        for method in item:
            assert f"### {method.upper()} `{path}`" in text, f"{method.upper()} {path} missing"


def test_the_index_names_each_operation_scope(generated: Path) -> None:
    text = (generated / "monitor.md").read_text("utf-8")
    create = (
        "| POST | `/api/v1/monitors` | [Create a monitor](#op-post-api-v1-monitors) | `admin` |"
    )
    assert create in text
    assert "| GET | `/healthz` | [Liveness](#op-get-healthz) | none |" in text
