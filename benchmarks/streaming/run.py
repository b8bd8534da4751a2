"""Streaming drift detectors: Driftline's ``update_many`` against river's per-update loop.

    .venv/bin/python benchmarks/streaming/run.py [--n 1000000] [--river-kswin-n 20000]
        [--repeats 3] [--write-results benchmarks/RESULTS.md]

Each detector, with its default parameters (KSWIN: ``seed=1`` on both sides), reads two
streams of ``--n`` values made from one ``default_rng(20261124)``: *steady* (no change:
errors at a 10 % rate for DDM and EDDM, N(0, 1) for the others) and *changing* (the error
rate alternates 10 % / 30 %, the mean 0 / 1, every 10 000 values). Driftline's time is the
best of ``--repeats`` calls of ``update_many`` on a fresh detector; river's is one loop of
``update`` calls over the same values (as Python floats, the way river is fed). river's
KSWIN runs scipy's exact test on every update, about a millisecond each: it is timed on the
first ``--river-kswin-n`` values and scaled linearly (stated in the table). The detections
of both are compared on the values both read.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

# benchmarks/ itself, for the shared _common module.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import machine, write_section

from detectors.streaming import ADWIN, DDM, EDDM, KSWIN, PageHinkley, StreamingDetector

SEED = 20261124
PERIOD = 10_000  # values between two changes of the changing streams
TARGET_SECONDS = 1.0  # the issue: each detector well under a second on 1M records


@dataclass(frozen=True)
class Detector:
    name: str
    binary: bool
    ours: Callable[[], StreamingDetector]
    river: Callable[[], Any]


def detectors() -> list[Detector]:
    from river import drift

    return [
        Detector("DDM", True, DDM, drift.binary.DDM),
        Detector("EDDM", True, EDDM, drift.binary.EDDM),
        Detector("ADWIN", False, ADWIN, drift.ADWIN),
        Detector("PageHinkley", False, PageHinkley, drift.PageHinkley),
        Detector("KSWIN", False, lambda: KSWIN(seed=1), lambda: drift.KSWIN(seed=1)),
    ]


def streams(n: int) -> dict[tuple[bool, str], NDArray[np.float64]]:
    """(binary?, steady/changing) -> values."""
    rng = np.random.default_rng(SEED)
    phase = (np.arange(n) // PERIOD) % 2 == 1
    return {
        (True, "steady"): rng.binomial(1, 0.1, n).astype(np.float64),
        (True, "changing"): (rng.random(n) < np.where(phase, 0.3, 0.1)).astype(np.float64),
        (False, "steady"): rng.normal(0.0, 1.0, n),
        (False, "changing"): rng.normal(np.where(phase, 1.0, 0.0), 1.0),
    }


@dataclass
class Row:
    detector: str
    stream: str
    detections: int
    ours: float
    river: float
    river_n: int
    n: int
    same: bool


def time_ours(
    make: Callable[[], StreamingDetector], values: NDArray[np.float64], repeats: int
) -> tuple[float, NDArray[np.bool_]]:
    best, flags = float("inf"), np.zeros(0, dtype=bool)
    for _ in range(repeats):
        detector = make()
        start = time.perf_counter()
        flags = detector.update_many(values)
        best = min(best, time.perf_counter() - start)
    return best, flags


def time_river(make: Callable[[], Any], values: list[float]) -> tuple[float, list[int]]:
    detector, found = make(), []
    start = time.perf_counter()
    for i, value in enumerate(values):
        detector.update(value)
        if detector.drift_detected:
            found.append(i)
    return time.perf_counter() - start, found


def measure(args: argparse.Namespace) -> list[Row]:
    data = streams(args.n)
    rows = []
    for detector in detectors():
        for label in ("steady", "changing"):
            values = data[(detector.binary, label)]
            ours, flags = time_ours(detector.ours, values, args.repeats)
            river_n = args.river_kswin_n if detector.name == "KSWIN" else args.n
            river, found = time_river(detector.river, values[:river_n].tolist())
            same = np.flatnonzero(flags[:river_n]).tolist() == found
            rows.append(
                Row(detector.name, label, int(flags.sum()), ours, river, river_n, args.n, same)
            )
            print(f"{detector.name} {label}: {ours:.3f} s / river {river:.3f} s", file=sys.stderr)
    return rows


def table(rows: list[Row]) -> str:
    lines = [
        "| detector | stream | detections | Driftline `update_many` (s) "
        "| river per-update loop (s) | speed-up | same detections as river "
        f"| target (< {TARGET_SECONDS:g} s) |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        river = row.river * row.n / row.river_n
        note = "" if row.river_n == row.n else f" (timed on {row.river_n:,}, scaled)"
        verdict = "PASS" if row.ours < TARGET_SECONDS else "FAIL"
        checked = "yes" if row.same else "NO"
        if row.river_n != row.n:
            checked += f" (first {row.river_n:,})"
        lines.append(
            f"| {row.detector} | {row.stream} | {row.detections:,} | {row.ours:.3f} "
            f"| {river:,.2f}{note} | {_ratio(river / row.ours)} | {checked} | {verdict} |"
        )
    return "\n".join(lines)


def _ratio(value: float) -> str:
    return f"{value:,.1f}x" if value < 10 else f"{value:,.0f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="values per stream")
    parser.add_argument("--river-kswin-n", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write-results", type=Path, default=None)
    args = parser.parse_args()
    args.river_kswin_n = min(args.river_kswin_n, args.n)

    rows = measure(args)
    versions = ", ".join(f"{name} {version(name.lower())}" for name in ("numpy", "SciPy", "river"))
    text = "\n".join(
        [
            f"Machine: {machine(versions)}.",
            "",
            f"{args.n:,} values per stream; default parameters (KSWIN `seed=1`). Steady: 10 % "
            "errors (DDM, EDDM) or N(0, 1); changing: 10 % / 30 % errors or mean 0 / 1, "
            f"alternating every {PERIOD:,} values. Driftline: best of {args.repeats} "
            "`update_many` calls; river: one loop of `update` calls over Python floats.",
            "",
            table(rows),
        ]
    )
    print(text)
    if args.write_results is not None:
        write_section(args.write_results, "streaming", text + "\n")


if __name__ == "__main__":
    main()
