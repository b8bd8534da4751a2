"""One run of one monitor over one window: read, compare, decide, store.

The runner reads the window through the store's sampled window read, resolves the
reference, hands both to the monitor's kind (:mod:`monitor.kinds`, which calls the pure
detectors) and stores one result for the window, replacing any earlier one. A window with
fewer records than ``min_samples`` is stored as ``insufficient_data`` without running the
detectors; a failure of any step is stored as an ``error`` result naming it, so a broken
monitor shows up on the dashboard instead of silently skipping windows.

References that do not move (an uploaded dataset, a fixed window) are prepared once and
kept, keyed by the monitor's configuration and the dataset's checksum, so a fleet of
monitors does not refit its references every few minutes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Engine

from detectors.errors import DetectorError
from monitor import kinds
from monitor.errors import DriftlineError
from monitor.project.monitors import DatasetReference, FixedWindowReference, MonitorSpec
from monitor.references import reference_window
from monitor.scheduling.metrics import SchedulerMetrics
from monitor.scheduling.windows import TimeRange, reference_range
from storage import Window, create_session_factory, get_model_version, read_window
from storage.engine import write_transaction
from storage.errors import StorageError
from storage.repositories.monitors import (
    MonitorInfo,
    ResultDraft,
    ResultStatus,
    load_detector_state,
    save_detector_state,
    save_result,
)
from storage.repositories.online import learning_activity
from storage.repositories.references import reference_digest
from storage.types import utc_now

__all__ = ["AfterResult", "MonitorRunner", "RunReport", "reference_for"]

logger = logging.getLogger(__name__)

_CACHED_REFERENCES = 1024

AfterResult = Callable[[Connection, MonitorInfo, ResultDraft], None]
"""A hook run in the transaction that stores a result."""


@dataclass(frozen=True, slots=True)
class RunReport:
    """What one run computed."""

    monitor: str
    window: TimeRange
    status: ResultStatus
    score: float | None
    sample_size: int
    seconds: float
    error: str | None = None


class MonitorRunner:
    """Runs monitors over windows against one store; safe to call from several threads.

    Parameters
    ----------
    engine
        The store.
    metrics
        Prometheus metrics of the runs (optional).
    settle
        How long after a window's end it becomes due; the lag metric counts from then.
    clock
        Current time (UTC); tests pass a fixed one.
    after_result
        Called with the connection, the monitor and the result inside the transaction
        that stores the result (alert evaluation), so both commit or neither does.
        Backfills call it too: alert states follow every stored window in order.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        metrics: SchedulerMetrics | None = None,
        settle: dt.timedelta = dt.timedelta(0),
        clock: Callable[[], dt.datetime] = utc_now,
        after_result: AfterResult | None = None,
    ) -> None:
        self.engine = engine
        self.after_result = after_result
        self.metrics = metrics
        self.settle = settle
        self.clock = clock
        self._prepared: OrderedDict[Hashable, Any] = OrderedDict()
        self._tasks: dict[str, str] = {}
        self._lock = threading.Lock()

    def run(self, monitor: MonitorInfo, window: TimeRange, *, keep_state: bool = True) -> RunReport:
        """Compute and store the monitor's result for ``window``.

        ``keep_state=False`` (a backfill) neither reads nor saves streaming detector state,
        since past windows run out of order would corrupt it.
        """
        started = time.perf_counter()
        state_out: dict[str, Any] | None = None
        status: ResultStatus
        try:
            spec = MonitorSpec.model_validate(monitor.config)
            if kinds.reads_learning(spec):
                activity = learning_activity(self.engine, spec.model, window.start, window.end)
                outcome = kinds.run_learning(spec, activity)
                status, score = outcome.status, outcome.score
                summary, details = dict(outcome.summary), dict(outcome.details)
                sample_size = activity.learnt + activity.refused
            else:
                task = self._task(spec.model)
                current = read_window(
                    self.engine,
                    spec.model,
                    start=window.start,
                    end=window.end,
                    limit=spec.sample_limit,
                    version=spec.version,
                    with_labels=kinds.needs_labels(spec),
                )
                if current.total_rows < spec.min_samples:
                    status = "insufficient_data"
                    score, summary, details = None, _too_few(current, spec), None
                else:
                    prepared = self._prepare(monitor, spec, window, task)
                    state = load_detector_state(self.engine, monitor.id) if keep_state else None
                    outcome = kinds.run(
                        spec, prepared, current, task=task, now=window.end, state=state
                    )
                    status, score = outcome.status, outcome.score
                    summary, details = dict(outcome.summary), dict(outcome.details)
                    state_out = outcome.state if keep_state else None
                summary.setdefault("window_rows", current.total_rows)  # before sampling
                sample_size = len(current)
            error = None
        except (DriftlineError, StorageError, DetectorError, ValueError) as exc:
            status, score, sample_size = "error", None, 0
            error = str(exc)
            summary, details = {"error": error, "type": type(exc).__name__}, None
            logger.warning("monitor %s over %s failed: %s", monitor.name, window, error)
        except Exception as exc:
            status, score, sample_size = "error", None, 0
            error = f"internal error: {type(exc).__name__}: {exc}"
            summary, details = {"error": error, "type": type(exc).__name__}, None
            logger.exception("monitor %s over %s failed unexpectedly", monitor.name, window)
        seconds = time.perf_counter() - started
        draft = ResultDraft(
            monitor_id=monitor.id,
            window_start=window.start,
            window_end=window.end,
            status=status,
            score=score,
            sample_size=sample_size,
            summary=summary,
            details=details,
            duration_seconds=seconds,
        )
        with write_transaction(self.engine) as connection:
            save_result(connection, draft)
            if state_out is not None:
                save_detector_state(connection, monitor.id, state_out)
            if self.after_result is not None:
                self.after_result(connection, monitor, draft)
        report = RunReport(monitor.name, window, status, score, sample_size, seconds, error)
        if self.metrics is not None:
            lag = (self.clock() - (window.end + self.settle)).total_seconds()
            self.metrics.observe_run(monitor.name, monitor.kind, status, seconds, lag)
            self.metrics.observe_score(
                monitor.name, monitor.model_name, monitor.kind, window.end, score
            )
        logger.info(
            "monitor %s window %s: %s (score %s, %d rows, %.3f s)",
            monitor.name, window, status, score, sample_size, seconds,
        )  # fmt: skip
        return report

    def forget(self) -> None:
        """Drop every prepared reference (the next runs refit them)."""
        with self._lock:
            self._prepared.clear()
            self._tasks.clear()

    def _task(self, model: str) -> str:
        with self._lock:
            task = self._tasks.get(model)
        if task is None:
            with create_session_factory(self.engine)() as session:
                task = str(get_model_version(session, model).task)
            with self._lock:
                self._tasks[model] = task
        return task

    def _prepare(
        self, monitor: MonitorInfo, spec: MonitorSpec, window: TimeRange, task: str
    ) -> Any:
        reference = spec.reference
        key: Hashable | None = None
        if isinstance(reference, DatasetReference):
            info = reference_digest(self.engine, spec.model, reference.dataset)
            key = (monitor.id, _config_hash(monitor.config), info.sha256)
        elif isinstance(reference, FixedWindowReference):
            key = (monitor.id, _config_hash(monitor.config))
        if key is not None:
            with self._lock:
                if key in self._prepared:
                    self._prepared.move_to_end(key)
                    return self._prepared[key]
        prepared = kinds.prepare(spec, reference_for(self.engine, spec, window), task=task)
        if key is not None:
            with self._lock:
                self._prepared[key] = prepared
                while len(self._prepared) > _CACHED_REFERENCES:
                    self._prepared.popitem(last=False)
        return prepared


