"""``failures``: failed requests and bogus outputs in the window.

Detectors (:mod:`detectors.failures`), each a row of the summary:

- ``failures.<kind>_rate`` for each of ``kinds``: the rate against ``slo_rate`` (``alarm``
  when significantly above it, ``warning`` when only the point rate is);
- ``failures.<kind>_rate_change`` for each of ``kinds``, when the monitor has a reference
  window: the rate against the reference's (``alarm`` on a significant rise of at least
  ``min_increase``). A dataset reference has no request outcomes (every row is ``ok``), so it
  is skipped and ``summary.baseline`` says so;
- ``failures.non_finite_outputs``: NaN or infinite outputs of answered requests (a
  classifier's row counts when its predicted class or a probability is not finite);
- ``failures.stuck_outputs``: the longest run of identical outputs to different inputs (a
  regression model's values, a classifier's highest probability; not run for a classifier
  without probabilities, whose classes repeat legitimately). Inputs are told apart by their
  feature values; a window without features counts every row as a new input;
- ``failures.out_of_range_outputs``: outputs (the predictions) outside
  [``output_min``, ``output_max``], when either is given.

The rate checks need ``min_samples`` requests (the monitor's). Status: the worst of the rows.
Score: the window's failure rate (any outcome but ok).

Params
------
kinds
    Which outcomes count, each checked apart: a list of ``failure`` (any outcome but ok),
    ``error``, ``timeout``, ``bad_input``. Default ``[failure]``.
slo_rate
    The highest acceptable rate of each kind, in [0, 1). Default 0.01.
min_increase
    Smallest rise of a rate over the reference's worth an alarm, in (0, 1) (0.01 is one
    percentage point). Only with a reference. Default 0.01.
output_min, output_max
    The range of valid predictions (either may be omitted). Default: no range check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detectors.failures import (
    FAILURE_KINDS,
    FailureKind,
    StatusCounts,
    check_non_finite,
    check_out_of_range,
    check_rate,
    check_rate_change,
    check_stuck_outputs,
    count_statuses,
)
from detectors.outcome import DetectorResult, Span
from monitor.kinds._columns import CLASSIFICATION, probabilities, span
from monitor.kinds._outcome import KindOutcome, detector_row, finite_or_none, jsonable, worst
from monitor.kinds._params import ParamReader
from monitor.project.monitors import DatasetReference, MonitorSpec, ParamValue
from storage import Window

__all__ = ["PARAMS", "FailuresBaseline", "FailuresParams", "prepare", "read_params", "run"]

PARAMS = ("kinds", "slo_rate", "min_increase", "output_min", "output_max")


@dataclass(frozen=True, slots=True)
class FailuresParams:
    """The params of a failures monitor, checked, with defaults applied."""

    kinds: tuple[FailureKind, ...] = ("failure",)
    slo_rate: float = 0.01
    min_increase: float = 0.01
    output_min: float | None = None
    output_max: float | None = None


@dataclass(frozen=True, slots=True)
class FailuresBaseline:
    """The reference's outcome counts, or why there is no baseline."""

    counts: StatusCounts | None
    note: str | None = None


def read_params(
    params: Mapping[str, ParamValue], *, has_reference: bool, monitor: str | None = None
) -> FailuresParams:
    """Check ``params`` (module notes) and apply the defaults."""
    reader = ParamReader("failures", params, PARAMS, monitor=monitor)
    if reader.given("min_increase") and not has_reference:
        raise reader.error(
            "min_increase", "left out: the monitor has no reference", got=reader.raw("min_increase")
        )
    low = reader.optional_number("output_min")
    high = reader.optional_number("output_max")
    if low is not None and high is not None and not low < high:
        raise reader.error("output_max", f"above output_min ({low:g})", got=high)
    return FailuresParams(
        kinds=reader.choices("kinds", FAILURE_KINDS, ("failure",)),
        slo_rate=reader.number("slo_rate", 0.01, low=0.0, high=1.0, high_open=True),
        min_increase=reader.number(
            "min_increase", 0.01, low=0.0, high=1.0, low_open=True, high_open=True
        ),
        output_min=low,
        output_max=high,
    )


