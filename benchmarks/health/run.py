"""Failure and health detector benchmark: the cost of each detector on one million records.

    .venv/bin/python benchmarks/health/run.py [--records 1000000] [--repeats 5]
        [--write-results benchmarks/RESULTS.md]

One synthetic window of records as the store hands it out (fixed seed, no downloads): an
hour of int64 epoch-microsecond timestamps, int16 status codes (1 % errors, 0.5 % timeouts,
0.2 % bad input), float64 latencies (lognormal, p99 about 25 ms; NaN for failed requests),
float64 scores and uint64 input fingerprints; a second window of the same size serves as the
baseline. Process metrics (queue depth, CPU share) get as many samples as there are records,
far more than a real scrape, so that every row of the table is priced on the same size.

Each detector's call is timed from the numpy columns to its ``DetectorResult``, including
the reduction a caller does first where a detector takes a scalar (``len`` for throughput,
``max`` for absence). The time is the best of ``--repeats`` runs (the least noisy estimate
on a shared machine). Target, from the issue: well under a second per detector.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import machine, write_section

SEED = 20261124
START = datetime(2026, 11, 24, 9, tzinfo=UTC)
HOUR_US = 3_600_000_000
TARGET_SECONDS = 1.0


@dataclass(frozen=True)
class Records:
    """One window's columns, as ``storage.windows.Window`` holds them."""

    timestamps_us: NDArray[np.int64]
    status: NDArray[np.int16]
    latency_seconds: NDArray[np.float64]
    outputs: NDArray[np.float64]
    fingerprints: NDArray[np.uint64]


@dataclass(frozen=True)
class Case:
    detector: str
    input: str
    run: Callable[[], Any]


def generate(rng: np.random.Generator, n: int, start: datetime) -> Records:
    start_us = int(start.timestamp()) * 1_000_000
    timestamps = np.sort(rng.integers(start_us, start_us + HOUR_US, n, dtype=np.int64))
    status = rng.choice(4, size=n, p=[0.983, 0.01, 0.002, 0.005]).astype(np.int16)
    latency = rng.lognormal(math.log(0.010), 0.394, n)
    latency[status != 0] = np.nan
    outputs = rng.random(n)
    fingerprints = rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64)
    return Records(timestamps, status, latency, outputs, fingerprints)


def cases(current: Records, baseline: Records, rng: np.random.Generator) -> list[Case]:
    from detectors import failures, health

    n = len(current.status)
    end = START + timedelta(hours=1)
    depth = rng.integers(0, 1_000, n).astype(np.float64)
    cpu = rng.beta(2, 5, n)
    k = rng.binomial(1_000, 0.01, n)
    return [
        Case(
            "failures.wilson_interval",
            f"{n:,} (k, n) pairs",
            lambda: failures.wilson_interval(k, 1_000),
        ),
        Case(
            "failures.count_statuses", "statuses", lambda: failures.count_statuses(current.status)
        ),
        Case(
            "failures.failure_rate",
            "statuses vs SLO",
            lambda: failures.check_rate(current.status, slo_rate=0.02),
        ),
        Case(
            "failures.failure_rate_change",
            "statuses vs baseline statuses",
            lambda: failures.check_rate_change(current.status, baseline=baseline.status),
        ),
        Case(
            "failures.non_finite_outputs",
            "outputs, statuses",
            lambda: failures.check_non_finite(current.outputs, statuses=current.status),
        ),
        Case(
            "failures.out_of_range_outputs",
            "outputs, statuses",
            lambda: failures.check_out_of_range(
                current.outputs, low=0.0, high=1.0, statuses=current.status
            ),
        ),
        Case(
            "failures.stuck_outputs",
            "outputs, fingerprints, statuses",
            lambda: failures.check_stuck_outputs(
                current.outputs, current.fingerprints, statuses=current.status
            ),
        ),
        Case(
            "health.latency_p99",
            "latencies (1 % NaN)",
            lambda: health.check_latency(current.latency_seconds, slo_seconds=0.05),
        ),
        Case(
            "health.latency_p50/p95/p99",
            "latencies, three SLOs at once",
            lambda: health.check_latencies(
                current.latency_seconds, slo_seconds={0.5: 0.02, 0.95: 0.04, 0.99: 0.05}
            ),
        ),
        Case(
            "health.latency_p99_regression",
            "latencies vs baseline latencies",
            lambda: health.check_latency_regression(
                current.latency_seconds, baseline_seconds=baseline.latency_seconds
            ),
        ),
        Case(
            "health.throughput",
            "len(timestamps) vs baseline count",
            lambda: health.check_throughput(
                len(current.timestamps_us),
                duration_seconds=3_600,
                baseline_count=len(baseline.timestamps_us),
                baseline_duration_seconds=3_600,
            ),
        ),
        Case(
            "health.absence",
            "max(timestamps), now",
            lambda: health.check_absence(int(current.timestamps_us.max()), now=end),
        ),
        Case(
            "health.error_bursts",
            "timestamps, statuses; 60 one-minute buckets",
            lambda: health.check_error_bursts(
                current.timestamps_us, current.status, start=START, end=end
            ),
        ),
        Case(
            "health.queue_saturation",
            f"{n:,} depth samples",
            lambda: health.check_queue(depth, capacity=1_000),
        ),
        Case("health.cpu", f"{n:,} CPU samples", lambda: health.check_cpu(cpu)),
    ]


def best_of(run: Callable[[], Any], repeats: int) -> float:
    run()  # warm-up: imports, scipy's first calls
    seconds = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        seconds = min(seconds, time.perf_counter() - start)
    return seconds


def table(rows: list[tuple[Case, float]], n: int) -> str:
    lines = [
        "| detector | input | records | seconds (best) | target |",
        "|---|---|---:|---:|---|",
    ]
    for case, seconds in rows:
        verdict = "PASS" if seconds < TARGET_SECONDS else "FAIL"
        lines.append(
            f"| `{case.detector}` | {case.input} | {n:,} | {seconds:.4f} "
            f"| {verdict} (< {TARGET_SECONDS:g} s) |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--write-results", type=Path, default=None)
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    current = generate(rng, args.records, START)
    baseline = generate(rng, args.records, START - timedelta(days=7))
    rows = []
    for case in cases(current, baseline, rng):
        seconds = best_of(case.run, args.repeats)
        rows.append((case, seconds))
        print(f"{case.detector}: {seconds:.4f} s", file=sys.stderr, flush=True)
    versions = ", ".join(f"{name} {version(name.lower())}" for name in ("numpy", "SciPy"))
    text = "\n".join(
        [
            f"Machine: {machine(versions)}.",
            "",
            f"Each detector on one window of {args.records:,} synthetic records (an hour of "
            "traffic; a second window of the same size as baseline), from numpy columns to "
            f"its `DetectorResult`; best of {args.repeats} runs after one warm-up.",
            "",
            table(rows, args.records),
        ]
    )
    print(text)
    if args.write_results is not None:
        write_section(args.write_results, "health", text + "\n")


if __name__ == "__main__":
    main()
