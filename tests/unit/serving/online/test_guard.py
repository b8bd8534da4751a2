"""The guard: quiet on noise and improvement, an alarm on a significant drop."""

from __future__ import annotations

import numpy as np
import pytest

from serving.online.config import GuardConfig, OnlineConfigError
from serving.online.guard import Guard


def _feed(guard: Guard, losses: np.ndarray) -> list[tuple[int, str]]:
    alarms = []
    for start in range(0, len(losses), 32):
        alarm = guard.observe(losses[start : start + 32])
        if alarm is not None:
            alarms.append((start, alarm.reason))
            guard.reset()
    return alarms


@pytest.mark.parametrize("detector", ["adwin", "ddm", "page_hinkley", "none"])
def test_a_steady_error_rate_and_an_improving_one_raise_no_alarm(detector: str) -> None:
    rng = np.random.default_rng(0)
    guard = Guard(GuardConfig(detector=detector), classifier=True)  # type: ignore[arg-type]
    steady = (rng.random(6_000) < 0.1).astype(float)
    improving = (rng.random(3_000) < np.linspace(0.1, 0.01, 3_000)).astype(float)
    assert _feed(guard, np.concatenate([steady, improving])) == []


def test_labels_gone_bad_raise_an_alarm_within_a_window() -> None:
    rng = np.random.default_rng(1)
    guard = Guard(GuardConfig(), classifier=True)
    losses = np.concatenate([rng.random(1_000) < 0.1, rng.random(1_000) < 0.6]).astype(float)
    alarms = _feed(guard, losses)
    assert alarms
    assert 1_000 <= alarms[0][0] < 1_000 + 200


def test_regression_uses_the_relative_rise_of_the_mean_absolute_error() -> None:
    rng = np.random.default_rng(2)
    guard = Guard(GuardConfig(min_drop=0.5, detector="none"), classifier=False)
    losses = np.concatenate([np.abs(rng.normal(0, 1, 1_000)), np.abs(rng.normal(0, 2, 400))])
    alarms = _feed(guard, losses)
    assert alarms
    assert alarms[0][1] == "prequential_drop"
    with pytest.raises(OnlineConfigError, match="ddm needs a classifier"):
        Guard(GuardConfig(detector="ddm"), classifier=False)
