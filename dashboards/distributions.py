"""Reference and current values of one feature, counted on a shared axis for drawing.

Pure numpy, no I/O: the dashboard's overlaid histograms and bar charts are drawn from
these counts.

Numeric features (:func:`numeric_distribution`):

- **Missing values** are NaN *and* ±inf: an infinite value has no place on a finite axis,
  so it is counted with the missing ones, never in a bin.
- **Shared edges**: ``bins`` equal-width bins from ``lo`` to ``hi``, the same for both
  samples. ``lo`` is the lower of the two samples' 0.5th percentiles and ``hi`` the higher
  of their 99.5th percentiles, each taken per sample (``method="lower"``/``"higher"``, so
  they are data values and never overflow). Taking them per sample, not over the pooled
  values, keeps a small current window that moved far away from a large reference on the
  axis instead of squeezing it into the last bin.
- **Tails**: values below ``lo`` are counted in the first bin, values above ``hi`` in the
  last (np.clip, then :func:`numpy.histogram`, whose last bin is closed), so counts always
  add up to the number of finite values.
- **Degenerate ranges**: if the percentiles coincide while the values do not (a spike and a
  few outliers), the range widens to the full minimum and maximum; if every finite value
  is the same ``v``, there is one bin centred on ``v``; if neither sample has a finite
  value, one empty bin ``[0, 1]``. Edges closer than floating point can tell apart (a
  tiny range at a huge magnitude) are merged, so there may be fewer than ``bins`` bins,
  but edges are always strictly increasing.

Categorical features (:func:`categorical_distribution`) count integer codes that index a
list of labels, NaN meaning missing. Bars are sorted by the pooled count (reference plus
current), most frequent first, ties by label; categories absent from both samples get no
bar. With more than ``top`` categories, the ``top - 1`` most frequent keep their bars and
the rest are merged into one last bar, ``(other)``.

Examples
--------
>>> import numpy as np
>>> hist = numeric_distribution(np.array([0.0, 1.0, 2.0, np.nan]), np.array([2.0, np.inf]),
...                              bins=2)
>>> hist.edges.tolist(), hist.reference_counts.tolist(), hist.current_counts.tolist()
([0.0, 1.0, 2.0], [1, 2], [0, 1])
>>> hist.reference_missing, hist.current_missing
(1, 1)
>>> bars = categorical_distribution(np.array([0.0, 1.0, 1.0]), np.array([2.0, np.nan]),
...                                 ["a", "b", "c"], top=2)
>>> bars.labels, bars.reference_counts.tolist(), bars.current_counts.tolist()
(('b', '(other)'), [2, 1], [0, 1])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "OTHER",
    "CategoricalBars",
    "NumericHistogram",
    "categorical_distribution",
    "numeric_distribution",
]

#: Label of the bar that merges the categories past ``top``.
OTHER = "(other)"
#: Percentiles bounding the drawn range; the tails beyond go into the outer bins.
LOWER_PERCENTILE = 0.5
UPPER_PERCENTILE = 99.5


class NumericHistogram(NamedTuple):
    """Counts of two samples in the same bins (``len(edges) == len(counts) + 1``)."""

    edges: NDArray[np.float64]
    reference_counts: NDArray[np.int64]
    current_counts: NDArray[np.int64]
    reference_missing: int
    current_missing: int


class CategoricalBars(NamedTuple):
    """Counts of two samples per category label, most frequent first."""

    labels: tuple[str, ...]
    reference_counts: NDArray[np.int64]
    current_counts: NDArray[np.int64]
    reference_missing: int
    current_missing: int


def numeric_distribution(
    reference: ArrayLike, current: ArrayLike, *, bins: int = 30
) -> NumericHistogram:
    """Histogram counts of two samples of one numeric feature, on shared edges.

    Parameters
    ----------
    reference, current
        1-D values; NaN and ±inf count as missing.
    bins
        Number of equal-width bins (fewer only where floating point cannot separate edges).

    Returns
    -------
    NumericHistogram
        Shared edges, counts per bin (tails clipped into the outer bins) and missing counts.

    Raises
    ------
    ValueError
        If a sample is not 1-D or ``bins`` is not a positive integer.
    """
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        msg = f"bins must be a positive integer, got {bins!r}"
        raise ValueError(msg)
    ref = _values(reference, "reference")
    cur = _values(current, "current")
    ref_finite, cur_finite = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    edges = _edges(ref_finite, cur_finite, bins)
    return NumericHistogram(
        edges=edges,
        reference_counts=_histogram(ref_finite, edges),
        current_counts=_histogram(cur_finite, edges),
        reference_missing=len(ref) - len(ref_finite),
        current_missing=len(cur) - len(cur_finite),
    )


def categorical_distribution(
    reference_codes: ArrayLike,
    current_codes: ArrayLike,
    labels: Sequence[str],
    *,
    top: int = 30,
) -> CategoricalBars:
    """Counts per category of two samples of one categorical feature.

    Parameters
    ----------
    reference_codes, current_codes
        1-D float codes: ``k`` stands for ``labels[k]``, NaN for a missing value.
    labels
        The category of each code.
    top
        Most bars returned (at least 2); past it the rarest merge into ``(other)``.

    Returns
    -------
    CategoricalBars
        Labels by pooled frequency, the counts of each sample and the missing counts.

    Raises
    ------
    ValueError
        If a sample is not 1-D, a code is not an integer index into ``labels``, or ``top``
        is below 2.
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 2:
        msg = f"top must be an integer of at least 2, got {top!r}"
        raise ValueError(msg)
    ref = _values(reference_codes, "reference")
    cur = _values(current_codes, "current")
    ref_counts = _code_counts(ref, len(labels), "reference")
    cur_counts = _code_counts(cur, len(labels), "current")
    pooled = ref_counts + cur_counts
    present = np.flatnonzero(pooled)
    # Most frequent first; ties by label, so the order does not depend on the codes.
    order = sorted(present.tolist(), key=lambda k: (-int(pooled[k]), labels[k]))
    kept = order if len(order) <= top else order[: top - 1]
    rest = order[len(kept) :]
    names = tuple(labels[k] for k in kept)
    ref_out, cur_out = ref_counts[kept], cur_counts[kept]
    if rest:
        names += (OTHER,)
        ref_out = np.append(ref_out, ref_counts[rest].sum())
        cur_out = np.append(cur_out, cur_counts[rest].sum())
    return CategoricalBars(
        labels=names,
        reference_counts=ref_out.astype(np.int64),
        current_counts=cur_out.astype(np.int64),
        reference_missing=int(np.isnan(ref).sum()),
        current_missing=int(np.isnan(cur).sum()),
    )


