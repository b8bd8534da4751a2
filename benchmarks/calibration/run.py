"""Calibration of Driftline's drift checks: false alarms under no drift, power under a shift.

    .venv/bin/python benchmarks/calibration/run.py [--repetitions 1000] [--write-results FILE]

Each repetition draws a fresh reference and current window of 20 columns (15 numeric
N(0, 1), 5 categorical with 6 categories of fixed shares) and runs one whole check.
Under no drift nothing changed, so every flagged column is a false alarm; under a shift,
the first 5 numeric columns move by 0.1 standard deviation. Rates are over repetitions,
with a 95 % Wilson interval; the nominal level of every p-value test is 0.05.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# benchmarks/ itself, for the shared _common module.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detectors.check import check, fit_reference

N_NUMERIC, N_CATEGORICAL, N_SHIFTED = 15, 5, 5
SHARES = np.array([0.3, 0.25, 0.2, 0.1, 0.1, 0.05])
NUMERIC = [f"x{j}" for j in range(N_NUMERIC)]
CATEGORICAL = [f"c{j}" for j in range(N_CATEGORICAL)]


@dataclass
class Setting:
    label: str
    rows: int
    policy: str
    correction: str


SETTINGS = [
    Setting("small windows, Driftline, BH", 500, "driftline", "bh"),
    Setting("small windows, Driftline, Bonferroni", 500, "driftline", "bonferroni"),
    Setting("small windows, Driftline, uncorrected", 500, "driftline", "none"),
    Setting("small windows, Evidently's rule, uncorrected", 500, "evidently", "none"),
    Setting("large windows, distances (Evidently thresholds)", 5000, "driftline", "bh"),
]


def draw(rng: np.random.Generator, rows: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    numeric = rng.normal(size=(rows, N_NUMERIC))
    numeric[:, :N_SHIFTED] += shift
    categorical = rng.choice(len(SHARES), size=(rows, N_CATEGORICAL), p=SHARES).astype(float)
    return numeric, categorical


def wilson(successes: int, trials: int) -> str:
    if trials == 0:
        return "n/a"
    p = successes / trials
    z = 1.959963984540054
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = (
        z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    )
    return f"{p:.3f} [{max(0.0, centre - half):.3f}, {min(1.0, centre + half):.3f}]"


def run(setting: Setting, repetitions: int, seed: int) -> dict[str, str]:
    rng = np.random.default_rng(seed)
    false_numeric = false_categorical = any_null = dataset_null = detected = 0
    for _ in range(repetitions):
        for shift in (0.0, 0.1):
            ref_num, ref_cat = draw(rng, setting.rows, 0.0)
            cur_num, cur_cat = draw(rng, setting.rows, shift)
            fitted = fit_reference(
                ref_num, ref_cat, numeric_names=NUMERIC, categorical_names=CATEGORICAL
            )
            report = check(
                fitted, cur_num, cur_cat, policy=setting.policy,
                correction=setting.correction,
            )  # fmt: skip
            flags = np.array([c.drifted for c in report.columns])
            if shift == 0.0:
                false_numeric += int(flags[:N_NUMERIC].sum())
                false_categorical += int(flags[N_NUMERIC:].sum())
                any_null += int(flags.any())
                dataset_null += int(report.dataset_drift)
            else:
                detected += int(flags[:N_SHIFTED].sum())
    methods = sorted({c.method for c in report.columns})
    return {
        "setting": setting.label,
        "rows": f"{setting.rows:,}",
        "tests": ", ".join(methods),
        "false alarms per numeric column": wilson(false_numeric, repetitions * N_NUMERIC),
        "per categorical column": wilson(false_categorical, repetitions * N_CATEGORICAL),
        "any column (family-wise)": wilson(any_null, repetitions),
        "dataset drift (share >= 0.5)": wilson(dataset_null, repetitions),
        "power, 0.1 std shift": wilson(detected, repetitions * N_SHIFTED),
    }


def table(rows: list[dict[str, str]]) -> str:
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row[h] for h in header) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--write-results", type=Path, default=None)
    args = parser.parse_args()
    rows = [run(s, args.repetitions, args.seed + i) for i, s in enumerate(SETTINGS)]
    text = (
        f"{args.repetitions} repetitions per setting; 95 % Wilson intervals; nominal level "
        "0.05.\n\n" + table(rows) + "\n"
    )
    print(text)
    if args.write_results is not None:
        from _common import write_section

        write_section(args.write_results, "calibration", text)


if __name__ == "__main__":
    main()
