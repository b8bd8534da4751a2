"""Metrics of scores and probabilities: ROC AUC, PR AUC (average precision), log loss, ECE.

Scores come as an ``(n, k)`` matrix, one column per class in ``classes`` order, or, for two
classes, as the 1-D score of the second class (scikit-learn's conventions).

- **ROC AUC** is the Mann–Whitney form, P(score of a positive > score of a negative) with ties
  counting one half, which is exactly the area under the ROC curve with its diagonal tie
  segments (``roc_auc_score``). Multiclass: one-vs-rest per class, unweighted mean
  (``multi_class="ovr", average="macro"``).
- **PR AUC** is average precision, Σ (R_t − R_{t−1})·P_t over the distinct score thresholds,
  the step integral of ``average_precision_score`` (not the trapezoidal area). Multiclass:
  one-vs-rest macro mean.
- In the multiclass means, a class without positives (AUC: or without negatives) in
  ``y_true`` is left out, so that a window missing a rare class still has a value
  (scikit-learn would return NaN or refuse); a binary window with one class gives NaN.
- **Log loss**: mean of −ln p(true class), each probability clipped to [eps, 1 − eps] with
  eps = float64 machine epsilon, as ``log_loss``.
- **Calibration error** (expected calibration error, ECE) with ``bins`` equal-width bins on
  [0, 1], a value on an interior edge falling in the lower bin (``calibration_curve``'s
  ``searchsorted`` binning): Σ_b (n_b / n)·|mean target_b − mean confidence_b|. With two
  classes the confidence is P(second class) and the target whether it is the true class
  (the reliability curve of ``calibration_curve``); with more, the confidence is the top
  probability and the target whether the top class is the true one (top-label ECE, Guo et
  al. 2017). Ties in the top probability go to the first class (``argmax``).

AUC and PR AUC sort each class's scores once; their kernels then evaluate any number of
bootstrap weightings with cumulative sums, without re-sorting.

References
----------
Hanley, J. A. and McNeil, B. J. (1982). The meaning and use of the area under a receiver
operating characteristic (ROC) curve. Radiology 143(1), 29–36.
Guo, C., Pleiss, G., Sun, Y. and Weinberger, K. Q. (2017). On calibration of modern neural
networks. ICML.

Examples
--------
>>> y_true = [0, 0, 1, 1]
>>> roc_auc(y_true, [0.1, 0.4, 0.35, 0.8])
0.75
>>> round(average_precision(y_true, [0.1, 0.4, 0.35, 0.8]), 6)
0.833333
>>> round(log_loss(y_true, [0.1, 0.4, 0.35, 0.8]), 6)
0.472288
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors.errors import InvalidInputError
from detectors.performance._labels import (
    as_classes,
    as_probabilities,
    as_scores,
    as_vector,
    encode,
    same_length,
)
from detectors.performance._weights import Kernel, grouped_sums, ones, ratio

__all__ = [
    "average_precision",
    "average_precision_kernel",
    "calibration_error",
    "calibration_kernel",
    "log_loss",
    "log_losses",
    "roc_auc",
    "roc_auc_kernel",
    "roc_auc_with_error",
]

_EPS = float(np.finfo(np.float64).eps)


def roc_auc(y_true: ArrayLike, scores: ArrayLike, *, classes: ArrayLike | None = None) -> float:
    """Area under the ROC curve; one-vs-rest macro mean for more than two classes."""
    return float(roc_auc_kernel(*_prepare(y_true, scores, classes))(None)[0])


def average_precision(
    y_true: ArrayLike, scores: ArrayLike, *, classes: ArrayLike | None = None
) -> float:
    """Average precision (PR AUC); one-vs-rest macro mean for more than two classes."""
    return float(average_precision_kernel(*_prepare(y_true, scores, classes))(None)[0])


def log_loss(y_true: ArrayLike, proba: ArrayLike, *, classes: ArrayLike | None = None) -> float:
    """Mean negative log-likelihood of the true class (natural log, clipped probabilities)."""
    truth, matrix, known = _prepare(y_true, proba, classes, probabilities=True)
    return float(np.mean(log_losses(truth, matrix, known)))


def calibration_error(
    y_true: ArrayLike, proba: ArrayLike, *, classes: ArrayLike | None = None, bins: int = 10
) -> float:
    """Expected calibration error over ``bins`` equal-width bins (see the module notes).

    Examples
    --------
    >>> calibration_error([0, 1, 1, 1], [0.2, 0.6, 0.7, 0.9], bins=2)
    0.25
    """
    truth, matrix, known = _prepare(y_true, proba, classes, probabilities=True)
    return float(calibration_kernel(truth, matrix, known, bins=bins)(None)[0])


@dataclass(frozen=True, slots=True)
class _Ranked:
    """One class's rows sorted by score once, with the tie runs of the sorted scores."""

    order: NDArray[np.intp]
    positive: NDArray[np.float64]
    #: For each sorted position, the first and one-past-last position of its tie run.
    run_start: NDArray[np.intp]
    run_stop: NDArray[np.intp]
    #: Whether any two scores tie.
    tied: bool


