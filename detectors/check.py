"""A whole drift check: every column of a reference / current pair, tested and decided.

:func:`fit_reference` prepares the reference once (sorted numeric columns, category counts,
quality findings); :func:`check` then chooses a test per column
(:mod:`detectors.selection`), runs each test once over all the columns that chose it,
corrects the p-values across the whole check (:mod:`detectors.decision`) and reports the
data-quality findings met on the way.

Conventions:

* Infinities are counted in the quality findings, then treated as missing (NaN).
* A numeric column whose reference and current hold at most 5 distinct values together is
  compared as categories of its values, as Evidently does.
* A column left without values on either side has no verdict: NaN results, not drifted,
  and not counted in the dataset's share.
* With ``sample_limit``, a side with more rows is tested on a uniform sample of that many
  rows (seeded, so reproducible); quality findings always cover every row. The tests stay
  valid on the sample — they lose power, not calibration — and at 100k rows the effect
  sizes that decide large-sample verdicts are estimated to about 1e-3.

Opt-in sections, reported apart from the columns' share: ``multivariate=True`` runs
:mod:`detectors.multivariate.domain_classifier` over all columns together (codes as ordinal
numbers); ``text`` columns get :mod:`detectors.multivariate.text` (MMD on hashed, SVD-reduced
vectors). Either drifting makes :attr:`DriftReport.drift` true; ``dataset_drift`` stays the
columns' verdict.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors import binning
from detectors._layout import by_column
from detectors._threads import map_columns
from detectors._validation import as_columns, present
from detectors.categorical import CategoryReference, contingency
from detectors.categorical import prepare as prepare_categories
from detectors.decision import Correction, adjust
from detectors.errors import InvalidInputError
from detectors.quality import ColumnQuality, SideQuality, combine, describe
from detectors.registry import REGISTRY
from detectors.results import ColumnTest, MultivariateTest
from detectors.selection import ColumnInfo, Policy, select
from detectors.univariate import SortedReference
from detectors.univariate import prepare as prepare_sorted
from detectors.univariate._sorted import sort_columns

if TYPE_CHECKING:
    from detectors.multivariate.domain_classifier import DomainReference
    from detectors.multivariate.text import TextReference

__all__ = ["ColumnDrift", "DriftReport", "FittedReference", "TextDrift", "check", "fit_reference"]

#: At most this many distinct values: a numeric column is compared as categories.
FEW_VALUES = 5


@dataclass(frozen=True, slots=True)
class FittedReference:
    """The reference of a check, prepared once; numeric columns first, then categorical."""

    numeric_names: tuple[str, ...]
    categorical_names: tuple[str, ...]
    #: Numeric reference ``(n, a)`` with infinities as NaN, for reference-fitted bins.
    numeric: NDArray[np.float64]
    sorted: SortedReference
    categories: CategoryReference
    quality: SideQuality
    #: The sampled rows for the domain classifier (``multivariate=True``), else None.
    domain: DomainReference | None = None
    #: Each text column's fitted vectoriser, by name.
    text: tuple[tuple[str, TextReference], ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return self.numeric_names + self.categorical_names


@dataclass(frozen=True, slots=True)
class ColumnDrift:
    """The verdict on one column."""

    name: str
    kind: str
    method: str
    statistic: float
    #: None for distances.
    p_value: float | None
    adjusted_p_value: float | None
    #: p-value level (tests) or distance threshold (distances).
    threshold: float
    effect: float
    drifted: bool
    n_reference: int
    n_current: int
    #: Share of current values in categories the reference never had (categorical only).
    unseen_share: float | None


@dataclass(frozen=True, slots=True)
class TextDrift:
    """The verdict on one text column."""

    name: str
    result: MultivariateTest


@dataclass(frozen=True, slots=True)
class DriftReport:
    """Every column's verdict, the dataset's, and the quality findings."""

    columns: tuple[ColumnDrift, ...]
    drift_share: float
    share_threshold: float
    dataset_drift: bool
    quality: ColumnQuality
    correction: Correction
    #: The domain classifier over all columns, when the reference was fitted for it.
    multivariate: MultivariateTest | None = None
    text: tuple[TextDrift, ...] = ()

    @property
    def drift(self) -> bool:
        """The dataset's share verdict, or a drifting multivariate or text section."""
        sections = [t.result for t in self.text]
        if self.multivariate is not None:
            sections.append(self.multivariate)
        return self.dataset_drift or any(s.drift for s in sections)


