"""``data_drift``: every feature column of the window against the reference's.

The reference's numeric and categorical columns (``features`` of the monitor, or all of them)
are prepared once with :func:`detectors.check.fit_reference`; each run tests the window's
columns with :func:`detectors.check.check`, which picks a test per column, corrects the
p-values across the columns and decides the dataset's drift by the share of drifted columns.
Categorical codes come from one dictionary per model, so the window's and the reference's are
compared directly. Columns are those of the reference, in its order, that the window also
has; a column on one side only is listed in ``details.missing_columns`` (``missing_from``:
``current``, ``reference`` or ``both`` for a requested feature found on neither side; a column
numeric on one side and categorical on the other is missing from ``current``, with both
kinds given).
Embedding features are not tested here.

Status: ``alarm`` when the dataset drifted (the share of drifted columns reached
``drift_share``, or the multivariate check drifted), else ``ok``; ``insufficient_data`` when
the reference has fewer than ``min_reference_rows`` rows, no column is on both sides, or no
column has values on both sides. Score: the share of drifted columns.

Params
------
policy
    ``driftline`` (default) or ``evidently``: how a test is chosen per column
    (:mod:`detectors.selection`).
test
    One test for every column it can compare (a name of :data:`detectors.registry.REGISTRY`;
    the other columns keep the policy's choice). Default: the policy chooses.
threshold
    The threshold of ``test`` (requires ``test``): a p-value level in (0, 1), or a distance
    > 0. Default: the test's default.
drift_share
    Share of drifted columns, in (0, 1], at which the dataset drifts. Default 0.5.
correction
    Multiple-testing correction across the columns: ``bh`` (default), ``bonferroni``, ``by``
    or ``none``.
multivariate
    Also run the domain classifier over all columns together. Default false.
min_reference_rows
    Fewest reference rows for a verdict (integer >= 2). Default 30.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors.check import FittedReference, check, fit_reference
from detectors.decision import Correction
from detectors.selection import Policy
from monitor.kinds._drift_report import outcome_of
from monitor.kinds._outcome import KindOutcome, insufficient
from monitor.kinds._params import ParamReader
from monitor.kinds._selection import TestChoice, read_test
from monitor.project.monitors import MonitorSpec, ParamValue
from storage import Window

__all__ = ["PARAMS", "DataDriftParams", "DataDriftReference", "prepare", "read_params", "run"]

PARAMS = (
    "policy",
    "test",
    "threshold",
    "drift_share",
    "correction",
    "multivariate",
    "min_reference_rows",
)
_POLICIES: tuple[Policy, ...] = ("driftline", "evidently")
_CORRECTIONS: tuple[Correction, ...] = ("bh", "bonferroni", "by", "none")
_SEED = 0


@dataclass(frozen=True, slots=True)
class DataDriftParams:
    """The params of a data drift monitor, checked, with defaults applied."""

    policy: Policy = "driftline"
    test: TestChoice = field(default_factory=TestChoice)
    drift_share: float = 0.5
    correction: Correction = "bh"
    multivariate: bool = False
    min_reference_rows: int = 30


@dataclass(frozen=True, slots=True, eq=False)
class DataDriftReference:
    """The reference fitted once; the window itself is kept to refit on fewer columns."""

    window: Window | None
    fitted: FittedReference | None
    #: Why there is nothing to compare with (then ``fitted`` is None).
    reason: str | None = None


def read_params(params: Mapping[str, ParamValue], *, monitor: str | None = None) -> DataDriftParams:
    """Check ``params`` (module notes) and apply the defaults."""
    reader = ParamReader("data_drift", params, PARAMS, monitor=monitor)
    return DataDriftParams(
        policy=reader.choice("policy", _POLICIES, "driftline"),
        test=read_test(reader),
        drift_share=reader.number("drift_share", 0.5, low=0.0, high=1.0, low_open=True),
        correction=reader.choice("correction", _CORRECTIONS, "bh"),
        multivariate=reader.boolean("multivariate", False),
        min_reference_rows=reader.integer("min_reference_rows", 30, low=2),
    )


def prepare(
    spec: MonitorSpec, params: DataDriftParams, reference: Window | None
) -> DataDriftReference:
    """Fit the reference's requested columns (nothing that depends on a current window)."""
    if reference is None:
        return DataDriftReference(None, None, "the monitor has no reference")
    if len(reference) < params.min_reference_rows:
        reason = f"reference has {len(reference)} rows, needs at least {params.min_reference_rows}"
        return DataDriftReference(reference, None, reason)
    numeric = _wanted(reference.numeric_names, spec.features)
    categorical = _wanted(reference.categorical_names, spec.features)
    if not numeric and not categorical:
        return DataDriftReference(reference, None, "the reference has none of the features")
    fitted = _fit(reference, numeric, categorical, spec, params)
    return DataDriftReference(reference, fitted)


