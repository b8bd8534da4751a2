"""Seeded, vectorised bootstrap replicates of a metric on one window.

Two paths, both the ordinary nonparametric bootstrap (n rows drawn with replacement):

- **Label metrics** (accuracy, precision, recall, F1) depend on the rows only through the
  ``k × k`` confusion matrix, and resampling n rows draws its cells from
  Multinomial(n, cell shares). The replicates are drawn that way, exactly the same
  distribution as resampling rows, at a cost of O(B·k²) whatever n is.
- **Every other metric**: the row indices of replicates are drawn as one ``(b, n)`` integer
  array per chunk of ``b`` replicates, turned into row weights (how often each row was drawn)
  by one ``bincount``, and the metric's kernel evaluates all ``b`` weightings at once
  (:mod:`detectors.performance._weights`; AUC and PR AUC reuse their one sort). Cost
  O(B·n) time; memory O(b·n) with ``b·n`` ≤ :data:`CHUNK` weights (2 MB per array, or one
  replicate when n is larger).
  Benchmarks (``benchmarks/performance/run.py``) state the seconds for B = 200 on 1M rows.

Replicates are NaN where the metric is undefined on a resample (e.g. an AUC without
positives); :func:`difference` drops them.

:func:`difference` compares a window with a reference whose replicates were drawn before:
replicate ``b`` of the difference is current replicate ``b`` minus reference replicate ``b``
(independent streams); its percentiles give the interval and the one-sided p-value of "worse"
is (1 + #{replicates not worse}) / (1 + B).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from detectors.errors import InvalidInputError
from detectors.performance._intervals import Difference
from detectors.performance.classification import from_confusion
from detectors.performance.metrics import Prepared

__all__ = ["CHUNK", "check_resamples", "difference", "replicates"]

#: Most row weights (replicates × rows) held at once: 2 MB arrays stay in cache.
CHUNK = 1 << 18


def check_resamples(n_resamples: object) -> int:
    """``n_resamples`` as an int, or :class:`InvalidInputError` unless an integer ≥ 20."""
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int | np.integer):
        msg = f"The 'n_resamples' parameter must be an integer >= 20. Got {n_resamples!r}."
        raise InvalidInputError(msg)
    if n_resamples < 20:
        msg = f"The 'n_resamples' parameter must be an integer >= 20. Got {n_resamples!r}."
        raise InvalidInputError(msg)
    return int(n_resamples)


def replicates(
    prepared: Prepared, n_resamples: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """``n_resamples`` bootstrap values of the metric of ``prepared``.

    Examples
    --------
    >>> from detectors.performance.metrics import prepare
    >>> window = prepare("roc_auc", [0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> values = replicates(window, 200, np.random.default_rng(0))
    >>> values.shape, bool(np.nanmin(values) >= 0.0)
    ((200,), True)
    """
    n = prepared.n
    spec = prepared.spec
    if prepared.confusion is not None and spec.label_metric is not None:
        metric, average = spec.label_metric
        k = prepared.confusion.shape[0]
        shares = prepared.confusion.ravel() / n
        cells = rng.multinomial(n, shares, size=n_resamples).reshape(n_resamples, k, k)
        return from_confusion(cells, metric, average=average)
    per_chunk = max(1, CHUNK // n)
    out = []
    for start in range(0, n_resamples, per_chunk):
        b = min(per_chunk, n_resamples - start)
        rows = rng.integers(0, n, size=(b, n))
        rows += (np.arange(b, dtype=rows.dtype) * n)[:, np.newaxis]
        weights = np.bincount(rows.ravel(), minlength=b * n).reshape(b, n)
        del rows
        out.append(prepared.kernel(weights.astype(np.float64)))
    return np.concatenate(out)


def difference(
    reference_value: float,
    reference_replicates: NDArray[np.float64],
    current: Prepared,
    rng: np.random.Generator,
    alpha: float,
    higher_is_better: bool,
) -> Difference | None:
    """Percentile interval and p-value of current − reference (None if undefined)."""
    values = replicates(current, reference_replicates.size, rng)
    differences = values - reference_replicates
    valid = ~np.isnan(differences)
    if not valid.any() or np.isnan(current.value):
        return None
    differences, values = differences[valid], values[valid]
    better = differences >= 0 if higher_is_better else differences <= 0
    low, high = np.quantile(differences, [alpha, 1.0 - alpha])
    current_low, current_high = np.quantile(values, [alpha, 1.0 - alpha])
    return Difference(
        current.value - reference_value,
        float(low),
        float(high),
        float(current_low),
        float(current_high),
        (1.0 + np.count_nonzero(better)) / (1.0 + differences.size),
    )
