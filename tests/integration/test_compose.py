"""The container stack: docker-compose.yml, the Dockerfile, and the project the stack runs.

- Compose itself accepts the file and resolves its defaults (``docker compose config``, or
  Compose v1's ``docker-compose config``; no engine is needed, nothing is started);
- every service is restarted and health-checked as it should be, waits for the right
  condition of what it needs, and the Driftline services share one image;
- Prometheus scrapes exactly the Driftline services, on the ports they listen on;
- the Dockerfile copies every package the wheel ships, and the build context leaves out
  the virtual environment, the git folder, caches and local stores;
- ``examples/compose/driftline.yaml`` loads, and its model answers through the real
  ``python`` runtime, in-process.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from monitor.api.routes_system import system_router
from monitor.project import Project, load_project
from monitor.scheduling.sync import check_monitor_params
from monitor.serving_setup import model_configs
from monitor.settings import ENV_PREFIX, Settings
from serving.errors import PredictionError
from serving.runtimes.base import Runtime
from serving.runtimes.registry import load_runtime
from tests.integration.test_cli import assert_ok, assert_user_error, driftline

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
EXAMPLE_DIR = ROOT / "examples" / "compose"
EXAMPLE_PROJECT = EXAMPLE_DIR / "driftline.yaml"
WEBHOOK_URL = "https://hooks.example.com/driftline"

ONE_SHOT = {"migrate", "tap-token"}
LONG_RUNNING_DRIFTLINE = {"sidecar", "serve", "monitor"}
HEALTH_PATHS = {"serve": "/v2/health/ready", "sidecar": "/readyz", "monitor": "/readyz"}
PUBLISHED = {"serve": 8080, "sidecar": 8001, "monitor": 8000, "prometheus": 9090, "grafana": 3000}
COMPLETED, HEALTHY = "service_completed_successfully", "service_healthy"


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())  # resolves the << merge keys
    return {name: dict(spec) for name, spec in document["services"].items()}


def command_text(spec: dict[str, Any]) -> str:
    command = spec.get("command", [])
    return command if isinstance(command, str) else " ".join(map(str, command))


def listening_port(spec: dict[str, Any]) -> int:
    """The ``--port`` a Driftline service's command passes."""
    ports = re.findall(r"--port[ =](\d+)", command_text(spec))
    assert len(ports) == 1, f"expected one --port in {command_text(spec)!r}"
    return int(ports[0])


def published(spec: dict[str, Any]) -> dict[int, int]:
    """Container port to host port of every short-syntax ``HOST:CONTAINER`` mapping."""
    pairs = (str(entry).rsplit(":", 1) for entry in spec.get("ports", []))
    return {int(container): int(host.rpartition(":")[2]) for host, container in pairs}


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