def run(
    spec: MonitorSpec, params: DataDriftParams, prepared: DataDriftReference, current: Window
) -> KindOutcome:
    """Test the window's columns against the fitted reference (module notes)."""
    if prepared.fitted is None or prepared.window is None:
        return insufficient(prepared.reason or "no reference")
    fitted = prepared.fitted
    numeric = [n for n in fitted.numeric_names if n in current.numeric_names]
    categorical = [n for n in fitted.categorical_names if n in current.categorical_names]
    missing = _missing_columns(spec, prepared.window, current)
    if not numeric and not categorical:
        return insufficient(
            "no feature column is in both the reference and the current window",
            details={"missing_columns": missing},
        )
    if (tuple(numeric), tuple(categorical)) != (fitted.numeric_names, fitted.categorical_names):
        fitted = _fit(prepared.window, numeric, categorical, spec, params)
    report = check(
        fitted,
        _columns(current.numeric, current.numeric_names, numeric),
        _columns(current.categorical, current.categorical_names, categorical),
        policy=params.policy,
        per_kind=params.test.per_kind,
        thresholds=params.test.thresholds,
        correction=params.correction,
        drift_share=params.drift_share,
        sample_limit=spec.sample_limit,
        seed=_SEED,
    )
    context = {
        "missing_columns": missing,
        "policy": params.policy,
        "n_reference": len(prepared.window),
        "n_current": len(current),
        "current_total_rows": current.total_rows,
    }
    return outcome_of(report, context)


def _wanted(names: Sequence[str], features: Sequence[str] | None) -> list[str]:
    return [name for name in names if features is None or name in features]


def _columns(
    values: NDArray[np.float64], names: Sequence[str], wanted: Sequence[str]
) -> NDArray[np.float64] | None:
    """The ``wanted`` columns of ``values`` in that order; None when none is wanted."""
    if not wanted:
        return None
    index = {name: j for j, name in enumerate(names)}
    return values[:, [index[name] for name in wanted]]


def _fit(
    reference: Window,
    numeric: Sequence[str],
    categorical: Sequence[str],
    spec: MonitorSpec,
    params: DataDriftParams,
) -> FittedReference:
    return fit_reference(
        _columns(reference.numeric, reference.numeric_names, numeric),
        _columns(reference.categorical, reference.categorical_names, categorical),
        numeric_names=numeric,
        categorical_names=categorical,
        sample_limit=spec.sample_limit,
        seed=_SEED,
        multivariate=params.multivariate,
    )


def _missing_columns(spec: MonitorSpec, reference: Window, current: Window) -> list[dict[str, Any]]:
    """Requested columns not tested: on one side only, of another kind on each side, or
    (named in ``features``) on neither side."""
    on_reference, on_current = _kinds(reference), _kinds(current)
    embeddings = set(reference.embeddings) | set(current.embeddings)
    names = dict.fromkeys([*on_reference, *on_current, *(spec.features or ())])
    missing: list[dict[str, Any]] = []
    for name in names:
        if (spec.features is not None and name not in spec.features) or name in embeddings:
            continue
        before, after = on_reference.get(name), on_current.get(name)
        if before is not None and before == after:
            continue
        side = "current" if before is not None else "both" if after is None else "reference"
        row: dict[str, Any] = {"name": name, "missing_from": side}
        if before is not None and after is not None:
            row.update(reference_kind=before, current_kind=after)
        missing.append(row)
    return missing


def _kinds(window: Window) -> dict[str, str]:
    kinds = dict.fromkeys(window.numeric_names, "numeric")
    kinds.update(dict.fromkeys(window.categorical_names, "categorical"))
    return kinds