def fit_reference(
    numeric: ArrayLike | None = None,
    categorical: ArrayLike | None = None,
    *,
    numeric_names: Sequence[str] = (),
    categorical_names: Sequence[str] = (),
    sample_limit: int | None = None,
    seed: int = 0,
    multivariate: bool = False,
    text: Mapping[str, Sequence[str]] | None = None,
) -> FittedReference:
    """Prepare a reference of numeric values ``(n, a)`` and categorical codes ``(n, b)``.

    ``sample_limit`` and ``seed``: test a uniform sample of at most that many rows.
    ``multivariate``: also prepare the domain classifier over all columns. ``text``: text
    column name to its documents (strings, missing ones dropped), for text drift.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> fitted = fit_reference(rng.normal(size=(500, 2)), numeric_names=["a", "b"])
    >>> report = check(fitted, rng.normal(size=(400, 2)) + [0.0, 1.0])
    >>> [(c.name, c.method, c.drifted) for c in report.columns]
    [('a', 'ks', False), ('b', 'ks', True)]
    """
    names = [*numeric_names, *categorical_names, *(text or {})]
    if len(set(names)) != len(names):
        raise InvalidInputError("column names must be unique across numeric, categorical and text")
    num = _block(numeric, numeric_names, "reference numeric")
    cat = _block(categorical, categorical_names, "reference categorical")
    num, cat = _same_rows(num, cat, "reference")
    quality = _describe(num, cat)
    num, cat = _sample(num, cat, sample_limit, seed)
    num, cat = _finite(num, quality, 0), _finite(cat, quality, num.shape[1])
    domain, fitted_text = _prepare_sections(
        num, cat, names[: num.shape[1] + cat.shape[1]], multivariate, text, seed
    )
    # Validated above: sort without a second pass over the values (no rows still raises).
    return FittedReference(
        numeric_names=tuple(numeric_names),
        categorical_names=tuple(categorical_names),
        numeric=num,
        sorted=sort_columns(num) if num.shape[0] else prepare_sorted(num),
        categories=prepare_categories(cat),
        quality=quality,
        domain=domain,
        text=fitted_text,
    )


def check(
    reference: FittedReference,
    numeric: ArrayLike | None = None,
    categorical: ArrayLike | None = None,
    *,
    policy: Policy = "driftline",
    per_column: Mapping[str, str] | None = None,
    per_kind: Mapping[str, str] | None = None,
    for_all: str | None = None,
    thresholds: Mapping[str, float] | None = None,
    min_effect: Mapping[str, float] | None = None,
    correction: Correction = "bh",
    weights: Mapping[str, float] | None = None,
    drift_share: float = 0.5,
    sample_limit: int | None = None,
    seed: int = 0,
    text: Mapping[str, Sequence[str]] | None = None,
) -> DriftReport:
    """Test every column of the current window against ``reference`` and decide.

    Parameters
    ----------
    numeric, categorical
        The current window, with the reference's columns in the same order.
    policy, per_column, per_kind, for_all, thresholds
        Test selection (:func:`detectors.selection.select`).
    min_effect
        Test name to the effect size its columns must also reach to drift.
    correction
        Multiple-testing correction across every p-value of the check.
    weights
        Column name to importance in the dataset's drift share (default 1 each).
    drift_share
        Share of drifted columns at which the dataset drifts.
    sample_limit, seed
        Test a uniform sample of at most that many current rows.
    text
        Current documents of the reference's text columns, by name.
    """
    num = _block(numeric, reference.numeric_names, "current numeric")
    cat = _block(categorical, reference.categorical_names, "current categorical")
    num, cat = _same_rows(num, cat, "current")
    current_quality = _describe(num, cat)
    quality = combine(reference.quality, current_quality)
    num, cat = _sample(num, cat, sample_limit, seed)
    a = len(reference.numeric_names)
    num, cat = _finite(num, current_quality, 0), _finite(cat, current_quality, a)
    # The codes column by column (each one contiguous), as an (n, b) Fortran-ordered view.
    cat = by_column(cat).T
    n_values = _n_values(reference, num, cat)
    n_reference = [*reference.sorted.counts.tolist(), *reference.categories.n.tolist()]
    rows = max(num.shape[0], cat.shape[0])
    infos = [
        ColumnInfo(name, "numeric" if j < a else "categorical", n_reference[j], n_values[j], rows)
        for j, name in enumerate(reference.names)
    ]
    choices = select(
        infos, policy=policy, per_column=per_column, per_kind=per_kind, for_all=for_all,
        thresholds=thresholds,
    )  # fmt: skip
    results = _run(reference, num, cat, [c.method for c in choices], n_values)
    adjusted = adjust([np.nan if r.p_value is None else r.p_value for r in results], correction)
    gates = dict(min_effect or {})
    unseen = _unseen_shares(reference.categories, cat)
    columns = []
    for j, (info, choice, result) in enumerate(zip(infos, choices, results, strict=True)):
        if choice.has_p_value:
            passed = bool(adjusted[j] <= choice.threshold)  # False when NaN
        else:
            passed = bool(result.effect >= choice.threshold)
        gate = gates.get(choice.method)
        columns.append(
            ColumnDrift(
                name=info.name,
                kind=info.kind,
                method=choice.method,
                statistic=result.statistic,
                p_value=result.p_value,
                adjusted_p_value=None if result.p_value is None else float(adjusted[j]),
                threshold=choice.threshold,
                effect=result.effect,
                drifted=passed and (gate is None or bool(result.effect >= gate)),
                n_reference=result.n_reference,
                n_current=result.n_current,
                unseen_share=None if j < a else float(unseen[j - a]),
            )
        )
    share = _share(columns, weights)
    multivariate, text_drift = _test_sections(reference, num, cat, text, seed)
    return DriftReport(
        columns=tuple(columns),
        drift_share=share,
        share_threshold=drift_share,
        dataset_drift=share >= drift_share,
        quality=quality,
        correction=correction,
        multivariate=multivariate,
        text=text_drift,
    )


