"""The production data behind the dashboard's distributions and Evidently reports.

:class:`MonitorWindowSource` implements :class:`dashboards.web.source.WindowSource` over a
store: it reads a monitor's window as the monitor's runs read it (same sample limit and
version) and resolves the reference exactly as a run does
(:func:`monitor.scheduling.runner.reference_for`), so what the page draws is what the
monitor compared. Everything the page cannot show is a
:class:`~dashboards.web.source.WindowUnavailableError` with a message for the reader.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sqlalchemy.engine import Engine

from dashboards.distributions import (
    CategoricalBars,
    NumericHistogram,
    categorical_distribution,
    numeric_distribution,
)
from dashboards.web.source import FeatureDistribution, ReportFrames, WindowUnavailableError
from monitor.errors import DriftlineError
from monitor.project.monitors import (
    DatasetReference,
    FixedWindowReference,
    MonitorSpec,
    PreviousWindowReference,
    SameWindowLastWeekReference,
)
from monitor.scheduling.runner import reference_for
from monitor.scheduling.windows import TimeRange, reference_range
from storage import (
    ModelHandle,
    StorageError,
    Task,
    Window,
    create_session_factory,
    get_model_version,
    read_window,
)
from storage.repositories.monitors import get_monitor

__all__ = ["MonitorWindowSource"]

#: Most rows of each side handed to Evidently by default.
REPORT_ROWS = 50_000
_REPORT_KINDS = ("data_drift", "performance")


class MonitorWindowSource:
    """Monitor windows and their references, read from a store for the dashboard.

    Parameters
    ----------
    engine
        The store.
    bins
        Histogram bins of a numeric feature.
    top
        Most bars of a categorical feature (the rest merge into ``(other)``).
    report_rows
        Most rows of each side in a report's frames (the monitor's ``sample_limit`` if
        lower); a larger reference is sampled, reproducibly.
    """

    def __init__(
        self, engine: Engine, *, bins: int = 30, top: int = 30, report_rows: int = REPORT_ROWS
    ) -> None:
        for what, value, least in (("bins", bins, 1), ("top", top, 2), ("rows", report_rows, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                msg = f"{what} must be an integer of at least {least}, got {value!r}"
                raise ValueError(msg)
        self.engine = engine
        self.bins = bins
        self.top = top
        self.report_rows = report_rows

    def feature_distribution(
        self, monitor: str, window_start: dt.datetime, window_end: dt.datetime, feature: str
    ) -> FeatureDistribution:
        """Reference vs current values of one numeric or categorical feature of a window.

        Raises
        ------
        WindowUnavailableError
            Unknown monitor, not a data-drift monitor, unknown or unchecked feature, a
            text or embedding feature, no records in the window or in its reference.
        ValueError
            If a bound is a naive datetime.
        """
        spec = self._spec(monitor, ("data_drift",), "distributions are drawn")
        window = _time_range(window_start, window_end)
        current = self._read(spec, window, limit=spec.sample_limit, with_labels=False)
        kind = self._feature_kind(spec, current, feature)
        reference, reference_label = self._reference(spec, window, with_labels=None)
        edges: tuple[float, ...] | None = None
        labels: tuple[str, ...] | None = None
        counts: NumericHistogram | CategoricalBars
        if kind == "numeric":
            counts = numeric_distribution(
                _numeric(reference, feature), _numeric(current, feature), bins=self.bins
            )
            edges = tuple(float(edge) for edge in counts.edges)
        else:
            names, (ref_codes, cur_codes) = _category_indices(feature, reference, current)
            counts = categorical_distribution(ref_codes, cur_codes, names, top=self.top)
            labels = counts.labels
        return FeatureDistribution(
            feature=feature,
            kind=kind,
            edges=edges,
            labels=labels,
            reference_counts=tuple(int(c) for c in counts.reference_counts),
            current_counts=tuple(int(c) for c in counts.current_counts),
            reference_missing=counts.reference_missing,
            current_missing=counts.current_missing,
            window_start=window.start,
            window_end=window.end,
            reference_label=reference_label,
        )

    def report_frames(
        self, monitor: str, window_start: dt.datetime, window_end: dt.datetime
    ) -> ReportFrames:
        """The rows of a data-drift or performance monitor's window and its reference.

        Numeric features are float columns, categorical ones their values (None when
        missing); classifiers add ``target`` and ``prediction`` as class labels,
        regression models as floats, when both sides have a row with a label and a
        prediction.

        Raises
        ------
        WindowUnavailableError
            As :meth:`feature_distribution`, and for a monitor without a reference.
        """
        spec = self._spec(monitor, _REPORT_KINDS, "reports are made")
        window = _time_range(window_start, window_end)
        limit = min(spec.sample_limit, self.report_rows)
        current = self._read(spec, window, limit=limit, with_labels=True)
        reference_window, reference_label = self._reference(spec, window, with_labels=True)
        numeric = _selected(spec, current.numeric_names)
        categorical = _selected(spec, current.categorical_names)
        if not numeric and not categorical:
            msg = f"monitor {spec.name!r} checks no numeric or categorical feature to report on"
            raise WindowUnavailableError(msg)
        task = self._model(spec).task
        reference_rows = _sample(len(reference_window), self.report_rows)
        reference = _frame(reference_window, numeric, categorical, reference_rows)
        frame = _frame(current, numeric, categorical, slice(None))
        taken = {*numeric, *categorical}
        target, prediction = _free_name("target", taken), _free_name("prediction", taken)
        outcomes = [_outcomes(reference_window, task, reference_rows), _outcomes(current, task)]
        has_outcomes = all(_any_pair(truth, predicted) for truth, predicted in outcomes)
        if has_outcomes:
            for table, (truth, predicted) in zip((reference, frame), outcomes, strict=True):
                table[target], table[prediction] = truth, predicted
        return ReportFrames(
            reference=reference,
            current=frame,
            numeric=numeric,
            categorical=categorical,
            task=str(task),
            target=target if has_outcomes else None,
            prediction=prediction if has_outcomes else None,
            labels=current.classes if task.is_classification else None,
            window_start=window.start,
            window_end=window.end,
            reference_label=reference_label,
        )

    def _spec(self, name: str, kinds: Sequence[str], purpose: str) -> MonitorSpec:
        try:
            config = get_monitor(self.engine, name).config
        except StorageError as exc:
            raise WindowUnavailableError(str(exc)) from None
        try:
            spec = MonitorSpec.model_validate(config)
        except ValueError as exc:
            msg = f"monitor {name!r} has a configuration that no longer validates: {exc}"
            raise WindowUnavailableError(msg) from None
        if spec.kind not in kinds:
            wanted = " and ".join(kinds)
            msg = f"monitor {name!r} is a {spec.kind} monitor; {purpose} for {wanted} monitors"
            raise WindowUnavailableError(msg)
        return spec

    def _read(
        self, spec: MonitorSpec, window: TimeRange, *, limit: int, with_labels: bool
    ) -> Window:
        try:
            current = read_window(
                self.engine,
                spec.model,
                start=window.start,
                end=window.end,
                limit=limit,
                version=spec.version,
                with_labels=with_labels,
            )
        except StorageError as exc:
            raise WindowUnavailableError(str(exc)) from None
        if len(current) == 0:
            msg = f"model {spec.model!r} has no records in the window {_span(window)}"
            raise WindowUnavailableError(msg)
        return current

    def _reference(
        self, spec: MonitorSpec, window: TimeRange, *, with_labels: bool | None
    ) -> tuple[Window, str]:
        """The reference the monitor compares ``window`` with, and its legend."""
        label = _reference_label(spec)
        try:
            reference = reference_for(self.engine, spec, window, with_labels=with_labels)
        except (StorageError, DriftlineError) as exc:
            raise WindowUnavailableError(str(exc)) from None
        if reference is None:
            msg = f"monitor {spec.name!r} has no reference to compare the window with"
            raise WindowUnavailableError(msg)
        if len(reference) == 0:
            span = reference_range(spec, window)
            where = f"{label}, {_span(span)}" if span is not None else label
            raise WindowUnavailableError(f"the reference ({where}) has no records")
        return reference, label

    def _feature_kind(
        self, spec: MonitorSpec, window: Window, feature: str
    ) -> Literal["numeric", "categorical"]:
        kind: Literal["numeric", "categorical"]
        if feature in window.numeric_names:
            kind = "numeric"
        elif feature in window.categorical_names:
            kind = "categorical"
        elif feature in window.embeddings or feature in self._model(spec).schema.text:
            msg = (
                f"distributions are drawn for numeric and categorical features; "
                f"{feature!r} is neither"
            )
            raise WindowUnavailableError(msg)
        else:
            raise WindowUnavailableError(f"model {spec.model!r} has no feature {feature!r}")
        if spec.features is not None and feature not in spec.features:
            msg = f"monitor {spec.name!r} does not check feature {feature!r}"
            raise WindowUnavailableError(msg)
        return kind

    def _model(self, spec: MonitorSpec) -> ModelHandle:
        try:
            with create_session_factory(self.engine)() as session:
                return get_model_version(session, spec.model, spec.version)
        except StorageError as exc:
            raise WindowUnavailableError(str(exc)) from None


def _reference_label(spec: MonitorSpec) -> str:
    """What a monitor's reference is, for a legend (``dataset 'train'``)."""
    reference = spec.reference
    if isinstance(reference, DatasetReference):
        return f"dataset {reference.dataset!r}"
    if isinstance(reference, FixedWindowReference):
        return f"records {_span(TimeRange(reference.start, reference.end))}"
    if isinstance(reference, PreviousWindowReference):
        return "the previous window"
    if isinstance(reference, SameWindowLastWeekReference):
        return "the same window last week"
    return "no reference"


