"""KSWIN specifics: the critical distance, the test statistics, the generator in the state."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest
from scipy import stats

from detectors.streaming import KSWIN
from detectors.streaming.kswin import _critical, _ks
from tests.unit.detectors.streaming.streams import stream


@pytest.mark.parametrize("stat_size", [5, 10, 30, 64])
@pytest.mark.parametrize("alpha", [0.5, 0.05, 0.005, 1e-4, 1e-9])
def test_the_critical_distance_is_the_first_that_rivers_rule_flags(
    stat_size: int, alpha: float
) -> None:
    flagged = [
        h
        for h in range(stat_size + 1)
        if _ks(stat_size, h)[1] <= alpha and _ks(stat_size, h)[0] > 0.1
    ]

    assert _critical(stat_size, alpha) == (flagged[0] if flagged else stat_size + 1)
    assert flagged == list(range(flagged[0], stat_size + 1)) if flagged else True


def test_statistic_and_p_value_are_scipys_on_the_samples_themselves() -> None:
    values = stream("C")
    kswin = KSWIN(alpha=1e-4, seed=42)
    python = random.Random(42)
    for i, value in enumerate(values.tolist()):
        detected = kswin.update(value)
        if i < 99:
            assert kswin.statistic is None
            continue
        window = values[i - 99 : i + 1]
        sample = window[python.sample(range(70), 30)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = stats.ks_2samp(sample, window[70:], method="auto")
        assert kswin.statistic == expected.statistic
        assert kswin.p_value == expected.pvalue
        if detected:
            assert i == 1016
            break


def test_the_state_holds_pythons_generator_state() -> None:
    kswin = KSWIN(alpha=1e-9, seed=9)
    flags = kswin.update_many(stream("N0")[:130])  # 31 tests
    assert not flags.any()
    python = random.Random(9)
    for _ in range(31):
        python.sample(range(70), 30)

    state = kswin.to_state()["state"]

    internal = python.getstate()[1]
    assert isinstance(state, dict)
    assert state["rng_key"] == list(internal[:624])
    assert state["rng_pos"] == internal[624]


def test_the_same_seed_gives_the_same_detections_and_another_seed_others() -> None:
    values = stream("N0")[:5000]
    first = np.flatnonzero(KSWIN(seed=4).update_many(values))

    assert np.array_equal(first, np.flatnonzero(KSWIN(seed=4).update_many(values)))
    assert not np.array_equal(first, np.flatnonzero(KSWIN(seed=5).update_many(values)))
