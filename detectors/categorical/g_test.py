"""The G-test (log-likelihood ratio) of homogeneity of a categorical column.

G = 2 Σ O ln(O / E) over the 2 × c table, E from the pooled margins, dof c − 1, no continuity
correction: ``scipy.stats.chi2_contingency(table, lambda_="log-likelihood",
correction=False)``. Conventions as :mod:`detectors.categorical.chi2`: fewer than two
categories → statistic 0, p 1; an empty sample → NaN.
"""

from __future__ import annotations

import numpy as np
import scipy.special
import scipy.stats
from numpy.typing import ArrayLike

from detectors.categorical._counts import (
    CategoryReference,
    as_reference,
    contingency,
    expected_counts,
    padded,
    prepare,
)
from detectors.results import ColumnTest

__all__ = ["CategoryReference", "prepare", "test"]


def test(reference: ArrayLike | CategoryReference, current: ArrayLike) -> ColumnTest:
    """G-test of every column of ``current`` against the same column of ``reference``.

    Parameters
    ----------
    reference
        ``(n, k)`` float64 category codes (NaN = missing), or :func:`prepare` of them.
    current
        ``(m, k)`` codes, columns matching ``reference`` one to one.

    Returns
    -------
    ColumnTest
        Method ``"g_test"``: G, p = χ²(c − 1) survival of G, and Cramér's V computed from G,
        √(G / (n + m)) (0 with fewer than two categories).

    Raises
    ------
    InvalidInputError
        For malformed codes or mismatched widths.

    References
    ----------
    Sokal, R. R. and Rohlf, F. J. (1981). Biometry, 2nd ed., §17.

    Examples
    --------
    >>> import numpy as np
    >>> reference = np.repeat([0.0, 1.0, 2.0, 3.0], [400, 300, 200, 100])
    >>> current = np.repeat([0.0, 1.0, 2.0, 3.0], [330, 260, 150, 60])
    >>> print(f"{test(reference, current).p_value[0]:.6f}")
    0.204551
    """
    tables = padded(contingency(as_reference(reference), current))
    expected, dof, testable = expected_counts(tables)
    observed = tables.astype(np.float64)
    ratio = np.divide(observed, expected, out=np.ones_like(observed), where=expected > 0)
    g = 2.0 * scipy.special.xlogy(observed, ratio).sum(axis=(1, 2))
    tested = testable & (dof > 0)
    untested = np.where(testable, 0.0, np.nan)
    statistic = np.where(tested, g, untested)
    survival = scipy.stats.chi2.sf(np.where(tested, statistic, 0.0), np.maximum(dof, 1))
    total = observed.sum(axis=(1, 2))
    return ColumnTest(
        method="g_test",
        statistic=statistic,
        p_value=np.where(tested, survival, untested + 1.0),
        effect=np.sqrt(np.divide(statistic, total, out=untested.copy(), where=tested)),
        n_reference=tables[:, 0].sum(axis=1),
        n_current=tables[:, 1].sum(axis=1),
    )


# The file name matches pytest's default ``*_test.py`` pattern and pytest collects from
# ``detectors/`` (doctests): keep it from taking this function for a unit test.
