"""Collector benchmark: sustained records/s from the tap and from the ingest API into the store.

    .venv/bin/python benchmarks/collectors/run.py [--records 200000] [--repeat 3]
        [--stores sqlite,postgresql] [--paths tap,api]
        [--pg-url postgresql://postgres@127.0.0.1/postgres] [--write-results benchmarks/RESULTS.md]

A model with 20 numeric features. For each back end (SQLite file, a fresh PostgreSQL
database):

* **tap**: tapped batches of 64 rows (what the inference server hands over at load) are
  submitted to a :class:`~collectors.collector.Collector` as fast as it takes them; the time
  runs from the first submit until the last record is in the store (spool with fsync per
  append, writer merging batches into bulk inserts);
* **ingest API**: the sidecar's ``POST /v1/models/{m}/predictions`` with 1,000 records per
  request, 4 concurrent clients, on a real uvicorn server on loopback; the time runs until
  the last record is in the store.

The spool lives in a temporary directory on the same disk as the SQLite file. Each cell runs
``--repeat`` times on a fresh store (the stores taking turns), and the table shows the median,
with the lowest and highest in brackets when there are repeats.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import sqlalchemy as sa
import uvicorn
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from collectors.auth import TokenAuthorizer
from collectors.collector import Collector
from collectors.metrics import CollectorMetrics
from collectors.sidecar import IngestService, create_sidecar_app
from collectors.spool import Spool
from collectors.tap import TappedRecords
from serving.tap import TappedBatch
from storage import FeatureSpec, create_engine, create_session_factory, register_model, sqlite_url
from storage.migrations import upgrade
from storage.repositories.token_cache import TokenVerifier
from storage.repositories.tokens import create_token

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import fresh_postgres, machine, write_section

FEATURES = 20
TAP_ROWS = 64
API_ROWS = 1000
API_CLIENTS = 4
TARGET_POSTGRES_TAP = 50_000


@contextmanager
def database(kind: str, pg_url: str, directory: Path) -> Iterator[Engine]:
    if kind == "sqlite":
        engine = create_engine(sqlite_url(directory / "bench.db"))
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    with fresh_postgres(pg_url) as engine:
        yield engine


def prepare(engine: Engine) -> str:
    with create_session_factory(engine)() as session, session.begin():
        register_model(
            session,
            name="bench",
            task="binary_classification",
            version="1",
            classes=("no", "yes"),
            features=[FeatureSpec(f"f{i}", "numeric") for i in range(FEATURES)],
        )
        return create_token(session, name=f"bench-{uuid.uuid4().hex[:6]}", scopes=["ingest"]).token


def wait_stored(engine: Engine, count: int, timeout: float = 600) -> None:
    query = sa.text("select count(*) from prediction_records")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            if connection.execute(query).scalar_one() >= count:
                return
        time.sleep(0.02)
    raise TimeoutError(f"fewer than {count} records arrived within {timeout} s")


def tapped(index: int, rng: np.random.Generator) -> TappedBatch:
    now = time.time()
    return TappedBatch(
        model="bench",
        version="1",
        request_ids=tuple(f"t{index}-{k}" for k in range(TAP_ROWS)),
        row_counts=np.ones(TAP_ROWS, dtype=np.int64),
        features=rng.normal(size=(TAP_ROWS, FEATURES)),
        feature_names=tuple(f"f{i}" for i in range(FEATURES)),
        outputs={
            "predict": rng.integers(0, 2, TAP_ROWS),
            "predict_proba": rng.random((TAP_ROWS, 2)),
        },
        received_at=np.full(TAP_ROWS, now),
        latency_seconds=np.full(TAP_ROWS, 0.001),
        statuses=("ok",) * TAP_ROWS,
        errors=(None,) * TAP_ROWS,
        roles={"prediction": "predict", "probabilities": "predict_proba"},
    )


def run_tap(engine: Engine, records: int, directory: Path) -> float:
    rng = np.random.default_rng(0)
    batches = [tapped(i, rng) for i in range(records // TAP_ROWS)]
    spool = Spool(directory / "tap-spool")
    collector = Collector(
        engine, spool, metrics=CollectorMetrics(CollectorRegistry()), queue_batches=len(batches)
    )
    collector.start()
    started = time.perf_counter()
    for batch in batches:
        collector.submit(TappedRecords(batch))
    wait_stored(engine, len(batches) * TAP_ROWS)
    elapsed = time.perf_counter() - started
    collector.stop()
    spool.close()
    return len(batches) * TAP_ROWS / elapsed


def run_api(engine: Engine, token: str, records: int, directory: Path, offset: int) -> float:
    registry = CollectorRegistry()
    spool = Spool(directory / "api-spool")
    collector = Collector(engine, spool, metrics=CollectorMetrics(registry))
    collector.start()
    app = create_sidecar_app(
        IngestService(collector, engine),
        authorize=TokenAuthorizer(TokenVerifier(create_session_factory(engine))),
        registry=registry,
        ready=lambda: True,
        max_body_bytes=64 * 2**20,
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    rng = np.random.default_rng(1)
    bodies = []
    for b in range(records // API_ROWS):
        values = rng.normal(size=(API_ROWS, FEATURES)).round(6).tolist()
        bodies.append(
            {
                "records": [
                    {
                        "request_id": f"a{b}-{k}",
                        "features": {f"f{i}": v for i, v in enumerate(row)},
                        "prediction": "yes",
                        "probabilities": [0.3, 0.7],
                    }
                    for k, row in enumerate(values)
                ]
            }
        )

    async def send() -> None:
        headers = {"authorization": f"Bearer {token}"}
        queue: asyncio.Queue[dict[str, object]] = asyncio.Queue()
        for body in bodies:
            queue.put_nowait(body)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:

            async def worker() -> None:
                while not queue.empty():
                    answer = await client.post(
                        "/v1/models/bench/predictions", json=queue.get_nowait(), headers=headers
                    )
                    answer.raise_for_status()

            await asyncio.gather(*(worker() for _ in range(API_CLIENTS)))

    started = time.perf_counter()
    asyncio.run(send())
    wait_stored(engine, offset + len(bodies) * API_ROWS)
    elapsed = time.perf_counter() - started
    server.should_exit = True
    thread.join(timeout=30)
    collector.stop()
    spool.close()
    return len(bodies) * API_ROWS / elapsed


def measure(kind: str, paths: list[str], records: int, pg_url: str) -> dict[str, float]:
    """One run of ``paths`` on a fresh ``kind`` store: records/s per path."""
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, database(kind, pg_url, Path(tmp)) as engine:
        token = prepare(engine)
        stored = 0
        if "tap" in paths:
            rates["tap"] = run_tap(engine, records, Path(tmp))
            stored = records // TAP_ROWS * TAP_ROWS
        if "api" in paths:
            rates["api"] = run_api(engine, token, records, Path(tmp), offset=stored)
    return rates


def cell(rates: list[float]) -> str:
    if not rates:
        return "-"
    median = f"{statistics.median(rates):,.0f}"
    return median if len(rates) == 1 else f"{median} ({min(rates):,.0f}-{max(rates):,.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--paths", default="tap,api")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1/postgres")
    parser.add_argument("--write-results", type=Path, default=None)
    args = parser.parse_args()
    stores = args.stores.split(",")
    paths = args.paths.split(",")
    if not set(stores) <= {"sqlite", "postgresql"} or not set(paths) <= {"tap", "api"}:
        parser.error("--stores takes sqlite,postgresql and --paths tap,api (or one of each)")
    results: dict[tuple[str, str], list[float]] = {(k, p): [] for k in stores for p in paths}
    for run in range(args.repeat):
        for kind in stores:
            rates = measure(kind, paths, args.records, args.pg_url)
            for path, rate in rates.items():
                results[kind, path].append(rate)
            shown = "   ".join(f"{path} {rate:10,.0f} records/s" for path, rate in rates.items())
            print(f"run {run + 1}: {kind:10} {shown}", flush=True)
    lines = [
        "| store | through the tap (records/s) | through the ingest API (records/s) |",
        "|---|---|---|",
        *(
            f"| {kind} | {cell(results.get((kind, 'tap'), []))} | "
            f"{cell(results.get((kind, 'api'), []))} |"
            for kind in stores
        ),
    ]
    body = (
        f"\nMachine: {machine()}. {args.records:,} records of {FEATURES} numeric features per "
        f"path and store; median of {args.repeat} run(s).\n\n" + "\n".join(lines) + "\n"
    )
    pg_tap = results.get(("postgresql", "tap"), [])
    if pg_tap:
        rate = statistics.median(pg_tap)
        verdict = "PASS" if rate >= TARGET_POSTGRES_TAP else "FAIL"
        body += (
            f"\n- PostgreSQL through the tap: {rate:,.0f} records/s (target >= 50,000): {verdict}\n"
        )
    print(body)
    if args.write_results:
        write_section(args.write_results, "collectors", body)


if __name__ == "__main__":
    main()
