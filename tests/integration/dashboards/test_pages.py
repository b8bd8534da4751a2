"""The dashboard's pages over a store filled by real monitor runs, on both back ends."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from urllib.parse import quote

import pytest

from dashboards.web.app import dashboard_router
from monitor.api import create_api_app
from storage.repositories.alerting import create_silence, list_alerts
from tests.integration.dashboards.client import PageClient
from tests.integration.dashboards.conftest import START, Store

pytestmark = pytest.mark.integration

RANGE = {"from": "2026-03-01T00:00Z", "to": "2026-03-02T01:00Z"}
NOW = START + dt.timedelta(hours=25)


def client(store: Store) -> PageClient:
    router = dashboard_router(store.engine, verifier=None, clock=lambda: NOW)
    return PageClient(create_api_app(store.engine, auth=False, extra_routers=[router]))


def charts(html: str) -> dict[str, Any]:
    found = re.findall(
        r'<script type="application/json" id="chart-(\w+)-data">(.*?)</script>', html, re.S
    )
    return {name: json.loads(text) for name, text in found}


def feature_rows(html: str) -> list[str]:
    table = html.split('id="feature-table"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-search="([^"]+)"', table)


def test_overview_lists_the_model_with_each_kind_at_a_glance(store: Store) -> None:
    page = client(store).get("/", params=RANGE)
    assert page.status_code == 200, page.text
    html = page.text
    assert '<a href="/models/churn?' in html
    row = html.split('data-search="churn', 1)[1].split("</tr>", 1)[0]
    # The last hour: age shifted (drift alarm), the concept changed (accuracy alarm).
    assert 'class="status alarm">alarm</span> 33 % (1/3 drifted)' in row
    assert "accuracy" in row
    assert "failed" in row
    assert "p99" in row
    assert re.search(r"\d+ open</a>", row) is not None  # the drift alert still fires
    assert 'id="model-search"' in html
    assert 'data-sort="number"' in html
    assert page.headers["x-frame-options"] == "DENY"


def test_model_page_draws_every_kind_over_the_range(store: Store) -> None:
    html = client(store).get("/models/churn", params=RANGE).text
    found = charts(html)
    assert set(found) == {"drift", "prediction", "performance", "failures", "latency"}
    drift = found["drift"]["data"][0]
    assert len(drift["x"]) == store.seeded.hours
    shifted = drift["y"][store.seeded.shift_from :]
    assert all(share >= 1 / 3 for share in shifted)
    assert found["drift"]["layout"]["shapes"], "the drift alert is drawn on the time axis"
    prediction = found["prediction"]
    assert {t["name"] for t in prediction["data"]} == {
        "prediction.label",
        "prediction.score.proba_leave",
    }
    assert prediction["layout"]["yaxis"]["type"] == "log"
    assert all(p < 0.05 for t in prediction["data"] for p in t["y"][store.seeded.shift_from :])
    performance = {t["name"] for t in found["performance"]["data"]}
    assert "quality: realised accuracy" in performance
    assert "quality: label coverage" in performance
    failures = found["failures"]["data"][0]
    burst = failures["y"][store.seeded.errors_at]
    assert burst == pytest.approx(0.5, abs=0.01)
    latency = {t["name"] for t in found["latency"]["data"]}
    assert any("99" in name for name in latency)
    assert "latency: throughput" in latency


def test_feature_table_puts_the_shifted_feature_first(store: Store) -> None:
    html = client(store).get("/models/churn", params=RANGE).text
    rows = feature_rows(html)
    assert rows[0] == "age"
    first = html.split('<tr data-search="age"', 1)[1].split("</tr>", 1)[0]
    assert "drifted" in first
    assert "<polyline points=" in first
    assert "/models/churn/features/age?" in first


def test_window_parameter_selects_an_earlier_window(store: Store) -> None:
    before_shift = START + dt.timedelta(hours=store.seeded.shift_from - 1)
    window = before_shift.strftime("%Y-%m-%dT%H:%M:%SZ")
    html = client(store).get("/models/churn", params={**RANGE, "window": window}).text
    assert "window ending 2026-03-01 13:00 UTC" in html
    age = html.split('<tr data-search="age"', 1)[1].split("</tr>", 1)[0]
    assert 'class="status ok">no</span>' in age


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        ("/models/nope", RANGE, 404, "nope"),
        ("/models/churn", {**RANGE, "monitor": "ghost"}, 404, "ghost"),
        ("/models/churn", {**RANGE, "window": "2020-01-01T00:00Z"}, 404, "no result"),
        ("/models/churn", {**RANGE, "window": "soon"}, 400, "window: expected"),
        ("/models/churn", {"from": "tomorrow"}, 400, "from: expected"),
        ("/models/churn", {**RANGE, "version": "9"}, 400, "no version"),
        ("/", {"to": "2020-01-01"}, 400, "must be before"),
        ("/alerts", {"state": "burning"}, 400, "state: expected"),
        ("/alerts/0000", {}, 404, "fingerprint"),
        ("/models/churn/features/ghost", RANGE, 404, "ghost"),
        ("/models/churn/report", {"monitor": "drift"}, 400, "window"),
    ],
)
def test_bad_parameters_get_a_page_that_names_them(
    store: Store, path: str, params: dict[str, str], status: int, message: str
) -> None:
    page = client(store).get(path, params=params)
    assert page.status_code == status
    assert page.headers["content-type"].startswith("text/html")
    assert message in page.text


def test_feature_page_without_a_data_source_says_so(store: Store) -> None:
    html = client(store).get("/models/churn/features/age", params=RANGE).text
    assert "Distributions unavailable" in html
    history = charts(html)["history"]["data"][0]
    assert len(history["x"]) == store.seeded.hours


def test_alert_page_shows_its_history_and_deliveries(store: Store) -> None:
    (alert,) = [a for a in list_alerts(store.engine, rule="drifting") if a.state == "firing"]
    html = client(store).get(f"/alerts/{alert.fingerprint}").text
    assert "churn: drift share" in html
    episodes = html.split("<h3>Episode since ")[1:]
    assert episodes, "the state history lists each episode"
    shift = START + dt.timedelta(hours=store.seeded.shift_from + 1)
    assert episodes[0].startswith(f"{shift:%Y-%m-%d %H:%M} UTC")
    assert 'class="status firing">firing</span></td>' in episodes[0]
    deliveries = html.split('id="deliveries"', 1)[1]
    sent = deliveries.count('<tr class="delivery">')
    assert sent == len(store.seeded.receiver.requests) - _failing_notifications(store)
    assert "delivered" in deliveries
    assert "HTTP 200" in deliveries


def _failing_notifications(store: Store) -> int:
    """Notifications the receiver got about the other rule's alerts."""
    return sum(b'"alertname": "failing"' in r.body or b'"alertname":"failing"' in r.body
               for r in store.seeded.receiver.requests)  # fmt: skip