def test_compose_accepts_the_file_and_resolves_its_variables(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    command = compose_command()
    if command is None:
        pytest.skip("neither 'docker compose' nor 'docker-compose' is installed")
    defaulted = {"ALERT_WEBHOOK_URL", "DRIFTLINE_PROJECT_DIR", "COMPOSE_FILE"}
    env = {k: v for k, v in os.environ.items() if k not in defaulted}
    env["POSTGRES_PASSWORD"] = "pw-from-env"
    as_json = ["--format", "json"] if command[0] == "docker" else []  # v1 prints YAML only
    result = subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), "config", *as_json],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)  # JSON is YAML too
    assert set(config["services"]) == set(services)
    serve = config["services"]["serve"]
    url = "postgresql://driftline:pw-from-env@postgres:5432/driftline"
    assert serve["environment"]["DRIFTLINE_DATABASE_URL"] == url
    assert serve["environment"]["ALERT_WEBHOOK_URL"].startswith("http://alerts.invalid/")
    assert config["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == "pw-from-env"
    mounted = {
        v.get("target") if isinstance(v, dict) else v.split(":")[1]: v for v in serve["volumes"]
    }
    assert str(EXAMPLE_DIR) in str(mounted["/project"]), "the default project is the example"
    for name, spec in config["services"].items():
        for volume in spec.get("volumes", []):
            source = volume.get("source") if isinstance(volume, dict) else volume.split(":")[0]
            if str(source).startswith("/"):
                assert Path(source).exists(), f"{name} mounts {source}, which does not exist"


def test_services_restart_or_run_once(services: dict[str, dict[str, Any]]) -> None:
    restart = {name: spec.get("restart") for name, spec in services.items()}
    assert {name for name, policy in restart.items() if policy == "no"} == ONE_SHOT
    assert {policy for name, policy in restart.items() if name not in ONE_SHOT} == {
        "unless-stopped"
    }


def test_long_running_services_are_health_checked(services: dict[str, dict[str, Any]]) -> None:
    for name, spec in services.items():
        if name in ONE_SHOT:  # their exit status is their health: see the dependencies test
            continue
        test = spec.get("healthcheck", {}).get("test") or ["(none)"]
        assert test[0] in {"CMD", "CMD-SHELL"}, f"{name} has no health check"
    monitor_routes = {route.path for route in system_router().routes}  # type: ignore[attr-defined]
    assert HEALTH_PATHS["monitor"] in monitor_routes
    for name, path in HEALTH_PATHS.items():
        test = services[name]["healthcheck"]["test"]
        # python:3.11-slim has neither curl nor wget: the probe is Python's urllib.
        assert test[:3] == ["CMD", "python", "-c"], name
        url = f"'http://127.0.0.1:{listening_port(services[name])}{path}'"
        assert f"urlopen({url}" in test[3], f"{name} probes {test[3]!r}"


def test_dependencies_wait_for_the_right_condition(services: dict[str, dict[str, Any]]) -> None:
    waits = {
        name: {dep: condition["condition"] for dep, condition in spec["depends_on"].items()}
        for name, spec in services.items()
        if "depends_on" in spec
    }
    assert waits == {
        "migrate": {"postgres": HEALTHY},
        "tap-token": {"migrate": COMPLETED},
        "sidecar": {"migrate": COMPLETED},
        "monitor": {"migrate": COMPLETED},
        "serve": {"tap-token": COMPLETED, "sidecar": HEALTHY},
        "grafana": {"prometheus": HEALTHY},
    }
    for name, dependencies in waits.items():
        for dependency, condition in dependencies.items():
            if condition == HEALTHY:
                assert "healthcheck" in services[dependency], f"{name} waits on {dependency}"
            else:
                assert services[dependency]["restart"] == "no", f"{name} waits on {dependency}"


def test_driftline_services_share_one_image_and_the_database(
    services: dict[str, dict[str, Any]],
) -> None:
    built = {name for name, spec in services.items() if "build" in spec}
    assert built == ONE_SHOT | LONG_RUNNING_DRIFTLINE
    assert {(services[name]["build"], services[name]["image"]) for name in built} == {
        (".", "driftline:dev")
    }
    password = services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    for name in built:
        environment = services[name]["environment"]
        url = f"postgresql://driftline:{password}@postgres:5432/driftline"
        assert environment["DRIFTLINE_DATABASE_URL"] == url, name
        assert environment["DRIFTLINE_AUTO_MIGRATE"] == "false", f"{name} would migrate too"
        fields = {
            k.removeprefix(ENV_PREFIX).lower() for k in environment if k.startswith(ENV_PREFIX)
        }
        unknown = sorted(fields - set(Settings.model_fields))
        assert unknown == [], f"{name} sets DRIFTLINE_ variables that are no setting"


def test_long_running_driftline_services_are_reachable_and_read_the_project(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in LONG_RUNNING_DRIFTLINE:
        spec = services[name]
        environment = spec["environment"]
        assert environment["DRIFTLINE_HOST"] == "0.0.0.0", name
        assert environment["DRIFTLINE_PROJECT_FILE"] == "/project/driftline.yaml", name
        assert environment["PYTHONPATH"] == "/project", name
        mount = "${DRIFTLINE_PROJECT_DIR:-./examples/compose}:/project:ro"
        assert mount in spec["volumes"], name
        assert published(spec).get(listening_port(spec)) == PUBLISHED[name], name
    for name in ("prometheus", "grafana"):
        assert PUBLISHED[name] in published(services[name]).values(), name


def test_serve_pushes_its_tap_to_the_sidecar_with_an_issued_token(
    services: dict[str, dict[str, Any]],
) -> None:
    serve, sidecar, issuer = services["serve"], services["sidecar"], services["tap-token"]
    sidecar_url = f"http://sidecar:{listening_port(sidecar)}"
    assert serve["environment"]["DRIFTLINE_TAP_URL"] == sidecar_url
    assert command_text(sidecar).startswith("sidecar ")
    assert "exec driftline serve --port" in command_text(serve)
    token_file = "/home/driftline/secrets/tap-token"
    assert "driftline tokens create" in command_text(issuer)
    assert "--scope ingest" in command_text(issuer)
    assert f"file={token_file}" in command_text(issuer)
    assert f"cat {token_file}" in command_text(serve)
    assert "driftline-secrets:/home/driftline/secrets" in issuer["volumes"]
    assert "driftline-secrets:/home/driftline/secrets:ro" in serve["volumes"]


def test_prometheus_scrapes_the_driftline_services_where_they_listen(
    services: dict[str, dict[str, Any]],
) -> None:
    config = yaml.safe_load((ROOT / "dashboards" / "prometheus" / "prometheus.yml").read_text())
    scraped: dict[str, int] = {}
    for job in config["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics", job["job_name"]
        for static in job["static_configs"]:
            for target in static["targets"]:
                host, _, port = target.partition(":")
                assert host in services, f"{job['job_name']} scrapes unknown service {host}"
                scraped[host] = int(port)
    assert set(scraped) == LONG_RUNNING_DRIFTLINE
    assert scraped == {name: listening_port(services[name]) for name in scraped}
    assert "./dashboards/prometheus:/etc/prometheus:ro" in services["prometheus"]["volumes"]


# --- the Dockerfile ---------------------------------------------------------------------------


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """``(INSTRUCTION, arguments)`` of each stage, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, arguments = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), arguments.strip()))
    return stages


def copied_sources(stage: list[tuple[str, str]]) -> set[str]:
    sources: set[str] = set()
    for instruction, arguments in stage:
        if instruction == "COPY" and not arguments.startswith("--from"):
            sources.update(path.rstrip("/") for path in arguments.split()[:-1])
    return sources


def test_the_dockerfile_copies_every_package_the_wheel_ships() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    hook = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["hooks"]["custom"]["path"]
    build, *_ = dockerfile_stages()
    sources = copied_sources(build)
    needed = {*packages, hook, pyproject["project"]["readme"], "pyproject.toml"}
    needed |= {"alembic", "alembic.ini"}  # the hook ships them as storage/_migrations
    assert sorted(needed - sources) == []
    for source in sources:
        assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which does not exist"


def test_the_build_context_leaves_out_local_state_but_not_the_sources() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert {".venv", ".git", ".driftline", ".mypy_cache", ".pytest_cache"} <= set(patterns)
    assert "**/__pycache__" in patterns
    build, *_ = dockerfile_stages()
    for source in copied_sources(build):
        ignored = [p for p in patterns if fnmatch.fnmatch(source, p.removeprefix("**/"))]
        assert ignored == [], f"{source} is copied but .dockerignore drops it ({ignored})"


def test_the_image_runs_every_role_as_a_non_root_user(services: dict[str, Any]) -> None:
    stages = dockerfile_stages()
    assert len(stages) == 2, "a build stage and the image"
    (_, base), *_ = stages[-1]
    assert stages[0][0][1].startswith(base), "the venv is copied onto the same Python"
    final = dict(stages[-1])  # the last of each instruction
    assert final["USER"] not in {"root", "0"}
    assert final["ENTRYPOINT"] == '["driftline"]'
    assert "HEALTHCHECK" not in final, "compose checks each role on its own route"
    # Named volumes start out with what the image has at their mount point: the folders
    # must be made by the user the services run as, after USER.
    instructions = [instruction for instruction, _ in stages[-1]]
    as_user = stages[-1][instructions.index("USER") :]
    made = " ".join(arguments for instruction, arguments in as_user if instruction == "RUN")
    for name in ONE_SHOT | LONG_RUNNING_DRIFTLINE:
        for volume in services[name].get("volumes", []):
            source, target = str(volume).split(":")[:2]
            if not source.startswith(("$", ".", "/")):
                assert target in made, f"{name} mounts volume {source} on {target}"


# --- the project the stack runs ---------------------------------------------------------------


@pytest.fixture
def project(monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("ALERT_WEBHOOK_URL", WEBHOOK_URL)
    return load_project(EXAMPLE_PROJECT)


def test_the_example_project_declares_a_served_model_its_monitors_and_an_alert(
    project: Project,
) -> None:
    check_monitor_params(project)  # what `driftline monitor` checks before it starts
    (model,) = project.models
    assert model.serving is not None
    assert (model.serving.runtime, model.serving.allow_pickle) == ("python", False)
    kinds = {monitor.kind: monitor for monitor in project.monitors}
    assert set(kinds) == {"data_drift", "failures", "health"}
    assert kinds["data_drift"].reference is not None
    assert kinds["data_drift"].reference.type in {"previous_window", "fixed_window"}
    (rule,) = project.alert_rules
    (channel,) = project.channels
    assert rule.channels == (channel.name,)
    assert channel.type == "webhook"
    assert channel.url == WEBHOOK_URL  # type: ignore[union-attr]


def test_driftline_project_check_accepts_the_example_with_its_variable(tmp_path: Path) -> None:
    checked = driftline(
        tmp_path, "project", "check", str(EXAMPLE_PROJECT), env={"ALERT_WEBHOOK_URL": WEBHOOK_URL}
    )
    missing = driftline(tmp_path, "project", "check", str(EXAMPLE_PROJECT))

    assert_ok(checked)
    assert f"{EXAMPLE_PROJECT}: valid" in checked.stdout
    assert "ALERT_WEBHOOK_URL is not set" in assert_user_error(missing)


@pytest.fixture
def served_model(project: Project, monkeypatch: pytest.MonkeyPatch) -> tuple[Runtime, Any]:
    """The example model loaded as ``driftline serve`` loads it (PYTHONPATH=the project dir)."""
    monkeypatch.syspath_prepend(str(EXAMPLE_DIR))
    monkeypatch.delitem(sys.modules, "credit_model", raising=False)
    (config,) = model_configs(project, EXAMPLE_DIR)
    runtime = load_runtime(
        config.runtime,
        config.uri,
        allow_pickle=config.allow_pickle,
        options=config.options,
        feature_names=config.feature_names,
    )
    return runtime, project.models[0]


def applicants(rng: np.random.Generator, rows: int) -> np.ndarray:
    """Age, income, debt ratio and months of credit history of generated applicants."""
    return np.column_stack([
        rng.normal(40, 12, rows), rng.lognormal(10.7, 0.4, rows),
        rng.beta(2, 4, rows), rng.gamma(2, 48, rows),
    ])  # fmt: skip


def test_the_example_model_answers_a_batch_through_the_python_runtime(
    served_model: tuple[Runtime, Any], rng: np.random.Generator
) -> None:
    runtime, model = served_model
    batch = applicants(rng, 500)
    outputs = tuple(spec.name for spec in runtime.outputs)
    assert dict(runtime.roles) == {"prediction": "predict", "probabilities": "predict_proba"}

    answer = runtime.predict(batch, outputs)

    labels, probabilities = answer["predict"], answer["predict_proba"]
    assert labels.shape == (500,)
    assert probabilities.shape == (500, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    classes = np.array(model.classes)  # the project's class order is the model's column order
    np.testing.assert_array_equal(labels.astype(str), classes[probabilities.argmax(axis=1)])
    assert set(labels.astype(str)) == set(model.classes), "a batch this size has both classes"
    again = runtime.predict(batch, outputs)
    np.testing.assert_array_equal(again["predict_proba"], probabilities)  # deterministic
    riskier = batch.copy()
    riskier[:, model.feature_names.index("debt_ratio")] += 0.3
    assert (runtime.predict(riskier, outputs)["predict_proba"][:, 1] > probabilities[:, 1]).all()


def test_the_example_model_refuses_bad_rows_as_the_callers_mistake(
    served_model: tuple[Runtime, Any],
) -> None:
    runtime, _ = served_model
    with pytest.raises(PredictionError, match="finite"):
        runtime.predict(np.array([[30.0, np.nan, 0.2, 12.0]]), ("predict",))


# -- Prometheus and Grafana mount the repository's files -------------------------------------


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
