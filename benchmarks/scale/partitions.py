"""Scale benchmark, storage half: a time-partitioned records table against one table.

    .venv/bin/python benchmarks/scale/partitions.py [--records 10000000] [--days 30]
        [--pg-url postgresql://postgres@127.0.0.1/postgres] [--write-results benchmarks/RESULTS.md]

Two fresh PostgreSQL databases, one at revision 0003 (one ``prediction_records`` table) and
one at the newest (range-partitioned by day), each filled server-side (``generate_series``,
not Python inserts) with ``--records`` records of one model with 20 numeric features,
spread evenly over ``--days`` days. Then, on both, in alternation, best of three:

- window reads into numpy (:func:`storage.read_window`): the newest hour, the newest day,
  the newest day sampled to 10k, and seven days sampled to 100k;
- bulk inserts (:func:`storage.insert_predictions`) of 100k new records in batches of 10k,
  into the day after the filled range (best of three batches, as records/s);
- retention of the oldest day: row deletes in batches of 10k on one table, one
  ``DROP TABLE`` of a partition (:func:`storage.prune_records`).

Each database is removed afterwards. ``--records 1000000`` makes a quick run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from storage import (
    FeatureSpec,
    PredictionBatch,
    create_engine,
    create_session_factory,
    insert_predictions,
    prune_records,
    read_window,
    register_model,
)
from storage.migrations import schema_differences, upgrade
from storage.partitions import DAY_US, ensure_covered, list_partitions

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import machine

FEATURES = 20
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
CHUNK = 1_000_000
SECTION = "scale: partitioned storage"
LAYOUTS = ("one table", "partitioned by day")


@dataclass
class Row:
    operation: str
    records: int
    seconds: dict[str, float]
    note: str = ""


def micros(moment: dt.datetime) -> int:
    return (moment - EPOCH) // dt.timedelta(microseconds=1)


@contextmanager
def database(pg_url: str, revision: str) -> Iterator[Engine]:
    """An engine on a new database migrated to ``revision``; dropped on exit."""
    base = make_url(pg_url).set(drivername="postgresql+psycopg")
    name = f"driftline_scale_{revision}_{int(time.time() * 1000) % 10**9}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(base.set(database=name))
    try:
        upgrade(engine, revision)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def fill(engine: Engine, records: int, days: int) -> tuple[Any, float]:
    """Register the model and insert ``records`` records over ``days`` days with SQL."""
    with create_session_factory(engine).begin() as session:
        model = register_model(
            session,
            name="wide",
            task="regression",
            version="1",
            features=[FeatureSpec(f"x{j}", "numeric") for j in range(FEATURES)],
        )
    start_us, span_us = micros(START), days * DAY_US
    with engine.begin() as connection:  # no-op on the single table
        ensure_covered(connection, np.arange(start_us, start_us + span_us, DAY_US))
    features = np.random.default_rng(7).normal(size=FEATURES).astype("<f8").tobytes()
    begin = time.perf_counter()
    keys = drop_keys(engine)  # built once after the fill: far faster than row by row
    for low in range(0, records, CHUNK):
        high = min(low + CHUNK, records)
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO prediction_records (model_id, model_version_id, request_id, "
                    "timestamp_us, sample_key, status, latency_seconds, prediction, features) "
                    "SELECT :model, :version, 'r' || g, "
                    ":start + (g::numeric * :span / :n)::bigint, "
                    "random(), 0, random() * 0.02, random(), :features "
                    "FROM generate_series(:low, :high - 1) AS g"
                ),
                {
                    "model": model.model_id,
                    "version": model.version_id,
                    "start": start_us,
                    "span": span_us,
                    "n": records,
                    "features": features,
                    "low": low,
                    "high": high,
                },
            )
        print(f"  {engine.url.database}: {high:,} records", file=sys.stderr, flush=True)
    with engine.begin() as connection:
        for statement in keys:
            connection.execute(sa.text(statement))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))
    return model, time.perf_counter() - begin


def drop_keys(engine: Engine) -> list[str]:
    """Drop the records table's keys and indexes; the statements that rebuild them."""
    table = "prediction_records"
    with engine.begin() as connection:
        constraints = connection.execute(
            sa.text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('p', 'u', 'f') "
                "ORDER BY contype = 'f' DESC"
            ),
            {"t": table},
        ).all()
        indexes = connection.execute(
            sa.text(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                "WHERE indrelid = CAST(:t AS regclass) AND indexrelid NOT IN "
                "(SELECT conindid FROM pg_constraint WHERE conrelid = CAST(:t AS regclass))"
            ),
            {"t": table},
        ).all()
        for name, _ in constraints:
            connection.execute(sa.text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))
        for name, _ in indexes:
            connection.execute(sa.text(f"DROP INDEX {name}"))
    rebuild = [definition for _, definition in indexes]
    rebuild += [
        f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
        for name, definition in reversed(constraints)
    ]
    return rebuild