def test_alerts_page_filters_by_state_and_model(store: Store) -> None:
    http = client(store)
    everything = http.get("/alerts", params=RANGE).text
    firing = http.get("/alerts", params={**RANGE, "state": "firing"}).text
    assert "drifting" in everything
    assert "failing" in everything
    assert "failing" not in firing.split("<table", 1)[1]
    other = http.get("/alerts", params={**RANGE, "model": "other"}).text
    assert "No alerts." in other


def test_silences_page_escapes_what_people_typed(store: Store) -> None:
    create_silence(
        store.engine,
        matchers=[{"name": "model", "op": "=", "value": "churn"}],
        starts_at=NOW - dt.timedelta(hours=1),
        ends_at=NOW + dt.timedelta(hours=1),
        created_by="ops",
        comment="<script>alert(1)</script> deploy",
    )
    html = client(store).get("/silences").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; deploy" in html
    assert "<script>alert(1)" not in html
    assert "model=&quot;churn&quot;" in html
    assert "active" in html


def test_static_files_come_from_the_installed_packages(store: Store) -> None:
    http = client(store)
    plotly = http.get("/static/plotly.min.js")
    assert plotly.status_code == 200
    assert "javascript" in plotly.headers["content-type"]
    assert len(plotly.content) > 1_000_000
    assert http.get("/static/dashboard.css").status_code == 200
    assert http.get("/static/..%2Fapp.py").status_code == 404
    assert http.get("/static/app.py").status_code == 404


def test_links_in_notifications_lead_to_pages(store: Store) -> None:
    (alert,) = [a for a in list_alerts(store.engine, rule="drifting") if a.state == "firing"]
    http = client(store)
    for path in (f"/alerts/{alert.fingerprint}", "/models/churn?monitor=drift"):
        assert http.get(path).status_code == 200, path
    assert http.get(f"/models/churn?monitor={quote('drift')}&from=90d").status_code == 200
