"""The alert state machine on streams of monitor results: ``for``, ``keep_firing_for``, gaps."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from monitor.alerting.evaluation import AlertRecord, Evaluation, alert_labels, evaluate
from monitor.alerting.fingerprint import fingerprint
from monitor.project.alert_rules import AlertRuleSpec
from tests.unit.monitor.alerting.results import STEP, T0, Result, drift, make_rule

HIGH, LOW = 0.4, 0.1
Step = tuple[str | None, str | None]  # (event, state after)


def feed(
    rule: AlertRuleSpec,
    shares: Sequence[float | None],
    *,
    times: Sequence[dt.datetime] | None = None,
) -> list[Step]:
    """Evaluate one result per share (None: insufficient data), one STEP apart."""
    moments = times or [T0 + index * STEP for index in range(len(shares))]
    previous: AlertRecord | None = None
    steps: list[Step] = []
    for share, at in zip(shares, moments, strict=True):
        outcome = evaluate(rule, drift(share, at), previous)
        previous = outcome.record
        steps.append((outcome.event, previous.state if previous else None))
    return steps


def last(rule: AlertRuleSpec, shares: Sequence[float | None]) -> Evaluation:
    previous: AlertRecord | None = None
    outcome = Evaluation(None, None, None, None)
    for index, share in enumerate(shares):
        outcome = evaluate(rule, drift(share, T0 + index * STEP), previous)
        previous = outcome.record
    return outcome


def test_without_for_an_alert_fires_on_the_first_true_result() -> None:
    steps = feed(make_rule(), [LOW, HIGH, HIGH, LOW, LOW])

    assert steps == [
        (None, None),
        ("firing", "firing"),
        (None, "firing"),
        ("resolved", "resolved"),
        (None, "resolved"),
    ]


def test_for_is_measured_on_window_ends() -> None:
    rule = make_rule(**{"for": "30m"})

    assert feed(rule, [HIGH, HIGH, HIGH]) == [
        ("pending", "pending"),
        (None, "pending"),
        ("firing", "firing"),
    ]
    record = last(rule, [HIGH, HIGH, HIGH]).record
    assert record is not None
    assert (record.active_since, record.fired_at) == (T0, T0 + 2 * STEP)
    assert record.last_true_at == T0 + 2 * STEP


def test_for_counts_time_not_results() -> None:
    rule = make_rule(**{"for": "30m"})
    times = [T0, T0 + dt.timedelta(hours=2)]

    assert feed(rule, [HIGH, HIGH], times=times) == [("pending", "pending"), ("firing", "firing")]


def test_a_pending_alert_that_stops_holding_is_cleared() -> None:
    rule = make_rule(**{"for": "30m"})

    assert feed(rule, [HIGH, LOW, HIGH]) == [
        ("pending", "pending"),
        ("cleared", None),
        ("pending", "pending"),
    ]
    assert last(rule, [HIGH, LOW, HIGH]).record.active_since == T0 + 2 * STEP  # type: ignore[union-attr]


def test_keep_firing_for_delays_resolution() -> None:
    rule = make_rule(keep_firing_for="30m")

    assert feed(rule, [HIGH, LOW, LOW, LOW]) == [
        ("firing", "firing"),
        (None, "firing"),
        ("resolved", "resolved"),
        (None, "resolved"),
    ]
    outcome = last(rule, [HIGH, LOW, LOW])
    assert outcome.record is not None
    assert outcome.record.resolved_at == T0 + 2 * STEP
    assert outcome.record.value == LOW  # the value that resolved it


def test_a_kept_alert_keeps_its_last_true_value() -> None:
    outcome = last(make_rule(keep_firing_for="1h"), [HIGH, 0.5, LOW])

    assert outcome.record is not None
    assert (outcome.record.state, outcome.record.value, outcome.value) == ("firing", 0.5, LOW)
    assert outcome.holds is False


def test_a_flapping_condition_covered_by_keep_firing_for_fires_once() -> None:
    # True results 30m apart: keep_firing_for 30m covers the gap.
    steps = feed(make_rule(keep_firing_for="30m"), [HIGH, LOW] * 6)

    assert [event for event, _ in steps if event is not None] == ["firing"]
    assert steps[-1] == (None, "firing")


def test_keep_firing_for_counts_from_the_last_true_window_end() -> None:
    # A false result 15m after the last true one: false for 15m, which is keep_firing_for.
    steps = feed(make_rule(keep_firing_for="15m"), [HIGH, LOW, HIGH])

    assert [event for event, _ in steps] == ["firing", "resolved", "firing"]


def test_a_flapping_condition_without_keep_firing_for_fires_each_time() -> None:
    steps = feed(make_rule(), [HIGH, LOW] * 3)

    assert [event for event, _ in steps] == ["firing", "resolved"] * 3


def test_a_resolved_alert_that_holds_again_starts_a_new_pending_period() -> None:
    rule = make_rule(**{"for": "15m"})
    shares = [HIGH, HIGH, LOW, HIGH, HIGH]

    assert feed(rule, shares) == [
        ("pending", "pending"),
        ("firing", "firing"),
        ("resolved", "resolved"),
        ("pending", "pending"),
        ("firing", "firing"),
    ]
    record = last(rule, shares).record
    assert record is not None
    assert (record.active_since, record.fired_at, record.resolved_at) == (
        T0 + 3 * STEP,
        T0 + 4 * STEP,
        None,
    )


@pytest.mark.parametrize(
    ("shares", "expected_state"),
    [
        ([HIGH, None, None], "pending"),
        ([HIGH, HIGH, HIGH, None, None], "firing"),
        ([HIGH, HIGH, HIGH, LOW, None], "resolved"),
        ([None, None], None),
    ],
)
def test_insufficient_data_keeps_the_state(
    shares: list[float | None], expected_state: str | None
) -> None:
    steps = feed(make_rule(**{"for": "30m"}), shares)

    assert steps[-1] == (None, expected_state)
    outcome = last(make_rule(**{"for": "30m"}), shares)
    assert (outcome.value, outcome.holds) == (None, None)


def test_time_runs_on_during_insufficient_data() -> None:
    rule = make_rule(**{"for": "30m"})

    assert feed(rule, [HIGH, None, HIGH])[-1] == ("firing", "firing")


def test_an_older_window_rerun_is_ignored() -> None:
    rule = make_rule()
    firing = last(rule, [HIGH, HIGH]).record
    assert firing is not None

    outcome = evaluate(rule, drift(LOW, T0), firing)

    assert outcome.record is firing
    assert (outcome.event, outcome.value, outcome.holds) == (None, LOW, False)


def test_the_same_result_twice_changes_nothing_more() -> None:
    rule = make_rule()
    first = evaluate(rule, drift(HIGH), None)
    again = evaluate(rule, drift(HIGH), first.record)

    assert first.event == "firing"
    assert again.event is None
    assert again.record == first.record


def test_labels_fingerprint_and_annotations() -> None:
    rule = make_rule(
        condition={"metric": "drift_share", "op": ">", "value": 0.1},
        labels={"team": "risk"},
        severity="critical",
        annotations={
            "summary": "Drift {{ value }} > {{ threshold }} on {{ model }}/{{ monitor }}",
            "window": "{{ window_start }} to {{ window_end }} ({{ rule }}, {{ severity }})",
        },
    )

    record = evaluate(rule, drift(0.123456789), None).record

    assert record is not None
    assert dict(record.labels) == {
        "alertname": "drift-high",
        "model": "credit-risk",
        "monitor": "credit-drift",
        "severity": "critical",
        "team": "risk",
    }
    assert record.fingerprint == fingerprint(record.labels)
    assert record.labels == alert_labels(rule, model="credit-risk", monitor="credit-drift")
    assert dict(record.annotations) == {
        "summary": "Drift 0.123457 > 0.1 on credit-risk/credit-drift",
        "window": "2026-03-02T08:45:00Z to 2026-03-02T09:00:00Z (drift-high, critical)",
    }


def test_feature_metrics_name_their_feature() -> None:
    rule = make_rule(
        condition={"metric": "feature.income.drifted", "op": "==", "value": 1},
        annotations={"summary": "{{ feature }} drifted ({{ metric }} {{ op }} {{ threshold }})"},
    )
    details = {"columns": [{"name": "income", "drifted": True, "effect": 0.4}]}
    result = Result(status="alarm", summary={}, details=details)

    record = evaluate(rule, result, None).record

    assert record is not None
    assert record.annotations["summary"] == "income drifted (feature.income.drifted == 1)"


def test_inputs_are_checked() -> None:
    rule = make_rule()
    with pytest.raises(ValueError, match="rule 'drift-high' watches monitor 'credit-drift', got"):
        evaluate(rule, dataclasses.replace(drift(HIGH), monitor_name="other"), None)
    naive = dataclasses.replace(drift(HIGH), window_end=dt.datetime(2026, 3, 2))
    with pytest.raises(ValueError, match="window_end must be timezone-aware"):
        evaluate(rule, naive, None)
    record = evaluate(make_rule(name="other"), drift(HIGH), None).record
    with pytest.raises(ValueError, match=r"previous record is alert \w+ of rule 'other'"):
        evaluate(rule, drift(HIGH), record)


# --- properties over arbitrary streams --------------------------------------------------

VALUES = st.sampled_from([HIGH, LOW, None])
# Gaps of one or two steps against keep_firing_for of 0 to 4 steps: true results both within
# and beyond keep_firing_for of each other are frequent.
STREAMS = st.lists(st.tuples(st.integers(1, 2), VALUES), max_size=40)
FLAPPING = [(1, HIGH), (1, LOW), (1, HIGH), (2, LOW), (1, HIGH)]
ALLOWED = {
    None: {"pending", "firing"},
    "pending": {"firing", "cleared"},
    "firing": {"resolved"},
    "resolved": {"pending", "firing"},
}


def _run(rule: AlertRuleSpec, stream: Sequence[tuple[int, float | None]]) -> list[Step]:
    times, shares = [], []
    moment = T0
    for gap, share in stream:
        moment += gap * STEP
        times.append(moment)
        shares.append(share)
    return feed(rule, shares, times=times)


def _true_clusters(stream: list[tuple[int, float | None]], keep: dt.timedelta) -> int:
    """Runs of true results whose consecutive window ends are at most ``keep`` apart."""
    clusters, moment, last_true = 0, T0, None
    for gap, share in stream:
        moment += gap * STEP
        if share == HIGH:
            if last_true is None or moment - last_true > keep:
                clusters += 1
            last_true = moment
    return clusters


@settings(max_examples=300)
@given(STREAMS, st.integers(0, 4), st.integers(0, 3))
@example(FLAPPING, 2, 0)
@example(FLAPPING, 1, 0)
def test_firing_transitions_never_exceed_the_runs_of_true(
    stream: list[tuple[int, float | None]], keep_steps: int, for_steps: int
) -> None:
    keep = keep_steps * STEP
    rule = make_rule(keep_firing_for=f"{keep_steps * 15}m", **{"for": f"{for_steps * 15}m"})

    steps = _run(rule, stream)

    firings = sum(event == "firing" for event, _ in steps)
    assert firings <= _true_clusters(stream, keep)


@settings(max_examples=200)
@given(STREAMS, st.integers(0, 4), st.integers(0, 3))
def test_events_follow_the_state_machine(
    stream: list[tuple[int, float | None]], keep_steps: int, for_steps: int
) -> None:
    rule = make_rule(keep_firing_for=f"{keep_steps * 15}m", **{"for": f"{for_steps * 15}m"})

    state: str | None = None
    for event, after in _run(rule, stream):
        if event is None:
            assert after == state
        else:
            assert event in ALLOWED[state]
            assert after == (None if event == "cleared" else event)
        state = after


@settings(max_examples=200)
@given(STREAMS, st.lists(st.integers(0, 40), max_size=5))
def test_insufficient_results_change_no_event(
    stream: list[tuple[int, float | None]], positions: list[int]
) -> None:
    """Unknown results inserted anywhere (without moving the others) change nothing."""
    rule = make_rule(keep_firing_for="30m", **{"for": "15m"})
    known: list[tuple[int, float | None]] = [
        (gap * 2, share) for gap, share in stream if share is not None
    ]
    padded = list(known)
    for position in sorted(set(positions), reverse=True):
        if position < len(padded):
            gap, share = padded[position]
            padded[position : position + 1] = [(1, None), (gap - 1, share)]

    expected = [step for step in _run(rule, known) if step[0] is not None]
    got = [step for step in _run(rule, padded) if step[0] is not None]

    assert got == expected