def _values(values: ArrayLike, what: str) -> NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        msg = f"{what} values must be 1-D, got shape {array.shape}"
        raise ValueError(msg)
    return array


def _edges(
    reference: NDArray[np.float64], current: NDArray[np.float64], bins: int
) -> NDArray[np.float64]:
    """Shared edges over the finite values of both samples (see the module notes)."""
    samples = [sample for sample in (reference, current) if len(sample)]
    if not samples:
        return np.array([0.0, 1.0])
    lo = min(float(np.percentile(s, LOWER_PERCENTILE, method="lower")) for s in samples)
    hi = max(float(np.percentile(s, UPPER_PERCENTILE, method="higher")) for s in samples)
    if lo == hi:
        lo = min(float(s.min()) for s in samples)
        hi = max(float(s.max()) for s in samples)
    if lo == hi:
        half = max(0.5, abs(lo) * 1e-9)
        with np.errstate(over="ignore"):  # past the float range: handled just below
            low, high = float(np.float64(lo) - half), float(np.float64(lo) + half)
        if not np.isfinite(high):  # at the top of the float range: close the bin there
            low, high = float(np.nextafter(lo, 0.0)), lo
        elif not np.isfinite(low):
            low, high = lo, float(np.nextafter(lo, 0.0))
        return np.array([low, high])
    # lo * (1 - t) + hi * t never forms hi - lo, which overflows for ranges past 1.8e308.
    t = np.linspace(0.0, 1.0, bins + 1)
    edges = np.clip(lo * (1.0 - t) + hi * t, lo, hi)
    edges[0], edges[-1] = lo, hi
    return np.unique(edges)


def _histogram(values: NDArray[np.float64], edges: NDArray[np.float64]) -> NDArray[np.int64]:
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    return counts.astype(np.int64)


def _code_counts(codes: NDArray[np.float64], n_labels: int, what: str) -> NDArray[np.int64]:
    present = codes[~np.isnan(codes)]
    bad = (present < 0) | (present >= n_labels) | (present != np.round(present))
    if bad.any():
        msg = (
            f"{what} codes must be integer indices into the {n_labels} labels (or NaN), "
            f"got {present[bad][0]!r}"
        )
        raise ValueError(msg)
    return np.bincount(present.astype(np.int64), minlength=n_labels).astype(np.int64)
