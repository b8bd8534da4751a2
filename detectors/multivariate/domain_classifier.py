"""Domain classifier: can a model tell current rows from reference rows?

A gradient-boosted tree model (scikit-learn's ``HistGradientBoostingClassifier``: fast, and
missing values (NaN) go down the branch that fits them best) learns to label rows
"reference" (0) or "current" (1). If it can, the joint distribution changed, even when no
single column did (a broken correlation, say). The steps:

1. **Sample and balance.** At most ``max_rows // 2`` rows a side, and the larger side cut
   to the smaller one's size, drawn by the seeded, order-free sampling of
   :mod:`detectors.multivariate._rows` (row order of the inputs never matters).
2. **Out-of-fold scores.** Stratified k-fold (``n_splits``, shuffled with ``seed``): each
   row is scored by the model that did not see it.
3. **AUC, interval, p-value.** The ROC AUC of the out-of-fold scores equals Mann–Whitney
   U / (n₁ n₀); the interval is DeLong's (a Wald interval with DeLong's variance, clipped
   to [0, 1]) and the default p-value of AUC > 0.5 the one-sided Mann–Whitney p of those
   scores. Both treat the pooled scores as independent, which cross-validation breaks:
   every fold's model was trained on the other folds' rows and labels, so the fold AUCs are
   correlated. With no drift (200–1,000 rows a side, 5 folds) the AUC's spread was 1.4 times
   the rank test's, and p ≤ 0.05 came 9–13 % of the time instead of 5 %: the default p and
   interval are too optimistic. The ``min_auc`` gate keeps the verdict quiet from about
   1,000 rows a side (false alarms 0 of 60 runs there, 7.5 % of 200 runs at 200 rows a
   side); below that, or whenever the p-value itself matters, ``n_permutations`` B > 0
   gives an exact p-value: the whole cross-validation re-run on B seeded relabellings,
   p = (1 + #{AUC_b ≥ AUC}) / (1 + B), for (1 + B) times the cost.
4. **Explanation.** Permutation importance on held-out rows: the AUC lost when one feature
   is shuffled within each fold's held-out rows (``importance_rows`` rows in all), scored by
   that fold's model. A broken correlation shows on every column involved.

Drift when p ≤ ``alpha`` and AUC ≥ ``min_auc`` (0.55 by default; NannyML alerts outside
0.45–0.65). Below 0.5 the model "anti-learns", which happens by chance with no drift.

Cost: ``n_splits`` fits on at most ``0.8 · max_rows`` rows of d features, ``max_iter``
boosting rounds each, then ``importance_rows · d`` predictions; memory O(max_rows · d).
With the defaults on 100,000 × 60 rows a side, about 3–6 s on one thread. The model runs
on ``threads`` OpenMP threads (default 1, set with ``threadpoolctl`` for the duration of the
call): on a shared or busy machine more threads spin-wait for each other and small fits
get ten times slower; ``None`` leaves the libraries' default (every core).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from detectors._validation import as_columns, check_same_width
from detectors.errors import InvalidInputError
from detectors.multivariate._auc import auc_by_row, delong
from detectors.multivariate._params import check_count, check_level, check_names
from detectors.multivariate._rows import ordered
from detectors.results import FeatureScore, MultivariateTest

__all__ = ["DomainReference", "prepare", "test"]

#: Values in one block of shuffled copies sent to ``predict_proba`` (32 MB of float64).
_BLOCK_VALUES = 4_000_000


@dataclass(frozen=True, slots=True)
class DomainReference:
    """The reference's sampled rows in seeded order, and the features' names."""

    rows: NDArray[np.float64]
    names: tuple[str, ...]


def prepare(
    reference: ArrayLike,
    *,
    names: Sequence[str] | None = None,
    max_rows: int = 20_000,
    seed: int = 0,
) -> DomainReference:
    """Sample the reference ``(n, d)`` once: at most ``max_rows // 2`` rows (NaN allowed)."""
    check_count("max_rows", max_rows, 4)
    rows = as_columns(reference, "reference", min_rows=2)
    return DomainReference(
        rows[ordered(rows, seed, max_rows // 2)], check_names(names, rows.shape[1])
    )


def test(
    reference: ArrayLike | DomainReference,
    current: ArrayLike,
    *,
    names: Sequence[str] | None = None,
    n_splits: int = 5,
    max_iter: int = 50,
    max_rows: int = 20_000,
    importance_rows: int = 2_000,
    alpha: float = 0.05,
    min_auc: float = 0.55,
    confidence: float = 0.95,
    n_permutations: int = 0,
    seed: int = 0,
    threads: int | None = 1,
) -> MultivariateTest:
    """Domain-classifier drift test of the rows of ``current`` against ``reference``.

    Parameters
    ----------
    reference
        ``(n, d)`` rows, or their :func:`prepare` result (which fixes names and sample).
    current
        ``(m, d)`` rows, same columns. NaN is allowed (missing); infinities are not.
    names
        Feature names for the explanation (default ``x0, x1, …``).
    n_splits
        Folds of the stratified cross-validation (each side needs this many rows).
    max_iter
        Boosting rounds of each fold's model.
    max_rows
        Rows used at most, both sides together (half each).
    importance_rows
        Held-out rows scored with each feature shuffled (0: no explanation, no features).
    alpha, min_auc
        Drift when the p-value is at most ``alpha`` and the AUC at least ``min_auc``.
    confidence
        Level of the AUC's interval.
    n_permutations
        0: the Mann–Whitney p (optimistic, see above); B > 0: the exact permutation p of B
        cross-validations on relabelled rows.
    seed
        Seeds sampling, folds, models and shuffles.
    threads
        OpenMP threads of the model (None: the libraries' default).

    Returns
    -------
    MultivariateTest
        ``method="domain_classifier"``; ``statistic`` and ``effect`` are the AUC; ``ci`` its
        DeLong interval; ``features`` the permutation importances, largest first.

    Raises
    ------
    InvalidInputError
        Bad parameters, non-numeric or infinite input, widths that differ, fewer than
        ``n_splits`` rows on a side.

    References
    ----------
    .. [1] DeLong, E. R., DeLong, D. M. and Clarke-Pearson, D. L. (1988). Comparing the areas
       under two or more correlated ROC curves. Biometrics 44(3), 837–845.
    .. [2] Sun, X. and Xu, W. (2014). Fast implementation of DeLong's algorithm. IEEE Signal
       Processing Letters 21(11), 1389–1393.
    .. [3] Rabanser, S., Günnemann, S. and Lipton, Z. (2019). Failing loudly: an empirical
       study of methods for detecting dataset shift. NeurIPS.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=1000)
    >>> reference = np.column_stack([a, 0.9 * a + 0.44 * rng.normal(size=1000)])
    >>> current = rng.normal(size=(1000, 2))  # same marginals, correlation gone
    >>> result = test(reference, current, names=["a", "b"], max_iter=20)
    >>> result.drift, round(result.statistic, 2), result.ci[0] > 0.5
    (True, 0.8, True)
    >>> [(f.name, f.score > 0.1) for f in result.top(2)]  # both columns carry the change
    [('a', True), ('b', True)]
    """
    _check_parameters(n_splits, max_iter, importance_rows, alpha, min_auc, confidence, threads)
    check_count("n_permutations", n_permutations, 0)
    if isinstance(reference, DomainReference):
        fitted = reference
    else:
        fitted = prepare(reference, names=names, max_rows=max_rows, seed=seed)
    cur = as_columns(current, "current", min_rows=1)
    check_same_width(fitted.rows, cur)
    size = min(len(fitted.rows), cur.shape[0], max_rows // 2)
    if size < n_splits:
        msg = (
            f"reference and current need at least n_splits={n_splits} rows each, "
            f"got {len(fitted.rows)} and {cur.shape[0]}"
        )
        raise InvalidInputError(msg)
    rows = np.vstack([fitted.rows[:size], cur[ordered(cur, seed, size)]])
    labels = np.repeat([False, True], size)
    with threadpool_limits(limits=threads, user_api="openmp"):
        scores, importance = _out_of_fold(rows, labels, n_splits, max_iter, importance_rows, seed)
        estimate = delong(scores, labels)
        p_value = estimate.p_value
        if n_permutations:
            relabel = np.random.default_rng([seed, 1])
            exceed = 0
            for _ in range(n_permutations):
                permuted = relabel.permutation(labels)
                null, _ = _out_of_fold(rows, permuted, n_splits, max_iter, 0, seed)
                exceed += bool(auc_by_row(null[np.newaxis, :], permuted)[0] >= estimate.auc)
            p_value = (1 + exceed) / (1 + n_permutations)
    order = np.argsort(-importance, kind="stable")  # empty without importance rows
    return MultivariateTest(
        method="domain_classifier",
        statistic=estimate.auc,
        p_value=p_value,
        alpha=alpha,
        effect=estimate.auc,
        min_effect=min_auc,
        drift=p_value <= alpha and estimate.auc >= min_auc,
        n_reference=size,
        n_current=size,
        ci=estimate.interval(confidence),
        confidence=confidence,
        features=tuple(FeatureScore(fitted.names[j], float(importance[j])) for j in order),
    )


def _check_parameters(
    n_splits: int,
    max_iter: int,
    importance_rows: int,
    alpha: float,
    min_auc: Any,
    confidence: float,
    threads: int | None,
) -> None:
    check_count("n_splits", n_splits, 2)
    check_count("max_iter", max_iter, 1)
    check_count("importance_rows", importance_rows, 0)
    if threads is not None:
        check_count("threads", threads, 1)
    check_level("alpha", alpha)
    check_level("confidence", confidence)
    if isinstance(min_auc, bool) or not isinstance(min_auc, int | float) or not 0 <= min_auc <= 1:
        msg = f"min_auc must be a number in [0, 1], got {min_auc!r}"
        raise InvalidInputError(msg)


def _model(max_iter: int, seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=max_iter, max_leaf_nodes=15, early_stopping=False, random_state=seed
    )


def _out_of_fold(
    rows: NDArray[np.float64],
    labels: NDArray[np.bool_],
    n_splits: int,
    max_iter: int,
    importance_rows: int,
    seed: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Out-of-fold scores of every row, and each feature's permutation importance."""
    scores = np.empty(len(rows))
    rng = np.random.default_rng(seed)
    per_class = importance_rows // (2 * n_splits)
    picked: list[NDArray[np.intp]] = []
    shuffled: list[NDArray[np.float64]] = []
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    for train, held in folds.split(rows, labels):
        model = _model(max_iter, seed).fit(rows[train], labels[train])
        scores[held] = model.predict_proba(rows[held])[:, 1]
        if per_class:
            chosen = np.concatenate(
                [rng.permutation(held[labels[held] == side])[:per_class] for side in (False, True)]
            )
            picked.append(chosen)
            shuffled.append(_shuffled_scores(model, rows[chosen], rng))
    if not picked:
        return scores, np.empty(0)
    chosen = np.concatenate(picked)
    aucs = auc_by_row(np.vstack([scores[chosen], np.hstack(shuffled)]), labels[chosen])
    return scores, aucs[0] - aucs[1:]


def _shuffled_scores(
    model: HistGradientBoostingClassifier, block: NDArray[np.float64], rng: np.random.Generator
) -> NDArray[np.float64]:
    """``(d, r)``: row j holds the scores of ``block`` with feature j shuffled."""
    r, d = block.shape
    out = np.empty((d, r))
    step = max(1, _BLOCK_VALUES // (r * d))
    for start in range(0, d, step):
        features = range(start, min(d, start + step))
        copies = np.tile(block, (len(features), 1))
        for i, j in enumerate(features):
            copies[i * r : (i + 1) * r, j] = rng.permutation(block[:, j])
        out[features.start : features.stop] = model.predict_proba(copies)[:, 1].reshape(-1, r)
    return out
