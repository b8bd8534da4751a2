"""A latency quantile of a window against the same quantile of a baseline window.

**Effect**: the ratio r = Q̂_window(q) / Q̂_baseline(q) of the two quantile estimates.

**Significance**: Mood's two-sample quantile test, one-sided. Cut the pooled sample at its
q-quantile c (the order statistic of rank ⌈q·N⌉), count the values above c in the window (b
of m) and in the baseline (a of n), and ask whether the window holds more than its share of
them. The cut is a symmetric function of the pooled data, so under "same distribution" the
2 × 2 table is hypergeometric given its margins and the p-value
``hypergeom.sf(b − 1, n + m, a + b, m)`` (= :func:`scipy.stats.fisher_exact` with
``alternative="greater"``) is exact up to ties at c. Unlike Mann–Whitney it looks at the
tail the SLO is about: a p99 that doubles while the median stays put is found; a median that
moves with an unchanged tail is not this detector's business.

Rule: ``alarm`` when r ≥ ``max_ratio`` and p < ``alpha``; ``warning`` when r ≥ ``max_ratio``
only; ``insufficient_data`` when either sample has fewer than ``min_count`` latencies
(default: the smallest sample that can bound the quantile on both sides, 368 for p99).

References
----------
.. [1] A. M. Mood, *Introduction to the Theory of Statistics*, McGraw-Hill (1950), 394-406
   (the two-sample median test; the same construction holds for any quantile).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.stats
from numpy.typing import ArrayLike, NDArray

from detectors.failures._gate import finite_or_none, integer, number, probability, span_of, verdict
from detectors.health.latency import detector_name
from detectors.health.quantiles import (
    QuantileEstimate,
    latencies,
    minimum_count,
    quantile_intervals,
)
from detectors.outcome import DetectorResult, JSONValue, Span, Status

__all__ = ["check_latency_regression", "quantile_test"]


def quantile_test(
    sample: NDArray[np.float64], baseline: NDArray[np.float64], quantile: float
) -> tuple[float, int, int]:
    """One-sided Mood quantile test: p-value, and the counts above the pooled cut.

    Returns ``(p_value, above_in_sample, above_in_baseline)``; p = 1 when either is empty.
    """
    m, n = len(sample), len(baseline)
    if not m or not n:
        return 1.0, 0, 0
    pooled = np.concatenate([sample, baseline])
    rank = max(math.ceil(probability(quantile, "quantile") * (m + n)) - 1, 0)
    cut = float(np.partition(pooled, rank)[rank])
    above, above_baseline = (
        int(np.count_nonzero(sample > cut)),
        int(np.count_nonzero(baseline > cut)),
    )
    p_value = float(scipy.stats.hypergeom.sf(above - 1, m + n, above + above_baseline, m))
    return min(max(p_value, 0.0), 1.0), above, above_baseline


def check_latency_regression(
    latency_seconds: ArrayLike,
    *,
    baseline_seconds: ArrayLike,
    quantile: float = 0.99,
    max_ratio: float = 1.5,
    alpha: float = 0.01,
    confidence: float = 0.95,
    min_count: int | None = None,
    window: Span | None = None,
) -> DetectorResult:
    """Has the ``quantile`` of the latencies grown by ``max_ratio`` over the baseline's?

    Parameters
    ----------
    latency_seconds
        The window's latencies, seconds (NaN = missing, dropped).
    baseline_seconds
        The baseline window's latencies (e.g. the same hour a week ago).
    quantile
        Which quantile, strictly between 0 and 1.
    max_ratio
        Smallest ratio of window to baseline quantile worth an alarm (> 1).
    alpha
        Level of the one-sided quantile test.
    confidence
        Level of the intervals shown in the details (and of the default ``min_count``).
    min_count
        Fewer latencies on either side give ``insufficient_data``.
    window
        Passed through to the result.

    Returns
    -------
    DetectorResult
        ``health.latency_p<NN>_regression``: score = ratio, threshold = ``max_ratio``;
        details hold both quantiles with their intervals, the p-value and the counts above
        the pooled cut.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(3)
    >>> baseline = rng.lognormal(np.log(0.010), 0.39, 6_000)  # p99 about 25 ms
    >>> current = rng.lognormal(np.log(0.010), 0.77, 6_000)  # p99 about 60 ms
    >>> result = check_latency_regression(current, baseline_seconds=baseline)
    >>> result.detector, result.status.value, round(result.score, 1)
    ('health.latency_p99_regression', 'alarm', 2.6)
    >>> check_latency_regression(baseline[:3000], baseline_seconds=baseline[3000:]).status.value
    'ok'
    """
    q = probability(quantile, "quantile")
    gate = number(max_ratio, "max_ratio", low=1.0, strict=True)
    level = probability(alpha, "alpha")
    interval = probability(confidence, "confidence")
    needed = (
        minimum_count(q, interval) if min_count is None else integer(min_count, "min_count", low=1)
    )
    sample, missing = latencies(latency_seconds)
    reference, _ = latencies(baseline_seconds, "baseline_seconds")
    name = f"{detector_name(q)}_regression"
    span = span_of(window, len(sample) + missing)
    (current,) = quantile_intervals(sample, [q], interval)
    (before,) = quantile_intervals(reference, [q], interval)
    ratio = _ratio(current.estimate, before.estimate)
    details: dict[str, JSONValue] = {
        "quantile": q,
        "seconds": finite_or_none(current.estimate),
        "baseline_seconds": finite_or_none(before.estimate),
        "interval": _bounds(current),
        "baseline_interval": _bounds(before),
        "confidence": interval,
        "latencies": current.n,
        "baseline_latencies": before.n,
        "min_count": needed,
        "alpha": level,
    }
    if min(current.n, before.n) < needed:
        return DetectorResult(name, Status.INSUFFICIENT_DATA, ratio, gate, span, details)
    p_value, above, above_baseline = quantile_test(sample, reference, q)
    details.update({"p_value": p_value, "above_cut": above, "baseline_above_cut": above_baseline})
    status = verdict(effect=ratio >= gate, significant=p_value < level)
    return DetectorResult(name, status, ratio, gate, span, details)


def _ratio(current: float, baseline: float) -> float:
    if math.isnan(current) or math.isnan(baseline):
        return math.nan
    if baseline == 0.0:
        return 1.0 if current == 0.0 else math.inf
    return current / baseline


def _bounds(estimate: QuantileEstimate) -> JSONValue:
    return [finite_or_none(estimate.low), finite_or_none(estimate.high)]
