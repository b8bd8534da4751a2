"""Column-wise two-sample tests on continuous data: KS, Cramér–von Mises, Anderson–Darling,
Wasserstein.

Each module exposes ``test(reference, current) -> ColumnTest`` and ``prepare(reference)``,
which sorts the reference once into a :class:`SortedReference` every test accepts::

    from detectors.univariate import ks, prepare

    fitted = prepare(reference)
    result = ks.test(fitted, current)
"""

from __future__ import annotations

from detectors.univariate import anderson, cvm, ks, wasserstein
from detectors.univariate._sorted import SortedReference, prepare

__all__ = ["SortedReference", "anderson", "cvm", "ks", "prepare", "wasserstein"]
