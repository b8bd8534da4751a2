"""Failure rates and bogus outputs of a model's requests, as monitoring detectors.

- :mod:`~detectors.failures.statuses`: the outcome vocabulary (ok, error, bad_input,
  timeout), its input gate and :class:`StatusCounts`;
- :mod:`~detectors.failures.intervals`: Wilson and Newcombe intervals;
- :mod:`~detectors.failures.slo`: a failure rate against an SLO;
- :mod:`~detectors.failures.baseline`: a failure rate against the model's own baseline;
- :mod:`~detectors.failures.outputs`: non-finite, out-of-range and stuck outputs.

Every detector returns a :class:`~detectors.outcome.DetectorResult`. Count a window once and
hand the counts to each rate detector, per kind and overall:

>>> counts = count_statuses(["ok"] * 960 + ["error"] * 10 + ["timeout"] * 30)
>>> slo = {"failure": 0.05, "error": 0.02, "timeout": 0.01, "bad_input": 0.01}
>>> for kind in FAILURE_KINDS:
...     result = check_rate(counts, slo_rate=slo[kind], kind=kind)
...     print(result.detector, result.status.value)
failures.failure_rate ok
failures.error_rate ok
failures.timeout_rate alarm
failures.bad_input_rate ok
"""

from __future__ import annotations

from detectors.failures.baseline import check_rate_change
from detectors.failures.intervals import newcombe_interval, wilson_interval
from detectors.failures.outputs import check_non_finite, check_out_of_range, check_stuck_outputs
from detectors.failures.slo import check_rate
from detectors.failures.statuses import (
    FAILURE_KINDS,
    FailureKind,
    RequestStatus,
    StatusCounts,
    as_status_codes,
    count_statuses,
)

__all__ = [
    "FAILURE_KINDS",
    "FailureKind",
    "RequestStatus",
    "StatusCounts",
    "as_status_codes",
    "check_non_finite",
    "check_out_of_range",
    "check_rate",
    "check_rate_change",
    "check_stuck_outputs",
    "count_statuses",
    "newcombe_interval",
    "wilson_interval",
]
