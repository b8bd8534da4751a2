"""From column statistics to verdicts: multiple-testing correction, effect-size gate, share.

A column drifts when its test says so **and** the change is large enough to matter:

* tests with p-values: the p-value, corrected across the columns of one check, is at most
  ``alpha``; with a ``min_effect``, the effect size must also reach it. On a million rows
  every p-value is tiny, so the effect gate is what keeps trivial shifts quiet.
* distances (no p-value): the distance reaches ``min_effect``, which is then required.

Corrections: ``"none"``; ``"bonferroni"`` (p·k, capped at 1; controls the family-wise error);
``"bh"`` Benjamini–Hochberg and ``"by"`` Benjamini–Yekutieli (false discovery rate; BY holds
under any dependence between columns). Adjusted p-values equal
``scipy.stats.false_discovery_control``. Columns whose result is NaN (no values left after
dropping missing ones) are neither counted in ``k`` nor drifted.

The dataset drifts when the share of drifted columns, optionally weighted by importance,
reaches ``drift_share`` (Evidently's default rule is a share of 0.5, unweighted, without
correction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors.errors import InvalidInputError
from detectors.results import ColumnTest

__all__ = ["Correction", "Verdict", "adjust", "decide"]

Correction = Literal["none", "bonferroni", "bh", "by"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision on every column of one check, and on the dataset.

    Attributes
    ----------
    drifted
        Per column: the column drifted.
    adjusted_p
        Per column p-values after correction (None for distances); NaN where no result.
    significant
        Per column: the corrected p-value is at most alpha (all True for distances).
    large_effect
        Per column: the effect reaches ``min_effect`` (all True when no gate was set).
    drift_share
        Weighted share of drifted columns among the columns with a result.
    dataset_drift
        ``drift_share`` reached the dataset threshold.
    """

    drifted: NDArray[np.bool_]
    adjusted_p: NDArray[np.float64] | None
    significant: NDArray[np.bool_]
    large_effect: NDArray[np.bool_]
    drift_share: float
    dataset_drift: bool


def adjust(p_values: ArrayLike, method: Correction = "bh") -> NDArray[np.float64]:
    """Adjusted p-values for ``method``; NaN entries stay NaN and do not count.

    Examples
    --------
    >>> adjust([0.01, 0.04, 0.03], "bonferroni").round(6).tolist()
    [0.03, 0.12, 0.09]
    >>> adjust([0.01, 0.04, 0.03], "bh").round(6).tolist()
    [0.03, 0.04, 0.04]
    """
    _check_option("correction", method, get_args(Correction))
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        msg = f"p_values: expected a 1-D array, got shape {p.shape}"
        raise InvalidInputError(msg)
    valid = ~np.isnan(p)
    if ((p[valid] < 0) | (p[valid] > 1)).any():
        raise InvalidInputError("p_values: expected values in [0, 1] or NaN")
    out = np.full_like(p, np.nan)
    ps = p[valid]
    k = len(ps)
    if k == 0:
        return out
    if method == "none":
        out[valid] = ps
    elif method == "bonferroni":
        out[valid] = np.minimum(ps * k, 1.0)
    else:
        order = np.argsort(ps)
        ranks = np.arange(1, k + 1)
        scale = k / ranks
        if method == "by":
            scale = scale * np.sum(1.0 / ranks)
        stepped = np.minimum.accumulate((ps[order] * scale)[::-1])[::-1]
        adjusted = np.empty(k)
        adjusted[order] = np.minimum(stepped, 1.0)
        out[valid] = adjusted
    return out


def decide(
    test: ColumnTest,
    *,
    alpha: float = 0.05,
    correction: Correction = "bh",
    min_effect: float | ArrayLike | None = None,
    weights: ArrayLike | None = None,
    drift_share: float = 0.5,
) -> Verdict:
    """Decide which columns of ``test`` drifted, and whether the dataset did.

    Parameters
    ----------
    test
        The result of one column-wise test.
    alpha
        Level of the corrected p-values (family-wise for Bonferroni, FDR for BH / BY).
    correction
        How p-values are corrected across the columns.
    min_effect
        Effect size a column must reach (a number, or one per column). Required for
        distances, which have no p-value.
    weights
        Importance of each column in the dataset share (non-negative; default equal).
    drift_share
        Share of drifted columns at which the dataset drifts.

    Examples
    --------
    >>> from detectors.results import ColumnTest
    >>> t = ColumnTest("ks", np.array([0.3, 0.01]), np.array([1e-8, 0.4]),
    ...                np.array([0.3, 0.01]), np.array([500, 500]), np.array([500, 500]))
    >>> v = decide(t, min_effect=0.1)
    >>> v.drifted.tolist(), v.drift_share, v.dataset_drift
    ([True, False], 0.5, True)
    """
    if not 0 < alpha < 1:
        msg = f"alpha must be in (0, 1), got {alpha}"
        raise InvalidInputError(msg)
    if not 0 < drift_share <= 1:
        msg = f"drift_share must be in (0, 1], got {drift_share}"
        raise InvalidInputError(msg)
    effect = np.asarray(test.effect, dtype=np.float64)
    has_result = ~np.isnan(effect)
    if min_effect is None:
        if test.p_value is None:
            msg = f"{test.method} is a distance without a p-value: give min_effect (a threshold)"
            raise InvalidInputError(msg)
        large = np.ones(len(effect), dtype=bool)
    else:
        threshold = np.broadcast_to(np.asarray(min_effect, dtype=np.float64), effect.shape)
        large = has_result & (effect >= threshold)
    adjusted = None
    significant = np.ones(len(effect), dtype=bool)
    if test.p_value is not None:
        adjusted = adjust(test.p_value, correction)
        has_result &= ~np.isnan(adjusted)
        significant = has_result & (adjusted <= alpha)
    drifted = has_result & significant & large
    share = _share(drifted, has_result, weights)
    return Verdict(
        drifted=drifted,
        adjusted_p=adjusted,
        significant=significant,
        large_effect=large,
        drift_share=share,
        dataset_drift=share >= drift_share,
    )


def _share(
    drifted: NDArray[np.bool_], has_result: NDArray[np.bool_], weights: ArrayLike | None
) -> float:
    w = np.ones(len(drifted)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != drifted.shape or (w < 0).any() or np.isnan(w).any():
        msg = f"weights: expected {len(drifted)} non-negative numbers, got shape {w.shape}"
        raise InvalidInputError(msg)
    total = float(w[has_result].sum())
    return float(w[drifted].sum() / total) if total > 0 else 0.0


def _check_option(name: str, value: Any, options: tuple[Any, ...]) -> None:
    if value not in options:
        msg = f"{name} must be one of {', '.join(map(repr, options))}, got {value!r}"
        raise InvalidInputError(msg)
