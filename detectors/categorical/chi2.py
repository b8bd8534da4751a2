"""Pearson's χ² tests of a categorical column: homogeneity (default) or goodness of fit.

Homogeneity compares the two samples in their 2 × c table, with expectations from the pooled
margins, as ``scipy.stats.chi2_contingency``: it is calibrated (statistics.md §6). Goodness of
fit is Evidently's ``chisquare(current counts, reference shares × m)``, kept for parity only:
it treats the reference shares as exact, so under no drift its statistic is about
(1 + m/n)·χ²(c − 1) and it raises false alarms far above its nominal rate (0.46 at alpha = 0.05
with 10 categories and n = m). A category the reference never saw gets expectation 0 there,
hence χ² = inf and p = 0.

Conventions, per column: a column with fewer than two categories over both samples gives
statistic 0 and p 1 (there is nothing to compare; scipy's ``chi2_contingency`` does the same).
A column where either sample has no non-missing value gives NaN statistic, p and effect.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.stats
from numpy.typing import ArrayLike, NDArray

from detectors.categorical._counts import (
    CategoryReference,
    as_reference,
    contingency,
    expected_counts,
    padded,
    prepare,
)
from detectors.errors import InvalidInputError
from detectors.results import ColumnTest

__all__ = ["CategoryReference", "prepare", "test"]

KINDS = ("homogeneity", "goodness_of_fit")


# ``test`` is the detector API (STYLE §2.2), not a pytest test: hence the PT028 waivers.
def test(
    reference: ArrayLike | CategoryReference,
    current: ArrayLike,
    *,
    kind: Literal["homogeneity", "goodness_of_fit"] = "homogeneity",
    correction: bool = False,
) -> ColumnTest:
    """χ² test of every column of ``current`` against the same column of ``reference``.

    Parameters
    ----------
    reference
        ``(n, k)`` float64 category codes (NaN = missing), or :func:`prepare` of them.
    current
        ``(m, k)`` codes, columns matching ``reference`` one to one.
    kind
        ``"homogeneity"``: the 2 × c contingency test (method ``"chi2"``).
        ``"goodness_of_fit"``: Evidently's test against the reference shares, mis-calibrated
        (method ``"chi2_gof"``).
    correction
        Yates' continuity correction where a table has one degree of freedom, as
        ``chi2_contingency(correction=True)``; homogeneity only. Off by default, unlike scipy.

    Returns
    -------
    ColumnTest
        χ² statistic, p = χ²(c − 1) survival, and Cramér's V as effect:
        √(χ² / (n + m)) for homogeneity (a 2 × c table has min(2, c) − 1 = 1),
        √(χ² / (m·(c − 1))) for goodness of fit; 0 with fewer than two categories.

    Raises
    ------
    InvalidInputError
        For malformed codes, mismatched widths, an unknown ``kind``, or ``correction`` with
        goodness of fit.

    References
    ----------
    Pearson, K. (1900). On the criterion that a given system of deviations ... Phil. Mag. 50.
    Cramér, H. (1946). Mathematical Methods of Statistics, §21.9.

    Examples
    --------
    >>> import numpy as np
    >>> reference = np.repeat([0.0, 1.0, 2.0, 3.0], [400, 300, 200, 100])
    >>> current = np.repeat([0.0, 1.0, 2.0, 3.0], [330, 260, 150, 60])
    >>> result = test(reference, current)
    >>> print(f"{result.statistic[0]:.6f} {result.p_value[0]:.6f}")
    4.546233 0.208203
    >>> result = test(reference, current, kind="goodness_of_fit")
    >>> print(result.method, f"{result.statistic[0]:.6f} {result.p_value[0]:.6f}")
    chi2_gof 7.604167 0.054942
    """
    _check_options(kind, correction)
    prepared = as_reference(reference)
    tables = padded(contingency(prepared, current))
    if kind == "homogeneity":
        statistic, dof, testable, scale = _homogeneity(tables, correction=correction)
    else:
        statistic, dof, testable, scale = _goodness_of_fit(tables)
    tested = testable & (dof > 0)
    untested = np.where(testable, 0.0, np.nan)
    statistic = np.where(tested, statistic, untested)
    survival = scipy.stats.chi2.sf(np.where(tested, statistic, 0.0), np.maximum(dof, 1))
    p_value = np.where(tested, survival, untested + 1.0)
    effect = np.sqrt(np.divide(statistic, scale, out=untested.copy(), where=tested))
    return ColumnTest(
        method="chi2" if kind == "homogeneity" else "chi2_gof",
        statistic=statistic,
        p_value=np.asarray(p_value, dtype=np.float64),
        effect=effect,
        n_reference=tables[:, 0].sum(axis=1),
        n_current=tables[:, 1].sum(axis=1),
    )


def _check_options(kind: str, correction: bool) -> None:
    if kind not in KINDS:
        msg = f"kind: expected one of {', '.join(map(repr, KINDS))}, got {kind!r}"
        raise InvalidInputError(msg)
    if type(correction) not in (bool, np.bool_):
        msg = f"correction: expected a bool, got {type(correction).__name__}"
        raise InvalidInputError(msg)
    if correction and kind == "goodness_of_fit":
        msg = "correction: Yates' correction applies to kind='homogeneity' only"
        raise InvalidInputError(msg)


def _homogeneity(
    tables: NDArray[np.int64], *, correction: bool
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.bool_], NDArray[np.float64]]:
    """Σ (O − E)²/E per column, Yates-corrected where asked and dof = 1 (scipy's rule)."""
    expected, dof, testable = expected_counts(tables)
    observed = tables.astype(np.float64)
    if correction:
        difference = expected - observed
        shift = np.sign(difference) * np.minimum(0.5, np.abs(difference))
        observed += np.where((dof == 1)[:, np.newaxis, np.newaxis], shift, 0.0)
    squares = (observed - expected) ** 2
    terms = np.divide(squares, expected, out=np.zeros_like(squares), where=expected > 0)
    return terms.sum(axis=(1, 2)), dof, testable, tables.sum(axis=(1, 2)).astype(np.float64)


def _goodness_of_fit(
    tables: NDArray[np.int64],
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.bool_], NDArray[np.float64]]:
    """Σ (O − E)²/E with O the current counts, E = reference shares × m; inf if E = 0 < O."""
    reference = tables[:, 0].astype(np.float64)
    observed = tables[:, 1].astype(np.float64)
    n = reference.sum(axis=1)
    m = observed.sum(axis=1)
    testable = (n > 0) & (m > 0)
    ratio = np.divide(m, n, out=np.zeros_like(m), where=testable)
    expected = reference * ratio[:, np.newaxis]
    squares = (observed - expected) ** 2
    impossible = np.where(observed > 0, np.inf, 0.0)
    terms = np.divide(squares, expected, out=impossible, where=expected > 0)
    dof = np.maximum(np.count_nonzero(tables.any(axis=1), axis=1) - 1, 0).astype(np.int64)
    return terms.sum(axis=1), dof, testable, m * np.maximum(dof, 1)
