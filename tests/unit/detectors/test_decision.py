"""detectors.decision: corrections against scipy, the effect gate and the dataset share."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from detectors.decision import adjust, decide
from detectors.errors import InvalidInputError
from detectors.results import ColumnTest

#: P10 of the statistics reference.
P10 = np.array([0.0001, 0.004, 0.019, 0.03, 0.041, 0.2, 0.5, 0.7, 0.9, 0.95])


def column_test(p: list[float] | None, effect: list[float], method: str = "ks") -> ColumnTest:
    k = len(effect)
    return ColumnTest(
        method=method,
        statistic=np.asarray(effect, dtype=np.float64),
        p_value=None if p is None else np.asarray(p, dtype=np.float64),
        effect=np.asarray(effect, dtype=np.float64),
        n_reference=np.full(k, 100, dtype=np.int64),
        n_current=np.full(k, 100, dtype=np.int64),
    )


def test_bonferroni_on_p10_rejects_the_first_two() -> None:
    verdict = decide(column_test(P10.tolist(), [1.0] * 10), correction="bonferroni")

    assert verdict.drifted.tolist() == [True, True] + [False] * 8


def test_bh_on_p10_matches_the_reference_values() -> None:
    expected = [0.001, 0.02, 0.063333, 0.075, 0.082, 0.333333, 0.714286, 0.875, 0.95, 0.95]

    assert adjust(P10, "bh").round(6).tolist() == expected
    assert decide(column_test(P10.tolist(), [1.0] * 10)).drifted.sum() == 2


def test_uncorrected_p10_rejects_five() -> None:
    verdict = decide(column_test(P10.tolist(), [1.0] * 10), correction="none")

    assert verdict.drifted.sum() == 5


@settings(deadline=None, max_examples=100)
@given(
    hnp.arrays(
        np.float64,
        st.integers(1, 40),
        elements=st.floats(0, 1, allow_nan=False, allow_subnormal=False),
    )
)
def test_bh_and_by_equal_scipy(p: np.ndarray) -> None:
    for method in ("bh", "by"):
        np.testing.assert_allclose(
            adjust(p, method), stats.false_discovery_control(p, method=method), rtol=1e-12
        )


@settings(deadline=None, max_examples=50)
@given(hnp.arrays(np.float64, st.integers(1, 30), elements=st.floats(0, 1)))
def test_adjusted_p_values_are_at_least_the_raw_ones(p: np.ndarray) -> None:
    for method in ("none", "bonferroni", "bh", "by"):
        adjusted = adjust(p, method)
        assert (adjusted >= p - 1e-15).all()
        assert (adjusted <= 1).all()


def test_nan_results_are_not_counted_and_never_drift() -> None:
    p = [0.01, np.nan, 0.02]
    effect = [0.5, np.nan, 0.5]

    verdict = decide(column_test(p, effect), correction="bonferroni", alpha=0.05)

    assert verdict.adjusted_p is not None
    assert np.isnan(verdict.adjusted_p[1])
    assert verdict.adjusted_p[[0, 2]].tolist() == [0.02, 0.04]
    assert verdict.drifted.tolist() == [True, False, True]
    assert verdict.drift_share == 1.0


def test_effect_gate_silences_significant_but_tiny_changes() -> None:
    # Huge samples: both columns are "significant", only one moved enough to matter.
    verdict = decide(column_test([1e-12, 1e-12], [0.004, 0.3]), min_effect=0.1)

    assert verdict.significant.tolist() == [True, True]
    assert verdict.large_effect.tolist() == [False, True]
    assert verdict.drifted.tolist() == [False, True]


def test_per_column_thresholds() -> None:
    verdict = decide(column_test(None, [0.2, 0.2], "psi"), min_effect=[0.1, 0.25])

    assert verdict.drifted.tolist() == [True, False]
    assert verdict.adjusted_p is None


def test_distances_need_a_threshold() -> None:
    with pytest.raises(InvalidInputError, match="psi is a distance without a p-value"):
        decide(column_test(None, [0.2], "psi"))


def test_weighted_share_and_dataset_verdict() -> None:
    test = column_test([0.001, 0.9, 0.9, 0.9], [1.0] * 4)

    plain = decide(test, correction="none")
    weighted = decide(test, correction="none", weights=[6, 1, 1, 0], drift_share=0.7)

    assert plain.drift_share == 0.25
    assert not plain.dataset_drift
    assert weighted.drift_share == 0.75
    assert weighted.dataset_drift


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"alpha": 0.0}, "alpha must be in"),
        ({"drift_share": 1.5}, "drift_share must be in"),
        ({"correction": "holm"}, "correction must be one of 'none', 'bonferroni', 'bh', 'by'"),
        ({"weights": [1.0, -1.0]}, "weights: expected 2 non-negative numbers"),
        ({"weights": [1.0]}, "weights: expected 2 non-negative numbers"),
    ],
)
def test_bad_options_are_named(options: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        decide(column_test([0.1, 0.2], [0.1, 0.2]), **options)


def test_p_values_outside_the_unit_interval_are_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"expected values in \[0, 1\]"):
        adjust([0.5, 1.5])