def _span(window: TimeRange) -> str:
    start, end = (moment.astimezone(dt.UTC) for moment in (window.start, window.end))
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC"


def _time_range(start: dt.datetime, end: dt.datetime) -> TimeRange:
    for what, moment in (("window_start", start), ("window_end", end)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            msg = f"{what} must be timezone-aware, got naive {moment.isoformat()}"
            raise ValueError(msg)
    if end <= start:
        msg = f"the window must end after it starts, got {start.isoformat()} – {end.isoformat()}"
        raise WindowUnavailableError(msg)
    return TimeRange(start.astimezone(dt.UTC), end.astimezone(dt.UTC))


def _selected(spec: MonitorSpec, names: Iterable[str]) -> list[str]:
    return [name for name in names if spec.features is None or name in spec.features]


def _numeric(window: Window, feature: str) -> NDArray[np.float64]:
    if feature not in window.numeric_names:  # a reference of a version without it
        return np.full(len(window), np.nan)
    return window.numeric[:, window.numeric_names.index(feature)]


def _codes(window: Window, feature: str) -> NDArray[np.float64]:
    if feature not in window.categorical_names:
        return np.full(len(window), np.nan)
    return window.categorical[:, window.categorical_names.index(feature)]


def _category_indices(
    feature: str, *windows: Window
) -> tuple[list[str], list[NDArray[np.float64]]]:
    """The feature's values seen in the windows, and each window's codes as indices into them.

    Dictionary codes are shared by every version of a model and by its reference
    datasets, so the same code means the same value on both sides.
    """
    values: dict[int, str] = {}
    codes = [_codes(window, feature) for window in windows]
    for window in windows:
        values.update(window.categories.get(feature, {}))
    seen = np.unique(np.concatenate([c[~np.isnan(c)] for c in codes])).astype(np.int64)
    known = np.union1d(np.fromiter(values, dtype=np.int64, count=len(values)), seen)
    labels = [values.get(int(code), f"(code {int(code)})") for code in known]
    indices = []
    for column in codes:
        out = np.full(len(column), np.nan)
        present = ~np.isnan(column)
        out[present] = np.searchsorted(known, column[present].astype(np.int64))
        indices.append(out)
    return labels, indices


def _sample(n: int, limit: int) -> NDArray[np.intp] | slice:
    """Rows kept of ``n``: all, or ``limit`` of them drawn with a fixed seed, in order."""
    if n <= limit:
        return slice(None)
    return np.sort(np.random.default_rng(0).choice(n, limit, replace=False))


def _frame(
    window: Window,
    numeric: Sequence[str],
    categorical: Sequence[str],
    rows: NDArray[np.intp] | slice,
) -> pd.DataFrame:
    columns: dict[str, Any] = {name: _numeric(window, name)[rows] for name in numeric}
    for name in categorical:
        columns[name] = _values(_codes(window, name)[rows], window.categories.get(name, {}))
    return pd.DataFrame(columns)


def _values(codes: NDArray[np.float64], categories: dict[int, str]) -> NDArray[np.object_]:
    out = np.full(len(codes), None, dtype=object)
    present = ~np.isnan(codes)
    unique, inverse = np.unique(codes[present].astype(np.int64), return_inverse=True)
    names = np.array([categories.get(int(c), f"(code {int(c)})") for c in unique], dtype=object)
    out[present] = names[inverse]
    return out


def _outcomes(
    window: Window, task: Task, rows: NDArray[np.intp] | slice = slice(None)
) -> tuple[NDArray[Any], NDArray[Any]]:
    """Labels and predictions of the rows: class labels (None: missing) or floats."""
    labels = window.labels if window.labels is not None else np.full(len(window), np.nan)
    truth, predicted = labels[rows], window.predictions[rows]
    if not task.is_classification:
        return truth.astype(np.float64), predicted.astype(np.float64)
    return _class_labels(truth, window.classes), _class_labels(predicted, window.classes)


def _class_labels(indices: NDArray[np.float64], classes: Sequence[str]) -> NDArray[np.object_]:
    out = np.full(len(indices), None, dtype=object)
    present = ~np.isnan(indices)
    out[present] = np.array(classes, dtype=object)[indices[present].astype(np.int64)]
    return out


def _any_pair(truth: NDArray[Any], predicted: NDArray[Any]) -> bool:
    return bool((pd.notna(truth) & pd.notna(predicted)).any())


def _free_name(base: str, taken: set[str]) -> str:
    name = base
    while name in taken:
        name += "_"
    return name