def _prepare_sections(
    num: NDArray[np.float64],
    cat: NDArray[np.float64],
    names: list[str],
    multivariate: bool,
    text: Mapping[str, Sequence[str]] | None,
    seed: int,
) -> tuple[DomainReference | None, tuple[tuple[str, TextReference], ...]]:
    """The opt-in sections' references; scikit-learn is imported only when one is asked for."""
    if not multivariate and not text:
        return None, ()
    from detectors.multivariate import domain_classifier
    from detectors.multivariate import text as text_drift

    domain = None
    if multivariate:
        domain = domain_classifier.prepare(np.hstack([num, cat]), names=names, seed=seed)
    return domain, tuple(
        (name, text_drift.prepare(docs, seed=seed)) for name, docs in (text or {}).items()
    )


def _test_sections(
    reference: FittedReference,
    num: NDArray[np.float64],
    cat: NDArray[np.float64],
    text: Mapping[str, Sequence[str]] | None,
    seed: int,
) -> tuple[MultivariateTest | None, tuple[TextDrift, ...]]:
    expected = [name for name, _ in reference.text]
    if sorted(text or {}) != sorted(expected):
        msg = f"text: expected documents of the text column(s) {expected}, got {list(text or {})}"
        raise InvalidInputError(msg)
    if reference.domain is None and not expected:
        return None, ()
    from detectors.multivariate import domain_classifier
    from detectors.multivariate import text as text_drift

    domain = reference.domain
    found = None
    if domain is not None:
        rows = np.hstack([num, cat])
        # Pooled out-of-fold AUCs are correlated, so the rank test's p runs small on small
        # samples (about 13 % false alarms at 0.05 with 200 rows a side). There a full
        # relabelling test is affordable and exact.
        small = min(len(rows), len(domain.rows)) < _EXACT_DOMAIN_ROWS
        permutations = _DOMAIN_PERMUTATIONS if small else 0
        found = domain_classifier.test(domain, rows, seed=seed, n_permutations=permutations)
    return found, tuple(
        TextDrift(name, text_drift.test(fitted, (text or {})[name], seed=seed))
        for name, fitted in reference.text
    )


_EXACT_DOMAIN_ROWS = 2_000
"""Below this many rows a side, the domain classifier's p-value comes from relabellings."""
_DOMAIN_PERMUTATIONS = 19


@dataclass(frozen=True, slots=True)
class _Result:
    statistic: float
    p_value: float | None
    effect: float
    n_reference: int
    n_current: int


def _block(values: ArrayLike | None, names: Sequence[str], what: str) -> NDArray[np.float64]:
    """A ``(rows, len(names))`` float64 block (infinities kept for the quality findings)."""
    if values is None:
        if names:
            msg = f"{what}: columns {list(names)} declared but no values given"
            raise InvalidInputError(msg)
        return np.empty((0, 0))
    array = as_columns(values, what, min_rows=0, allow_infinite=True)
    if array.shape[1] != len(names):
        msg = f"{what}: expected {len(names)} column(s) {list(names)}, got shape {array.shape}"
        raise InvalidInputError(msg)
    return array


