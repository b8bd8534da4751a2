"""health: latency quantiles, silence and error bursts."""

from __future__ import annotations

import datetime as dt

import numpy as np

from monitor.kinds import KindOutcome, prepare, run
from storage import Window
from tests.unit.monitor.kinds.windows import (
    HOUR,
    START,
    assert_outcome_json,
    make_spec,
    make_window,
)

END = START + HOUR


def traffic(n: int = 3000, *, slow: float = 1.0, burst: bool = False) -> Window:
    rng = np.random.default_rng(7)
    latency = rng.lognormal(np.log(0.010 * slow), 0.4, n)
    status = (rng.random(n) < 0.01).astype(int)
    if burst:  # the minute 09:30 fails one time in three
        minute = np.arange(n) * 60 // n
        status = np.where((minute == 30) & (rng.random(n) < 0.33), 1, status)
    return make_window(n, latency_seconds=latency, status=status)


def check(current: Window, *, now: dt.datetime = END, **params: object) -> KindOutcome:
    spec = make_spec("health", dict(params), reference=None)
    prepared = prepare(spec, None, task="regression")
    return run(spec, prepared, current, task="regression", now=now, state=None)


def test_a_fast_recent_window_is_ok_and_scores_its_p99() -> None:
    current = traffic()

    outcome = check(current, p50_slo=0.02, p99_slo=0.05)

    assert outcome.status == "ok"
    assert [d["detector"] for d in outcome.summary["detectors"]] == [
        "health.latency_p50",
        "health.latency_p99",
        "health.absence",
        "health.error_bursts",
    ]
    assert outcome.score == float(np.quantile(current.latency_seconds, 0.99))
    assert outcome.summary["headline"] == "health.latency_p99"
    assert_outcome_json(outcome)


def test_the_highest_quantile_asked_is_the_score() -> None:
    current = traffic()

    outcome = check(current, p50_slo=0.02)

    assert outcome.score == float(np.quantile(current.latency_seconds, 0.5))


def test_slow_requests_alarm() -> None:
    outcome = check(traffic(slow=3.0), p95_slo=0.03)

    assert outcome.status == "alarm"
    assert outcome.summary["detectors"][0] == {
        "detector": "health.latency_p95",
        "status": "alarm",
        "score": outcome.score,
        "threshold": 0.03,
    }


def test_a_long_silence_alarms() -> None:
    outcome = check(traffic(), now=END + dt.timedelta(minutes=10), p99_slo=1.0)

    rows = {d["detector"]: d for d in outcome.summary["detectors"]}
    assert rows["health.absence"]["status"] == "alarm"
    assert outcome.summary["silence_seconds"] > 600
    assert outcome.status == "alarm"


def test_a_short_silence_limit_is_a_param() -> None:
    late = END + dt.timedelta(minutes=2)

    relaxed = check(traffic(), now=late, p99_slo=1.0)
    strict = check(traffic(), now=late, p99_slo=1.0, max_silence_seconds=90)

    assert relaxed.status == "ok"
    assert strict.status == "alarm"


def test_an_error_burst_alarms() -> None:
    outcome = check(traffic(burst=True), p99_slo=1.0)

    rows = {d["detector"]: d for d in outcome.summary["detectors"]}
    assert rows["health.error_bursts"]["status"] == "alarm"
    bursts = outcome.details["results"][-1]["details"]["bursts"]
    assert bursts == ["2026-03-02T09:30:00+00:00"]
