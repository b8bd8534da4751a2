"""The Prometheus files checked by Prometheus's own tools, against real Driftline processes.

One fleet per module, started once: ``driftline serve`` (an iris classifier, pushing its tap
to the sidecar), ``driftline sidecar`` (with its recording proxy in front of the server) and
``driftline monitor`` (scheduler, one monitor, one alert channel), all on loopback. After a
little traffic through each of them:

- ``promtool check config | check rules | test rules`` pass on ``dashboards/prometheus/``;
- ``promtool check metrics`` finds nothing to complain about in each process's ``/metrics``;
- every metric the dashboards and alerts name is served by one of the processes;
- a real Prometheus, configured from ``prometheus.yml`` with the targets moved to loopback,
  scrapes the three jobs, evaluates ``alerts.yml`` without a rule error, and answers every
  dashboard query (the core panels with data).

promtool and prometheus are Debian's ``prometheus`` package; the tests skip without them.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import joblib
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from storage import create_engine, create_session_factory, create_token, sqlite_url
from storage.migrations import upgrade
from tests.unit.dashboards.test_grafana_files import (
    DASHBOARD_FILES,
    METRIC_TOKEN,
    PROMETHEUS,
    alert_rules,
    all_panels,
    load_dashboard,
    queries,
    suffixes_by_type,
)

PROMTOOL = shutil.which("promtool")
PROMETHEUS_SERVER = shutil.which("prometheus")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        PROMTOOL is None, reason="promtool is not installed (Debian package 'prometheus')"
    ),
]

DRIFTLINE = Path(sys.executable).with_name("driftline")
STARTUP_SECONDS = 60
X, Y = load_iris(return_X_y=True)
PROJECT = """version: 1
models:
  - name: iris
    task: multiclass_classification
    classes: ["0", "1", "2"]
    features:
      - {name: sepal_length, kind: numeric}
      - {name: sepal_width, kind: numeric}
      - {name: petal_length, kind: numeric}
      - {name: petal_width, kind: numeric}
    serving:
      runtime: sklearn
      uri: iris.joblib
      allow_pickle: true
      batching: {max_batch_size: 8, max_batch_delay_ms: 1}
monitors:
  - name: iris-failures
    model: iris
    kind: failures
    schedule: {every: 10s}
    window: {type: tumbling, size: 10s}
    min_samples: 1
alert_rules:
  - name: failing
    monitor: iris-failures
    condition: {metric: failure_rate, op: ">", value: 0.5}
    channels: [hook]
channels:
  - {name: hook, type: webhook, url: "http://127.0.0.1:9/never"}
"""

#: Panels that must show data once the fleet has served some traffic, by dashboard uid.
PANELS_WITH_DATA = {
    "driftline-serving": {
        "Failed requests",
        "Request rate by model",
        "Requests by outcome",
        "Request latency p50 / p95 / p99",
        "Mean batch size by model",
        "Queue depth by model",
        "Tapped batches sent",
    },
    "driftline-collectors": {
        "Records in and out",
        "Spool bytes vs quota",
        "Backlog",
        "Write latency p50 / p95 / p99",
        "Proxied calls recorded",
        "Events waiting",
    },
    "driftline-monitor": {
        "Scheduling leader",
        "Firing alerts",
        "Failed runs (1h)",
        "Scheduled monitors",
        "Run outcomes",
        "Run duration p50 / p95 / p99 by kind",
        "API requests by route",
    },
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(
    stack: ExitStack, name: str, args: list[str], cwd: Path, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """Start a process logging to ``<cwd>/<name>.log``; ``stack`` sends it SIGTERM on exit."""
    with (cwd / f"{name}.log").open("wb") as log:
        process = subprocess.Popen(
            args, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )

    def terminate() -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)

    stack.callback(terminate)
    return process


def wait_stopped(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    """Wait for processes already told to stop; kill those still running after 30 s."""
    for process in processes.values():
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(
    what: str, ready: Callable[[], bool], processes: dict[str, subprocess.Popen[bytes]], cwd: Path
) -> None:
    """Poll ``ready`` until it holds; fail with the logs if a process exits or time runs out."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                log = (cwd / f"{name}.log").read_text()
                pytest.fail(f"{name} exited with {process.returncode} waiting for {what}:\n{log}")
        try:
            if ready():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    logs = "\n".join(f"--- {n} ---\n{(cwd / f'{n}.log').read_text()}" for n in processes)
    pytest.fail(f"timed out waiting for {what}\n{logs}")