def prepare(spec: MonitorSpec, reference: Window | None) -> FailuresBaseline:
    """Count the reference's outcomes (skipped for a dataset reference without failures)."""
    if reference is None:
        return FailuresBaseline(None, "no reference: no baseline comparison")
    counts = count_statuses(reference.status.astype(np.int64))
    if isinstance(spec.reference, DatasetReference) and counts.total == counts.ok:
        note = "skipped: the reference is a dataset, which records no request outcomes"
        return FailuresBaseline(None, note)
    return FailuresBaseline(counts)


def run(
    spec: MonitorSpec,
    params: FailuresParams,
    baseline: FailuresBaseline,
    current: Window,
    *,
    task: str,
) -> KindOutcome:
    """Check the window's failure rates and outputs (module notes)."""
    statuses = current.status.astype(np.int64)
    where = span(current)
    results: list[DetectorResult] = []
    for kind in params.kinds:
        results.append(
            check_rate(
                statuses,
                slo_rate=params.slo_rate,
                kind=kind,
                min_count=spec.min_samples,
                window=where,
            )
        )
        if baseline.counts is not None:
            results.append(
                check_rate_change(
                    statuses,
                    baseline=baseline.counts,
                    kind=kind,
                    min_increase=params.min_increase,
                    min_count=spec.min_samples,
                    window=where,
                )
            )
    results.extend(_output_checks(params, current, statuses, task, where))
    counts = count_statuses(statuses)
    rate = counts.failures("failure") / counts.total if counts.total else None
    summary = {
        "detectors": [detector_row(result) for result in results],
        "failure_rate": rate,
        "requests": counts.total,
        "failures": counts.failures("failure"),
        "baseline": "compared" if baseline.counts is not None else baseline.note,
    }
    return KindOutcome(
        status=worst(result.status.value for result in results),
        score=finite_or_none(rate),
        summary=jsonable(summary),
        details=jsonable({"results": [result.to_dict() for result in results]}),
    )


def _output_checks(
    params: FailuresParams,
    current: Window,
    statuses: NDArray[np.int64],
    task: str,
    where: Span,
) -> list[DetectorResult]:
    proba = probabilities(current) if task in CLASSIFICATION else None
    outputs = current.predictions
    if proba is not None:  # a class with a broken probability row is a bogus output too
        outputs = np.where(np.isfinite(proba).all(axis=1), outputs, np.nan)
    results = [check_non_finite(outputs, statuses=statuses, window=where)]
    scores = _scores(current, proba, task)
    if scores is not None:
        fingerprints = _fingerprints(current)
        results.append(check_stuck_outputs(scores, fingerprints, statuses=statuses, window=where))
    if params.output_min is not None or params.output_max is not None:
        low = -np.inf if params.output_min is None else params.output_min
        high = np.inf if params.output_max is None else params.output_max
        results.append(
            check_out_of_range(
                current.predictions, low=low, high=high, statuses=statuses, window=where
            )
        )
    return results


def _scores(
    current: Window, proba: NDArray[np.float64] | None, task: str
) -> NDArray[np.float64] | None:
    """The continuous output a stuck model repeats: values, or the highest probability."""
    if task not in CLASSIFICATION:
        return current.predictions
    if proba is None:
        return None
    # NaN rows (failed requests) stay NaN without a warning: fmax skips NaN pairwise only.
    highest: NDArray[np.float64] = np.fmax.reduce(proba, axis=1)
    return highest


def _fingerprints(current: Window) -> NDArray[np.int64]:
    """Ids that change when a row's input differs from the previous row's (NaN equals NaN)."""
    inputs = np.hstack([current.numeric, current.categorical])
    n = len(current)
    if inputs.shape[1] == 0:
        return np.arange(n, dtype=np.int64)
    same = (inputs[1:] == inputs[:-1]) | (np.isnan(inputs[1:]) & np.isnan(inputs[:-1]))
    changed = ~same.all(axis=1)
    return np.concatenate(([0], np.cumsum(changed))).astype(np.int64)