def _rank(scores: NDArray[np.float64], positive: NDArray[np.bool_], descending: bool) -> _Ranked:
    # Only tie runs matter, not the order inside them: no need for a stable sort.
    order = np.argsort(-scores if descending else scores)
    ordered = scores[order]
    n = ordered.size
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    lengths = np.diff(np.r_[starts, n])
    run_start = np.repeat(starts, lengths)
    run_stop = np.repeat(starts + lengths, lengths)
    tied = bool(starts.size < n)
    return _Ranked(order, positive[order].astype(np.float64), run_start, run_stop, tied)


def roc_auc_kernel(
    y_true: NDArray[np.float64], scores: NDArray[np.float64], classes: NDArray[np.float64]
) -> Kernel:
    """ROC AUC as a function of row weights."""
    return _one_vs_rest(y_true, scores, classes, _auc, descending=False)


def average_precision_kernel(
    y_true: NDArray[np.float64], scores: NDArray[np.float64], classes: NDArray[np.float64]
) -> Kernel:
    """Average precision as a function of row weights."""
    return _one_vs_rest(y_true, scores, classes, _ap, descending=True)


def roc_auc_with_error(
    y_true: NDArray[np.float64], scores: NDArray[np.float64], classes: NDArray[np.float64]
) -> tuple[float, float]:
    """ROC AUC and its standard error from the rows' influence (DeLong's placement values).

    For one class, a positive's placement V₁₀ is the share of negatives below it (ties one
    half) and a negative's V₀₁ the share of positives above it; row r's influence on the AUC
    θ is (V₁₀ − θ)/n₊ or (V₀₁ − θ)/n₋, and SE = √Σ_r ψ_r². For a macro mean ψ_r is the mean
    of the classes' influences, so the correlation between classes is accounted for. This is
    DeLong's variance with 1/n in place of 1/(n − 1) in the placement variances. The AUC
    equals :func:`roc_auc`'s.

    References
    ----------
    DeLong, E. R., DeLong, D. M. and Clarke-Pearson, D. L. (1988). Comparing the areas under
    two or more correlated receiver operating characteristic curves: a nonparametric
    approach. Biometrics 44(3), 837–845.
    """
    truth = encode(y_true, classes)
    if scores.shape[1] == 1 or classes.size == 2:
        columns = [(scores[:, -1], truth == 1)]
    else:
        columns = [(column, truth == c) for c, column in enumerate(scores.T)]
    influence = np.zeros(truth.size)
    areas = []
    for column, positive in columns:
        rows_hit, rows_missed = np.flatnonzero(positive), np.flatnonzero(~positive)
        if not rows_hit.size or not rows_missed.size:
            continue
        # each side sorted once; counts with sorted needles, then back to their rows
        hit_order = np.argsort(column[rows_hit])
        miss_order = np.argsort(column[rows_missed])
        hits, misses = column[rows_hit[hit_order]], column[rows_missed[miss_order]]
        below = np.searchsorted(misses, hits, side="left")
        below += np.searchsorted(misses, hits, side="right")
        above = 2 * hits.size - np.searchsorted(hits, misses, side="left")
        above -= np.searchsorted(hits, misses, side="right")
        theta = float(below.sum()) / (2.0 * hits.size * misses.size)
        influence[rows_hit[hit_order]] += (below / (2.0 * misses.size) - theta) / hits.size
        influence[rows_missed[miss_order]] += (above / (2.0 * hits.size) - theta) / misses.size
        areas.append(theta)
    if not areas:
        return math.nan, math.nan
    error = float(np.sqrt(np.sum((influence / len(areas)) ** 2)))
    return float(np.mean(areas)) if len(areas) > 1 else areas[0], error


