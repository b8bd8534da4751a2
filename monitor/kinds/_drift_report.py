"""A data drift report as a monitor outcome: the summary's headline and the per-column table.

The summary lists the drifted columns, largest effect first, up to :data:`TOP_DRIFTED`; the
details hold one row per tested column (test, statistic, p-values, threshold, effect, verdict,
counts, unseen share), the quality findings per column and the multivariate section.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from detectors.check import ColumnDrift, DriftReport
from detectors.results import MultivariateTest
from monitor.kinds._outcome import KindOutcome, finite_or_none, insufficient, jsonable

__all__ = ["TOP_DRIFTED", "outcome_of"]

#: Drifted column names listed in the summary, largest effect first.
TOP_DRIFTED = 20
_COLUMN_FIELDS = (
    "name",
    "kind",
    "method",
    "statistic",
    "p_value",
    "adjusted_p_value",
    "threshold",
    "effect",
    "drifted",
    "n_reference",
    "n_current",
    "unseen_share",
)


def outcome_of(report: DriftReport, context: Mapping[str, Any]) -> KindOutcome:
    """The outcome of ``report``; ``context`` goes into the details as it is.

    ``insufficient_data`` when no column had values on both sides.
    """
    details: dict[str, Any] = {
        "columns": [{name: getattr(c, name) for name in _COLUMN_FIELDS} for c in report.columns],
        "quality": _quality(report),
        "correction": report.correction,
        "multivariate": None,
        **context,
    }
    judged = [c for c in report.columns if finite_or_none(c.statistic) is not None]
    if not judged:
        reason = "no column has values in both the reference and the current window"
        return insufficient(reason, details=details)
    detectors = [
        {
            "detector": "data_drift.share",
            "status": "alarm" if report.dataset_drift else "ok",
            "score": report.drift_share,
            "threshold": report.share_threshold,
        }
    ]
    if report.multivariate is not None:
        detectors.append(_multivariate_row(report.multivariate))
        details["multivariate"] = _multivariate(report.multivariate)
    drifted = _drifted(report.columns)
    summary = {
        "detectors": detectors,
        "drift_share": report.drift_share,
        "share_threshold": report.share_threshold,
        "dataset_drift": report.dataset_drift,
        "n_columns": len(report.columns),
        "n_judged": len(judged),
        "n_drifted": len(drifted),
        "drifted_columns": [c.name for c in drifted[:TOP_DRIFTED]],
        "n_missing_columns": len(context.get("missing_columns", ())),
    }
    return KindOutcome(
        status="alarm" if report.drift else "ok",
        score=finite_or_none(report.drift_share),
        summary=jsonable(summary),
        details=jsonable(details),
    )


def _drifted(columns: tuple[ColumnDrift, ...]) -> list[ColumnDrift]:
    return sorted((c for c in columns if c.drifted), key=lambda c: -c.effect)


def _multivariate_row(found: MultivariateTest) -> dict[str, Any]:
    return {
        "detector": f"data_drift.{found.method}",
        "status": "alarm" if found.drift else "ok",
        "score": found.effect,
        "threshold": found.min_effect,
    }


def _multivariate(found: MultivariateTest) -> dict[str, Any]:
    return {
        "method": found.method,
        "statistic": found.statistic,
        "p_value": found.p_value,
        "alpha": found.alpha,
        "effect": found.effect,
        "min_effect": found.min_effect,
        "drift": found.drift,
        "n_reference": found.n_reference,
        "n_current": found.n_current,
        "ci": found.ci,
        "features": [{"name": f.name, "score": f.score} for f in found.top(TOP_DRIFTED)],
    }


def _quality(report: DriftReport) -> list[dict[str, Any]]:
    quality = report.quality
    return [
        {
            "name": column.name,
            "missing_reference": quality.missing_reference[j],
            "missing_current": quality.missing_current[j],
            "infinite_reference": quality.infinite_reference[j],
            "infinite_current": quality.infinite_current[j],
            "constant_reference": quality.constant_reference[j],
            "constant_current": quality.constant_current[j],
        }
        for j, column in enumerate(report.columns)
    ]
