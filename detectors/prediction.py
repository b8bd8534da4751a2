"""Prediction drift: the model's outputs against the reference's, and the class balance.

:func:`output_drift` runs Driftline's drift check (:mod:`detectors.check`) on the outputs, so the
statistics, their selection and their corrections are the ones of the data drift check:

- **predicted labels** (class codes) as a categorical column: when the reference or the
  window has at most 1000 rows, χ² homogeneity (the two-proportion z-test for two classes),
  else the Jensen–Shannon distance (the ``"driftline"`` selection policy);
- **scores, probabilities or regression outputs** as numeric columns: KS, else the normed
  Wasserstein distance; ``label_test`` / ``score_test`` choose another test (``"psi"``,
  ``"ks"``, ``"jensen_shannon"``, ...), ``min_effect`` adds effect-size gates, and all
  p-values of one call are corrected together (Benjamini–Hochberg by default).

Windows (and references) of more than 100,000 rows are tested on a seeded uniform sample of
that many (``sample_limit``), as :func:`detectors.check.check` does.

Each output column gives one :class:`~detectors.outcome.DetectorResult`
(``prediction.label``, ``prediction.score.<name>``): **alarm** when the column drifted,
**ok** otherwise, ``insufficient_data`` under ``min_rows`` predictions. For a test the
``score`` is the corrected p-value and ``threshold`` its level (lower is worse); for a
distance, the distance and its threshold (higher is worse); ``details["direction"]`` says which.

:func:`class_balance` compares the share of each predicted class: two-proportion z-tests
(two-sided, Bonferroni over the classes) with Newcombe intervals of each difference.
**Alarm** when a class's share moved significantly by at least ``min_effect`` (absolute share,
default 0.05), **warning** from ``warning_effect`` (default half); ``score`` is the largest
significant move (0 if none), details list every class and the overall χ² homogeneity test.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> reference = prepare(labels=rng.integers(0, 3, 5000), scores=rng.beta(2, 5, 5000))
>>> labels, scores = rng.choice(3, 5000, p=[0.2, 0.3, 0.5]), rng.beta(2, 3, 5000)
>>> [(r.detector, r.status.value) for r in output_drift(reference, labels, scores)]
[('prediction.score.score', 'alarm'), ('prediction.label', 'alarm')]
>>> class_balance(reference, labels).status.value
'alarm'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from detectors.categorical import CategoryReference, chi2
from detectors.check import ColumnDrift, FittedReference, check, fit_reference
from detectors.decision import Correction
from detectors.errors import InvalidInputError
from detectors.outcome import DetectorResult, JSONValue, Span, Status
from detectors.performance._intervals import proportion_difference
from detectors.selection import Policy

__all__ = ["PredictionReference", "class_balance", "output_drift", "prepare"]

#: Fewest predictions in a window for a verdict.
MIN_ROWS = 50
#: Current windows larger than this are tested on a seeded uniform sample of this many rows.
SAMPLE_LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class PredictionReference:
    """The reference's outputs, prepared once: the drift check's reference and label counts."""

    fitted: FittedReference
    has_labels: bool
    score_names: tuple[str, ...]
    #: Sorted predicted class codes of the reference and their counts (labels only).
    classes: NDArray[np.float64]
    counts: NDArray[np.int64]


def prepare(
    labels: ArrayLike | None = None,
    scores: ArrayLike | None = None,
    *,
    score_names: Sequence[str] | None = None,
    sample_limit: int | None = SAMPLE_LIMIT,
    seed: int = 0,
) -> PredictionReference:
    """Prepare the reference's predicted labels and/or scores ``(n,)`` or ``(n, k)``.

    ``score_names`` name the score columns (default ``score`` for one, ``score_<j>``).
    A reference of more than ``sample_limit`` rows is tested on a seeded sample of that many
    (None: every row); the class shares of :func:`class_balance` count every row.

    Raises
    ------
    InvalidInputError
        If neither is given, labels are not 1-D class codes, or rows differ.
    """
    codes = _labels(labels)
    values, names = _scores(scores, score_names)
    if codes is None and values is None:
        raise InvalidInputError("prepare: give predicted labels, scores or both")
    fitted = fit_reference(
        values,
        None if codes is None else codes[:, np.newaxis],
        numeric_names=names,
        categorical_names=[] if codes is None else ["label"],
        sample_limit=sample_limit,
        seed=seed,
    )
    classes, counts = np.unique(codes if codes is not None else [], return_counts=True)
    return PredictionReference(fitted, codes is not None, names, classes, counts.astype(np.int64))


def output_drift(
    reference: PredictionReference,
    labels: ArrayLike | None = None,
    scores: ArrayLike | None = None,
    *,
    policy: Policy = "driftline",
    label_test: str | None = None,
    score_test: str | None = None,
    thresholds: Mapping[str, float] | None = None,
    min_effect: Mapping[str, float] | None = None,
    correction: Correction = "bh",
    min_rows: int = MIN_ROWS,
    sample_limit: int | None = SAMPLE_LIMIT,
    seed: int = 0,
    window: Span | None = None,
) -> tuple[DetectorResult, ...]:
    """Drift of each output column of the window against the reference (module notes).

    A window of more than ``sample_limit`` rows (default 100,000; None: every row) is tested
    on a seeded uniform sample: the distances are then estimated to about 1e-3, far below
    their 0.1 thresholds, and a window of 1M rows is checked in a fraction of a second.
    """
    codes = _labels(labels) if reference.has_labels else None
    values, _ = _scores(scores, reference.score_names) if reference.score_names else (None, ())
    if (reference.has_labels and codes is None) or (reference.score_names and values is None):
        raise InvalidInputError("output_drift: give the same outputs as the reference had")
    rows = len(codes) if codes is not None else len(values) if values is not None else 0
    span = window or Span(n=rows)
    names = [*reference.score_names, *(["label"] if reference.has_labels else [])]
    if rows < min_rows:
        return tuple(
            DetectorResult(
                _name(c),
                Status.INSUFFICIENT_DATA,
                math.nan,
                math.nan,
                span,
                {"rows": rows, "min_rows": min_rows},
            )
            for c in names
        )
    per_kind = {
        kind: test
        for kind, test in (("categorical", label_test), ("numeric", score_test))
        if test is not None
    }
    report = check(
        reference.fitted,
        values,
        None if codes is None else codes[:, np.newaxis],
        policy=policy,
        per_kind=per_kind,
        thresholds=thresholds,
        min_effect=min_effect,
        correction=correction,
        sample_limit=sample_limit,
        seed=seed,
    )
    return tuple(_result(column, span, correction) for column in report.columns)


def class_balance(
    reference: PredictionReference,
    labels: ArrayLike,
    *,
    alpha: float = 0.05,
    min_effect: float = 0.05,
    warning_effect: float | None = None,
    min_rows: int = MIN_ROWS,
    window: Span | None = None,
) -> DetectorResult:
    """Shift of the predicted class shares (module notes).

    Raises
    ------
    InvalidInputError
        If the reference has no labels, ``labels`` are not class codes, or a level is bad.
    """
    if not reference.has_labels:
        raise InvalidInputError("class_balance: the reference has no predicted labels")
    warning = min_effect / 2 if warning_effect is None else warning_effect
    if not 0 < alpha < 1 or not 0 <= warning <= min_effect:
        msg = (
            f"class_balance: need 0 < alpha < 1 and 0 <= warning_effect <= min_effect, got "
            f"alpha={alpha}, min_effect={min_effect}, warning_effect={warning}"
        )
        raise InvalidInputError(msg)
    codes = _labels(labels)
    assert codes is not None  # labels is not None here
    span = window or Span(n=codes.size)
    details: dict[str, JSONValue] = {"rows": int(codes.size), "min_rows": min_rows}
    name = "prediction.class_balance"
    if codes.size < min_rows:
        return DetectorResult(name, Status.INSUFFICIENT_DATA, math.nan, min_effect, span, details)
    classes = np.union1d(reference.classes, codes)
    before = np.zeros(classes.size, dtype=np.int64)
    before[np.searchsorted(classes, reference.classes)] = reference.counts
    after = np.bincount(np.searchsorted(classes, codes), minlength=classes.size)
    n, m, k = int(before.sum()), int(codes.size), int(classes.size)
    per_class: list[JSONValue] = []
    moved = 0.0
    for code, x, y in zip(classes.tolist(), before.tolist(), after.tolist(), strict=True):
        # Bonferroni: each class at alpha / k, two-sided (interval at 1 - alpha / k)
        found = proportion_difference(x, n, y, m, alpha=alpha / (2 * k), higher_is_better=True)
        p_value = min(1.0, 2 * k * min(found.p_value, 1.0 - found.p_value))
        if p_value <= alpha:
            moved = max(moved, abs(found.difference))
        per_class.append(
            {
                "class": code,
                "reference_share": x / n,
                "current_share": y / m,
                "difference": found.difference,
                "ci": [found.low, found.high],
                "p_value": p_value,
            }
        )
    counted = CategoryReference((reference.classes,), (reference.counts,), np.array([n]))
    overall = chi2.test(counted, codes[:, np.newaxis]).p_value
    details.update(
        classes=per_class,
        alpha=alpha,
        warning_effect=warning,
        n_reference=n,
        chi2_p_value=None if overall is None else _finite(float(overall[0])),
    )
    if moved >= min_effect and moved > 0:
        verdict = Status.ALARM
    elif moved >= warning and moved > 0:
        verdict = Status.WARNING
    else:
        verdict = Status.OK
    return DetectorResult(name, verdict, moved, min_effect, span, details)


def _result(column: ColumnDrift, span: Span, correction: str) -> DetectorResult:
    test = column.p_value is not None
    score = column.adjusted_p_value if test else column.effect
    details: dict[str, JSONValue] = {
        "method": column.method,
        "statistic": _finite(column.statistic),
        "p_value": None if column.p_value is None else _finite(column.p_value),
        "effect": _finite(column.effect),
        "correction": correction,
        "direction": "lower_is_worse" if test else "higher_is_worse",
        "n_reference": column.n_reference,
        "n_current": column.n_current,
    }
    if score is None or math.isnan(score) or math.isnan(column.effect):
        verdict = Status.INSUFFICIENT_DATA
    else:
        verdict = Status.ALARM if column.drifted else Status.OK
    value = math.nan if score is None else float(score)
    return DetectorResult(_name(column.name), verdict, value, column.threshold, span, details)


def _name(column: str) -> str:
    return "prediction.label" if column == "label" else f"prediction.score.{column}"


def _labels(labels: ArrayLike | None) -> NDArray[np.float64] | None:
    if labels is None:
        return None
    codes = np.asarray(labels, dtype=np.float64)
    if codes.ndim != 1 or not np.isfinite(codes).all() or (codes != np.trunc(codes)).any():
        raise InvalidInputError("labels: expected a 1-D array of integral class codes")
    return codes


def _scores(
    scores: ArrayLike | None, names: Sequence[str] | None
) -> tuple[NDArray[np.float64] | None, tuple[str, ...]]:
    if scores is None:
        return None, ()
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, np.newaxis]
    if values.ndim != 2:
        raise InvalidInputError(f"scores: expected (n,) or (n, k), got shape {values.shape}")
    k = values.shape[1]
    found = (
        tuple(names)
        if names is not None
        else (("score",) if k == 1 else tuple(f"score_{j}" for j in range(k)))
    )
    if len(found) != k or "label" in found:
        raise InvalidInputError(f"score_names: expected {k} names other than 'label', got {found}")
    return values, found


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