def reference_for(
    engine: Engine, spec: MonitorSpec, window: TimeRange, *, with_labels: bool | None = None
) -> Window | None:
    """The reference a run of ``spec`` over ``window`` compares with (None: it has none).

    A dataset reference is the stored dataset (cached, sampled to ``spec.sample_limit``);
    the other references are the production records of :func:`reference_range`, read like
    the window itself. ``with_labels`` overrides whether those records are read with their
    labels (by default: when the monitor's kind needs them).
    """
    reference = spec.reference
    if reference is None:
        return None
    if isinstance(reference, DatasetReference):
        return reference_window(
            engine, spec.model, reference.dataset, sample_limit=spec.sample_limit
        )
    span = reference_range(spec, window)
    assert span is not None  # every reference but a dataset is a range of records
    return read_window(
        engine,
        spec.model,
        start=span.start,
        end=span.end,
        limit=spec.sample_limit,
        version=spec.version,
        with_labels=kinds.needs_labels(spec) if with_labels is None else with_labels,
    )


def _too_few(current: Window, spec: MonitorSpec) -> dict[str, Any]:
    return {
        "reason": f"{current.total_rows} records in the window, "
        f"the monitor needs at least {spec.min_samples} (min_samples)",
        "records": current.total_rows,
        "min_samples": spec.min_samples,
    }


def _config_hash(config: dict[str, Any]) -> str:
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
