"""What each kind of scheduled monitor computes over one window of a model's records.

The scheduler reads a monitor's window (and its reference) as :class:`storage.Window` values
and calls, per monitor:

1. :func:`validate_params` when the monitor is declared (project load, API);
2. :func:`prepare` once per reference: everything that depends on the reference alone, as an
   opaque :class:`Prepared` it may cache while the reference does not move;
3. :func:`run` per window, with the state the previous run returned, giving a
   :class:`KindOutcome`.

Kinds, each in its own module with its params documented there:
:mod:`~monitor.kinds.data_drift`, :mod:`~monitor.kinds.prediction_drift`,
:mod:`~monitor.kinds.performance`, :mod:`~monitor.kinds.failures`,
:mod:`~monitor.kinds.health`, and :mod:`~monitor.kinds.online_learning`, which reads the
learner's records instead of a window (:func:`run_learning`). The statistics are
:mod:`detectors`'; this package picks columns and rows, passes params, and turns results
into JSON-able summaries.
"""

from __future__ import annotations

from monitor.kinds._dispatch import (
    Prepared,
    needs_labels,
    prepare,
    reads_learning,
    run,
    run_learning,
    validate_params,
)
from monitor.kinds._outcome import KindOutcome, KindStatus
from monitor.kinds._params import MonitorParamsError

__all__ = [
    "KindOutcome",
    "KindStatus",
    "MonitorParamsError",
    "Prepared",
    "needs_labels",
    "prepare",
    "reads_learning",
    "run",
    "run_learning",
    "validate_params",
]
