"""Tests for categorical columns given as float64 category codes (NaN = missing).

One module per test, each with ``prepare`` and ``test``: :mod:`~detectors.categorical.chi2`
(homogeneity, or Evidently's goodness of fit), :mod:`~detectors.categorical.g_test`, and for
binary columns :mod:`~detectors.categorical.z_test` and :mod:`~detectors.categorical.fisher`.
"""

from __future__ import annotations

from detectors.categorical import chi2, fisher, g_test, z_test
from detectors.categorical._counts import CategoryReference, contingency, prepare, unseen

__all__ = [
    "CategoryReference",
    "chi2",
    "contingency",
    "fisher",
    "g_test",
    "prepare",
    "unseen",
    "z_test",
]
