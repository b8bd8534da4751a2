"""data_drift: feature columns of a window against the reference's."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from monitor.kinds import KindOutcome, prepare, run
from storage import Window
from tests.unit.monitor.kinds.windows import (
    START,
    assert_outcome_json,
    make_spec,
    make_window,
)

TASK = "binary_classification"
NOW = START + dt.timedelta(hours=1)


def features(
    n: int,
    seed: int,
    *,
    shift: float = 0.0,
    plan_shares: tuple[float, float, float] = (0.5, 0.3, 0.2),
    names: tuple[str, ...] = ("age", "income", "score"),
) -> Window:
    rng = np.random.default_rng(seed)
    numeric = rng.normal(size=(n, len(names)))
    if len(names) > 1:
        numeric[:, 1] += shift  # only "income" moves
    plan = rng.choice(3, size=n, p=plan_shares).astype(float)
    return make_window(
        n,
        numeric=numeric,
        numeric_names=names,
        categorical=plan[:, np.newaxis],
        categorical_names=("plan",),
    )


def check(reference: Window, current: Window, **params: object) -> KindOutcome:
    spec = make_spec("data_drift", dict(params))
    prepared = prepare(spec, reference, task=TASK)
    return run(spec, prepared, current, task=TASK, now=NOW, state=None)


def test_same_distribution_is_ok() -> None:
    spec = make_spec("data_drift")
    prepared = prepare(spec, features(800, 1), task=TASK)

    outcome = run(spec, prepared, features(600, 2), task=TASK, now=NOW, state=None)

    assert outcome.status == "ok"
    assert outcome.summary["drifted_columns"] == []
    assert outcome.score == 0.0
    assert [c["name"] for c in outcome.details["columns"]] == ["age", "income", "score", "plan"]
    assert outcome.state is None
    assert_outcome_json(outcome)


def test_a_shifted_feature_is_reported_drifted() -> None:
    spec = make_spec("data_drift", {"drift_share": 0.25})
    prepared = prepare(spec, features(800, 1), task=TASK)

    outcome = run(spec, prepared, features(600, 2, shift=0.8), task=TASK, now=NOW, state=None)

    assert outcome.status == "alarm"
    assert outcome.summary["drifted_columns"] == ["income"]
    assert outcome.summary["n_drifted"] == 1
    assert outcome.score == pytest.approx(0.25)
    income = next(c for c in outcome.details["columns"] if c["name"] == "income")
    assert income["drifted"] is True
    assert income["method"] == "ks"
    assert income["adjusted_p_value"] < 0.05
    assert outcome.summary["detectors"][0] == {
        "detector": "data_drift.share",
        "status": "alarm",
        "score": 0.25,
        "threshold": 0.25,
    }
    assert_outcome_json(outcome)


def test_one_drifted_column_of_four_stays_below_the_default_share() -> None:
    spec = make_spec("data_drift")
    prepared = prepare(spec, features(800, 1), task=TASK)

    outcome = run(spec, prepared, features(600, 2, shift=0.8), task=TASK, now=NOW, state=None)

    assert outcome.status == "ok"
    assert outcome.summary["drifted_columns"] == ["income"]


def test_a_categorical_shift_is_compared_by_code() -> None:
    spec = make_spec("data_drift", {"drift_share": 0.25})
    prepared = prepare(spec, features(800, 1), task=TASK)
    current = features(600, 2, plan_shares=(0.2, 0.3, 0.5))

    outcome = run(spec, prepared, current, task=TASK, now=NOW, state=None)

    assert outcome.status == "alarm"
    assert outcome.summary["drifted_columns"] == ["plan"]
    plan = next(c for c in outcome.details["columns"] if c["name"] == "plan")
    assert (plan["kind"], plan["method"], plan["unseen_share"]) == ("categorical", "chi2", 0.0)


def test_features_restrict_the_columns() -> None:
    spec = make_spec("data_drift", {"drift_share": 0.25}, features=["age", "plan"])
    prepared = prepare(spec, features(800, 1), task=TASK)

    outcome = run(spec, prepared, features(600, 2, shift=3.0), task=TASK, now=NOW, state=None)

    assert [c["name"] for c in outcome.details["columns"]] == ["age", "plan"]
    assert outcome.status == "ok"


def test_columns_on_one_side_only_are_listed_and_the_rest_compared() -> None:
    reference = features(800, 1, names=("age", "income", "tenure"))
    current = features(600, 2, shift=0.8, names=("age", "income", "clicks"))
    spec = make_spec("data_drift", {"drift_share": 0.3}, features=["age", "income", "tenure", "x"])
    prepared = prepare(spec, reference, task=TASK)

    outcome = run(spec, prepared, current, task=TASK, now=NOW, state=None)

    assert [c["name"] for c in outcome.details["columns"]] == ["age", "income"]
    assert outcome.details["missing_columns"] == [
        {"name": "tenure", "missing_from": "current"},
        {"name": "x", "missing_from": "both"},
    ]
    assert outcome.summary["n_missing_columns"] == 2
    assert outcome.status == "alarm"  # 1 of 2 columns drifted


def test_a_column_only_in_the_window_is_missing_from_the_reference() -> None:
    reference = features(800, 1, names=("age", "income"))
    current = features(600, 2, names=("age", "income", "clicks"))
    spec = make_spec("data_drift")

    outcome = run(
        spec, prepare(spec, reference, task=TASK), current, task=TASK, now=NOW, state=None
    )

    assert outcome.details["missing_columns"] == [{"name": "clicks", "missing_from": "reference"}]


def test_a_forced_test_applies_to_the_columns_it_can_compare() -> None:
    outcome = check(features(800, 1), features(600, 2), test="ks", threshold=0.01)

    methods = {c["name"]: (c["method"], c["threshold"]) for c in outcome.details["columns"]}
    assert methods == {
        "age": ("ks", 0.01),
        "income": ("ks", 0.01),
        "score": ("ks", 0.01),
        "plan": ("chi2", 0.05),  # ks cannot compare categories: the policy's choice stays
    }


def test_a_distance_applies_to_every_column() -> None:
    outcome = check(features(800, 1), features(600, 2), test="psi", threshold=0.3)

    assert {c["method"] for c in outcome.details["columns"]} == {"psi"}


def test_a_too_small_reference_is_insufficient_data() -> None:
    spec = make_spec("data_drift")
    prepared = prepare(spec, features(12, 1), task=TASK)

    outcome = run(spec, prepared, features(600, 2), task=TASK, now=NOW, state=None)

    assert outcome.status == "insufficient_data"
    assert outcome.score is None
    assert outcome.summary["reason"] == "reference has 12 rows, needs at least 30"
    assert_outcome_json(outcome)


def test_no_common_column_is_insufficient_data() -> None:
    spec = make_spec("data_drift")
    prepared = prepare(spec, features(100, 1, names=("a",)), task=TASK)
    current = make_window(100, numeric=np.zeros((100, 1)), numeric_names=("b",))

    outcome = run(spec, prepared, current, task=TASK, now=NOW, state=None)

    assert outcome.status == "insufficient_data"
    assert "no feature column is in both" in outcome.summary["reason"]


def test_columns_without_values_are_insufficient_data() -> None:
    spec = make_spec("data_drift")
    prepared = prepare(spec, features(100, 1, names=("a",)), task=TASK)
    current = make_window(
        100,
        numeric=np.full((100, 1), np.nan),
        numeric_names=("a",),
        categorical=np.full((100, 1), np.nan),
        categorical_names=("plan",),
    )

    outcome = run(spec, prepared, current, task=TASK, now=NOW, state=None)

    assert outcome.status == "insufficient_data"
    assert outcome.summary["reason"].startswith("no column has values")
    assert outcome.details["quality"][0]["missing_current"] == 1.0


def test_the_multivariate_check_is_reported_apart() -> None:
    outcome = check(features(2000, 1), features(2000, 2), multivariate=True)

    assert [d["detector"] for d in outcome.summary["detectors"]] == [
        "data_drift.share",
        "data_drift.domain_classifier",
    ]
    assert outcome.summary["detectors"][1]["status"] == "ok"
    assert outcome.details["multivariate"]["method"] == "domain_classifier"


def test_runs_are_reproducible_on_sampled_windows() -> None:
    spec = make_spec("data_drift", sample_limit=1000)
    prepared = prepare(spec, features(3000, 1), task=TASK)
    current = features(2500, 2, shift=0.1)

    first = run(spec, prepared, current, task=TASK, now=NOW, state=None)
    second = run(spec, prepared, current, task=TASK, now=NOW, state=None)

    assert first == second
    assert {c["n_current"] for c in first.details["columns"]} == {1000}


def test_a_prepared_reference_is_refused_for_another_spec() -> None:
    prepared = prepare(make_spec("data_drift"), features(100, 1), task=TASK)
    other = make_spec("data_drift", {"drift_share": 0.2})

    with pytest.raises(ValueError, match="prepare it again"):
        run(other, prepared, features(100, 2), task=TASK, now=NOW, state=None)
