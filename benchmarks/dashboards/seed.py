"""Seed a database with months of monitoring, then time the dashboard's queries on it.

    .venv/bin/python benchmarks/dashboards/seed.py --database-url sqlite:///dashboard.db
    .venv/bin/python benchmarks/dashboards/seed.py \
        --fresh-postgres postgresql://postgres@127.0.0.1/postgres
        [--models 3] [--features 200] [--days 90] [--daily] [--seed 0]
        [--no-timing | --time-only]

``--database-url`` seeds that database (migrated first; it must not hold these models yet)
and keeps it, for a dashboard to show; ``--time-only`` times the queries on one seeded
before. ``--fresh-postgres`` seeds a throwaway database.

:func:`seed` declares, as a project file would (``Project`` → the same registration and
syncs ``driftline`` runs), per model ``modelNN``: a binary classifier with ``features``
features (one in ten categorical) at versions 1 and 2, and four monitors over hourly
(``--daily``: daily) windows: ``-drift`` (data_drift), ``-performance``, ``-failures``,
``-health``, each with one result per window for ``days`` days up to the current hour.

Results have the exact shape of real ones: each kind is run once, for real, on a small
synthetic window, and every result is that outcome with its numbers replaced (a replaced
key that the real outcome lacks is an error, so the seed cannot drift from the kinds).
The numbers: daily traffic cycles, a week in the middle where a quarter of the features
drift (ramping up and down) and accuracy drops, a latency incident, a short outage (results
``insufficient_data`` without details, as the runner stores them) and one failed run per
monitor. Alerts come from the real alerting service fed the results in time order, with
its notification ticks (skipping the results that, by the pure evaluation, cannot move an
alert), so alerts, events, notifications, retraining requests and the notification log are
what the monitor would have written; the deliveries then get attempts (most delivered at
once, some after a retry, one dead). Statistics are gathered (``ANALYZE``) at the end.

Results are written with one executemany per day of windows; the timing printout gives, for
the first model, the median of 5 runs of each dashboard query (target: well under 100 ms).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import gc
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from scipy import stats
from sqlalchemy.engine import Connection, Engine

from monitor import kinds
from monitor.alerting.evaluation import AlertRecord, evaluate
from monitor.alerting.service import AlertingService, ResultFacts, sync_project_alerting
from monitor.project.alert_rules import AlertRuleSpec
from monitor.project.document import Project
from monitor.project.monitors import MonitorSpec
from monitor.registration import register_project_models
from monitor.scheduling.sync import monitor_draft
from storage import (
    FeatureKind,
    FeatureSpec,
    Window,
    create_engine,
    create_session_factory,
    register_model,
)
from storage.migrations import upgrade
from storage.models import Monitor, MonitorResult
from storage.repositories import dashboard
from storage.repositories.alerting import claim_due_deliveries, finish_attempt, list_deliveries
from storage.repositories.monitors import (
    MonitorInfo,
    ResultDraft,
    ResultStatus,
    list_monitors,
    sync_project_monitors,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import fresh_postgres, machine

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
KINDS = ("data_drift", "performance", "failures", "health")
SUFFIX = {
    "data_drift": "drift",
    "performance": "performance",
    "failures": "failures",
    "health": "health",
}
N_REFERENCE = 5000
MIN_SAMPLES = 100
DRIFT_SHARE = 0.2
REFERENCE_ACCURACY = 0.86
#: A run's ``(status, score, summary, details)``.
Outcome = tuple[str, float | None, dict[str, Any], dict[str, Any]]
#: The numbers of a data_drift column that each run draws anew.
_NUMBERED = ("statistic", "p_value", "adjusted_p_value", "effect", "drifted")
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()


# -- the project ------------------------------------------------------------------------------


def feature_specs(count: int) -> list[FeatureSpec]:
    """``f000``… numeric, every tenth (``c009``…) categorical."""
    return [
        FeatureSpec(f"c{i:03d}", FeatureKind.CATEGORICAL)
        if i % 10 == 9
        else FeatureSpec(f"f{i:03d}", FeatureKind.NUMERIC)
        for i in range(count)
    ]


def project_of(
    names: Sequence[str],
    specs: Sequence[FeatureSpec],
    step: dt.timedelta,
    reference: tuple[dt.datetime, dt.datetime],
) -> Project:
    """The project file of the seeded fleet, validated as ``driftline`` validates one."""
    every = "1h" if step == HOUR else "1d"
    fixed = {
        "type": "fixed_window",
        "start": reference[0].isoformat(),
        "end": reference[1].isoformat(),
    }
    params = {
        "data_drift": {"drift_share": DRIFT_SHARE},
        "performance": {"metric": "accuracy"},
        "failures": {},
        "health": {"p95_slo": 0.05, "p99_slo": 0.1},
    }
    monitors, rules = [], []
    for name in names:
        for kind in KINDS:
            monitors.append(
                {
                    "name": f"{name}-{SUFFIX[kind]}",
                    "model": name,
                    "kind": kind,
                    "version": "2" if kind == "performance" else None,
                    "schedule": {"every": every},
                    "window": {"type": "tumbling", "size": every},
                    "reference": None if kind == "health" else fixed,
                    "params": params[kind],
                }
            )
        rules += [
            {
                "name": f"{name}-drift",
                "monitor": f"{name}-drift",
                "severity": "critical",
                "condition": {"metric": "drift_share", "op": ">=", "value": DRIFT_SHARE},
                "for": "2h",
                "channels": ["oncall"],
                "retrain": {"channels": ["retrain"]},
                "annotations": {"summary": "{{ value }} of the features of {{ model }} drifted"},
            },
            {
                "name": f"{name}-accuracy",
                "monitor": f"{name}-performance",
                "condition": {"metric": "metric_drop", "op": ">", "value": 0.03},
                "for": "3h",
                "keep_firing_for": "2h",
                "severity": "warning",
                "channels": ["oncall"],
            },
            {
                "name": f"{name}-latency",
                "monitor": f"{name}-health",
                "severity": "warning",
                "condition": {"metric": "latency_p99", "op": ">", "value": 0.1},
                "channels": ["oncall"],
            },
            {
                "name": f"{name}-failures",
                "monitor": f"{name}-failures",
                "severity": "info",
                "condition": {"metric": "failure_rate", "op": ">", "value": 0.02},
                "channels": ["oncall"],
            },
        ]
    return Project.model_validate(
        {
            "version": 1,
            "models": [
                {
                    "name": n,
                    "task": "binary_classification",
                    "classes": ["no", "yes"],
                    "version": "2",
                    "features": [{"name": f.name, "kind": f.kind} for f in specs],
                }
                for n in names
            ],
            "monitors": monitors,
            "alert_rules": rules,
            "channels": [
                {"name": "oncall", "type": "webhook", "url": "https://hooks.example.com/driftline"},
                {
                    "name": "retrain",
                    "type": "retrain",
                    "preset": "url",
                    "url": "https://ml.example.com/retrain",
                    "secret": SECRET,
                },
            ],
        }
    )


def declare(
    engine: Engine, project: Project, specs: Sequence[FeatureSpec]
) -> dict[str, MonitorInfo]:
    """Register the models (version 1, then the project's 2), monitors, rules and channels."""
    taken = [m.name for m in project.models if list_monitors(engine, model_name=m.name)]
    if taken:
        raise SystemExit(f"the database already holds the seeded models {taken}; use an empty one")
    with create_session_factory(engine).begin() as session:
        for model in project.models:
            register_model(
                session,
                name=model.name,
                task=model.task,
                classes=("no", "yes"),
                version="1",
                features=specs,
            )
    register_project_models(engine, project)
    sync_project_monitors(engine, [monitor_draft(spec) for spec in project.monitors])
    sync_project_alerting(engine, project)
    return {m.name: m for m in list_monitors(engine)}


# -- one real outcome per kind ----------------------------------------------------------------


def synthetic_window(
    specs: Sequence[FeatureSpec],
    start: dt.datetime,
    n: int,
    rng: np.random.Generator,
    *,
    shift: float = 0.0,
) -> Window:
    numeric = tuple(s.name for s in specs if s.kind == "numeric")
    categorical = tuple(s.name for s in specs if s.kind == "categorical")
    first = (start - EPOCH) // dt.timedelta(microseconds=1)
    p = rng.uniform(size=n)
    truth = (rng.uniform(size=n) < p).astype(float)
    return Window(
        model_name="template",
        start=start,
        end=start + HOUR,
        total_rows=n,
        classes=("no", "yes"),
        timestamps_us=np.sort(first + rng.integers(0, 3_600_000_000, n)),
        status=(rng.uniform(size=n) < 0.01).astype(np.int16),
        latency_seconds=rng.gamma(2.0, 0.01, n),
        predictions=(p > 0.5).astype(float),
        probabilities=np.column_stack([1 - p, p]),
        labels=np.where(p < 0.8, truth, np.nan),
        version_ids=np.ones(n, dtype=np.int64),
        versions={1: "2"},
        numeric_names=numeric,
        numeric=rng.normal(shift, 1.0, (n, len(numeric))),
        categorical_names=categorical,
        categorical=rng.integers(0, 4, (n, len(categorical))).astype(float),
    )


def real_outcomes(
    project: Project, specs: Sequence[FeatureSpec], rng: np.random.Generator
) -> dict[str, kinds.KindOutcome]:
    """Each kind's outcome on one synthetic window: the shapes every seeded result copies."""
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    # Over 1,000 reference rows, as N_REFERENCE: the policy then picks distances, not tests.
    reference = synthetic_window(specs, start - DAY, 2000, rng)
    found = {}
    for kind in KINDS:
        spec = next(m for m in project.monitors if m.kind == kind)
        spec = MonitorSpec.model_validate({**spec.model_dump(mode="json"), "min_samples": 10})
        prepared = kinds.prepare(spec, reference, task="binary_classification")
        current = synthetic_window(specs, start, 1000, rng, shift=0.2)
        found[kind] = kinds.run(
            spec, prepared, current, task="binary_classification", now=start + HOUR, state=None
        )
    return found


def filled(template: dict[str, Any], **values: Any) -> dict[str, Any]:
    """``template`` with ``values`` replaced; a key the real outcome lacks is an error."""
    unknown = sorted(values.keys() - template.keys())
    if unknown:
        raise KeyError(f"the real outcome has no {unknown}: the seed is out of date")
    return {**template, **values}


# -- what happens to each model ---------------------------------------------------------------


@dataclass
class Plan:
    """One model's story: traffic, the drifting week, an incident, an outage, failed runs."""

    name: str
    monitors: dict[str, MonitorInfo]
    traffic: NDArray[np.int64]
    drift: NDArray[np.float64]  # intensity of the drifting week per step, in [0, 1]
    drifting: NDArray[np.bool_]  # the features that drift
    strength: NDArray[np.float64]  # how much each feature drifts
    incident: NDArray[np.float64]  # extra p99 latency per step, seconds
    failed: dict[str, int] = field(default_factory=dict)  # kind -> step of its failed run


def plan_of(
    name: str,
    monitors: dict[str, MonitorInfo],
    steps: int,
    per_day: int,
    n_features: int,
    rng: np.random.Generator,
    *,
    ongoing: bool = False,
) -> Plan:
    """A model's story; ``ongoing``: its latency incident is still on at the end."""
    hour = np.arange(steps) * (24 // per_day)
    base = rng.integers(800, 2500)
    cycle = 0.65 + 0.35 * np.sin(2 * np.pi * ((hour % 24) - 9) / 24) if per_day > 1 else 1.0
    traffic = rng.poisson(np.full(steps, base * (24 // per_day)) * cycle).astype(np.int64)
    outage = int(rng.integers(steps // 5, steps // 4))
    traffic[outage : outage + max(1, per_day // 8)] = rng.integers(5, MIN_SAMPLES, 1)
    ramp = max(1, per_day // 2)
    week = min(7 * per_day, steps // 3)  # a week, or a third of a shorter seed
    start = (steps - week) // 2
    stop = start + week
    s = np.arange(steps)
    drift = np.clip(np.minimum((s - start) / ramp, (stop - s) / ramp), 0.0, 1.0)
    incident = np.zeros(steps)
    length = max(1, per_day // 5)
    at = steps - length if ongoing else int(rng.integers(2 * steps // 3, 3 * steps // 4))
    incident[at : at + length] = rng.uniform(0.05, 0.12)
    busy = set(range(start, stop)) | set(range(at, at + length)) | {outage}
    free = [i for i in range(steps) if i not in busy] or [steps - 1]
    failed = {k: int(rng.choice(free)) for k in KINDS}
    return Plan(
        name,
        monitors,
        traffic,
        drift,
        np.isin(np.arange(n_features), rng.choice(n_features, -(-n_features // 4), replace=False)),
        rng.uniform(0.3, 1.0, n_features),
        incident,
        failed,
    )


# -- results: the real outcome with new numbers -----------------------------------------------


def span(start: dt.datetime, end: dt.datetime, n: int) -> dict[str, Any]:
    return {"n": n, "start": start.isoformat(), "end": end.isoformat()}


def bh(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Benjamini-Hochberg adjusted p-values along the last axis."""
    m = p.shape[-1]
    order = np.argsort(p, axis=-1)
    ranked = np.take_along_axis(p, order, axis=-1) * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[..., ::-1], axis=-1)[..., ::-1]
    adjusted = np.empty_like(p)
    np.put_along_axis(adjusted, order, np.minimum(ranked, 1.0), axis=-1)
    return adjusted


def column_numbers(
    columns: Sequence[dict[str, Any]],
    n: NDArray[np.float64],
    shift: NDArray[np.float64],
    rng: np.random.Generator,
) -> dict[str, NDArray[Any]]:
    """Per step (row) and column: statistic, p-values, effect and verdict as the column's
    method gives them. A distance (what large references get) has no p-value and drifts
    from its threshold; a test (KS, chi-squared) has p-values, BH-adjusted across the
    tested columns, and drifts when the adjusted one is under its level."""
    numeric = np.array([c["kind"] == "numeric" for c in columns])
    tested = np.array([c["p_value"] is not None for c in columns])
    threshold = np.array([c["threshold"] for c in columns], dtype=float)
    n_eff, total = n * N_REFERENCE / (n + N_REFERENCE), n + N_REFERENCE
    drifting = shift > 0
    distance = np.abs(rng.normal(0.0, 1.0, shift.shape)) / np.sqrt(n_eff)
    distance = np.where(drifting, 0.04 + 0.3 * shift, distance)
    p_null = rng.uniform(1e-6, 1.0, shift.shape)
    moved = 0.03 + 0.2 * shift
    ks = np.where(drifting, moved, np.sqrt(-np.log(p_null / 2) / (2 * n_eff)))
    cramer = np.where(drifting, moved, np.sqrt(stats.chi2.isf(p_null, 3) / total))
    chi2 = cramer**2 * total
    p = np.where(numeric, np.minimum(1.0, 2 * np.exp(-2 * n_eff * ks**2)), stats.chi2.sf(chi2, 3))
    adjusted = np.ones_like(p)
    if tested.any():
        adjusted[:, tested] = bh(p[:, tested])
    return {
        "statistic": np.where(tested, np.where(numeric, ks, chi2), distance),
        "effect": np.where(tested, np.where(numeric, ks, cramer), distance),
        "p_value": np.where(tested, p, np.nan),
        "adjusted_p_value": np.where(tested, adjusted, np.nan),
        "drifted": np.where(tested, adjusted <= threshold, distance >= threshold),
    }


def drift_outcomes(
    plan: Plan, real: kinds.KindOutcome, steps: range, rng: np.random.Generator
) -> list[Outcome]:
    """``(status, score, summary, details)`` of the data_drift runs of ``steps``."""
    columns, quality = real.details["columns"], real.details["quality"]
    n = plan.traffic[steps.start : steps.stop, None].astype(float)
    shift = plan.drift[steps.start : steps.stop, None] * plan.drifting * plan.strength
    numbers = column_numbers(columns, n, shift, rng)
    missing = np.where(np.arange(len(columns)) % 37 == 5, rng.uniform(0, 0.04, shift.shape), 0.0)
    found: list[Outcome] = []
    for r, _ in enumerate(steps):
        count = int(n[r, 0])
        values = zip(*(numbers[key][r].tolist() for key in _NUMBERED), strict=True)
        rows = [
            filled(
                c,
                **{k: None if v != v else v for k, v in zip(_NUMBERED, found_values, strict=True)},
                n_current=count,
                n_reference=N_REFERENCE,
                unseen_share=None if c["kind"] == "numeric" else round(max(0.0, e - 0.05) / 5, 4),
            )
            for c, found_values, e in zip(
                columns, values, numbers["effect"][r].tolist(), strict=True
            )
        ]
        drifted = numbers["drifted"][r]
        quality_rows = [
            filled(q, missing_current=m) for q, m in zip(quality, missing[r].tolist(), strict=True)
        ]
        share = float(drifted.mean())
        ranked = sorted((c for c in rows if c["drifted"]), key=lambda c: -c["effect"])
        dataset = share >= DRIFT_SHARE
        summary = filled(
            real.summary,
            drift_share=share,
            dataset_drift=dataset,
            n_drifted=len(ranked),
            n_judged=len(rows),
            n_columns=len(rows),
            drifted_columns=[c["name"] for c in ranked[:20]],
            detectors=[
                filled(
                    real.summary["detectors"][0],
                    status="alarm" if dataset else "ok",
                    score=share,
                    threshold=DRIFT_SHARE,
                )
            ],
        )
        details = filled(
            real.details,
            columns=rows,
            quality=quality_rows,
            n_current=int(n[r, 0]),
            current_total_rows=int(n[r, 0]),
            n_reference=N_REFERENCE,
        )
        found.append(("alarm" if dataset else "ok", share, summary, details))
    return found


def performance_outcome(
    plan: Plan, real: kinds.KindOutcome, step: int, window: dict[str, Any], rng: np.random.Generator
) -> Outcome:
    n = int(plan.traffic[step])
    coverage = float(rng.uniform(0.6, 0.8))
    labelled = max(2, int(n * coverage))
    reference = REFERENCE_ACCURACY
    current = reference - 0.07 * plan.drift[step] + rng.normal(0, math.sqrt(0.12 / labelled))
    current = float(np.clip(current, 0.0, 1.0))
    drop = reference - current
    se = math.sqrt(current * (1 - current) / labelled + reference * (1 - reference) / N_REFERENCE)
    p_value = 0.5 * math.erfc(drop / se / math.sqrt(2))
    status = (
        "alarm"
        if p_value <= 0.05 and drop >= 0.02
        else "warning"
        if p_value <= 0.2 and drop >= 0.01
        else "ok"
    )
    result = real.details["result"]
    row = filled(real.summary["detectors"][0], status=status, score=drop)
    inner = filled(
        result["details"],
        reference=reference,
        labelled=labelled,
        predicted=n,
        coverage=coverage,
        n_reference=N_REFERENCE,
        current=current,
        difference=-drop,
        difference_ci=[-drop - 1.96 * se, -drop + 1.96 * se],
        p_value=p_value,
        current_ci=[current - 1.96 * se, min(1.0, current + 1.96 * se)],
    )
    details = filled(
        real.details, result=filled(result, status=status, score=drop, window=window, details=inner)
    )
    summary = filled(
        real.summary,
        detectors=[row],
        label_coverage=coverage,
        labelled=labelled,
        reference_value=reference,
        current_value=current,
    )
    return status, drop, summary, details


def wilson(k: int, n: int) -> list[float]:
    z, rate = 1.96, k / n
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [max(0.0, centre - half), min(1.0, centre + half)]


def failures_outcome(
    plan: Plan, real: kinds.KindOutcome, step: int, window: dict[str, Any], rng: np.random.Generator
) -> Outcome:
    n = int(plan.traffic[step])
    rate = 0.004 + (0.03 if plan.incident[step] > 0 else 0.0)
    k = int(rng.binomial(n, rate))
    low, high = wilson(k, n)
    base_k, base_n = 21, N_REFERENCE
    change = k / n - base_k / base_n
    se = math.sqrt(k / n * (1 - k / n) / n + base_k / base_n * (1 - base_k / base_n) / base_n)
    by_name = {r["detector"]: r for r in real.details["results"]}
    level = "alarm" if low > 0.01 else "warning" if k / n > 0.01 else "ok"
    grew = "alarm" if change - 1.96 * se > 0 and change >= 0.01 else "ok"
    run = int(rng.integers(1, 4))
    statuses = {
        "failures.failure_rate": (level, k / n),
        "failures.failure_rate_change": (grew, change),
        "failures.non_finite_outputs": ("ok", 0.0),
        "failures.stuck_outputs": ("ok", float(run)),
    }
    inner: dict[str, dict[str, Any]] = {
        "failures.failure_rate": {"failures": k, "requests": n, "interval": [low, high]},
        "failures.failure_rate_change": {
            "failures": k,
            "requests": n,
            "rate": k / n,
            "baseline_failures": base_k,
            "baseline_requests": base_n,
            "baseline_rate": base_k / base_n,
            "interval": [change - 1.96 * se, change + 1.96 * se],
        },
        "failures.non_finite_outputs": {"outputs": n - k},
        "failures.stuck_outputs": {
            "value": float(rng.uniform(0.5, 1.0)),
            "first_row": 0,
            "last_row": run - 1,
            "distinct_inputs": n - k,
            "outputs": n - k,
        },
    }
    results = [
        filled(
            r,
            status=statuses[name][0],
            score=statuses[name][1],
            window=window,
            details=filled(r["details"], **inner[name]),
        )
        for name, r in by_name.items()
    ]
    rows = [
        filled(d, status=statuses[d["detector"]][0], score=statuses[d["detector"]][1])
        for d in real.summary["detectors"]
    ]
    status = max((r["status"] for r in results), key=("ok", "warning", "alarm").index)
    summary = filled(real.summary, detectors=rows, failure_rate=k / n, requests=n, failures=k)
    return status, k / n, summary, filled(real.details, results=results)


def health_outcome(
    plan: Plan,
    real: kinds.KindOutcome,
    step: int,
    window: dict[str, Any],
    end: dt.datetime,
    rng: np.random.Generator,
) -> Outcome:
    n = int(plan.traffic[step])
    p95 = float(rng.normal(0.042, 0.002) + plan.incident[step] * 0.6)
    p99 = float(rng.normal(0.068, 0.004) + plan.incident[step])
    silence = float(rng.uniform(0.5, 20.0))
    last = end - dt.timedelta(seconds=silence)
    buckets = rng.multinomial(n, np.full(60, 1 / 60))
    failed = rng.binomial(buckets, 0.004 + (0.03 if plan.incident[step] > 0 else 0.0))
    worst = int(np.argmax(failed / np.maximum(buckets, 1)))
    rate = float(failed.sum() / n)
    ratio = float(failed[worst] / max(buckets[worst], 1) / rate) if rate > 0 else 0.0
    scores = {"health.latency_p95": (p95, 0.05), "health.latency_p99": (p99, 0.1)}
    statuses = {
        name: "alarm" if value > slo * 1.05 else "warning" if value > slo else "ok"
        for name, (value, slo) in scores.items()
    }
    statuses |= {"health.absence": "ok", "health.error_bursts": "ok"}
    values = {
        **{k: v for k, (v, _) in scores.items()},
        "health.absence": silence,
        "health.error_bursts": ratio,
    }
    inner: dict[str, dict[str, Any]] = {
        "health.latency_p95": {
            "interval": [p95 * 0.95, p95 * 1.06],
            "latencies": n,
            "slower_than_slo": int(n * 0.05 * p95 / 0.05),
        },
        "health.latency_p99": {
            "interval": [p99 * 0.94, p99 * 1.08],
            "latencies": n,
            "slower_than_slo": int(n * 0.01 * p99 / 0.1),
        },
        "health.absence": {"last_record": last.isoformat()},
        "health.error_bursts": {
            "requests": n,
            "failures": int(failed.sum()),
            "rate": rate,
            "bucket_requests": buckets.tolist(),
            "bucket_failures": failed.tolist(),
            "worst_bucket": filled(
                next(r for r in real.details["results"] if r["detector"] == "health.error_bursts")[
                    "details"
                ]["worst_bucket"],
                start=(end - HOUR + worst * (HOUR / 60)).isoformat(),
                index=worst,
                requests=int(buckets[worst]),
                failures=int(failed[worst]),
                p_value=float(rng.uniform(0.001, 1)),
                adjusted_p_value=float(rng.uniform(0.05, 1)),
            ),
        },
    }
    results = []
    for r in real.details["results"]:
        name = r["detector"]
        where = span(last, end, 0) if name == "health.absence" else window
        results.append(
            filled(
                r,
                status=statuses[name],
                score=values[name],
                window=where,
                details=filled(r["details"], **inner[name]),
            )
        )
    rows = [
        filled(d, status=statuses[d["detector"]], score=values[d["detector"]])
        for d in real.summary["detectors"]
    ]
    status = max(statuses.values(), key=("ok", "warning", "alarm").index)
    summary = filled(
        real.summary,
        detectors=rows,
        silence_seconds=silence,
        latency_seconds={k: v for k, (v, _) in scores.items()},
    )
    return status, p99, summary, filled(real.details, results=results)


def drafts_of(
    plan: Plan,
    real: dict[str, kinds.KindOutcome],
    steps: range,
    first: dt.datetime,
    step: dt.timedelta,
    rng: np.random.Generator,
) -> list[list[ResultDraft]]:
    """Per step of ``steps``, the results of the model's four monitors."""
    drifts = drift_outcomes(plan, real["data_drift"], steps, rng)
    found = []
    for r, s in enumerate(steps):
        start, end = first + s * step, first + (s + 1) * step
        n = int(plan.traffic[s])
        window = span(start, end, n)
        outcomes = {
            "data_drift": drifts[r],
            "performance": performance_outcome(plan, real["performance"], s, window, rng),
            "failures": failures_outcome(plan, real["failures"], s, window, rng),
            "health": health_outcome(plan, real["health"], s, window, end, rng),
        }
        drafts = []
        for kind, outcome in outcomes.items():
            monitor = plan.monitors[f"{plan.name}-{SUFFIX[kind]}"]
            low, high = (0.08, 0.3) if kind == "data_drift" else (0.004, 0.03)
            status, score, size, summary, details = as_stored(outcome, n, plan.failed[kind] == s)
            drafts.append(
                ResultDraft(
                    monitor.id,
                    start,
                    end,
                    status,
                    score,
                    size,
                    summary,
                    details,
                    float(rng.uniform(low, high)),
                )
            )
        found.append(drafts)
    return found


def as_stored(
    outcome: Outcome, n: int, failed: bool
) -> tuple[ResultStatus, float | None, int, dict[str, Any], dict[str, Any] | None]:
    """``(status, score, sample size, summary, details)`` as the runner stores the run: a
    window with too few records, or a failed run, keeps no details."""
    if n < MIN_SAMPLES:
        reason = f"{n} records in the window, the monitor needs at least {MIN_SAMPLES}"
        summary = {"reason": f"{reason} (min_samples)", "records": n, "min_samples": MIN_SAMPLES}
        return "insufficient_data", None, n, summary, None
    if failed:
        error = "database unreachable: connection refused (127.0.0.1:5432)"
        return "error", None, 0, {"error": error, "type": "DatabaseConnectionError"}, None
    status, score, summary, details = outcome
    return cast(ResultStatus, status), score, n, summary, details


def row_of(draft: ResultDraft, computed_at: dt.datetime) -> dict[str, Any]:
    return {
        "monitor_id": draft.monitor_id,
        "window_start": draft.window_start,
        "window_end": draft.window_end,
        "status": draft.status,
        "score": draft.score,
        "sample_size": draft.sample_size,
        "summary": draft.summary,
        "details": draft.details,  # None is stored as JSON null, as save_result does
        "computed_at": computed_at,
        "duration_seconds": draft.duration_seconds,
    }


# -- seeding ----------------------------------------------------------------------------------


class Alerting:
    """The real alerting service fed the seeded results in time order.

    The pure :func:`evaluate` shadows each rule's alert, so the service (and its database
    work) runs only on results that can change an alert, and notification ticks only while
    an alert is firing or has just resolved: what the service writes is the same.
    """

    def __init__(self, project: Project, monitors: dict[str, MonitorInfo]) -> None:
        self.now = dt.datetime.now(dt.UTC)
        self.service = AlertingService(project, clock=lambda: self.now)
        by_name = {m.name: m for m in monitors.values()}
        self.rules: dict[int, list[AlertRuleSpec]] = {}
        for rule in project.alert_rules:
            self.rules.setdefault(by_name[rule.monitor].id, []).append(rule)
        self.monitors = {m.id: m for m in monitors.values()}
        self.shadow: dict[str, AlertRecord] = {}

    def step(self, connection: Connection, drafts: Sequence[ResultDraft]) -> None:
        """Apply the results of one window (of every model), then tick the notifications."""
        settled = False
        for draft in drafts:
            info = self.monitors[draft.monitor_id]
            facts = ResultFacts.of(info, draft)
            touched = False
            for rule in self.rules.get(draft.monitor_id, ()):
                before = self.shadow.pop(rule.name, None)
                outcome = evaluate(rule, facts, before)
                touched |= before is not None or outcome.record is not None
                settled |= outcome.event == "resolved"
                if outcome.record is not None and outcome.record.state != "resolved":
                    self.shadow[rule.name] = outcome.record
            if touched:
                self.now = draft.window_end + dt.timedelta(seconds=61)
                self.service.after_result(connection, info, draft)
        firing = any(record.state == "firing" for record in self.shadow.values())
        if drafts and (firing or settled):
            for after in (dt.timedelta(minutes=1), dt.timedelta(minutes=6)):
                self.now = drafts[0].window_end + after
                self.service.notify(connection, now=self.now)


def seed(
    engine: Engine,
    *,
    models: int = 3,
    features: int = 200,
    days: int = 90,
    hourly: bool = True,
    seed: int = 0,
    end: dt.datetime | None = None,
) -> None:
    """Write ``models`` models' monitors, results, alerts and deliveries (module notes).

    ``end``: the end of the last window, by default the start of the current hour (UTC).
    The database must be migrated and must not hold these models yet.
    """
    rng = np.random.default_rng(seed)
    step, per_day = (HOUR, 24) if hourly else (DAY, 1)
    last = end or dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    steps = days * per_day
    first = last - steps * step
    names = [f"model{m:02d}" for m in range(models)]
    specs = feature_specs(features)
    project = project_of(names, specs, step, (first - 8 * DAY, first - DAY))
    monitors = declare(engine, project, specs)
    real = real_outcomes(project, specs, rng)
    plans = [
        plan_of(n, monitors, steps, per_day, features, rng, ongoing=i == 0)
        for i, n in enumerate(names)
    ]
    alerting = Alerting(project, monitors)
    for chunk in range(0, steps, per_day):
        window_steps = range(chunk, min(steps, chunk + per_day))
        per_plan = [drafts_of(p, real, window_steps, first, step, rng) for p in plans]
        rows = [
            row_of(d, d.window_end + dt.timedelta(seconds=60 + (d.duration_seconds or 0)))
            for drafts in per_plan
            for at_step in drafts
            for d in at_step
        ]
        with engine.begin() as connection:
            connection.execute(sa.insert(MonitorResult), rows)
        for r, _ in enumerate(window_steps):
            with engine.begin() as connection:
                alerting.step(connection, [d for drafts in per_plan for d in drafts[r]])
    deliver(engine, rng)
    with engine.begin() as connection:  # the statistics a live database would have
        connection.execute(sa.text("ANALYZE"))


def deliver(engine: Engine, rng: np.random.Generator) -> None:
    """Attempts for every queued delivery: delivered, after a retry, or dead."""
    lease = dt.timedelta(minutes=1)
    far = dt.datetime.now(dt.UTC) + 1000 * DAY
    claimed = claim_due_deliveries(engine, now=far, limit=100_000, lease=lease)
    retried = []
    for n, delivery in enumerate(claimed):
        at = delivery.created_at + dt.timedelta(seconds=float(rng.uniform(0.2, 2.0)))
        took = float(rng.uniform(0.05, 0.4))
        if n == len(claimed) // 2:
            finish_attempt(
                engine,
                delivery,
                outcome="dead",
                now=at,
                status_code=410,
                error="410 Gone: no such receiver",
                seconds=took,
            )
        elif rng.uniform() < 0.15:
            finish_attempt(
                engine,
                delivery,
                outcome="retry",
                now=at,
                status_code=503,
                error="503 Service Unavailable",
                seconds=took,
                retry_at=at + dt.timedelta(seconds=30),
            )
            retried.append(delivery.id)
        else:
            finish_attempt(
                engine, delivery, outcome="delivered", now=at, status_code=200, seconds=took
            )
    for delivery in claim_due_deliveries(engine, now=far, limit=100_000, lease=lease):
        at = delivery.next_attempt_at - lease + dt.timedelta(seconds=1)
        finish_attempt(engine, delivery, outcome="delivered", now=at, status_code=202, seconds=0.1)


# -- timing -----------------------------------------------------------------------------------


def median_ms(query: Callable[[], object], repeat: int = 5) -> float:
    query()  # warm: connection pool, statement cache
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        query()
        runs.append(time.perf_counter() - began)
    return 1000 * statistics.median(runs)


def timings(engine: Engine) -> list[tuple[str, float, str]]:
    """``(query, median ms, note)`` of the dashboard's queries on the first model."""
    overview = dashboard.model_overviews(engine)[0]
    name = overview.name
    ids = [m.id for m in overview.monitors]
    drift = next(m for m in overview.monitors if m.kind == "data_drift")
    assert drift.latest is not None
    end = drift.latest.window_end
    days = round(
        (
            end
            - dashboard.result_series(engine, [drift.id], start=None, end=None)[drift.id][
                0
            ].window_start
        )
        / DAY
    )
    newest = dashboard.result_detail(engine, drift.id)
    assert newest is not None
    assert newest.details is not None
    columns = newest.details["columns"]
    feature = columns[len(columns) // 5]["name"]
    alerts = dashboard.model_alerts(engine, name, start=None, end=None)
    worst = sorted(alerts, key=lambda a: dashboard.SEVERITIES.index(a.severity))
    fingerprint = worst[0].alert.fingerprint if worst else "none"
    episodes = [a.alert.id or 0 for a in dashboard.alerts_by_fingerprint(engine, fingerprint)]
    every_drift = [
        m.id
        for o in dashboard.model_overviews(engine)
        for m in o.monitors
        if m.kind == "data_drift"
    ]
    series = dashboard.result_series(engine, ids, start=None, end=None)
    cases: list[tuple[str, Callable[[], object], str]] = [
        ("model_overviews", lambda: dashboard.model_overviews(engine), "every model"),
        ("model_overview", lambda: dashboard.model_overview(engine, name), ""),
        (
            "result_series, 7 days",
            lambda: dashboard.result_series(engine, ids, start=end - 7 * DAY, end=end),
            "4 monitors",
        ),
        (
            f"result_series, {days} days",
            lambda: dashboard.result_series(engine, ids, start=None, end=None),
            f"{sum(map(len, series.values())):,} points",
        ),
        (
            "result_series, 7 days, every drift monitor",
            lambda: dashboard.result_series(engine, every_drift, start=end - 7 * DAY, end=end),
            f"{len(every_drift)} monitors",
        ),
        ("result_detail, newest drift", lambda: dashboard.result_detail(engine, drift.id), ""),
        (
            "details_history, limit 30",
            lambda: dashboard.details_history(engine, drift.id, until=end, limit=30),
            "drift details",
        ),
        (
            "details_history, limit 500",
            lambda: dashboard.details_history(engine, drift.id, until=end, limit=500),
            "drift details",
        ),
        (
            "feature_history, limit 30",
            lambda: dashboard.feature_history(engine, drift.id, feature, until=end, limit=30),
            "one feature",
        ),
        (
            "feature_history, limit 500",
            lambda: dashboard.feature_history(engine, drift.id, feature, until=end, limit=500),
            "one feature",
        ),
        (
            f"model_alerts, {days} days",
            lambda: dashboard.model_alerts(engine, name, start=None, end=None),
            f"{len(alerts)} alerts",
        ),
        (
            "alerts_by_fingerprint",
            lambda: dashboard.alerts_by_fingerprint(engine, fingerprint),
            f"{len(episodes)} episodes",
        ),
        (
            "deliveries_for_alerts",
            lambda: dashboard.deliveries_for_alerts(engine, episodes),
            f"{len(dashboard.deliveries_for_alerts(engine, episodes))} deliveries",
        ),
    ]
    return [(label, median_ms(query), note) for label, query, note in cases]


def sizes(engine: Engine) -> str:
    with engine.connect() as connection:
        results = connection.execute(sa.select(sa.func.count()).select_from(MonitorResult)).scalar()
        monitors = connection.execute(sa.select(sa.func.count()).select_from(Monitor)).scalar()
        detail = connection.execute(
            sa.select(sa.func.max(sa.func.length(sa.cast(MonitorResult.details, sa.Text))))
        ).scalar()
    deliveries = len(list_deliveries(engine, limit=100_000))
    return (
        f"{results:,} results of {monitors} monitors, {deliveries} deliveries; "
        f"largest details {(detail or 0) / 1024:.0f} KiB of JSON"
    )


@contextmanager
def database(args: argparse.Namespace) -> Iterator[Engine]:
    if args.fresh_postgres:
        with fresh_postgres(args.fresh_postgres) as engine:
            yield engine
        return
    engine = create_engine(args.database_url)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--database-url", help="seed this database and keep it")
    where.add_argument("--fresh-postgres", metavar="URL", help="seed a throwaway database")
    parser.add_argument("--models", type=int, default=3)
    parser.add_argument("--features", type=int, default=200)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--daily", action="store_true", help="daily windows, not hourly")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument(
        "--time-only", action="store_true", help="time the queries on a database seeded before"
    )
    args = parser.parse_args()
    with database(args) as engine:
        if args.time_only:
            print_timings(engine)
            return
        began = time.perf_counter()
        seed(
            engine,
            models=args.models,
            features=args.features,
            days=args.days,
            hourly=not args.daily,
            seed=args.seed,
        )
        seconds = time.perf_counter() - began
        print(f"{engine.dialect.name}: seeded in {seconds:.1f} s: {sizes(engine)}", flush=True)
        if not args.no_timing:
            gc.collect()  # what seeding left behind is not the dashboard's to collect
            print_timings(engine)


def print_timings(engine: Engine) -> None:
    print(f"Machine: {machine(f'{engine.dialect.name} on this machine')}.\n")
    print("| query | median of 5, ms | note |\n| --- | ---: | --- |")
    for label, ms, note in timings(engine):
        flag = "" if ms < 100 else " (over 100 ms)"
        print(f"| {label} | {ms:.1f}{flag} | {note} |")


if __name__ == "__main__":
    main()