def samples(text: str, name: str) -> float:
    """The sum of every sample called ``name`` in an exposition text."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    )


def exposed_series(text: str) -> set[str]:
    """Every series name an exposition text offers (families without samples included)."""
    suffixes = suffixes_by_type()
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names |= {family.name + suffix for suffix in suffixes.get(family.type, {""})}
        names |= {sample.name for sample in family.samples}
    return names


@dataclass(frozen=True)
class Fleet:
    directory: Path
    urls: dict[str, str]
    """Process kind (serve, sidecar, monitor) → base URL serving its /metrics."""
    metrics: dict[str, str]
    """Process kind → its /metrics text after the traffic."""
    prometheus: str | None
    """Base URL of a Prometheus scraping the fleet, if prometheus is installed."""


def prepare_stores(directory: Path) -> str:
    """Migrate the sidecar's and the monitor's stores (so the processes start without
    migrating); return the ingest token ``serve`` pushes its tap to the sidecar with."""
    token = ""
    for data_dir in (directory / ".driftline", directory / "monitor-data"):
        data_dir.mkdir()
        engine = create_engine(sqlite_url(data_dir / "driftline.db"))
        try:
            upgrade(engine)
            if not token:
                with create_session_factory(engine)() as session:
                    token = create_token(session, name="tap", scopes=["ingest"]).token
                    session.commit()
        finally:
            engine.dispose()
    return token


def prometheus_config(directory: Path, ports: dict[str, int]) -> Path:
    """The repository's prometheus.yml with loopback targets and one-second intervals."""
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    config["rule_files"] = [str(PROMETHEUS / name) for name in config["rule_files"]]
    for job in config["scrape_configs"]:
        kind = job["job_name"].removeprefix("driftline-")
        job["static_configs"] = [{"targets": [f"127.0.0.1:{ports[kind]}"]}]
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def drive_traffic(urls: dict[str, str], proxy: str) -> None:
    with httpx.Client(timeout=10) as client:
        for i in range(0, 12, 2):
            body = {"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP64",
                                "data": X[i : i + 2].tolist()}]}  # fmt: skip
            assert client.post(f"{urls['serve']}/v2/models/iris/infer", json=body).is_success
            assert client.post(f"{proxy}/v2/models/iris/infer", json=body).is_success
        bad = client.post(f"{urls['serve']}/v2/models/iris/infer", content=b"not json")
        assert bad.status_code == 400
        for _ in range(3):
            assert client.get(f"{urls['monitor']}/api/v1/models").status_code == 200


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    directory = tmp_path_factory.mktemp("fleet")
    (directory / "driftline.yaml").write_text(PROJECT)
    joblib.dump(LogisticRegression(max_iter=1000).fit(X, Y), directory / "iris.joblib")
    token = prepare_stores(directory)
    ports = {"serve": free_port(), "sidecar": free_port(), "monitor": free_port()}
    proxy_port = free_port()
    urls = {kind: f"http://127.0.0.1:{port}" for kind, port in ports.items()}
    base = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    base["DRIFTLINE_HOST"] = "127.0.0.1"
    processes: dict[str, subprocess.Popen[bytes]] = {}
    with ExitStack() as outer:
        outer.callback(wait_stopped, processes)  # after every process got its SIGTERM
        stack = outer.enter_context(ExitStack())
        processes |= {
            "serve": start(stack, "serve", [str(DRIFTLINE), "serve"], directory, base | {
                "DRIFTLINE_PORT": str(ports["serve"]),
                "DRIFTLINE_TAP_URL": urls["sidecar"],
                "DRIFTLINE_TAP_TOKEN": token,
            }),
            "sidecar": start(stack, "sidecar", [
                str(DRIFTLINE), "sidecar", "--port", str(ports["sidecar"]),
                "--proxy-to", urls["serve"], "--proxy-port", str(proxy_port),
            ], directory, base),
            "monitor": start(stack, "monitor", [
                str(DRIFTLINE), "monitor", "--port", str(ports["monitor"]),
            ], directory, base | {
                "DRIFTLINE_DATA_DIR": str(directory / "monitor-data"),
                "DRIFTLINE_API_AUTH": "false",
                "DRIFTLINE_MONITOR_SETTLE_SECONDS": "0.5",
            }),
        }  # fmt: skip
        prometheus = None
        if PROMETHEUS_SERVER is not None:
            prometheus_port = free_port()
            prometheus = f"http://127.0.0.1:{prometheus_port}"
            processes["prometheus"] = start(stack, "prometheus", [
                PROMETHEUS_SERVER,
                f"--config.file={prometheus_config(directory, ports)}",
                f"--storage.tsdb.path={directory / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prometheus_port}",
            ], directory, base)  # fmt: skip

        def get(url: str) -> httpx.Response:
            return httpx.get(url, timeout=2)

        def answers(url: str) -> Callable[[], bool]:
            return lambda: get(url).status_code == 200

        probes = {"serve": "/v2/health/ready", "sidecar": "/readyz", "monitor": "/readyz"}
        for kind, path in probes.items():
            wait_for(f"{kind} ready", answers(urls[kind] + path), processes, directory)
        drive_traffic(urls, f"http://127.0.0.1:{proxy_port}")

        def histograms_filled() -> bool:
            sidecar = get(f"{urls['sidecar']}/metrics").text
            monitor = get(f"{urls['monitor']}/metrics").text
            return (
                samples(sidecar, "driftline_collector_write_duration_seconds_count") > 0
                and samples(sidecar, "driftline_proxy_calls_recorded_total") == 6
                and samples(monitor, "driftline_monitor_run_duration_seconds_count") > 0
            )

        wait_for("writes and monitor runs", histograms_filled, processes, directory)
        metrics = {kind: get(f"{url}/metrics").text for kind, url in urls.items()}
        yield Fleet(directory, urls, metrics, prometheus)


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def test_promtool_accepts_the_prometheus_config() -> None:
    result = promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid prometheus config file syntax" in result.stdout


