"""The Grafana and Prometheus files under ``dashboards/``: well-formed, and naming only metrics
that Driftline defines.

The known metrics are not listed here. The classes that define them are built on a fresh
``CollectorRegistry`` and the registry is asked what it holds, so a renamed metric breaks
this test, not a dashboard in production. A family whose series all carry labels has no
sample until a label set is used; the series names such a family exposes are derived from
what ``prometheus_client`` itself emits for an unlabelled metric of the same type (a counter
``x`` is stored as ``x_total`` and ``x_created``, a histogram ``h`` as ``h_bucket``,
``h_count``, ``h_sum`` and ``h_created``). A name in a query must be one of those series
names exactly: ``x_total`` of a gauge, or a counter's bare family name, is refused.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
import yaml
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from collectors.cloudevents import CloudEventsReceiver
from collectors.collector import RecordSource
from collectors.metrics import Backlog, CollectorMetrics
from collectors.proxy import ReverseProxy
from collectors.tap_push import PushTap
from monitor.alerting.dispatch import DispatchMetrics
from monitor.alerting.service import AlertingMetrics
from monitor.api.metrics import ApiMetrics
from monitor.models_cli import sidecar
from monitor.retention import RetentionMetrics
from monitor.scheduling.metrics import SchedulerMetrics
from monitor.settings import Settings
from serving.metrics import ServingMetrics

ROOT = Path(__file__).resolve().parents[3]
GRAFANA = ROOT / "dashboards" / "grafana"
PROMETHEUS = ROOT / "dashboards" / "prometheus"
DASHBOARD_FILES = sorted((GRAFANA / "dashboards").glob("*.json"))
EXPECTED_DASHBOARDS = {
    "driftline-serving.json",
    "driftline-collectors.json",
    "driftline-monitor.json",
}

METRIC_TOKEN = re.compile(r"\bdriftline_[a-z0-9_]+")
RATE_ARGUMENT = re.compile(r"\b(?:rate|irate|increase)\(\s*(driftline_[a-z0-9_]+)")
VARIABLE = re.compile(r"\$\{?(\w+)")
GRAFANA_BUILTINS = {"__rate_interval", "__interval", "__range", "__range_s", "__interval_ms"}
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


# --- the metrics Driftline defines ---------------------------------------------------------


def _never_submit(source: RecordSource) -> None:
    raise AssertionError("nothing is recorded while metrics are listed")


def _never_look_up(model: str, version: str | None) -> NoReturn:
    raise AssertionError("no model is looked up while metrics are listed")


def _register_serving(registry: CollectorRegistry) -> None:
    ServingMetrics(registry).track_queues(lambda: [])


def _register_collectors(registry: CollectorRegistry) -> None:
    """The sidecar's metrics (collector, proxy, CloudEvents) and ``serve``'s push tap."""
    CollectorMetrics(registry).track_backlog(lambda: Backlog(0, 0, 2**20, 0, None))
    ReverseProxy("http://model:8080", _never_submit, _never_look_up, registry=registry)
    CloudEventsReceiver(_never_submit, _never_look_up, registry=registry)
    tap = PushTap("http://sidecar:8001", registry=registry)  # sends nothing: its queue is empty
    tap.close(timeout=5)


def _register_monitor(registry: CollectorRegistry) -> None:
    SchedulerMetrics(registry)
    ApiMetrics(registry)
    AlertingMetrics(registry)
    DispatchMetrics(registry)
    RetentionMetrics(registry)


#: What registers the metrics of each package that defines some.
REGISTRARS: tuple[Callable[[CollectorRegistry], None], ...] = (
    _register_serving,
    _register_collectors,
    _register_monitor,
)


def suffixes_by_type() -> dict[str, set[str]]:
    """Metric type → the suffixes ``prometheus_client`` appends to its series names."""
    probe = CollectorRegistry()
    Counter("probe", "a counter", registry=probe)
    Gauge("probe_gauge", "a gauge", registry=probe)
    Histogram("probe_histogram", "a histogram", registry=probe)
    return {
        family.type: {sample.name.removeprefix(family.name) for sample in family.samples}
        for family in probe.collect()
    }


@dataclass(frozen=True)
class KnownMetrics:
    """What a Prometheus scraping Driftline can store."""

    families: dict[str, str]
    """Family name → type (counter, gauge, histogram)."""
    series: set[str]
    """Every series name the families expose."""
    monotonic: set[str]
    """The series that only grow (counters and histogram buckets, counts and sums)."""


def known_metrics(registrars: Iterable[Callable[[CollectorRegistry], None]]) -> KnownMetrics:
    """Every family the ``registrars`` register, each on a fresh registry."""
    suffixes = suffixes_by_type()
    families: dict[str, str] = {}
    series: set[str] = set()
    monotonic: set[str] = set()
    for register in registrars:
        registry = CollectorRegistry()
        register(registry)
        for family in registry.collect():
            families[family.name] = family.type
            names = {family.name + suffix for suffix in suffixes[family.type]}
            names |= {sample.name for sample in family.samples}
            series |= names
            if family.type in ("counter", "histogram"):
                monotonic |= {name for name in names if not name.endswith("_created")}
    return KnownMetrics(families, series, monotonic)


@pytest.fixture(scope="module")
def known() -> KnownMetrics:
    return known_metrics(REGISTRARS)


def unknown_metrics(expr: str, known: KnownMetrics) -> list[str]:
    """Names in ``expr`` that no Driftline process exposes."""
    return sorted(set(METRIC_TOKEN.findall(expr)) - known.series)


def rates_of_non_counters(expr: str, known: KnownMetrics) -> list[str]:
    """Series under rate()/irate()/increase() that do not only grow (gauges, _created)."""
    return sorted(
        name
        for name in RATE_ARGUMENT.findall(expr)
        if name in known.series and name not in known.monotonic
    )


def test_the_registries_hold_every_kind_of_driftline_metric(known: KnownMetrics) -> None:
    assert known.families["driftline_serving_requests"] == "counter"
    assert known.families["driftline_serving_request_duration_seconds"] == "histogram"
    assert known.families["driftline_collector_spool_bytes"] == "gauge"
    assert known.families["driftline_monitor_runs"] == "counter"
    assert {
        "driftline_serving_requests_total",
        "driftline_serving_requests_created",
        "driftline_serving_request_duration_seconds_bucket",
        "driftline_serving_request_duration_seconds_count",
        "driftline_serving_request_duration_seconds_sum",
        "driftline_serving_queue_depth_requests",
        "driftline_collector_spool_quota_bytes",
        "driftline_tap_batches_dropped_total",
        "driftline_alert_delivery_attempts_total",
    } <= known.series
    assert "driftline_serving_requests" not in known.series
    assert "driftline_collector_spool_bytes_total" not in known.series
    assert all(name.startswith("driftline_") for name in known.families)


def test_the_checks_catch_a_wrong_name_and_a_rate_of_a_gauge(known: KnownMetrics) -> None:
    expr = (
        "rate(driftline_serving_requests[5m]) + rate(driftline_collector_spool_bytes[5m])"
        " + driftline_collector_spool_bytes_total + driftline_serving_reqests_total"
    )
    assert unknown_metrics(expr, known) == [
        "driftline_collector_spool_bytes_total",
        "driftline_serving_reqests_total",
        "driftline_serving_requests",
    ]
    assert rates_of_non_counters(expr, known) == ["driftline_collector_spool_bytes"]
    good = 'sum(rate(driftline_serving_request_duration_seconds_bucket{job="driftline-serve"}[1m]))'
    assert unknown_metrics(good, known) == []
    assert rates_of_non_counters(good, known) == []


# --- Grafana dashboards ----------------------------------------------------------------------


def load_dashboard(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text())
    assert isinstance(document, dict), f"{path.name}: not a JSON object"
    return document


def all_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every panel, including those inside collapsed rows."""
    for panel in panels:
        yield panel
        yield from all_panels(panel.get("panels", []))


def queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(where, PromQL)`` of every panel target and every query variable."""
    for panel in all_panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            yield f"panel {panel['id']} {panel['title']!r} {target['refId']}", target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            text = query["query"] if isinstance(query, dict) else query
            yield f"variable {variable['name']}", text


@pytest.fixture(scope="module", params=[path.name for path in DASHBOARD_FILES])
def dashboard(request: pytest.FixtureRequest) -> dict[str, Any]:
    return load_dashboard(GRAFANA / "dashboards" / request.param)


def test_the_three_dashboards_exist_with_distinct_uids() -> None:
    assert {path.name for path in DASHBOARD_FILES} == EXPECTED_DASHBOARDS
    uids = [load_dashboard(path)["uid"] for path in DASHBOARD_FILES]
    assert len(set(uids)) == len(uids)


def test_dashboard_metadata(dashboard: dict[str, Any]) -> None:
    assert dashboard["schemaVersion"] == 39
    assert dashboard["title"].startswith("Driftline / ")
    assert re.fullmatch(r"[a-z0-9-]{1,40}", dashboard["uid"])
    assert "driftline" in dashboard["tags"]
    assert dashboard["panels"], "a dashboard without panels"


def test_panel_ids_are_unique(dashboard: dict[str, Any]) -> None:
    ids = [panel["id"] for panel in all_panels(dashboard["panels"])]
    assert all(isinstance(i, int) for i in ids)
    assert len(ids) == len(set(ids)), f"repeated panel ids in {dashboard['uid']}"


def test_panels_sit_on_the_grid_without_overlapping(dashboard: dict[str, Any]) -> None:
    taken: dict[tuple[int, int], int] = {}
    for panel in all_panels(dashboard["panels"]):
        grid = panel["gridPos"]
        assert {"h", "w", "x", "y"} <= set(grid), panel["title"]
        assert min(grid["w"], grid["h"]) >= 1, panel["title"]
        assert min(grid["x"], grid["y"]) >= 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, f"{panel['title']!r} runs past the 24 columns"
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                other = taken.setdefault((x, y), panel["id"])
                assert other == panel["id"], f"panels {other} and {panel['id']} overlap"


def test_every_target_is_a_prometheus_query_on_the_datasource_variable(
    dashboard: dict[str, Any],
) -> None:
    for panel in all_panels(dashboard["panels"]):
        if panel["type"] == "row":
            assert not panel.get("targets"), f"row {panel['title']!r} has queries"
            continue
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        assert panel["datasource"] == DATASOURCE, panel["title"]
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for target in panel["targets"]:
            assert isinstance(target["expr"], str), panel["title"]
            assert target["expr"].strip(), panel["title"]
            assert isinstance(target["refId"], str), panel["title"]
            assert target["refId"], panel["title"]
            assert target["datasource"] == DATASOURCE, panel["title"]


def test_template_variables(dashboard: dict[str, Any]) -> None:
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["instance"]["type"] == "query"
    if dashboard["uid"] == "driftline-serving":
        assert variables["model"]["type"] == "query"
    for name, variable in variables.items():
        if variable["type"] == "query":
            assert variable["datasource"] == DATASOURCE, name
    used = {name for _, expr in queries(dashboard) for name in VARIABLE.findall(expr)}
    assert used - GRAFANA_BUILTINS <= set(variables), "a query uses an undefined variable"
    assert "instance" in used


def test_dashboards_name_only_driftline_metrics(
    dashboard: dict[str, Any], known: KnownMetrics
) -> None:
    checked = 0
    for where, expr in queries(dashboard):
        assert unknown_metrics(expr, known) == [], f"{dashboard['uid']} {where}: {expr}"
        assert rates_of_non_counters(expr, known) == [], f"{dashboard['uid']} {where}: {expr}"
        checked += bool(METRIC_TOKEN.search(expr))
    assert checked >= 10


def test_histogram_quantiles_read_buckets_by_le(dashboard: dict[str, Any]) -> None:
    for where, expr in queries(dashboard):
        for argument in re.findall(r"histogram_quantile\(([^,]+),(.*)", expr):
            assert "_bucket" in argument[1], f"{where}: {expr}"
            assert re.search(r"by \([^)]*\ble\b", argument[1]), f"{where}: {expr}"


def test_the_serving_dashboard_covers_its_brief() -> None:
    text = " ".join(
        expr for _, expr in queries(load_dashboard(GRAFANA / "dashboards/driftline-serving.json"))
    )
    for quantile in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({quantile}, sum by (le) (rate(" in text
    for metric in (
        "driftline_serving_requests_total",
        "driftline_serving_batch_size_rows_bucket",
        "driftline_serving_queue_depth_requests",
        "driftline_serving_inference_errors_total",
    ):
        assert metric in text
    assert "sum by (model, version, status)" in text


# --- Grafana provisioning --------------------------------------------------------------------


def test_the_datasource_is_the_compose_prometheus() -> None:
    document = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    assert document["apiVersion"] == 1
    [source] = document["datasources"]
    assert (source["uid"], source["type"]) == ("prometheus", "prometheus")
    assert source["url"] == "http://prometheus:9090"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert "9090:9090" in compose["services"]["prometheus"]["ports"]


def test_the_dashboard_provider_reads_the_mounted_folder() -> None:
    document = yaml.safe_load((GRAFANA / "provisioning/dashboards/driftline.yml").read_text())
    assert document["apiVersion"] == 1
    [provider] = document["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"


# --- Prometheus --------------------------------------------------------------------------------


def load_yaml(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), f"{path.name}: not a mapping"
    return document


def test_prometheus_scrapes_every_kind_of_process_on_its_default_port() -> None:
    config = load_yaml(PROMETHEUS / "prometheus.yml")
    assert config["rule_files"] == ["alerts.yml"]
    targets = {
        job["job_name"]: [t for static in job["static_configs"] for t in static["targets"]]
        for job in config["scrape_configs"]
    }
    serve_port = Settings.model_fields["port"].default  # DRIFTLINE_PORT: serve and monitor
    sidecar_port = inspect.signature(sidecar).parameters["port"].default
    assert targets == {
        "driftline-serve": [f"serve:{serve_port}"],
        "driftline-sidecar": [f"sidecar:{sidecar_port}"],
        "driftline-monitor": [f"monitor:{serve_port}"],
    }
    assert all(
        job.get("metrics_path", "/metrics") == "/metrics" for job in config["scrape_configs"]
    )


def alert_rules() -> list[dict[str, Any]]:
    document = load_yaml(PROMETHEUS / "alerts.yml")
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_alert_rules_are_labelled_and_explained() -> None:
    rules = alert_rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"].strip(), rule["alert"]
        assert rule["annotations"]["description"].strip(), rule["alert"]
    assert {
        "DriftlineProcessDown",
        "DriftlineSpoolNearQuota",
        "DriftlineSpoolFull",
        "DriftlineRecordsDropped",
        "DriftlineServingErrorRate",
        "DriftlineServingQueueFull",
        "DriftlineMonitorRunsFailing",
    } <= set(names)


def test_alerts_name_only_driftline_metrics(known: KnownMetrics) -> None:
    rules = alert_rules()
    for rule in rules:
        assert unknown_metrics(rule["expr"], known) == [], rule["alert"]
        assert rates_of_non_counters(rule["expr"], known) == [], rule["alert"]
    used = {name for rule in rules for name in METRIC_TOKEN.findall(rule["expr"])}
    assert "driftline_collector_spool_quota_bytes" in used
    assert "driftline_collector_records_dropped_total" in used
