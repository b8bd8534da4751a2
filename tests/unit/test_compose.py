"""docker-compose.yml: well-formed, healthy dependencies, and valid for Compose itself."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"


def compose_command() -> list[str] | None:
    """``docker compose`` (v2 plugin) or ``docker-compose`` (v1), whichever works here."""
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, timeout=30, check=False
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict)
    return dict(document["services"])


def test_every_service_has_a_restart_policy(services: dict[str, Any]) -> None:
    missing = [name for name, spec in services.items() if "restart" not in spec]
    assert missing == []


def test_long_running_services_have_healthchecks(services: dict[str, Any]) -> None:
    long_running = [n for n, s in services.items() if s["restart"] != "no"]
    assert long_running, "expected at least the database to run permanently"
    assert [n for n in long_running if "healthcheck" not in services[n]] == []


def test_dependencies_exist_and_wait_for_a_condition(services: dict[str, Any]) -> None:
    for name, spec in services.items():
        for dependency, condition in dict(spec.get("depends_on", {})).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            assert condition["condition"] in {"service_healthy", "service_completed_successfully"}


def test_driftline_services_reach_the_compose_database(services: dict[str, Any]) -> None:
    driftline = {n: s for n, s in services.items() if s.get("image") == "driftline:dev"}
    assert set(driftline) >= {"migrate", "demo"}
    for name, spec in driftline.items():
        url = spec["environment"]["DRIFTLINE_DATABASE_URL"]
        assert "@postgres:5432/" in url, f"{name} does not use the compose database"


def test_compose_accepts_the_file(tmp_path: Path) -> None:
    command = compose_command()
    if command is None:
        pytest.skip("neither 'docker compose' nor 'docker-compose' is installed")
    result = subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr


def _mounts(spec: dict[str, Any]) -> dict[str, str]:
    """Container path to host path of every short-syntax bind mount (``./host:/container``)."""
    mounts = {}
    for volume in spec.get("volumes", []):
        source, target = str(volume).split(":")[:2]
        if source.startswith("./"):
            mounts[target] = source
    return mounts


def test_prometheus_loads_the_repository_config(services: dict[str, Any]) -> None:
    prometheus = services["prometheus"]
    assert str(prometheus["image"]).startswith("prom/prometheus:")
    assert prometheus["restart"] == "unless-stopped"
    assert _mounts(prometheus) == {"/etc/prometheus": "./dashboards/prometheus"}
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    assert (ROOT / "dashboards" / "prometheus" / "prometheus.yml").is_file()
    assert "http://localhost:9090/" in " ".join(prometheus["healthcheck"]["test"])


def test_grafana_is_provisioned_from_the_repository(services: dict[str, Any]) -> None:
    grafana = services["grafana"]
    assert str(grafana["image"]).startswith("grafana/grafana:")
    assert grafana["restart"] == "unless-stopped"
    assert "3000:3000" in grafana["ports"]
    assert grafana["depends_on"] == {"prometheus": {"condition": "service_healthy"}}
    mounts = _mounts(grafana)
    assert mounts == {
        "/etc/grafana/provisioning": "./dashboards/grafana/provisioning",
        "/var/lib/grafana/dashboards": "./dashboards/grafana/dashboards",
    }
    for source in mounts.values():
        assert (ROOT / source).is_dir(), f"{source} is mounted into grafana but does not exist"
    provider = yaml.safe_load(
        (ROOT / "dashboards/grafana/provisioning/dashboards/driftline.yml").read_text()
    )
    assert [p["options"]["path"] for p in provider["providers"]] == ["/var/lib/grafana/dashboards"]
    assert "http://localhost:3000/api/health" in " ".join(grafana["healthcheck"]["test"])
