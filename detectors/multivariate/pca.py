"""PCA reconstruction error: do current rows still lie where the reference's variation was?

Fitted on the reference: missing values (NaN) filled with the column means, each column
standardised (constant columns left unscaled), and the principal components that explain
``variance`` of the standardised reference kept (at most d − 1, so a residual always
remains). A row's error is the Euclidean distance between its standardised values and their
projection on those components. Rows that break the reference's correlations land off the
fitted subspace and have large errors, though every column's marginal may be unchanged.

The reference is split in two halves by the seeded, order-free sampling of
:mod:`detectors.multivariate._rows`: the model is fitted on one and the other gives the
reference's errors out of sample (in-sample errors are biased low). Current's mean error is
compared with the held-out half's by Welch's one-sided t-test (``scipy.stats.ttest_ind``,
``equal_var=False, alternative="greater"``); the effect is the ratio of the two means. Drift
when p ≤ ``alpha`` and the ratio reaches ``min_ratio``. Missing-value changes are not seen
here (filled with means); the domain classifier sees them.

Cost: one SVD of at most ``max_rows / 2`` × d values (O(n d²)), then O(m d k) for current.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from detectors._validation import as_columns, check_same_width
from detectors.errors import InvalidInputError
from detectors.multivariate._params import check_count, check_level, check_names
from detectors.multivariate._rows import ordered
from detectors.results import FeatureScore, MultivariateTest

__all__ = ["PcaReference", "prepare", "test"]


@dataclass(frozen=True, slots=True)
class PcaReference:
    """Fill values, scaling and components fitted on one half of the reference, and the
    other half's errors and per-feature mean squared residuals."""

    names: tuple[str, ...]
    mean: NDArray[np.float64]
    scale: NDArray[np.float64]
    #: ``(k, d)`` orthonormal rows.
    components: NDArray[np.float64]
    errors: NDArray[np.float64]
    residual_squares: NDArray[np.float64]


def prepare(
    reference: ArrayLike,
    *,
    names: Sequence[str] | None = None,
    variance: float = 0.95,
    max_rows: int = 100_000,
    seed: int = 0,
) -> PcaReference:
    """Fit the reconstruction on a seeded half of ``reference`` ``(n, d)``, d ≥ 2, n ≥ 8.

    ``variance``: share of the standardised reference's variance the kept components
    explain. ``max_rows``: reference rows used at most (half to fit, half held out).
    """
    check_level("variance", variance)
    check_count("max_rows", max_rows, 8)
    rows = as_columns(reference, "reference", min_rows=8)
    if rows.shape[1] < 2:
        msg = f"reference: PCA needs at least 2 columns, got {rows.shape[1]}"
        raise InvalidInputError(msg)
    order = ordered(rows, seed, max_rows)
    half = len(order) // 2
    fit, held = rows[order[:half]], rows[order[half:]]
    count = (~np.isnan(fit)).sum(axis=0)
    mean = np.where(count > 0, np.nansum(fit, axis=0) / np.maximum(count, 1), 0.0)
    filled = np.where(np.isnan(fit), mean, fit)
    scale = filled.std(axis=0)
    scale[scale == 0] = 1.0
    standard = (filled - mean) / scale
    _, singular, vt = np.linalg.svd(standard, full_matrices=False)
    explained = np.cumsum(singular**2) / max(float(np.sum(singular**2)), np.finfo(float).tiny)
    k = int(np.searchsorted(explained, variance - 1e-12)) + 1
    components = vt[: min(k, rows.shape[1] - 1)]
    residual = _residual(held, mean, scale, components)
    return PcaReference(
        names=check_names(names, rows.shape[1]),
        mean=mean,
        scale=scale,
        components=components,
        errors=np.sqrt((residual**2).sum(axis=1)),
        residual_squares=(residual**2).mean(axis=0),
    )


def test(
    reference: ArrayLike | PcaReference,
    current: ArrayLike,
    *,
    names: Sequence[str] | None = None,
    variance: float = 0.95,
    alpha: float = 0.05,
    min_ratio: float = 1.1,
    seed: int = 0,
) -> MultivariateTest:
    """PCA reconstruction-error drift test of ``current`` ``(m, d)`` against ``reference``.

    Parameters
    ----------
    reference
        ``(n, d)`` rows (NaN allowed), or their :func:`prepare` result.
    current
        ``(m, d)`` rows, same columns, at least 2.
    names, variance, seed
        As in :func:`prepare` (used when ``reference`` is not prepared).
    alpha, min_ratio
        Drift when Welch's p is at most ``alpha`` and current's mean error is at least
        ``min_ratio`` times the held-out reference's.

    Returns
    -------
    MultivariateTest
        ``method="pca_reconstruction"``; ``statistic`` current's mean error, ``effect`` the
        ratio to the reference's; ``features`` each feature's rise in mean squared
        residual (``reference`` and ``current`` hold the two means).

    Raises
    ------
    InvalidInputError
        Bad parameters, non-numeric or infinite input, fewer than 2 columns or widths that
        differ, too few rows.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=2000)
    >>> reference = np.column_stack([a, 0.9 * a + 0.44 * rng.normal(size=2000)])
    >>> current = rng.normal(size=(1000, 2))  # same marginals, correlation gone
    >>> result = test(reference, current)
    >>> result.drift, round(result.effect, 1)
    (True, 3.2)
    """
    check_level("alpha", alpha)
    if isinstance(min_ratio, bool) or not isinstance(min_ratio, int | float) or min_ratio < 0:
        msg = f"min_ratio must be a non-negative number, got {min_ratio!r}"
        raise InvalidInputError(msg)
    if isinstance(reference, PcaReference):
        fitted = reference
    else:
        fitted = prepare(reference, names=names, variance=variance, seed=seed)
    cur = as_columns(current, "current", min_rows=2)
    check_same_width(fitted.mean[np.newaxis, :], cur)
    residual = _residual(cur, fitted.mean, fitted.scale, fitted.components)
    errors = np.sqrt((residual**2).sum(axis=1))
    mean_error, baseline = float(errors.mean()), float(fitted.errors.mean())
    p_value = float(
        stats.ttest_ind(errors, fitted.errors, equal_var=False, alternative="greater").pvalue
    )
    if np.isnan(p_value):  # no spread on either side: the means decide
        p_value = 1.0 if mean_error <= baseline else 0.0
    ratio = mean_error / baseline if baseline > 0 else (np.inf if mean_error > 0 else 1.0)
    current_squares = (residual**2).mean(axis=0)
    rise = current_squares - fitted.residual_squares
    return MultivariateTest(
        method="pca_reconstruction",
        statistic=mean_error,
        p_value=p_value,
        alpha=alpha,
        effect=ratio,
        min_effect=float(min_ratio),
        drift=p_value <= alpha and ratio >= min_ratio,
        n_reference=len(fitted.errors),
        n_current=len(errors),
        features=tuple(
            FeatureScore(
                fitted.names[j],
                float(rise[j]),
                float(fitted.residual_squares[j]),
                float(current_squares[j]),
            )
            for j in np.argsort(-rise, kind="stable")
        ),
    )


def _residual(
    rows: NDArray[np.float64],
    mean: NDArray[np.float64],
    scale: NDArray[np.float64],
    components: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Standardised rows minus their projection on ``components`` (NaN filled first)."""
    standard = (np.where(np.isnan(rows), mean, rows) - mean) / scale
    return standard - (standard @ components.T) @ components
