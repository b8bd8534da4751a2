"""Prometheus metrics of the learners.

The counters (examples by outcome, guard alarms) are ordinary ``prometheus_client``
counters that :meth:`LearningMetrics.sync` brings up to the learners' own counts after each
learning step, so that with several worker processes they land in the shared multiprocess
files like every other counter. The gauges (frozen, the prequential metric) are read from the
learners at scrape time (a worker mirrors them, as it does queue depths).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from serving.online.learner import Learner

__all__ = ["ALARM_REASONS", "LearningMetrics"]

ALARM_REASONS = ("prequential_drop", "drift_detector")
"""The guard's alarm reasons: their counters exist (at 0) from the start, so that an alert
on ``increase()`` sees the first alarm."""


class LearningMetrics:
    """``driftline_online_*``: examples by outcome, alarms, frozen, the prequential metric.

    Parameters
    ----------
    learners
        The learners of this process, by model name.
    registry
        Where the metrics are registered.
    """

    def __init__(self, learners: Mapping[str, Learner], registry: CollectorRegistry) -> None:
        self._learners = learners
        self._examples = Counter(
            "driftline_online_examples",
            "Labelled examples the learner took, by outcome (learnt or the refusal reason).",
            ["model", "outcome"],
            registry=registry,
        )
        self._alarms = Counter(
            "driftline_online_guard_alarms",
            "Alarms of the online-learning guard, by reason.",
            ["model", "reason"],
            registry=registry,
        )
        registry.register(_LearningGauges(learners))
        self._seen: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        for name in learners:
            self._examples.labels(name, "learnt")
            for reason in ALARM_REASONS:
                self._alarms.labels(name, reason)
        self.sync()

    def sync(self) -> None:
        """Add to the counters what the learners counted since the last call."""
        with self._lock:
            for name, learner in self._learners.items():
                for key, count in list(learner.counts.items()):
                    delta = count - self._seen.get((name, key), 0)
                    if delta <= 0:
                        continue
                    self._seen[(name, key)] = count
                    if key == "learnt":
                        self._examples.labels(name, "learnt").inc(delta)
                    elif key.startswith("refused_"):
                        self._examples.labels(name, key.removeprefix("refused_")).inc(delta)
                    elif key.startswith("alarm_"):
                        self._alarms.labels(name, key.removeprefix("alarm_")).inc(delta)


class _LearningGauges(Collector):
    """Read at scrape time: ``driftline_online_frozen`` and the prequential metric."""

    def __init__(self, learners: Mapping[str, Learner]) -> None:
        self._learners = learners

    def collect(self) -> Iterable[Metric]:
        frozen = GaugeMetricFamily(
            "driftline_online_frozen", "1 while learning is frozen.", labels=["model"]
        )
        metric = GaugeMetricFamily(
            "driftline_online_prequential_metric",
            "Prequential (test-then-train) metric over the guard's latest window.",
            labels=["model", "metric"],
        )
        for name, learner in self._learners.items():
            frozen.add_metric([name], 1.0 if learner.frozen else 0.0)
            value = learner.prequential()
            if value is not None:
                metric.add_metric([name, learner.metric_name], value)
        yield from (frozen, metric)