def _same_rows(
    num: NDArray[np.float64], cat: NDArray[np.float64], what: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Both blocks with the same number of rows (an absent block gets zero columns)."""
    if not num.shape[1] and not cat.shape[1]:
        raise InvalidInputError("a drift check needs at least one column")
    if not num.shape[1]:
        return np.empty((cat.shape[0], 0)), cat
    if not cat.shape[1]:
        return num, np.empty((num.shape[0], 0))
    if num.shape[0] != cat.shape[0]:
        msg = f"{what}: numeric has {num.shape[0]} rows but categorical {cat.shape[0]}"
        raise InvalidInputError(msg)
    return num, cat


def _sample(
    num: NDArray[np.float64], cat: NDArray[np.float64], limit: int | None, seed: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """At most ``limit`` rows, drawn uniformly without replacement, in their order."""
    if limit is None:
        return num, cat
    if limit < 1:
        msg = f"sample_limit must be a positive number of rows, got {limit}"
        raise InvalidInputError(msg)
    rows = max(num.shape[0], cat.shape[0])
    if rows <= limit:
        return num, cat
    keep = np.sort(np.random.default_rng(seed).choice(rows, size=limit, replace=False))
    return num[keep], cat[keep]


def _finite(array: NDArray[np.float64], quality: SideQuality, first: int) -> NDArray[np.float64]:
    """Infinities as NaN; the array itself (no copy) when ``quality`` counted none in it.

    ``quality`` covers every column of the side; ``array``'s start at column ``first``.
    """
    if not quality.infinite[first : first + array.shape[1]].any():
        return array
    infinite = np.isinf(array)
    return np.where(infinite, np.nan, array) if infinite.any() else array


def _describe(num: NDArray[np.float64], cat: NDArray[np.float64]) -> SideQuality:
    sides = [describe(block) for block in (num, cat) if block.shape[1]]
    return SideQuality(
        missing=np.concatenate([s.missing for s in sides]),
        infinite=np.concatenate([s.infinite for s in sides]),
        constant=np.concatenate([s.constant for s in sides]),
    )


def _distinct(column: NDArray[np.float64]) -> int:
    """Distinct values of a sorted NaN-free column."""
    return int(np.count_nonzero(column[1:] != column[:-1]) + 1) if column.size else 0


def _distinct_union(reference: NDArray[np.float64], current: NDArray[np.float64]) -> int:
    return len(np.union1d(np.unique(reference), np.unique(present(current))))


def _n_values(
    reference: FittedReference, num: NDArray[np.float64], cat: NDArray[np.float64]
) -> list[int]:
    """Distinct values of reference and current together, exact up to ``FEW_VALUES + 1``.

    When the reference alone has more than ``FEW_VALUES`` distinct values, its own count is
    returned: every selection rule only compares ``n_values`` with 2 and 5.
    """
    columns = reference.sorted.columns
    counts = map_columns(_distinct, columns, values=int(reference.sorted.counts.sum()))
    out = []
    for j, (column, distinct) in enumerate(zip(columns, counts, strict=True)):
        out.append(distinct if distinct > FEW_VALUES else _distinct_union(column, num[:, j]))
    for j, categories in enumerate(reference.categories.categories):
        few = len(categories) <= FEW_VALUES
        out.append(_distinct_union(categories, cat[:, j]) if few else len(categories))
    return out


def _run(
    reference: FittedReference,
    num: NDArray[np.float64],
    cat: NDArray[np.float64],
    methods: list[str],
    n_values: list[int],
) -> list[_Result]:
    """Run each chosen test once over all the columns that chose it."""
    a = len(reference.numeric_names)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for j, method in enumerate(methods):
        spec = REGISTRY[method]
        as_categories = (
            j >= a
            or spec.numeric is None
            or (spec.categorical is not None and n_values[j] <= FEW_VALUES)
        )
        if j >= a and spec.categorical is None:
            msg = (
                f"column {reference.names[j]!r} is categorical but {method} compares "
                "numeric values; choose a categorical test or a distance"
            )
            raise InvalidInputError(msg)
        path = "categorical" if j >= a else "coded" if as_categories else "numeric"
        groups[(method, path)].append(j)
    continuous = sorted(
        j
        for (method, path), columns in groups.items()
        if path == "numeric" and _numeric_kind(method) == "continuous"
        for j in columns
    )
    current_sorted = dict(zip(continuous, sort_columns(num, continuous).columns, strict=True))
    results: dict[int, _Result] = {}
    for (method, path), columns in groups.items():
        spec = REGISTRY[method]
        if path == "categorical":
            assert spec.categorical is not None  # checked above
            local = [j - a for j in columns]
            outcome = spec.categorical(
                _take_categories(reference.categories, local), _some_columns(cat, local)
            )
            results.update(_split(outcome, columns))
        elif path == "coded":
            assert spec.categorical is not None
            for j in columns:  # few such columns: each is coded by its own values
                ref_codes, cur_codes = _value_codes(reference.sorted.columns[j], num[:, j])
                outcome = spec.categorical(prepare_categories(ref_codes), cur_codes)
                results.update(_split(outcome, [j]))
        else:
            assert spec.numeric is not None
            kind, run = spec.numeric
            if kind == "continuous":
                prepared: object = SortedReference(
                    tuple(reference.sorted.columns[j] for j in columns)
                )
                # without rows the test itself refuses the raw block, as it always did
                current: object = (
                    SortedReference(tuple(current_sorted[j] for j in columns))
                    if num.shape[0]
                    else num[:, columns]
                )
            else:
                prepared = binning.fit(reference.numeric[:, columns])
                current = num[:, columns]
            results.update(_split(run(prepared, current), columns))
    return [results[j] for j in range(len(methods))]


def _some_columns(block: NDArray[np.float64], columns: list[int]) -> NDArray[np.float64]:
    """``block[:, columns]`` of a Fortran-ordered block, still Fortran-ordered (a view when
    the columns are a run)."""
    if columns == list(range(columns[0], columns[-1] + 1)):
        return block[:, columns[0] : columns[-1] + 1]
    return np.asarray(block.T[columns].T)


def _numeric_kind(method: str) -> str | None:
    numeric = REGISTRY[method].numeric
    return None if numeric is None else numeric[0]


def _unseen_shares(categories: CategoryReference, cat: NDArray[np.float64]) -> list[float]:
    """:func:`detectors.quality.unseen_share_of` from the category tables (one bincount each).

    A table lists the reference's categories first, then those only the current window has.
    """
    if not categories.width:
        return []
    shares = []
    for known, table in zip(categories.categories, contingency(categories, cat), strict=True):
        present = int(table[1].sum())
        shares.append(int(table[1, known.size :].sum()) / present if present else 0.0)
    return shares


def _take_categories(categories: CategoryReference, columns: list[int]) -> CategoryReference:
    return CategoryReference(
        categories=tuple(categories.categories[j] for j in columns),
        counts=tuple(categories.counts[j] for j in columns),
        n=categories.n[columns],
    )


def _value_codes(
    reference: NDArray[np.float64], current: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Both columns coded by the index of their value among the values of both."""
    values = np.union1d(np.unique(reference), np.unique(present(current)))
    codes = np.searchsorted(values, current).astype(np.float64)
    codes[np.isnan(current)] = np.nan
    return np.searchsorted(values, reference).astype(np.float64)[:, np.newaxis], codes[
        :, np.newaxis
    ]


def _split(outcome: ColumnTest, columns: list[int]) -> dict[int, _Result]:
    return {
        j: _Result(
            statistic=float(outcome.statistic[i]),
            p_value=None if outcome.p_value is None else float(outcome.p_value[i]),
            effect=float(outcome.effect[i]),
            n_reference=int(outcome.n_reference[i]),
            n_current=int(outcome.n_current[i]),
        )
        for i, j in enumerate(columns)
    }


def _share(columns: list[ColumnDrift], weights: Mapping[str, float] | None) -> float:
    names = {c.name for c in columns}
    unknown = set(weights or {}) - names
    if unknown:
        msg = f"weights: unknown column(s) {sorted(unknown)}"
        raise InvalidInputError(msg)
    total = drifted = 0.0
    for column in columns:
        weight = float((weights or {}).get(column.name, 1.0))
        if weight < 0 or np.isnan(weight):
            msg = f"weights: {column.name!r} must be a non-negative number, got {weight}"
            raise InvalidInputError(msg)
        if np.isnan(column.effect):
            continue
        total += weight
        drifted += weight if column.drifted else 0.0
    return drifted / total if total > 0 else 0.0
