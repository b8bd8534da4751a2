"""Parity with Evidently's DataDriftPreset: same tests chosen, same numbers, same verdicts.

With ``policy="evidently"`` and no multiple-testing correction, Driftline must choose the
test Evidently 0.7 chooses for every column and agree on its value and its verdict, on
small references (KS, chi-square goodness of fit, Z) and large ones (normed Wasserstein,
Jensen-Shannon).
"""

from __future__ import annotations

import os
import re
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from detectors.check import check, fit_reference

NUMERIC = ["x", "y", "k"]
CATEGORICAL = ["c", "b"]
#: Evidently's method label to Driftline's test name.
METHODS = {
    "K-S p_value": "ks",
    "chi-square p_value": "chi2_gof",
    "Z-test p_value": "z_test",
    "Wasserstein distance (normed)": "wasserstein_normed",
    "Jensen-Shannon distance": "jensen_shannon",
}


def frames(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two drifted columns (x by location, c by shares) and three that did not move."""
    reference = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "y": rng.normal(size=n),
            "k": rng.integers(0, 4, n).astype(float),
            "c": rng.choice(list("abcd"), n),
            "b": rng.choice(list("ab"), n),
        }
    )
    current = pd.DataFrame(
        {
            "x": rng.normal(0.4, size=n),
            "y": rng.normal(size=n),
            "k": rng.integers(0, 4, n).astype(float),
            "c": rng.choice(list("abcd"), n, p=[0.4, 0.3, 0.2, 0.1]),
            "b": rng.choice(list("ab"), n),
        }
    )
    return reference, current


def evidently_results(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, Any]:
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # Evidently's imports (numpy.core, litestar) raise deprecation warnings of theirs.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from evidently import DataDefinition, Dataset, Report
        from evidently.presets import DataDriftPreset

        definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
        report = Report([DataDriftPreset()]).run(
            Dataset.from_pandas(current, data_definition=definition),
            Dataset.from_pandas(reference, data_definition=definition),
        )
    out: dict[str, Any] = {}
    for metric in report.dict()["metrics"]:
        found = re.match(
            r"ValueDrift\(column=(\w+),method=(.+),threshold=([\d.]+)\)", metric["metric_name"]
        )
        if found:
            column, method, threshold = found.groups()
            out[column] = (METHODS[method], float(metric["value"]), float(threshold))
        else:
            out["share"] = metric["value"]["share"]
    return out


def codes(reference: pd.Series, current: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    categories = pd.Index(sorted(set(reference) | set(current)))
    return (
        categories.get_indexer(reference).astype(np.float64),
        categories.get_indexer(current).astype(np.float64),
    )


@pytest.mark.parametrize("n", [800, 5_000], ids=["small-reference", "large-reference"])
def test_same_tests_values_and_verdicts_as_evidently(n: int) -> None:
    reference, current = frames(np.random.default_rng(20261124), n)
    expected = evidently_results(reference, current)
    coded = [codes(reference[name], current[name]) for name in CATEGORICAL]

    fitted = fit_reference(
        reference[NUMERIC].to_numpy(),
        np.column_stack([r for r, _ in coded]),
        numeric_names=NUMERIC,
        categorical_names=CATEGORICAL,
    )
    report = check(
        fitted,
        current[NUMERIC].to_numpy(),
        np.column_stack([c for _, c in coded]),
        policy="evidently",
        correction="none",
    )

    for column in report.columns:
        method, value, threshold = expected[column.name]
        ours = column.p_value if column.p_value is not None else column.statistic
        assert column.method == method, column.name
        assert column.threshold == threshold, column.name
        np.testing.assert_allclose(ours, value, rtol=1e-9, err_msg=column.name)
        evidently_drift = value < threshold if column.p_value is not None else value >= threshold
        assert column.drifted == evidently_drift, column.name
    assert report.drift_share == pytest.approx(expected["share"])
    assert {c.name for c in report.columns if c.drifted} >= {"x", "c"}
