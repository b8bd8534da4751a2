"""Confidence intervals of a proportion (Wilson) and of a difference of two (Newcombe).

**Wilson score interval** of k successes in n trials at two-sided confidence level c,
with z = Φ⁻¹((1 + c)/2) and p̂ = k/n::

    centre = (k + z²/2) / (n + z²)
    half   = z / (n + z²) · √(k(n − k)/n + z²/4)

It is the set of p a two-sided score test does not reject. Unlike the Wald interval it stays
inside [0, 1], has near-nominal coverage at small n and extreme rates (Brown, Cai & DasGupta
2001) and is not degenerate at k = 0: with 0 failures in 300 requests it still says the rate
may be up to 1.3 %. At k = 0 the lower end is exactly 0 and at k = n the upper end exactly 1,
as in :meth:`scipy.stats.binomtest`'s ``proportion_ci(method="wilson")``, which it matches to
1e-12. With n = 0 it is [0, 1].

**Newcombe's hybrid score interval** (his method 10) of p₁ − p₂ combines the two Wilson
intervals [l₁, u₁] and [l₂, u₂]::

    lower = (p̂₁ − p̂₂) − √((p̂₁ − l₁)² + (u₂ − p̂₂)²)
    upper = (p̂₁ − p̂₂) + √((u₁ − p̂₁)² + (p̂₂ − l₂)²)

Its lower end above 0 is a one-sided test at level (1 − c)/2 that rate 1 exceeds rate 2.

References
----------
.. [1] E. B. Wilson, "Probable inference, the law of succession, and statistical inference",
   JASA 22 (1927).
.. [2] R. G. Newcombe, "Interval estimation for the difference between independent
   proportions: comparison of eleven methods", Statistics in Medicine 17 (1998).
.. [3] L. D. Brown, T. T. Cai, A. DasGupta, "Interval estimation for a binomial proportion",
   Statistical Science 16 (2001).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special
from numpy.typing import ArrayLike, NDArray

from detectors.errors import InvalidInputError
from detectors.failures._gate import probability

__all__ = ["newcombe_interval", "wilson_interval"]

Interval = tuple[NDArray[np.float64], NDArray[np.float64]]


def _counts(successes: ArrayLike, n: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    k = np.asarray(successes)
    trials = np.asarray(n)
    for name, array in (("successes", k), ("n", trials)):
        if array.dtype.kind not in "iuf" or (array.dtype.kind == "f" and not _integral(array)):
            raise InvalidInputError(f"{name}: expected whole counts, got {array!r}")
    k_float, n_float = np.broadcast_arrays(k.astype(np.float64), trials.astype(np.float64))
    if ((k_float < 0) | (k_float > n_float)).any():
        bad = np.flatnonzero(((k_float < 0) | (k_float > n_float)).ravel())[0]
        msg = (
            f"successes must lie in [0, n], got successes={k_float.ravel()[bad]:g} "
            f"with n={n_float.ravel()[bad]:g}"
        )
        raise InvalidInputError(msg)
    return k_float, n_float


def _integral(array: NDArray[Any]) -> bool:
    return bool(np.isfinite(array).all() and (array == np.round(array)).all())


def wilson_interval(successes: ArrayLike, n: ArrayLike, confidence: float = 0.95) -> Interval:
    """Two-sided Wilson score interval of the proportion ``successes / n``, elementwise.

    Parameters
    ----------
    successes
        Counts of successes (here: failures), any shape broadcastable against ``n``.
    n
        Counts of trials, ``0 <= successes <= n``; n = 0 gives [0, 1].
    confidence
        Two-sided confidence level, strictly between 0 and 1.

    Returns
    -------
    tuple of ndarray
        ``(lower, upper)`` float64 arrays of the broadcast shape (0-d for scalars).

    Raises
    ------
    InvalidInputError
        For negative or fractional counts, ``successes > n`` or a confidence outside (0, 1).

    Examples
    --------
    >>> low, high = wilson_interval(3, 300)
    >>> print(f"{low:.5f} {high:.5f}")
    0.00341 0.02898
    >>> low, high = wilson_interval([0, 5], [100, 10], confidence=0.9)
    >>> print(low.round(4), high.round(4))
    [0.     0.2693] [0.0263 0.7307]
    """
    k, trials = _counts(successes, n)
    z = float(scipy.special.ndtri(0.5 + 0.5 * probability(confidence, "confidence")))
    z2 = z * z
    denominator = trials + z2
    centre = (k + z2 / 2.0) / denominator
    spread = np.divide(k * (trials - k), trials, out=np.zeros_like(k), where=trials > 0)
    half = z / denominator * np.sqrt(spread + z2 / 4.0)
    lower = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    upper = np.where(k == trials, 1.0, np.clip(centre + half, 0.0, 1.0))
    return lower, upper


def newcombe_interval(
    successes: ArrayLike,
    n: ArrayLike,
    baseline_successes: ArrayLike,
    baseline_n: ArrayLike,
    confidence: float = 0.95,
) -> Interval:
    """Newcombe's hybrid score interval of ``successes/n − baseline_successes/baseline_n``.

    Both n must be positive (a difference with an empty side is undefined).

    Examples
    --------
    Newcombe (1998), Table II, example (a): 56/70 − 48/80, method 10 gives 0.0524 to 0.3339.

    >>> low, high = newcombe_interval(56, 70, 48, 80)
    >>> print(f"{low:.4f} {high:.4f}")
    0.0524 0.3339
    """
    k1, n1 = _counts(successes, n)
    k2, n2 = _counts(baseline_successes, baseline_n)
    if (n1 <= 0).any() or (n2 <= 0).any():
        raise InvalidInputError("n and baseline_n must be positive for a difference of rates")
    l1, u1 = wilson_interval(k1, n1, confidence)
    l2, u2 = wilson_interval(k2, n2, confidence)
    p1, p2 = k1 / n1, k2 / n2
    difference = p1 - p2
    lower = difference - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = difference + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return lower, upper
