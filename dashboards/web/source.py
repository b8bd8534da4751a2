"""What the dashboard needs from production data beyond stored results: distributions, reports.

Monitor results hold per-feature statistics, not the data behind them. For the overlaid
distributions of one feature and for Evidently's report of one window, the dashboard asks a
:class:`WindowSource` (the monitor implements it: it knows how each monitor resolves its
reference). The dashboard only draws and renders what it is given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = ["FeatureDistribution", "ReportFrames", "WindowSource", "WindowUnavailableError"]


class WindowUnavailableError(Exception):
    """The data asked for cannot be shown; the message says why (for the page)."""


@dataclass(frozen=True, slots=True)
class FeatureDistribution:
    """One feature's reference and current values, binned the same way.

    Attributes
    ----------
    kind
        ``numeric``: ``edges`` holds ``len(counts) + 1`` shared bin edges. ``categorical``:
        ``labels`` names each bar (the rarest categories may be merged into one ``(other)``).
    reference_counts, current_counts
        Counts per bin or category, of the non-missing values.
    reference_missing, current_missing
        Missing (NaN or absent) values, not in the counts.
    reference_label
        What the reference is, for the legend (``dataset 'train'``, ``the previous window``).
    """

    feature: str
    kind: Literal["numeric", "categorical"]
    edges: tuple[float, ...] | None
    labels: tuple[str, ...] | None
    reference_counts: tuple[int, ...]
    current_counts: tuple[int, ...]
    reference_missing: int
    current_missing: int
    window_start: dt.datetime
    window_end: dt.datetime
    reference_label: str


@dataclass(frozen=True, slots=True)
class ReportFrames:
    """The reference and current rows of one window as pandas frames, for Evidently.

    ``target`` and ``prediction`` name columns of both frames when present (a
    classification or regression report is added when both are); ``task`` is the model's.
    """

    reference: Any
    current: Any
    numeric: Sequence[str]
    categorical: Sequence[str]
    task: str
    target: str | None
    prediction: str | None
    labels: Sequence[str] | None
    window_start: dt.datetime
    window_end: dt.datetime
    reference_label: str


class WindowSource(Protocol):
    """Production data of one monitor's window, as the dashboard draws it."""

    def feature_distribution(
        self, monitor: str, window_start: dt.datetime, window_end: dt.datetime, feature: str
    ) -> FeatureDistribution:
        """Reference vs current for ``feature`` of a data-drift ``monitor`` over a window.

        Raises :class:`WindowUnavailableError` (unknown monitor or feature, no reference,
        no records) with a message fit for the page.
        """
        ...

    def report_frames(
        self, monitor: str, window_start: dt.datetime, window_end: dt.datetime
    ) -> ReportFrames:
        """The rows Evidently's report of a window compares; same errors as above."""
        ...
