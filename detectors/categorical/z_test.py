"""The two-proportion Z test of a binary categorical column.

z = (p₁ − p₂) / √(p̄(1 − p̄)(1/n + 1/m)), p = 2·Φ(−|z|), where p₁ and p₂ are the shares of
the **first category** in the reference and in the current sample, and p̄ is the pooled share.
The first category is the first of the union order of :func:`~detectors.categorical.
contingency`: the smallest reference code (or, with an empty reference, the smallest current
code). So z > 0 means that category's share fell; the sign flips if the codes are relabelled
in reverse order, |z|, p and the effect do not. z² equals the uncorrected χ² of the 2 × 2 table.

Conventions: if both samples hold one and the same category (p̄ ∈ {0, 1}), z = 0 and p = 1;
if either sample is empty, NaN.
"""

from __future__ import annotations

import numpy as np
import scipy.stats
from numpy.typing import ArrayLike

from detectors.categorical._counts import CategoryReference, as_reference, binary_tables, prepare
from detectors.results import ColumnTest

__all__ = ["CategoryReference", "prepare", "test"]


def test(reference: ArrayLike | CategoryReference, current: ArrayLike) -> ColumnTest:
    """Z test of the share of the first category, column by column.

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
        Method ``"z_test"``: z (reference share minus current share), the two-sided normal
        p-value, and |p₁ − p₂| as effect.

    Raises
    ------
    InvalidInputError
        If a column has more than two categories (the message names it), for malformed codes
        or mismatched widths.

    Examples
    --------
    >>> import numpy as np
    >>> reference = np.repeat([0.0, 1.0], [700, 300])
    >>> current = np.repeat([0.0, 1.0], [520, 280])
    >>> result = test(reference, current)
    >>> print(f"{result.statistic[0]:.6f} {result.p_value[0]:.6f} {result.effect[0]:.2f}")
    2.255575 0.024097 0.05
    """
    tables = binary_tables(as_reference(reference), current, method="z_test")
    first = tables[:, :, 0].astype(np.float64)
    sizes = tables.sum(axis=2).astype(np.float64)
    testable = (sizes > 0).all(axis=1)
    shares = np.divide(first, sizes, out=np.full_like(first, np.nan), where=sizes > 0)
    pooled = np.divide(first.sum(axis=1), sizes.sum(axis=1), out=np.zeros(len(first)),
                       where=testable)  # fmt: skip
    inverse = np.divide(1.0, sizes, out=np.zeros_like(sizes), where=sizes > 0).sum(axis=1)
    variance = pooled * (1.0 - pooled) * inverse
    difference = shares[:, 0] - shares[:, 1]
    untested = np.where(testable, 0.0, np.nan)
    z = np.divide(difference, np.sqrt(variance), out=untested.copy(), where=variance > 0)
    return ColumnTest(
        method="z_test",
        statistic=z,
        p_value=np.where(testable, 2.0 * scipy.stats.norm.sf(np.abs(z)), np.nan),
        effect=np.abs(difference),
        n_reference=tables[:, 0].sum(axis=1),
        n_current=tables[:, 1].sum(axis=1),
    )


# The file name matches pytest's default ``*_test.py`` pattern and pytest collects from
# ``detectors/`` (doctests): keep it from taking this function for a unit test.
