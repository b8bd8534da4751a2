"""Performance-monitoring benchmark: the cost of each metric, comparison, CBPE and prediction
drift detector on one window of 1M records.

    .venv/bin/python benchmarks/performance/run.py [--records 1000000] [--resamples 200]
        [--write-results benchmarks/RESULTS.md]

Synthetic data (fixed seed, no downloads): a logistic binary classifier (scores = calibrated
probabilities, labels drawn from them), a 5-class classifier (Dirichlet probabilities, labels
drawn from them) and a regression (normal target, normal errors); reference and current
window both ``--records`` rows. Per-window detectors are timed as the best of 3 runs on the
current window against a reference prepared beforehand; work done once per reference
(``prepare`` / ``fit``) is timed separately and marked so. The bootstrap of metrics without an
analytic interval is O(B·n): it is timed once, with ``--resamples`` replicates, and its cost
is stated per resampled row instead of being held to the one-second target.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import machine, write_section

from detectors import prediction
from detectors.performance import cbpe, comparison
from detectors.performance.metrics import compute

SEED = 20261124
REPEATS = 3
TARGET_SECONDS = 1.0


@dataclass(frozen=True)
class Data:
    y: NDArray[np.float64]
    scores: NDArray[np.float64]
    predicted: NDArray[np.float64]
    y5: NDArray[np.float64]
    proba5: NDArray[np.float64]
    predicted5: NDArray[np.float64]
    target: NDArray[np.float64]
    estimate: NDArray[np.float64]


def generate(rng: np.random.Generator, rows: int) -> Data:
    x = rng.normal(size=(rows, 3))
    scores = 1.0 / (1.0 + np.exp(-(x @ np.array([1.5, -1.0, 0.8]) + 0.2)))
    proba5 = rng.dirichlet(np.full(5, 0.6), rows)
    y5 = (rng.random((rows, 1)) > proba5.cumsum(axis=1)).sum(axis=1).astype(np.float64)
    target = rng.normal(10.0, 3.0, rows)
    return Data(
        y=(rng.random(rows) < scores).astype(np.float64),
        scores=scores,
        predicted=(scores >= 0.5).astype(np.float64),
        y5=np.minimum(y5, 4.0),
        proba5=proba5,
        predicted5=np.argmax(proba5, axis=1).astype(np.float64),
        target=target,
        estimate=target + rng.normal(0.0, 1.0, rows),
    )


@dataclass
class Row:
    group: str
    name: str
    seconds: float
    kind: str  # "window", "once" (per reference) or "bootstrap"
    note: str = ""


def timed(function: Callable[[], Any], repeats: int = REPEATS) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def metric_rows(current: Data) -> list[Row]:
    cases = [
        ("accuracy", current.y, current.predicted, "binary"),
        ("f1", current.y, current.predicted, "binary"),
        ("f1_macro", current.y5, current.predicted5, "5 classes"),
        ("precision_weighted", current.y5, current.predicted5, "5 classes"),
        ("roc_auc", current.y, current.scores, "binary"),
        ("roc_auc", current.y5, current.proba5, "5 classes, one-vs-rest"),
        ("pr_auc", current.y, current.scores, "binary"),
        ("log_loss", current.y5, current.proba5, "5 classes"),
        ("calibration_error", current.y, current.scores, "binary, 10 bins"),
        ("mae", current.target, current.estimate, ""),
        ("rmse", current.target, current.estimate, ""),
        ("mape", current.target, current.estimate, ""),
        ("r2", current.target, current.estimate, ""),
    ]
    return [
        Row("metric", name, timed(lambda n=name, y=y, p=p: compute(n, y, p)), "window", note)
        for name, y, p, note in cases
    ]


def comparison_rows(reference: Data, current: Data, resamples: int) -> list[Row]:
    rows = []
    analytic = [
        (
            "accuracy",
            "Newcombe + z",
            reference.y,
            reference.predicted,
            current.y,
            current.predicted,
        ),
        (
            "log_loss",
            "Welch, 5 classes",
            reference.y5,
            reference.proba5,
            current.y5,
            current.proba5,
        ),
        ("mae", "Welch", reference.target, reference.estimate, current.target, current.estimate),
        ("rmse", "delta", reference.target, reference.estimate, current.target, current.estimate),
        ("r2", "influence", reference.target, reference.estimate, current.target, current.estimate),
        ("roc_auc", "DeLong, binary", reference.y, reference.scores, current.y, current.scores),
        (
            "roc_auc",
            "DeLong, 5 classes",
            reference.y5,
            reference.proba5,
            current.y5,
            current.proba5,
        ),
    ]
    for name, note, y_ref, p_ref, y_cur, p_cur in analytic:
        prepared = comparison.prepare(name, y_ref, p_ref)
        seconds = timed(lambda r=prepared, y=y_cur, p=p_cur: comparison.compare(r, y, p))
        rows.append(Row("comparison", name, seconds, "window", f"analytic: {note}"))
    # label metrics: the bootstrap draws confusion-matrix cells, O(B·k²) whatever n
    prepared = comparison.prepare("f1_macro", reference.y5, reference.predicted5, n_resamples=1000)
    seconds = timed(lambda: comparison.compare(prepared, current.y5, current.predicted5))
    rows.append(Row("comparison", "f1_macro", seconds, "window", "bootstrap B=1000, cells"))
    bootstrapped = [
        ("pr_auc", reference.y, reference.scores, current.y, current.scores),
        ("calibration_error", reference.y, reference.scores, current.y, current.scores),
        ("roc_auc", reference.y, reference.scores, current.y, current.scores),
        ("r2", reference.target, reference.estimate, current.target, current.estimate),
    ]
    for name, y_ref, p_ref, y_cur, p_cur in bootstrapped:
        start = time.perf_counter()
        prepared = comparison.prepare(name, y_ref, p_ref, n_resamples=resamples, method="bootstrap")
        once = time.perf_counter() - start
        start = time.perf_counter()
        comparison.compare(prepared, y_cur, p_cur)
        seconds = time.perf_counter() - start
        per_row = seconds / (resamples * y_cur.size) * 1e9
        note = f"bootstrap, B={resamples}: {per_row:.1f} ns per resampled row"
        rows.append(Row("comparison", name, seconds, "bootstrap", note))
        rows.append(Row("comparison", f"{name} (prepare reference)", once, "once", note))
    return rows


def cbpe_rows(reference: Data, current: Data) -> list[Row]:
    rows = []
    for label, y, proba, cur in (
        ("binary", reference.y, reference.scores, current.scores),
        ("5 classes", reference.y5, reference.proba5, current.proba5),
    ):
        start = time.perf_counter()
        fitted = cbpe.fit(y, proba)
        once = time.perf_counter() - start
        note = f"{label}; calibration: {fitted.calibration.method} (5-fold check)"
        rows.append(Row("cbpe", "fit", once, "once", note))
        check = timed(lambda f=fitted, c=cur: cbpe.check(f, c))
        rows.append(Row("cbpe", "check (accuracy)", check, "window", label))
        found = timed(lambda f=fitted, c=cur: cbpe.estimate(f, c))
        rows.append(Row("cbpe", "estimate (all metrics)", found, "window", label))
    return rows


def prediction_rows(reference: Data, current: Data) -> list[Row]:
    start = time.perf_counter()
    outputs = prediction.prepare(labels=reference.predicted5, scores=reference.proba5)
    once = time.perf_counter() - start
    return [
        Row("prediction", "prepare", once, "once", "labels + 5 score columns"),
        Row(
            "prediction",
            "output drift",
            timed(lambda: prediction.output_drift(outputs, current.predicted5, current.proba5)),
            "window",
            "JS on labels, normed Wasserstein on 5 score columns",
        ),
        Row(
            "prediction",
            "class balance",
            timed(lambda: prediction.class_balance(outputs, current.predicted5)),
            "window",
            "5 classes",
        ),
    ]


def verdict(row: Row) -> str:
    if row.kind == "window":
        ok = row.seconds < TARGET_SECONDS
        return f"{'PASS' if ok else 'FAIL'} (< {TARGET_SECONDS:g} s)"
    if row.kind == "bootstrap":
        return "cost stated"
    return "once per reference"


def table(rows: list[Row], records: int) -> str:
    lines = [
        "| detector | what | records | seconds | target | note |",
        "|---|---|---:|---:|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.group} | {row.name} | {records:,} | {row.seconds:.3f} | {verdict(row)} "
            f"| {row.note} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--resamples", type=int, default=200)
    parser.add_argument("--write-results", type=Path, default=None)
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    reference, current = generate(rng, args.records), generate(rng, args.records)
    rows: list[Row] = []
    for step in (
        lambda: metric_rows(current),
        lambda: comparison_rows(reference, current, args.resamples),
        lambda: cbpe_rows(reference, current),
        lambda: prediction_rows(reference, current),
    ):
        found = step()
        rows.extend(found)
        for row in found:
            print(f"{row.group} {row.name}: {row.seconds:.3f} s", file=sys.stderr, flush=True)
    versions = ", ".join(f"{n} {version(n.lower())}" for n in ("numpy", "SciPy", "scikit-learn"))
    text = "\n".join(
        [
            f"Machine: {machine(versions)}.",
            "",
            f"One window of {args.records:,} records against a reference of as many; per-window "
            f"seconds are the best of {REPEATS} runs, one-off reference work and bootstraps a "
            f"single run. Bootstrap: {args.resamples} resamples of every row of both windows.",
            "",
            table(rows, args.records),
        ]
    )
    print(text)
    if args.write_results is not None:
        write_section(args.write_results, "performance", text + "\n")


if __name__ == "__main__":
    main()
