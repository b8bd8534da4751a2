"""Storage benchmark: bulk insert and window reads on SQLite and PostgreSQL, in one run.

    .venv/bin/python benchmarks/storage/run.py [--pg-url postgresql://postgres@127.0.0.1/postgres]
        [--write-results benchmarks/RESULTS.md]

Measures, per back end: inserting 100k records with 20 features (in batches of 10k, as a
sidecar flushes), re-inserting the same 100k (nothing may be stored twice), reading windows
of 100k and 1M records with 50 features into numpy, and reading the 1M window sampled to 100k.
Each back end gets a fresh database that is removed afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.engine import make_url

from storage import (
    FeatureSpec,
    PredictionBatch,
    create_engine,
    create_session_factory,
    insert_predictions,
    read_window,
    register_model,
    sqlite_url,
)
from storage.migrations import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import machine, write_section

EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
EPOCH_US = int(EPOCH.timestamp()) * 1_000_000
BATCH = 10_000
TARGETS = {
    ("postgresql", "insert"): ("records/s", 50_000.0),
    ("sqlite", "insert"): ("records/s", 20_000.0),
    ("postgresql", "read 100k"): ("s", 0.5),
    ("sqlite", "read 100k"): ("s", 0.5),
    ("postgresql", "read 1M"): ("s", 5.0),
    ("sqlite", "read 1M"): ("s", 5.0),
}


@dataclass
class Row:
    backend: str
    operation: str
    records: int
    seconds: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    def verdict(self) -> str:
        target = TARGETS.get((self.backend, self.operation))
        if target is None:
            return ""
        unit, bound = target
        ok = self.rate >= bound if unit == "records/s" else self.seconds <= bound
        return (
            f"{'PASS' if ok else 'FAIL'} ({'>=' if unit == 'records/s' else '<='} {bound:g} {unit})"
        )


def batch(rng: np.random.Generator, start: int, n: int, n_features: int) -> PredictionBatch:
    names = [f"x{j}" for j in range(n_features)]
    values = rng.normal(size=(n, n_features))
    return PredictionBatch(
        request_ids=[f"req-{i}" for i in range(start, start + n)],
        timestamps_us=EPOCH_US + np.arange(start, start + n, dtype=np.int64) * 1_000,
        features={name: values[:, j] for j, name in enumerate(names)},
        predictions=rng.normal(size=n),
        latency_seconds=rng.exponential(0.01, size=n),
    )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    begin = time.perf_counter()
    out = fn()
    return time.perf_counter() - begin, out


def insert_all(engine: sa.Engine, handle: Any, batches: list[PredictionBatch]) -> int:
    return sum(insert_predictions(engine, handle, b).inserted for b in batches)


def run_backend(backend: str, url: str, rng: np.random.Generator) -> list[Row]:
    engine = create_engine(url)
    upgrade(engine)
    rows: list[Row] = []
    with create_session_factory(engine).begin() as session:
        narrow = register_model(
            session, name="narrow", task="regression", version="1",
            features=[FeatureSpec(f"x{j}", "numeric") for j in range(20)],
        )  # fmt: skip
        wide = register_model(
            session, name="wide", task="regression", version="1",
            features=[FeatureSpec(f"x{j}", "numeric") for j in range(50)],
        )  # fmt: skip
    narrow_batches = [batch(rng, s, BATCH, 20) for s in range(0, 100_000, BATCH)]
    seconds, inserted = timed(lambda: insert_all(engine, narrow, narrow_batches))
    assert inserted == 100_000, inserted
    rows.append(Row(backend, "insert", 100_000, seconds, "20 features, batches of 10k"))
    seconds, inserted = timed(lambda: insert_all(engine, narrow, narrow_batches))
    assert inserted == 0, f"re-insert stored {inserted} duplicates"
    rows.append(Row(backend, "re-insert (all duplicates)", 100_000, seconds, "0 stored"))

    for start in range(0, 1_000_000, 50_000):
        insert_predictions(engine, wide, batch(rng, start, 50_000, 50))
    if backend == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE prediction_records"))
    for label, n, limit in (("read 100k", 100_000, None), ("read 1M", 1_000_000, None),
                            ("read 1M sampled to 100k", 1_000_000, 100_000)):  # fmt: skip
        end = EPOCH + dt.timedelta(milliseconds=n)
        seconds, window = timed(
            lambda end=end, limit=limit: read_window(
                engine, "wide", start=EPOCH, end=end, limit=limit
            )
        )
        assert window.numeric.shape == (limit or n, 50), window.numeric.shape
        rows.append(Row(backend, label, len(window), seconds, "50 features into numpy"))
    packed = next(r for r in rows if r.backend == backend and r.operation == "read 100k")
    baseline = json_baseline(engine, rng)
    baseline.note = f"the packed layout reads {baseline.seconds / packed.seconds:.1f}x faster"
    rows.append(baseline)
    engine.dispose()
    return rows


def json_baseline(engine: sa.Engine, rng: np.random.Generator) -> Row:
    """The layout not chosen: features as one JSON object per row, parsed on every read."""
    names = [f"x{j}" for j in range(50)]
    values = rng.normal(size=(100_000, 50))
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "CREATE TABLE bench_json_records (id BIGINT PRIMARY KEY, model_id INT, "
                "timestamp_us BIGINT, features TEXT)"
            )
        )
        connection.execute(
            sa.text("CREATE INDEX ix_bench_json ON bench_json_records (model_id, timestamp_us)")
        )
        connection.execute(
            sa.text("INSERT INTO bench_json_records VALUES (:id, 1, :ts, :features)"),
            [
                {
                    "id": i,
                    "ts": EPOCH_US + i,
                    "features": orjson.dumps(dict(zip(names, row, strict=True))).decode(),
                }
                for i, row in enumerate(values.tolist())
            ],
        )

    def read() -> NDArray[np.float64]:
        with engine.connect() as connection:
            result = connection.execute(
                sa.text(
                    "SELECT timestamp_us, features FROM bench_json_records "
                    "WHERE model_id = 1 AND timestamp_us >= :a AND timestamp_us < :b"
                ),
                {"a": EPOCH_US, "b": EPOCH_US + 100_000},
            )
            parsed = [orjson.loads(features) for _, features in result]
        return np.array([[row[name] for name in names] for row in parsed])

    seconds, matrix = timed(read)
    assert matrix.shape == (100_000, 50), matrix.shape
    return Row(engine.dialect.name, "read 100k, per-row JSON (baseline)", 100_000, seconds)


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    url = make_url(admin_url).set(drivername="postgresql+psycopg")
    name = f"driftline_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def table(rows: list[Row]) -> str:
    lines = [
        "| back end | operation | records | seconds | records/s | target | note |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.backend} | {r.operation} | {r.records:,} | {r.seconds:.3f} | "
            f"{r.rate:,.0f} | {r.verdict()} | {r.note} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1/postgres")
    parser.add_argument("--write-results", type=Path, default=None)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder:
        rows += run_backend("sqlite", sqlite_url(Path(folder) / "bench.db"), rng)
    with postgres_database(args.pg_url) as url:
        engine = create_engine(url)
        with engine.connect() as connection:
            server = connection.execute(sa.text("SHOW server_version")).scalar_one()
        engine.dispose()
        rows += run_backend("postgresql", url, rng)
    header = f"Machine: {machine(f'SQLite {sqlite3.sqlite_version}')}, PostgreSQL {server}.\n"
    text = f"{header}\n{table(rows)}\n"
    print(text)
    if args.write_results is not None:
        write_section(args.write_results, "storage", text)


if __name__ == "__main__":
    main()