def test_promtool_accepts_the_alert_rules() -> None:
    result = promtool("check", "rules", str(PROMETHEUS / "alerts.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def test_the_alert_rules_pass_their_unit_tests() -> None:
    result = promtool("test", "rules", str(PROMETHEUS / "alerts_test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize(
    ("kind", "histogram"),
    [
        ("serve", "driftline_serving_request_duration_seconds_count"),
        ("sidecar", "driftline_collector_write_duration_seconds_count"),
        ("monitor", "driftline_api_request_duration_seconds_count"),
    ],
)
def test_promtool_finds_no_lint_problem_in_the_metrics(
    fleet: Fleet, kind: str, histogram: str
) -> None:
    text = fleet.metrics[kind]
    assert samples(text, histogram) > 0, f"{kind} served no traffic before the lint"
    result = promtool("check", "metrics", stdin=text)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_each_process_serves_its_own_metrics(fleet: Fleet) -> None:
    def families(kind: str) -> set[str]:
        return {f.name for f in text_string_to_metric_families(fleet.metrics[kind])}

    assert {"driftline_serving_requests", "driftline_tap_batches_sent"} <= families("serve")
    assert {"driftline_collector_spool_bytes", "driftline_proxy_calls_recorded",
            "driftline_cloudevents_pending"} <= families("sidecar")  # fmt: skip
    assert {"driftline_monitor_runs", "driftline_api_requests", "driftline_alerts_firing",
            "driftline_alert_delivery_attempts"} <= families("monitor")  # fmt: skip
    assert samples(fleet.metrics["serve"], "driftline_serving_requests_total") == 13
    assert samples(fleet.metrics["sidecar"], "driftline_collector_spool_quota_bytes") == 2**30


def test_the_processes_serve_every_metric_the_files_name(fleet: Fleet) -> None:
    served = set().union(*(exposed_series(text) for text in fleet.metrics.values()))
    named = {
        name
        for path in DASHBOARD_FILES
        for _, expr in queries(load_dashboard(path))
        for name in METRIC_TOKEN.findall(expr)
    }
    named |= {name for rule in alert_rules() for name in METRIC_TOKEN.findall(rule["expr"])}
    assert len(named) > 30
    assert sorted(named - served) == []


def concrete(expr: str) -> str:
    """A dashboard query with Grafana's variables replaced as an "All" selection would."""
    values = {"__rate_interval": "30s", "__range": "5m", "__interval": "1s"}
    return re.sub(r"\$\{?(\w+)\}?", lambda m: values.get(m.group(1), ".*"), expr)


def query(client: httpx.Client, expr: str) -> list[dict[str, Any]]:
    """The result of an instant query; fails the test on a PromQL error."""
    body = client.get("/api/v1/query", params={"query": expr}).json()
    assert body["status"] == "success", f"{expr}: {body.get('error')}"
    return list(body["data"]["result"])


def targets(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(panel title, PromQL)`` of every target of a dashboard."""
    for panel in all_panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]


def variable_values(client: httpx.Client, variable: dict[str, Any]) -> set[str]:
    """The values Grafana would offer for a ``label_values(selector, label)`` variable."""
    match = re.fullmatch(r"label_values\((.*), (\w+)\)", variable["definition"])
    assert match, variable["definition"]
    result = query(client, concrete(match.group(1)))
    return {r["metric"][match.group(2)] for r in result if match.group(2) in r["metric"]}


def empty_core_panels(client: httpx.Client, dashboards: list[dict[str, Any]]) -> list[str]:
    """The queries of the panels in :data:`PANELS_WITH_DATA` that return nothing yet."""
    return [
        f"{dashboard['uid']}: {title}: {expr}"
        for dashboard in dashboards
        for title, expr in targets(dashboard)
        if title in PANELS_WITH_DATA[dashboard["uid"]] and not query(client, concrete(expr))
    ]


def test_prometheus_scrapes_the_fleet_and_evaluates_every_query(fleet: Fleet) -> None:
    if fleet.prometheus is None:
        pytest.skip("prometheus is not installed (Debian package 'prometheus')")
    dashboards = [load_dashboard(path) for path in DASHBOARD_FILES]
    for dashboard in dashboards:
        titles = {title for title, _ in targets(dashboard)}
        assert PANELS_WITH_DATA[dashboard["uid"]] <= titles, dashboard["uid"]
    with httpx.Client(base_url=fleet.prometheus, timeout=10) as client:
        # Labelled series appear with the traffic, and rate() needs two scrapes of them.
        deadline = time.monotonic() + 30
        empty = empty_core_panels(client, dashboards)
        while empty and time.monotonic() < deadline:
            time.sleep(0.5)
            empty = empty_core_panels(client, dashboards)
        assert empty == []
        for dashboard in dashboards:  # every other query at least parses and evaluates
            for _, expr in targets(dashboard):
                query(client, concrete(expr))
            for variable in dashboard["templating"]["list"]:
                if variable["type"] == "query":
                    assert variable_values(client, variable), variable["name"]
        up = {r["metric"]["job"]: r["value"][1] for r in query(client, "up")}
        assert up == {"driftline-serve": "1", "driftline-sidecar": "1", "driftline-monitor": "1"}

        rules: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            groups = client.get("/api/v1/rules").json()["data"]["groups"]
            rules = [rule for group in groups for rule in group["rules"]]
            if rules and all(rule["health"] != "unknown" for rule in rules):
                break
            time.sleep(0.2)
    assert len(rules) == len(alert_rules())
    broken = [(r["name"], r["health"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert broken == []
    assert [r["name"] for r in rules if r["state"] != "inactive"] == []
