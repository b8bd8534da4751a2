"""Drift-check benchmark: Driftline's check against Evidently's DataDriftPreset, in one run.

    .venv/bin/python benchmarks/drift/run.py [--sizes 10k,100k,1m] [--timeout 1800]
        [--skip-evidently-above ROWS] [--write-results benchmarks/RESULTS.md]

Both engines check the same synthetic reference / current pair (fixed seed, no downloads):
10k rows x 25 columns, 100k x 60 and 1M x 110, reference and current the same size. Three
quarters of the columns are numeric (normal, each with its own location and scale), one
quarter categorical (8-20 categories with Zipf-like shares: strings for Evidently, the same
data as float codes for Driftline). A quarter of the columns drifted: numeric ones moved by
0.3 standard deviations, categorical ones had half their mass moved to the reversed shares.

Each engine runs in its own process (``run.py --worker ENGINE SIZE``) that generates the data
itself and reports, as one JSON line: the wall time of the check alone (Driftline:
``fit_reference`` + ``check`` from numpy arrays, and each of the two apart, since a scheduled
check fits its reference once and then pays only ``check`` per window; Evidently:
``Dataset.from_pandas`` + ``Report.run`` from DataFrames already in memory), the peak RSS
above the RSS measured once the data was generated ("extra memory"; the kernel's peak counter
is reset at that moment so the data generation's own peak cannot hide the check's), the size
of the two frames, and the columns the engine flagged. Each worker has a time limit; a worker
that exceeds it is killed and reported as timed out.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import re
import resource
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import machine, write_section

#: Size label to (rows per side, columns).
SIZES = {"10k": (10_000, 25), "100k": (100_000, 60), "1m": (1_000_000, 110)}
ENGINES = ("evidently", "driftline", "driftline-sampled")
#: Rows a side the sampled Driftline engine tests (``check(..., sample_limit=...)``).
SAMPLE_LIMIT = 100_000
#: Driftline runs its check this many times and reports the fastest.
REPEATS = 3
ENGINE_LABELS = {
    "evidently": "Evidently",
    "driftline": "Driftline (every row)",
    "driftline-sampled": f"Driftline (sampled to {SAMPLE_LIMIT // 1000}k rows a side)",
}
SEED = 20261124
#: Location shift of a drifted numeric column, in its standard deviations.
SHIFT = 0.3
#: Share of a drifted categorical column's mass moved to the reversed shares.
MIX = 0.5
MIB = 1024**2
# Targets from the issue.
SPEED_UP = 20.0  # at least this many times faster than Evidently ...
SPEED_UP_FROM_ROWS = 100_000  # ... at this many rows and up
SECONDS = {"1m": 5.0}  # under this many seconds at this size
MEMORY_RATIO = 2.0  # extra peak memory at most this many times the two frames


@dataclass(frozen=True)
class Data:
    """A reference / current pair; categorical columns as integer codes."""

    numeric_names: list[str]
    categorical_names: list[str]
    #: Category count of each categorical column.
    categories: list[int]
    drifted: set[str]
    #: ``(rows, numeric)`` float64, C order.
    reference_numeric: NDArray[np.float64]
    current_numeric: NDArray[np.float64]
    #: ``(rows, categorical)`` int8 codes.
    reference_codes: NDArray[np.int8]
    current_codes: NDArray[np.int8]


def generate(rows: int, columns: int) -> Data:
    """The benchmark's data, identical in every process (column by column, few temporaries)."""
    n_categorical = columns // 4
    n_numeric = columns - n_categorical
    n_drifted = columns // 4
    drifted_categorical = max(1, round(n_drifted * n_categorical / columns))
    drifted_numeric = n_drifted - drifted_categorical
    numeric_names = [f"num_{j:03d}" for j in range(n_numeric)]
    categorical_names = [f"cat_{j:03d}" for j in range(n_categorical)]
    categories = [8 + j % 13 for j in range(n_categorical)]
    rng = np.random.default_rng(SEED)
    locations = rng.uniform(-5.0, 5.0, n_numeric)
    scales = rng.uniform(0.5, 3.0, n_numeric)
    numeric = []
    for side in ("reference", "current"):
        block = np.empty((rows, n_numeric))
        for j in range(n_numeric):
            shift = SHIFT if side == "current" and j < drifted_numeric else 0.0
            block[:, j] = locations[j] + scales[j] * (rng.standard_normal(rows) + shift)
        numeric.append(block)
    codes = []
    for side in ("reference", "current"):
        block = np.empty((rows, n_categorical), dtype=np.int8)
        for j, k in enumerate(categories):
            shares = 1.0 / np.arange(1, k + 1)
            shares /= shares.sum()
            if side == "current" and j < drifted_categorical:
                shares = (1 - MIX) * shares + MIX * shares[::-1]
            block[:, j] = rng.choice(k, size=rows, p=shares)
        codes.append(block)
    return Data(
        numeric_names=numeric_names,
        categorical_names=categorical_names,
        categories=categories,
        drifted={*numeric_names[:drifted_numeric], *categorical_names[:drifted_categorical]},
        reference_numeric=numeric[0],
        current_numeric=numeric[1],
        reference_codes=codes[0],
        current_codes=codes[1],
    )


