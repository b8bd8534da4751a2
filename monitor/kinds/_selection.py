"""The ``test`` and ``threshold`` params shared by the data and prediction drift kinds.

``test`` names one drift test of :data:`detectors.registry.REGISTRY`. It is used for every
column it can compare: a test that takes both numeric and categorical columns (the distances
``psi``, ``jensen_shannon``, ``hellinger``, ``kl``) for all of them; a numeric-only test
(``ks``, ``cvm``, ``anderson``, ``wasserstein``, ``wasserstein_normed``) for the numeric
columns; a categorical-only one (``chi2``, ``chi2_gof``, ``g_test``, ``z_test``, ``fisher``)
for the categorical columns. The other columns keep the policy's automatic choice: a
numeric-only test forced on categorical columns would fail every run.

``threshold`` is that test's threshold, so it needs ``test``: a p-value level in (0, 1) for
tests with p-values, a distance > 0 for distances (drift when the distance reaches it).
"""

from __future__ import annotations

from dataclasses import dataclass

from detectors.registry import REGISTRY
from detectors.selection import P_VALUE_TESTS
from monitor.kinds._params import ParamReader

__all__ = ["TestChoice", "read_test"]


@dataclass(frozen=True, slots=True)
class TestChoice:
    """A monitor's test override: the test by column kind and its threshold."""

    test: str | None = None
    threshold: float | None = None

    @property
    def per_kind(self) -> dict[str, str]:
        """Column kind (``numeric``, ``categorical``) to the test, for the kinds it takes."""
        if self.test is None:
            return {}
        spec = REGISTRY[self.test]
        kinds = []
        if spec.numeric is not None:
            kinds.append("numeric")
        if spec.categorical is not None:
            kinds.append("categorical")
        return dict.fromkeys(kinds, self.test)

    @property
    def thresholds(self) -> dict[str, float] | None:
        """Test name to threshold, or None for the defaults."""
        if self.test is None or self.threshold is None:
            return None
        return {self.test: self.threshold}


def read_test(reader: ParamReader) -> TestChoice:
    """The ``test`` and ``threshold`` params (module notes)."""
    test = reader.optional_choice("test", sorted(REGISTRY))
    if test is None:
        if reader.given("threshold"):
            raise reader.error(
                "threshold",
                "given together with params.test (a threshold belongs to one test)",
                got=reader.raw("threshold"),
            )
        return TestChoice()
    if test in P_VALUE_TESTS:
        level = reader.optional_number(
            "threshold", low=0.0, high=1.0, low_open=True, high_open=True
        )
        return TestChoice(test, level)
    return TestChoice(test, reader.optional_number("threshold", low=0.0, low_open=True))