def best(fn: Callable[[], object], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        fn()
        times.append(time.perf_counter() - begin)
    return min(times)


def reads(engines: dict[str, Engine], records: int, days: int) -> list[Row]:
    end = START + dt.timedelta(days=days)
    per_day = records // days
    cases = [
        ("window read, newest hour", dt.timedelta(hours=1), None, per_day // 24),
        ("window read, newest day", dt.timedelta(days=1), None, per_day),
        (
            "window read, newest day sampled to 10k",
            dt.timedelta(days=1),
            10_000,
            min(10_000, per_day),
        ),
        (
            "window read, 7 days sampled to 100k",
            dt.timedelta(days=7),
            100_000,
            min(100_000, 7 * per_day),
        ),
    ]
    rows = []
    for label, length, limit, expected in cases:
        seconds: dict[str, float] = {}
        for layout, engine in engines.items():  # alternate, best of three each
            read = functools.partial(check_read, engine, end - length, end, limit, expected)
            seconds[layout] = best(read)
        rows.append(Row(label, expected, seconds, f"{FEATURES} features into numpy"))
    return rows


def check_read(
    engine: Engine, start: dt.datetime, end: dt.datetime, limit: int | None, expected: int
) -> None:
    window = read_window(engine, "wide", start=start, end=end, limit=limit)
    assert abs(len(window) - expected) <= max(2, expected // 100), (len(window), expected)


def inserts(engines: dict[str, Engine], models: dict[str, Any], days: int) -> Row:
    rng = np.random.default_rng(11)
    start_us = micros(START + dt.timedelta(days=days))
    seconds: dict[str, list[float]] = {layout: [] for layout in engines}
    for b in range(10):
        n = 10_000
        batch = PredictionBatch(
            request_ids=[f"new-{b}-{i}" for i in range(n)],
            timestamps_us=start_us + (b * n + np.arange(n)) * 1_000_000,
            features={f"x{j}": rng.normal(size=n) for j in range(FEATURES)},
            predictions=rng.normal(size=n),
        )
        for layout, engine in engines.items():
            begin = time.perf_counter()
            assert insert_predictions(engine, models[layout], batch).inserted == n
            seconds[layout].append(time.perf_counter() - begin)
    return Row(
        "bulk insert, 10k-record batches (best batch, as time per 10k)",
        10_000,
        {layout: min(s) for layout, s in seconds.items()},
        "into a table already holding the filled records",
    )


def retention(engines: dict[str, Engine], per_day: int) -> Row:
    cutoff = START + dt.timedelta(days=1)
    seconds = {}
    for layout, engine in engines.items():
        begin = time.perf_counter()
        result = prune_records(engine, older_than=cutoff, batch_size=10_000)
        seconds[layout] = time.perf_counter() - begin
        assert abs(result.records_deleted - per_day) <= 1, result
    return Row("retention: prune the oldest day", per_day, seconds, "rows in batches vs a DROP")


def sizes(engines: dict[str, Engine]) -> str:
    found = []
    for layout, engine in engines.items():
        with engine.connect() as connection:
            parts = [p.name for p in list_partitions(connection)] or ["prediction_records"]
            total = sum(
                connection.execute(
                    sa.text("SELECT pg_total_relation_size(CAST(:t AS regclass))"), {"t": p}
                ).scalar_one()
                for p in parts
            )
        found.append(f"{layout} {total / 2**30:.2f} GiB")
        if len(parts) > 1:
            found[-1] += f" in {len(parts)} partitions"
    return "; ".join(found)


def table(rows: list[Row]) -> str:
    lines = [
        f"| operation | records | {LAYOUTS[0]} (s) | {LAYOUTS[1]} (s) | ratio | note |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        one, parted = (row.seconds[layout] for layout in LAYOUTS)
        lines.append(
            f"| {row.operation} | {row.records:,} | {one:.3f} | {parted:.3f} | "
            f"{one / parted:.1f}x | {row.note} |"
        )
    return "\n".join(lines)


def write_results(path: Path, body: str) -> None:
    """Replace this benchmark's section of the results file (others are kept)."""
    today = dt.date.today().isoformat()
    section = f"## {SECTION}\n\nRun on {today} with `benchmarks/scale/partitions.py`.\n{body}"
    parts = path.read_text().split("\n## ")
    kept = [parts[0].rstrip() + "\n"] + [
        "## " + p.rstrip() + "\n" for p in parts[1:] if not p.startswith(f"{SECTION}\n")
    ]
    path.write_text("\n".join([*kept, section]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1/postgres")
    parser.add_argument("--write-results", type=Path, default=None)
    args = parser.parse_args()
    began = time.perf_counter()
    with ExitStack() as stack:
        engines = {
            LAYOUTS[0]: stack.enter_context(database(args.pg_url, "0003")),
            LAYOUTS[1]: stack.enter_context(database(args.pg_url, "head")),
        }
        models, fills = {}, {}
        for layout, engine in engines.items():
            models[layout], fills[layout] = fill(engine, args.records, args.days)
        assert schema_differences(engines[LAYOUTS[1]]) == [], "the keys were not rebuilt alike"
        with engines[LAYOUTS[1]].connect() as connection:
            server = connection.execute(sa.text("SHOW server_version")).scalar_one()
        storage_sizes = sizes(engines)
        rows = reads(engines, args.records, args.days)
        rows.append(inserts(engines, models, args.days))
        rows.append(retention(engines, args.records // args.days))
    took = time.perf_counter() - began
    fill_note = ", ".join(f"{layout} {seconds:.0f} s" for layout, seconds in fills.items())
    text = (
        f"\nMachine: {machine(f'PostgreSQL {server}')}.\n"
        f"{args.records:,} records of {FEATURES} numeric features over {args.days} days "
        f"(filled server-side: {fill_note}; {storage_sizes}); the whole run took "
        f"{took / 60:.1f} min.\n\n{table(rows)}\n"
    )
    print(text)
    if args.write_results is not None:
        write_results(args.write_results, text)


if __name__ == "__main__":
    main()