# --- workers: one engine, one size, one process ------------------------------------------


def rss_bytes() -> int:
    """The current RSS (Linux); elsewhere the peak so far, which the table then flags."""
    status = Path("/proc/self/status")
    lines = status.read_text().splitlines() if status.exists() else []
    for line in lines:
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter (``ru_maxrss``) to the current RSS (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def worker(engine: str, size: str) -> dict[str, Any]:
    rows, columns = SIZES[size]
    if engine.startswith("driftline"):
        prepare, run = driftline(SAMPLE_LIMIT if engine == "driftline-sampled" else None)
    else:
        prepare, run = evidently()
    data = generate(rows, columns)
    inputs, frames = prepare(data)
    truth = data.drifted
    del data
    gc.collect()
    baseline = rss_bytes()
    peak_reset = reset_peak()
    # Driftline's check is cheap to repeat: report its best of REPEATS runs (the least
    # noisy estimate on a shared machine); Evidently's is measured once.
    seconds = math.inf
    phases: dict[str, float] = {}
    for _ in range(REPEATS if engine.startswith("driftline") else 1):
        start = time.perf_counter()
        outcome, timings = run(inputs)
        seconds = min(seconds, time.perf_counter() - start)
        for phase, spent in timings.items():
            phases[phase] = min(phases.get(phase, math.inf), spent)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    flagged = flagged_columns(engine, outcome)
    return {
        "engine": engine,
        "size": size,
        "seconds": seconds,
        "fit_seconds": phases.get("fit"),
        "check_seconds": phases.get("check"),
        "extra_mb": (peak - baseline) / MIB,
        "frames_mb": frames / MIB,
        "peak_reset": peak_reset,
        "flagged": sorted(flagged),
        "drifted": sorted(truth),
    }


def driftline(sample_limit: int | None) -> tuple[Any, Any]:
    from detectors.check import check, fit_reference

    def prepare(data: Data) -> tuple[dict[str, Any], int]:
        inputs = {
            "reference": (data.reference_numeric, data.reference_codes.astype(np.float64)),
            "current": (data.current_numeric, data.current_codes.astype(np.float64)),
            "names": (data.numeric_names, data.categorical_names),
        }
        frames = sum(a.nbytes for side in ("reference", "current") for a in inputs[side])
        return inputs, frames

    def run(inputs: dict[str, Any]) -> tuple[Any, dict[str, float]]:
        numeric_names, categorical_names = inputs["names"]
        start = time.perf_counter()
        fitted = fit_reference(
            *inputs["reference"],
            numeric_names=numeric_names,
            categorical_names=categorical_names,
            sample_limit=sample_limit,
        )
        fitted_at = time.perf_counter()
        report = check(fitted, *inputs["current"], sample_limit=sample_limit)
        done = time.perf_counter()
        return report, {"fit": fitted_at - start, "check": done - fitted_at}

    return prepare, run


def evidently() -> tuple[Any, Any]:
    os.environ["DO_NOT_TRACK"] = "1"
    warnings.simplefilter("ignore", DeprecationWarning)
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    def frame(numeric: NDArray[np.float64], codes: NDArray[np.int8], data: Data) -> pd.DataFrame:
        labels = [np.array([f"v{i:02d}" for i in range(k)], dtype=object) for k in data.categories]
        strings = pd.DataFrame(
            {name: labels[j][codes[:, j]] for j, name in enumerate(data.categorical_names)}
        )
        # The numeric block wraps ``numeric`` without a copy: one float block, one object block.
        return pd.concat(
            [pd.DataFrame(numeric, columns=data.numeric_names, copy=False), strings],
            axis=1,
            copy=False,
        )

    def prepare(data: Data) -> tuple[dict[str, Any], int]:
        reference = frame(data.reference_numeric, data.reference_codes, data)
        current = frame(data.current_numeric, data.current_codes, data)
        definition = DataDefinition(
            numerical_columns=data.numeric_names, categorical_columns=data.categorical_names
        )
        # Shallow size: each cell of a string column points to one of a few shared strings.
        labels = {f"v{i:02d}" for k in data.categories for i in range(k)}
        frames = sum(int(f.memory_usage(deep=False).sum()) for f in (reference, current))
        frames += sum(sys.getsizeof(label) for label in labels)
        return {"reference": reference, "current": current, "definition": definition}, frames

    def run(inputs: dict[str, Any]) -> tuple[Any, dict[str, float]]:
        definition = inputs["definition"]
        report = Report([DataDriftPreset()]).run(
            Dataset.from_pandas(inputs["current"], data_definition=definition),
            Dataset.from_pandas(inputs["reference"], data_definition=definition),
        )
        return report, {}

    return prepare, run


def flagged_columns(engine: str, outcome: Any) -> set[str]:
    if engine.startswith("driftline"):
        return {c.name for c in outcome.columns if c.drifted}
    flagged = set()
    for metric in outcome.dict()["metrics"]:
        found = re.match(
            r"ValueDrift\(column=(.+),method=(.+),threshold=([\d.]+)\)", metric["metric_name"]
        )
        if found:
            column, method, threshold = found.groups()
            value = float(metric["value"])
            is_p_value = "p_value" in method
            if (value < float(threshold)) if is_p_value else (value >= float(threshold)):
                flagged.add(column)
    return flagged


# --- the parent: run the workers, compare, report ------------------------------------------


@dataclass
class Result:
    engine: str
    size: str
    seconds: float | None = None
    #: Driftline only: best ``fit_reference`` and best ``check`` time over the repeats.
    fit_seconds: float | None = None
    check_seconds: float | None = None
    extra_mb: float | None = None
    frames_mb: float | None = None
    peak_reset: bool = True
    flagged: list[str] | None = None
    drifted: list[str] | None = None
    #: Why there is no measurement (timed out, failed, not run).
    missing: str = ""
    #: The time limit, when the worker exceeded it.
    limit: float | None = None
    #: Evidently's seconds extrapolated from a smaller size, when not run; and that size.
    extrapolated: float | None = None
    extrapolated_from: str = ""


def run_worker(engine: str, size: str, timeout: float) -> Result:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", engine, size]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return Result(engine, size, missing=f"timed out after {timeout:g} s", limit=timeout)
    if process.returncode != 0:
        if process.returncode < 0:
            why = f"killed by {signal.Signals(-process.returncode).name}"
        else:
            why = (err.strip().splitlines() or ["no message"])[-1]
        return Result(engine, size, missing=f"failed: {why}")
    payload = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    payload.pop("engine"), payload.pop("size")
    return Result(engine, size, **payload)


def extrapolate(results: list[Result], size: str) -> tuple[float, str] | None:
    """Evidently's seconds at ``size``, linear in cells from its largest measured size."""
    measured = [r for r in results if r.engine == "evidently" and r.seconds is not None]
    if not measured:
        return None
    base = max(measured, key=lambda r: SIZES[r.size][0])
    assert base.seconds is not None
    rows, columns = SIZES[size]
    base_rows, base_columns = SIZES[base.size]
    return base.seconds * rows * columns / (base_rows * base_columns), base.size


def label(size: str) -> str:
    _, columns = SIZES[size]
    return f"{size.upper() if size == '1m' else size} x {columns}"


def speed_up(driftline: Result, evidently: Result) -> tuple[str, float | None, str]:
    """Text, value (a lower bound when Evidently timed out) and how it was obtained."""
    if driftline.seconds is None:
        return "", None, ""
    if evidently.seconds is not None:
        value = evidently.seconds / driftline.seconds
        return f"{value:,.1f}x", value, ""
    if evidently.limit is not None:
        value = evidently.limit / driftline.seconds
        return f"> {value:,.0f}x", value, "lower bound"
    if evidently.extrapolated is not None:
        value = evidently.extrapolated / driftline.seconds
        return f"~{value:,.0f}x (extrapolated)", value, "extrapolated"
    return "", None, ""


def targets(driftline: Result, speed: float | None, how: str) -> str:
    if driftline.seconds is None:
        return ""
    rows, _ = SIZES[driftline.size]
    verdicts = []
    if rows >= SPEED_UP_FROM_ROWS:
        if speed is None:
            verdicts.append(f"n/a (>= {SPEED_UP:g}x faster: Evidently not measured)")
        else:
            ok = speed >= SPEED_UP
            note = f", {how}" if how else ""
            verdicts.append(f"{'PASS' if ok else 'FAIL'} (>= {SPEED_UP:g}x faster{note})")
    if driftline.size in SECONDS:
        limit = SECONDS[driftline.size]
        ok = driftline.seconds < limit
        verdicts.append(f"{'PASS' if ok else 'FAIL'} (fit + check < {limit:g} s)")
        if driftline.check_seconds is not None:
            ok = driftline.check_seconds < limit
            verdicts.append(f"{'PASS' if ok else 'FAIL'} (check alone < {limit:g} s)")
    assert driftline.extra_mb is not None
    assert driftline.frames_mb is not None
    ok = driftline.extra_mb <= MEMORY_RATIO * driftline.frames_mb
    verdicts.append(f"{'PASS' if ok else 'FAIL'} (memory <= {MEMORY_RATIO:g}x frames)")
    return "; ".join(verdicts)


def found(result: Result) -> str:
    if result.flagged is None or result.drifted is None:
        return ""
    flagged, drifted = set(result.flagged), set(result.drifted)
    text = f"{len(flagged)} / {len(drifted)}"
    extra, missed = len(flagged - drifted), len(drifted - flagged)
    if extra or missed:
        text += f" ({extra} false, {missed} missed)"
    return text


def table(results: list[Result], sizes: list[str]) -> str:
    lines = [
        "| size (rows x columns) | engine | seconds | fit_reference (s) | check (s) "
        "| speed-up vs Evidently | extra peak memory (MB) | frames (MB) | memory ratio "
        "| drifted found / true | targets |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for size in sizes:
        evidently = next(r for r in results if r.size == size and r.engine == "evidently")
        for result in (r for r in results if r.size == size):
            text, value, how = speed_up(result, evidently)
            if result.seconds is not None:
                seconds = f"{result.seconds:,.2f}"
            elif result.extrapolated is not None:
                seconds = (
                    f"not run (too slow: extrapolated from {result.extrapolated_from}, "
                    f"~{result.extrapolated:,.0f} s)"
                )
            else:
                seconds = result.missing
            memory = frames = ratio = ""
            if result.extra_mb is not None and result.frames_mb is not None:
                star = "" if result.peak_reset else " (peak incl. data generation)"
                memory = f"{result.extra_mb:,.0f}{star}"
                frames = f"{result.frames_mb:,.0f}"
                ratio = f"{result.extra_mb / result.frames_mb:.2f}"
            is_driftline = result.engine != "evidently"
            fit = "" if result.fit_seconds is None else f"{result.fit_seconds:,.2f}"
            alone = "" if result.check_seconds is None else f"{result.check_seconds:,.2f}"
            lines.append(
                f"| {label(size)} | {ENGINE_LABELS[result.engine]} | {seconds} | {fit} | {alone} "
                f"| {text if is_driftline else ''} | {memory} | {frames} | {ratio} "
                f"| {found(result)} | {targets(result, value, how) if is_driftline else ''} |"
            )
    return "\n".join(lines)


def agreement(results: list[Result], sizes: list[str]) -> list[str]:
    notes = []
    for size in sizes:
        flagged = {
            r.engine: set(r.flagged) for r in results if r.size == size and r.flagged is not None
        }
        if "evidently" not in flagged:
            continue
        for engine in (e for e in flagged if e != "evidently"):
            ours, theirs = flagged[engine], flagged["evidently"]
            if ours == theirs:
                notes.append(
                    f"- {label(size)}: {ENGINE_LABELS[engine]} and Evidently flagged the same "
                    f"{len(ours)} columns."
                )
            else:
                notes.append(
                    f"- {label(size)}: {ENGINE_LABELS[engine]} and Evidently disagree; only "
                    f"Driftline: {sorted(ours - theirs) or 'none'}, only Evidently: "
                    f"{sorted(theirs - ours) or 'none'}."
                )
    return notes


def parse_sizes(text: str) -> list[str]:
    sizes = [s.strip().lower() for s in text.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown size(s) {unknown}; sizes are {list(SIZES)}")
    return sorted(set(sizes), key=list(SIZES).index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=parse_sizes, default=list(SIZES), help="10k,100k,1m")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per worker")
    parser.add_argument(
        "--skip-evidently-above",
        type=int,
        default=None,
        metavar="ROWS",
        help="do not run Evidently above this many rows (its time is then extrapolated)",
    )
    parser.add_argument("--write-results", type=Path, default=None)
    parser.add_argument("--worker", nargs=2, metavar=("ENGINE", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        engine, size = args.worker
        if engine not in ENGINES or size not in SIZES:
            parser.error(f"--worker takes one of {ENGINES} and one of {list(SIZES)}")
        print(json.dumps(worker(engine, size)))
        return

    results: list[Result] = []
    for size in args.sizes:
        rows, _ = SIZES[size]
        for engine in ENGINES:
            skip = engine == "evidently" and (args.skip_evidently_above or rows) < rows
            if skip:
                guess = extrapolate(results, size)
                result = Result(engine, size, missing="not run (too slow)")
                if guess is not None:
                    result.extrapolated, result.extrapolated_from = guess
            else:
                result = run_worker(engine, size, args.timeout)
            results.append(result)
            seconds = f"{result.seconds:.2f} s" if result.seconds is not None else result.missing
            print(f"{label(size)} {engine}: {seconds}", file=sys.stderr, flush=True)

    versions = ", ".join(
        f"{name} {version(name.lower())}" for name in ("numpy", "SciPy", "pandas", "Evidently")
    )
    text = "\n".join(
        [
            f"Machine: {machine(versions)}.",
            "",
            "Driftline's check (`fit_reference` + `check`, default policy: normed Wasserstein "
            "and Jensen-Shannon at these sizes) against Evidently's `DataDriftPreset` "
            "(`Dataset.from_pandas` + `Report.run`) on identical synthetic frames, each engine "
            f"in its own process; Driftline's seconds are the best of {REPEATS} runs (fit + "
            "check; then the best `fit_reference` and the best `check` apart: a scheduled check "
            "fits once and pays only `check` per window), Evidently's a single run. "
            "3/4 numeric columns, 1/4 categorical (8-20 categories), "
            f"1/4 drifted (numeric: +{SHIFT:g} std; categorical: {MIX:.0%} of the mass moved to "
            "the reversed shares); reference and current the same size. Extra peak memory: "
            "peak RSS during the check minus the RSS once the data was in memory; frames: "
            "the two inputs (float64 arrays for Driftline; DataFrames, shallow, for Evidently).",
            "",
            table(results, args.sizes),
            "",
            *agreement(results, args.sizes),
        ]
    )
    print(text)
    if args.write_results is not None:
        write_section(args.write_results, "drift", text + "\n")


if __name__ == "__main__":
    main()
