"""Monitor benchmark: one scheduler cycle over a fleet of models on PostgreSQL.

    .venv/bin/python benchmarks/monitor/run.py [--models 500] [--features 50] [--rows 1000]
        [--workers 2] [--pg-url postgresql://postgres@127.0.0.1/postgres]
        [--write-results benchmarks/RESULTS.md]

``--models`` binary classifiers with ``--features`` features each (one in ten categorical),
each watched by a ``data_drift`` monitor on a 5-minute cadence over 5-minute tumbling
windows, against a fixed reference window. Every model gets ``--rows`` records per window
(a fifth of the models drift in the last window). Timed, in a fresh PostgreSQL database:

* **cold cycle**: the first pass over every due monitor, which also reads and fits each
  model's reference window;
* **warm cycle**: the next pass, 5 minutes later, with the references already prepared
  (what every later cycle costs).

A cycle is :meth:`MonitorScheduler.run_all_due`: per monitor, the sampled window read from
PostgreSQL, the drift check of every feature, and the result written back; ``--workers``
monitors at a time. Target: a cycle under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from monitor.project.monitors import MonitorSpec
from monitor.scheduling.runner import MonitorRunner
from monitor.scheduling.scheduler import MonitorScheduler
from monitor.scheduling.sync import monitor_draft
from storage import (
    FeatureSpec,
    PredictionBatch,
    create_session_factory,
    insert_predictions,
    register_model,
)
from storage.repositories.models import ModelHandle
from storage.repositories.monitors import put_monitor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import fresh_postgres, machine, write_section

WINDOW = dt.timedelta(minutes=5)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
T0 = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
TARGET_SECONDS = 60.0
CATEGORIES = ("a", "b", "c", "d")


def features(count: int) -> list[FeatureSpec]:
    return [FeatureSpec(f"f{i}", "categorical" if i % 10 == 9 else "numeric") for i in range(count)]


def register(engine: Engine, models: int, specs: list[FeatureSpec]) -> list[ModelHandle]:
    with create_session_factory(engine).begin() as session:
        return [
            register_model(
                session,
                name=f"model{m:04d}",
                task="binary_classification",
                version="1",
                classes=("no", "yes"),
                features=specs,
            )
            for m in range(models)
        ]


def seed_window(
    engine: Engine,
    handle: ModelHandle,
    specs: list[FeatureSpec],
    start: dt.datetime,
    rows: int,
    rng: np.random.Generator,
    *,
    shift: float,
) -> None:
    stamp = (start - EPOCH) // dt.timedelta(microseconds=1)
    offsets = np.sort(rng.integers(0, int(WINDOW.total_seconds() * 1e6), rows))
    columns: dict[str, object] = {}
    for spec in specs:
        if spec.kind == "categorical":
            columns[spec.name] = rng.choice(CATEGORIES, rows).tolist()
        else:
            columns[spec.name] = rng.normal(shift, 1.0, rows)
    proba = rng.uniform(size=rows)
    insert_predictions(
        engine,
        handle,
        PredictionBatch(
            request_ids=[f"{stamp}-{i}" for i in range(rows)],
            timestamps_us=stamp + offsets,
            features=columns,
            predictions=np.where(proba > 0.5, "yes", "no").tolist(),
            probabilities=np.column_stack([1 - proba, proba]),
            latency_seconds=rng.gamma(2.0, 0.005, rows),
        ),
        rng=rng,
    )


def declare_monitors(engine: Engine, handles: list[ModelHandle]) -> None:
    for handle in handles:
        spec = MonitorSpec.model_validate(
            {
                "name": f"{handle.model_name}-drift",
                "model": handle.model_name,
                "kind": "data_drift",
                "schedule": {"every": "5m"},
                "window": {"type": "tumbling", "size": "5m"},
                "reference": {
                    "type": "fixed_window",
                    "start": (T0 - 2 * WINDOW).isoformat(),
                    "end": (T0 - WINDOW).isoformat(),
                },
            }
        )
        put_monitor(engine, monitor_draft(spec), source="project")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=500)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1/postgres")
    parser.add_argument("--write-results", type=Path)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    specs = features(args.features)
    with fresh_postgres(args.pg_url) as engine:
        began = time.perf_counter()
        handles = register(engine, args.models, specs)
        for handle in handles:
            for k in (2, 1):  # the reference window, then the first current one
                seed_window(engine, handle, specs, T0 - k * WINDOW, args.rows, rng, shift=0.0)
        declare_monitors(engine, handles)
        seeded = time.perf_counter() - began
        print(f"seeded {2 * args.models * args.rows:,} records in {seeded:.1f} s", flush=True)

        scheduler = MonitorScheduler(
            engine, MonitorRunner(engine), settle=dt.timedelta(0), workers=args.workers
        )
        began = time.perf_counter()
        cold = scheduler.run_all_due(now=T0 + dt.timedelta(seconds=1))
        cold_seconds = time.perf_counter() - began
        print(f"cold cycle: {len(cold)} runs in {cold_seconds:.1f} s", flush=True)

        for m, handle in enumerate(handles):  # the next window; every fifth model drifts
            shift = 0.5 if m % 5 == 0 else 0.0
            seed_window(engine, handle, specs, T0, args.rows, rng, shift=shift)
        began = time.perf_counter()
        warm = scheduler.run_all_due(now=T0 + WINDOW + dt.timedelta(seconds=1))
        warm_seconds = time.perf_counter() - began
        print(f"warm cycle: {len(warm)} runs in {warm_seconds:.1f} s", flush=True)

    statuses = {s: sum(r.status == s for r in warm) for s in sorted({r.status for r in warm})}
    errors = [r.error for r in cold + warm if r.status == "error"]
    if errors:
        print(f"errors: {errors[:3]}", file=sys.stderr)
    median_ms = 1000 * float(np.median([r.seconds for r in warm])) if warm else float("nan")
    lines = [
        "| cycle | monitor runs | seconds | ms per monitor (median run) | target | verdict |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for name, runs, seconds in (("cold", cold, cold_seconds), ("warm", warm, warm_seconds)):
        verdict = "PASS" if seconds < TARGET_SECONDS and len(runs) == args.models else "FAIL"
        per = 1000 * float(np.median([r.seconds for r in runs])) if runs else float("nan")
        lines.append(
            f"| {name} | {len(runs)} | {seconds:.1f} | {per:.0f} | < {TARGET_SECONDS:.0f} s "
            f"| {verdict} |"
        )
    table = "\n".join(lines)
    body = (
        f"\nMachine: {machine('PostgreSQL on loopback')}.\n\n"
        f"{args.models} models x {args.features} features (one in ten categorical), "
        f"{args.rows} records per 5-minute window, one data_drift monitor each, "
        f"{args.workers} workers; seeding took {seeded:.0f} s. Warm-cycle verdicts: "
        f"{statuses}; median warm run {median_ms:.0f} ms.\n\n{table}\n"
    )
    print(table)
    if args.write_results is not None:
        write_section(args.write_results, "monitor", body)


if __name__ == "__main__":
    main()
