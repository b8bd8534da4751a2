"""Dashboard benchmark: page loads for a model with 90 days of hourly results, 200 features.

    .venv/bin/python benchmarks/dashboards/run.py [--models 3] [--features 200] [--days 90]
        [--pg-url postgresql://postgres@127.0.0.1/postgres] [--repeat 5]
        [--write-results benchmarks/RESULTS.md]

Seeds (``seed.py`` in this folder: results shaped by real monitor runs, real alerts and
deliveries) an SQLite file and a fresh PostgreSQL database, serves each with the real app
(``driftline monitor``'s API app with the dashboard) under uvicorn on loopback, and times
every main page two ways:

* **server**: the HTTP answer, from the request to the last byte of HTML;
* **browser**: Debian's Chromium (Playwright) loading the page until its ``load`` event,
  after which every chart has been drawn (Plotly runs before ``load``); Plotly.js itself
  comes from the browser cache after the first page, as it would for a user.

Median of ``--repeat`` loads each. Target (issue 11): every page loads in under a second.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy.engine import Engine

from dashboards.web.app import dashboard_router
from monitor.api import create_api_app
from monitor.dashboard_source import MonitorWindowSource
from storage import create_engine, sqlite_url
from storage.migrations import upgrade
from storage.repositories.alerting import list_alerts

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fresh_postgres, machine, write_section
from seed import seed

TARGET_MS = 1000.0
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(engine: Engine) -> Iterator[str]:
    """The dashboard of ``engine`` on a loopback port, as ``driftline monitor`` builds it."""
    router = dashboard_router(engine, verifier=None, source=MonitorWindowSource(engine))
    app = create_api_app(engine, auth=False, extra_routers=[router])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the dashboard server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def pages(engine: Engine) -> list[tuple[str, str]]:
    alert = list_alerts(engine, limit=1)
    found = [
        ("overview, 90 days", "/?from=90d"),
        ("model, 7 days", "/models/model00?from=7d"),
        ("model, 90 days", "/models/model00?from=90d"),
        ("feature, 90 days", "/models/model00/features/f000?from=90d"),
        ("alerts, 90 days", "/alerts?from=90d"),
    ]
    if alert:
        found.append(("one alert", f"/alerts/{alert[0].fingerprint}"))
    return found


def median_ms(load: Callable[[str], float], url: str, repeat: int) -> float:
    load(url)  # warm: caches, the first plan of each statement
    return statistics.median(load(url) for _ in range(repeat))


def server_ms(url: str) -> float:
    began = time.perf_counter()
    answer = httpx.get(url, timeout=60)
    answer.raise_for_status()
    return 1000 * (time.perf_counter() - began)


def measure(engine: Engine, repeat: int) -> list[tuple[str, float, float, int]]:
    """``(page, server ms, browser ms, html bytes)`` per page."""
    from playwright.sync_api import sync_playwright

    rows = []
    with serving(engine) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})

        def browser_ms(url: str) -> float:
            page.goto(url, wait_until="load")
            return float(
                page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
            )

        for label, path in pages(engine):
            url = base + path
            size = len(httpx.get(url, timeout=60).content)
            server = median_ms(server_ms, url, repeat)
            rows.append((label, server, median_ms(browser_ms, url, repeat), size))
            print(f"  {label}: server {rows[-1][1]:.0f} ms, browser {rows[-1][2]:.0f} ms")
        browser.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=3)
    parser.add_argument("--features", type=int, default=200)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1/postgres")
    parser.add_argument("--write-results", type=Path)
    args = parser.parse_args()
    results: dict[str, list[tuple[str, float, float, int]]] = {}
    seeded: dict[str, float] = {}
    stores = (("SQLite", sqlite_store()), ("PostgreSQL", fresh_postgres(args.pg_url)))
    for name, context in stores:
        with context as store:
            began = time.perf_counter()
            seed(store, models=args.models, features=args.features, days=args.days)
            seeded[name] = time.perf_counter() - began
            print(f"{name}: seeded in {seeded[name]:.0f} s", flush=True)
            results[name] = measure(store, args.repeat)

    lines = [
        "| page | back end | server, ms | browser load, ms | HTML KiB | target | verdict |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for name, rows in results.items():
        for label, server, browser, size in rows:
            verdict = "PASS" if browser < TARGET_MS else "FAIL"
            lines.append(
                f"| {label} | {name} | {server:.0f} | {browser:.0f} | {size / 1024:.0f} "
                f"| < {TARGET_MS:.0f} ms | {verdict} |"
            )
    table = "\n".join(lines)
    body = (
        f"\nMachine: {machine('SQLite file and PostgreSQL on loopback', 'Debian Chromium')}.\n\n"
        f"{args.models} models, {args.features} features, {args.days} days of hourly results "
        f"from four monitors each (data drift with per-feature details, performance, "
        f"failures, health), with alerts and deliveries (seeding took "
        f"{', '.join(f'{seconds:.0f} s on {name}' for name, seconds in seeded.items())}); "
        f"pages of `model00`. Median of "
        f"{args.repeat} loads after one warm-up; browser = Chromium's `loadEventEnd` (charts "
        f"drawn, Plotly.js cached).\n\n{table}\n"
    )
    print(table)
    if args.write_results is not None:
        write_section(args.write_results, "dashboards", body)


@contextmanager
def sqlite_store() -> Iterator[Engine]:
    """An engine on a new SQLite file at the newest schema, deleted afterwards."""
    with tempfile.TemporaryDirectory() as directory:
        engine = create_engine(sqlite_url(Path(directory) / "dashboard.db"))
        try:
            upgrade(engine)
            yield engine
        finally:
            engine.dispose()


if __name__ == "__main__":
    main()