def log_losses(
    y_true: NDArray[np.float64], proba: NDArray[np.float64], classes: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Per-row −ln p(true class), clipped as :func:`log_loss` (its terms)."""
    own = proba[np.arange(y_true.size), encode(y_true, classes)]
    return -np.log(np.clip(own, _EPS, 1.0 - _EPS))


def calibration_kernel(
    y_true: NDArray[np.float64],
    proba: NDArray[np.float64],
    classes: NDArray[np.float64],
    *,
    bins: int = 10,
) -> Kernel:
    """Expected calibration error as a function of row weights."""
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
        msg = f"The 'bins' parameter must be a positive integer. Got {bins!r} instead."
        raise InvalidInputError(msg)
    truth = encode(y_true, classes)
    if classes.size == 2:
        confidence = proba[:, 1]
        target = (truth == 1).astype(np.float64)
    else:
        top = np.argmax(proba, axis=1)
        confidence = proba[np.arange(truth.size), top]
        target = (top == truth).astype(np.float64)
    edges = np.linspace(0.0, 1.0, int(bins) + 1)[1:-1]
    groups = np.searchsorted(edges, confidence).astype(np.intp)
    gap = target - confidence

    def evaluate(weights: NDArray[np.float64] | None) -> NDArray[np.float64]:
        per_bin = np.abs(grouped_sums(groups, int(bins), gap, weights)).sum(axis=1)
        total = ones(weights, truth.size).sum(axis=1)
        return ratio(per_bin, total)

    return evaluate


def _auc(ranked: _Ranked, weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """Mann–Whitney AUC per replicate, rows sorted ascending by score."""
    w = np.take(weights, ranked.order, axis=1)
    positive = w * ranked.positive
    negative = w - positive
    below = np.cumsum(negative, axis=1)
    below -= negative  # negative weight strictly before each position
    if ranked.tied:  # a tie run counts its negatives one half: below its start + half of it
        start = np.take(below, ranked.run_start, axis=1)
        stop = np.take(below + negative, ranked.run_stop - 1, axis=1)
        below = 0.5 * (start + stop)
    wins = np.einsum("bn,bn->b", positive, below)
    return ratio(wins, positive.sum(axis=1) * negative.sum(axis=1))


def _ap(ranked: _Ranked, weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """Average precision per replicate, rows sorted descending by score."""
    w = np.take(weights, ranked.order, axis=1)
    positive = w * ranked.positive
    hits, seen = np.cumsum(positive, axis=1), np.cumsum(w, axis=1)
    if ranked.tied:  # precision is taken at the last row of each tie run
        hits = np.take(hits, ranked.run_stop - 1, axis=1)
        seen = np.take(seen, ranked.run_stop - 1, axis=1)
    precision = np.divide(hits, seen, out=np.zeros_like(hits), where=seen > 0)
    return ratio(np.einsum("bn,bn->b", positive, precision), positive.sum(axis=1))


def _one_vs_rest(
    y_true: NDArray[np.float64],
    scores: NDArray[np.float64],
    classes: NDArray[np.float64],
    area: Callable[[_Ranked, NDArray[np.float64]], NDArray[np.float64]],
    *,
    descending: bool,
) -> Kernel:
    """Binary area of the second class, or the macro mean of one area per class.

    An area is NaN without positives (or, for AUC, negatives): such a class is left out of
    the mean of that replicate. The metric itself (no weights) sorts each class's positive
    and negative scores apart; only weighted calls (the bootstrap) rank the rows, once.
    """
    truth = encode(y_true, classes)
    if scores.shape[1] == 1 or classes.size == 2:
        columns = [(scores[:, -1], truth == 1)]
    else:
        columns = [(column, truth == c) for c, column in enumerate(scores.T)]
    plain = _auc_plain if area is _auc else _ap_plain
    ranked: list[_Ranked] = []

    def evaluate(weights: NDArray[np.float64] | None) -> NDArray[np.float64]:
        if weights is None:
            values = np.array([[plain(column, positive)] for column, positive in columns])
        else:
            if not ranked:
                ranked.extend(_rank(c, positive, descending) for c, positive in columns)
            values = np.stack([area(r, weights) for r in ranked])
        if len(columns) == 1:
            return np.asarray(values[0], dtype=np.float64)
        defined = ~np.isnan(values)
        count = defined.sum(axis=0)
        return ratio(np.where(defined, values, 0.0).sum(axis=0), count)

    return evaluate


def _auc_plain(scores: NDArray[np.float64], positive: NDArray[np.bool_]) -> float:
    """AUC of one sample: each positive wins over the negatives below it, half over ties."""
    wins, pairs = _below_and_ties(scores, positive)
    return float(wins.sum()) / (2.0 * pairs) if pairs else math.nan


def _ap_plain(scores: NDArray[np.float64], positive: NDArray[np.bool_]) -> float:
    """Mean over positives of the precision at their score: TP(s) / (TP(s) + FP(s))."""
    hits = np.sort(scores[positive])
    if hits.size == 0:
        return math.nan
    misses = np.sort(scores[~positive])
    # rows scoring at least s: all positives from s's first tie, and negatives likewise
    true_positive = hits.size - np.searchsorted(hits, hits, side="left")
    false_positive = misses.size - np.searchsorted(misses, hits, side="left")
    return float(np.mean(true_positive / (true_positive + false_positive)))


def _below_and_ties(
    scores: NDArray[np.float64], positive: NDArray[np.bool_]
) -> tuple[NDArray[np.int64], int]:
    """Per positive, 2·(negatives below) + (negatives tied), and the number of pairs."""
    hits = np.sort(scores[positive])
    misses = np.sort(scores[~positive])
    below = np.searchsorted(misses, hits, side="left")
    up_to = np.searchsorted(misses, hits, side="right")
    return (below + up_to).astype(np.int64), hits.size * misses.size


def _prepare(
    y_true: ArrayLike,
    scores: ArrayLike,
    classes: ArrayLike | None,
    *,
    probabilities: bool = False,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    truth = as_vector(y_true, "y_true")
    known = as_classes(classes, truth)
    n = truth.size
    if probabilities:
        matrix = as_probabilities(scores, "proba", n, known.size)
    else:
        matrix = as_scores(scores, "scores", n, known.size)
    same_length(("y_true", truth), ("scores", matrix))
    return truth, matrix, known
