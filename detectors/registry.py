"""Every column-wise drift test by name: what input it takes and how to run it.

An explicit table, no plugin scanning. Three kinds of input:

``continuous``
    Numeric columns against a :class:`~detectors.univariate.SortedReference`.
``binned``
    Numeric columns with many values, in reference-fitted bins (the distances).
``categorical``
    Dictionary codes against a :class:`~detectors.categorical.CategoryReference`; numeric
    columns with few distinct values are coded by value first. The distances on
    categories use the shares of each category over the union of both samples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from detectors.categorical import CategoryReference, chi2, contingency, fisher, g_test, z_test
from detectors.distances import hellinger, js, kl, psi
from detectors.distances._shares import EmptyBins, SharePair, column_test, shares
from detectors.results import ColumnTest
from detectors.univariate import anderson, cvm, ks, wasserstein

__all__ = ["REGISTRY", "TestSpec"]

Input = Literal["continuous", "binned", "categorical"]


@dataclass(frozen=True, slots=True)
class TestSpec:
    """One test: its input, whether it has a p-value, and its runners by input."""

    name: str
    has_p_value: bool
    #: Runner for numeric columns with many values (None: not applicable to them).
    numeric: tuple[Input, Callable[..., ColumnTest]] | None
    #: Runner for categorical columns and numeric columns coded by value.
    categorical: Callable[[CategoryReference, NDArray[np.float64]], ColumnTest] | None
    summary: str


def _category_distance(
    method: str,
    distance: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]],
    empty_bins: EmptyBins,
) -> Callable[[CategoryReference, NDArray[np.float64]], ColumnTest]:
    """A binned distance over the categories of both samples instead of numeric bins."""

    def run(reference: CategoryReference, current: NDArray[np.float64]) -> ColumnTest:
        tables = contingency(reference, current)
        pair = SharePair(
            p=shares(tuple(t[0] for t in tables), empty_bins),
            q=shares(tuple(t[1] for t in tables), empty_bins),
            n_reference=np.array([t[0].sum() for t in tables], dtype=np.int64),
            n_current=np.array([t[1].sum() for t in tables], dtype=np.int64),
        )
        return column_test(method, pair, distance)

    return run


def _gof(reference: CategoryReference, current: NDArray[np.float64]) -> ColumnTest:
    return chi2.test(reference, current, kind="goodness_of_fit")


REGISTRY: Mapping[str, TestSpec] = {
    spec.name: spec
    for spec in (
        TestSpec("ks", True, ("continuous", ks.test), None,
                 "two-sample Kolmogorov-Smirnov; exact p up to 10,000 values"),
        TestSpec("cvm", True, ("continuous", cvm.test), None, "Cramer-von Mises, two-sample"),
        TestSpec("anderson", True, ("continuous", anderson.test), None,
                 "Anderson-Darling k-sample; p clipped to [0.001, 0.25] like scipy"),
        TestSpec("wasserstein_normed", False, ("continuous", wasserstein.test), None,
                 "Wasserstein-1 divided by the reference's standard deviation"),
        TestSpec("wasserstein", False, ("continuous", wasserstein.test_raw), None,
                 "Wasserstein-1 in data units"),
        TestSpec("psi", False, ("binned", psi.test),
                 _category_distance("psi", psi.from_shares, "evidently"),
                 "Population Stability Index"),
        TestSpec("jensen_shannon", False, ("binned", js.test),
                 _category_distance("jensen_shannon", js.from_shares, "none"),
                 "Jensen-Shannon distance, natural log"),
        TestSpec("hellinger", False, ("binned", hellinger.test),
                 _category_distance("hellinger", hellinger.from_shares, "none"),
                 "Hellinger distance"),
        TestSpec("kl", False, ("binned", kl.test),
                 _category_distance("kl", kl.from_shares, "evidently"),
                 "Kullback-Leibler divergence KL(reference || current)"),
        TestSpec("chi2", True, None, chi2.test, "chi-square test of homogeneity (2 x k)"),
        TestSpec("chi2_gof", True, None, _gof, "chi-square goodness of fit (Evidently's)"),
        TestSpec("g_test", True, None, g_test.test, "G-test (log-likelihood ratio)"),
        TestSpec("z_test", True, None, z_test.test, "Z-test for two proportions (binary)"),
        TestSpec("fisher", True, None, fisher.test, "Fisher's exact test, 2 x 2, two-sided"),
    )
}  # fmt: skip
