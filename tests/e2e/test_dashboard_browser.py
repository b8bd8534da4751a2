"""The dashboard in a real browser: Debian's Chromium driven by Playwright.

A store is seeded by real monitor runs and alert deliveries (:mod:`seeding`), then served
by a real ``driftline monitor`` process with auth on. The browser logs in with a read token
made by ``driftline tokens create``, and walks the pages a data scientist would.

Set ``DRIFTLINE_UPDATE_SCREENSHOTS=1`` to rewrite ``docs/screenshots/`` from this run.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from storage import create_engine, sqlite_url
from storage.migrations import upgrade
from storage.repositories.alerting import list_alerts
from tests.integration.dashboards.seeding import seeded_store
from tests.integration.monitor.scheduling.test_leader_failover import free_port, wait_for
from tests.integration.test_cli import driftline

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
DRIFTLINE = Path(sys.executable).with_name("driftline")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
RANGE = "from=2026-03-01T00:00Z&to=2026-03-02T01:00Z"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
Browser, Page = sync_api.Browser, sync_api.Page
if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is not installed (make test installs it with apt-get where it can)",
        allow_module_level=True,
    )


@dataclass(frozen=True)
class Site:
    base: str
    token: str
    fingerprint: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("e2e")
    url = sqlite_url(directory / "driftline.db")
    engine = create_engine(url)
    upgrade(engine)
    with seeded_store(engine, start=START, hours=24):
        pass
    (alert,) = [a for a in list_alerts(engine, rule="drifting") if a.state == "firing"]
    engine.dispose()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    environment["DRIFTLINE_DATABASE_URL"] = url
    made = driftline(directory, "tokens", "create", "viewer", "--scope", "read", env=environment)
    assert made.returncode == 0, made.transcript
    token = re.search(r"\b(dlt_\S+)", made.stdout)
    assert token is not None, made.stdout
    port = free_port()
    log = directory / "monitor.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(DRIFTLINE), "monitor", "--no-scheduler", "--port", str(port)],
            cwd=directory,
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:

        def ready() -> bool:
            assert process.poll() is None, log.read_text()
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(ready, 60, f"the monitor never became ready:\n{log.read_text()}")
        yield Site(f"http://127.0.0.1:{port}", token.group(1), alert.fingerprint)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    opened = context.new_page()
    yield opened
    context.close()


def log_in(page: Page, site: Site, path: str) -> None:
    page.goto(site.base + path)
    assert "/login" in page.url
    page.fill("input[name=token]", site.token)
    page.click("section.login button[type=submit]")
    page.wait_for_load_state("networkidle")


def shoot(page: Page, name: str) -> None:
    if os.environ.get("DRIFTLINE_UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_an_unauthenticated_visit_is_refused(page: Page, site: Site) -> None:
    page.goto(f"{site.base}/models/churn?{RANGE}")
    assert "/login" in page.url
    assert page.locator("text=churn").count() == 0
    page.fill("input[name=token]", "dl_not_a_token")
    page.click("section.login button[type=submit]")
    assert page.locator("[role=alert]").inner_text()
    assert "/login" in page.url


def test_overview_lists_the_models_and_filters_them(page: Page, site: Site) -> None:
    log_in(page, site, f"/?{RANGE}")
    rows = page.locator("#models tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("td").first.inner_text() == "churn"
    assert "alarm" in rows.first.inner_text()
    shoot(page, "overview")
    page.fill("#model-search", "nothing-like-this")
    assert not rows.first.is_visible()
    assert "q=nothing-like-this" in page.url
    page.fill("#model-search", "chu")
    assert rows.first.is_visible()


def test_model_page_draws_charts_and_sorts_the_feature_table(page: Page, site: Site) -> None:
    log_in(page, site, f"/models/churn?{RANGE}")
    for chart in ("drift", "prediction", "performance", "failures", "latency"):
        traces = page.evaluate(f"document.getElementById('chart-{chart}').data.length")
        assert traces >= 1, chart
    names = page.locator("#feature-table tbody tr td:first-child")
    assert names.first.inner_text() == "age"  # the shifted feature leads
    shoot(page, "model")
    page.click("#feature-table th:has-text('Feature')")
    first_desc = names.first.inner_text()
    page.click("#feature-table th:has-text('Feature')")
    assert sorted([first_desc, names.first.inner_text()]) == ["age", "plan"]


def test_a_drifted_feature_shows_both_distributions(page: Page, site: Site) -> None:
    log_in(page, site, f"/models/churn?{RANGE}")
    page.click("#feature-table a:text-is('age')")
    page.wait_for_load_state("networkidle")
    assert "/models/churn/features/age" in page.url
    traces = page.evaluate("document.getElementById('chart-distribution').data.map(t => t.name)")
    assert len(traces) == 2
    assert traces[0].startswith("reference")
    assert traces[1] == "current window"
    bars = page.locator("#chart-distribution .bars .point")
    assert bars.count() > 10, "both histograms are drawn"
    shoot(page, "feature")


def test_the_alert_page_shows_a_delivery(page: Page, site: Site) -> None:
    log_in(page, site, f"/alerts?{RANGE}")
    page.click(f"a[href='/alerts/{site.fingerprint}'] >> nth=0")
    page.wait_for_load_state("networkidle")
    deliveries = page.locator("#deliveries tr.delivery")
    assert deliveries.count() >= 1
    assert "delivered" in deliveries.first.inner_text()
    assert "HTTP 200" in deliveries.first.inner_text()
    shoot(page, "alert")


def test_the_evidently_report_downloads(page: Page, site: Site, tmp_path: Path) -> None:
    log_in(page, site, f"/models/churn?{RANGE}")
    with page.expect_download(timeout=120_000) as download:
        page.click("a:has-text('Evidently report')")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("driftline-churn-drift-")
    text = saved.read_text()
    assert text.lstrip().lower().startswith("<!doctype html") or "<html" in text[:500]
    assert "Drift is detected for" in text  # Evidently's data drift preset
    assert "Model Quality" in text  # and its classification preset: the window has labels


def test_screenshots_are_kept_in_the_docs() -> None:
    for name in ("overview", "model", "feature", "alert"):
        path = SCREENSHOTS / f"{name}.png"
        assert path.is_file(), f"{path} is missing: run with DRIFTLINE_UPDATE_SCREENSHOTS=1"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
