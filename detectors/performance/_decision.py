"""The verdict of a performance comparison: significantly worse, and worse by enough.

A window alarms when its metric is worse than the reference's with one-sided p-value at most
``alpha`` **and** the worsening (the *degradation*, in the metric's units, positive when
worse) reaches ``min_effect``: "significantly worse", not "a bit lower on 40 labels", and
not "0.1 % lower on a million rows" either. A warning is the same rule at the lighter
level ``warning_alpha`` / ``warning_effect``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from detectors.errors import InvalidInputError
from detectors.outcome import Status

__all__ = ["Levels", "status"]


@dataclass(frozen=True, slots=True)
class Levels:
    """Alarm and warning levels; ``None`` effects are resolved by the caller's defaults.

    Examples
    --------
    >>> levels = Levels(alpha=0.05, warning_alpha=0.2, min_effect=0.02, warning_effect=None)
    >>> levels.resolved(0.02).warning_effect
    0.01
    """

    alpha: float = 0.05
    warning_alpha: float = 0.2
    min_effect: float | None = None
    warning_effect: float | None = None

    def __post_init__(self) -> None:
        for name in ("alpha", "warning_alpha"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 < value < 1.0:
                msg = f"The '{name}' parameter must be in (0, 1). Got {value!r} instead."
                raise InvalidInputError(msg)
        if self.warning_alpha < self.alpha:
            msg = (
                f"warning_alpha ({self.warning_alpha}) must be at least alpha ({self.alpha}): "
                "a warning is the lighter level"
            )
            raise InvalidInputError(msg)
        for name in ("min_effect", "warning_effect"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int | float) and value >= 0):
                msg = f"The '{name}' parameter must be a number >= 0. Got {value!r} instead."
                raise InvalidInputError(msg)

    def resolved(self, default_effect: float) -> Levels:
        """These levels with ``min_effect`` defaulted and ``warning_effect`` = half of it."""
        effect = default_effect if self.min_effect is None else self.min_effect
        warning = effect / 2.0 if self.warning_effect is None else self.warning_effect
        if warning > effect:
            msg = f"warning_effect ({warning}) must not exceed min_effect ({effect})"
            raise InvalidInputError(msg)
        return Levels(self.alpha, self.warning_alpha, effect, warning)


def status(degradation: float, p_value: float, levels: Levels) -> Status:
    """Alarm, warning or ok from the degradation and the one-sided p-value of "worse".

    Unresolved effects count as 0 (``min_effect``) and half of it (``warning_effect``).

    Examples
    --------
    >>> levels = Levels(min_effect=0.02, warning_effect=0.01)
    >>> status(0.05, 0.001, levels).value, status(0.015, 0.1, levels).value
    ('alarm', 'warning')
    >>> status(0.05, 0.3, levels).value, status(float("nan"), 0.5, levels).value
    ('ok', 'insufficient_data')
    """
    if math.isnan(degradation) or math.isnan(p_value):
        return Status.INSUFFICIENT_DATA
    levels = levels.resolved(0.0)  # unchanged when already resolved
    assert levels.min_effect is not None
    assert levels.warning_effect is not None
    if p_value <= levels.alpha and degradation >= levels.min_effect:
        return Status.ALARM
    if p_value <= levels.warning_alpha and degradation >= levels.warning_effect:
        return Status.WARNING
    return Status.OK
