"""detectors.registry agrees with detectors.selection on names and p-values."""

from __future__ import annotations

from detectors.registry import REGISTRY
from detectors.selection import DEFAULT_THRESHOLDS, P_VALUE_TESTS


def test_every_selectable_test_is_registered_and_vice_versa() -> None:
    assert set(REGISTRY) == set(DEFAULT_THRESHOLDS)


def test_p_value_tests_agree() -> None:
    assert {name for name, spec in REGISTRY.items() if spec.has_p_value} == P_VALUE_TESTS


def test_every_test_runs_on_something() -> None:
    assert [n for n, s in REGISTRY.items() if s.numeric is None and s.categorical is None] == []
