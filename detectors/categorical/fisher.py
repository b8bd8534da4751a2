"""Fisher's exact test (two-sided) of a binary categorical column.

The 2 × 2 table has the reference on row 0, the current sample on row 1, and the categories in
the union order of :func:`~detectors.categorical.contingency`; a one-category column is padded
with a zero column. Statistic and p are ``scipy.stats.fisher_exact(table,
alternative="two-sided")``: the odds ratio (t₀₀·t₁₁)/(t₁₀·t₀₁), inf when t₁₀ or t₀₁ is 0, and
NaN with p = 1 when the column has one category. An empty sample gives NaN statistic, p and
effect. The p-value is exact, so it is the test of choice for small binary samples.
"""

from __future__ import annotations

import numpy as np
import scipy.stats
from numpy.typing import ArrayLike

from detectors.categorical._counts import CategoryReference, as_reference, binary_tables, prepare
from detectors.results import ColumnTest

__all__ = ["CategoryReference", "prepare", "test"]


def test(reference: ArrayLike | CategoryReference, current: ArrayLike) -> ColumnTest:
    """Two-sided Fisher exact test, column by column.

    Parameters
    ----------
    reference
        ``(n, k)`` float64 category codes (NaN = missing), or :func:`prepare` of them.
    current
        ``(m, k)`` codes, columns matching ``reference`` one to one; every column may have at
        most two categories over both samples.

    Returns
    -------
    ColumnTest
        Method ``"fisher"``: the odds ratio, the two-sided exact p-value, and |p₁ − p₂| (the
        difference of the first category's shares) as effect.

    Raises
    ------
    InvalidInputError
        If a column has more than two categories (the message names it), for malformed codes
        or mismatched widths.

    References
    ----------
    Fisher, R. A. (1935). The logic of inductive inference. J. R. Stat. Soc. 98(1), 39-82.

    Examples
    --------
    >>> import numpy as np
    >>> reference = np.repeat([0.0, 1.0], [700, 300])
    >>> current = np.repeat([0.0, 1.0], [520, 280])
    >>> result = test(reference, current)
    >>> print(f"{result.statistic[0]:.6f} {result.p_value[0]:.6f}")
    1.256410 0.025567
    """
    tables = binary_tables(as_reference(reference), current, method="fisher")
    sizes = tables.sum(axis=2)
    testable = (sizes > 0).all(axis=1)
    statistic = np.full(len(tables), np.nan)
    p_value = np.full(len(tables), np.nan)
    # One scipy call per column: the two-sided p needs scipy's search over the
    # hypergeometric support, and a 2 x 2 table costs microseconds.
    for column in np.flatnonzero(testable):
        result = scipy.stats.fisher_exact(tables[column], alternative="two-sided")
        statistic[column] = result.statistic
        p_value[column] = result.pvalue
    first = tables[:, :, 0].astype(np.float64)
    shares = np.divide(first, sizes, out=np.full_like(first, np.nan), where=sizes > 0)
    return ColumnTest(
        method="fisher",
        statistic=statistic,
        p_value=p_value,
        effect=np.abs(shares[:, 0] - shares[:, 1]),
        n_reference=sizes[:, 0],
        n_current=sizes[:, 1],
    )
