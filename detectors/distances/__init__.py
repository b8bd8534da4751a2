"""Binned distances between a reference and a current window, column by column.

One module per metric, each with ``prepare(reference) -> BinnedReference``,
``test(reference | prepared, current) -> ColumnTest`` and ``from_shares(p, q)`` on
``(columns, bins)`` share matrices: :mod:`~detectors.distances.psi`,
:mod:`~detectors.distances.js` (Jensen–Shannon distance), :mod:`~detectors.distances.hellinger`
and :mod:`~detectors.distances.kl`. Binning conventions live in :mod:`detectors.binning`,
share matrices and empty-bin rules in :mod:`detectors.distances._shares`.
"""

from __future__ import annotations

from detectors.distances import hellinger, js, kl, psi
from detectors.distances._shares import EMPTY_BINS, EPSILON, EmptyBins

__all__ = ["EMPTY_BINS", "EPSILON", "EmptyBins", "hellinger", "js", "kl", "psi"]
