"""Prometheus metrics of the learners, read from them at scrape time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from serving.online.learner import Learner

__all__ = ["LearningCollector"]


class LearningCollector(Collector):
    """``driftline_online_*``: examples by outcome, alarms, frozen, the prequential metric."""

    def __init__(self, learners: Mapping[str, Learner]) -> None:
        self._learners = learners

    def collect(self) -> Iterable[Metric]:
        examples = CounterMetricFamily(
            "driftline_online_examples",
            "Labelled examples the learner took, by outcome (learnt or the refusal reason).",
            labels=["model", "outcome"],
        )
        alarms = CounterMetricFamily(
            "driftline_online_guard_alarms",
            "Alarms of the online-learning guard, by reason.",
            labels=["model", "reason"],
        )
        frozen = GaugeMetricFamily(
            "driftline_online_frozen", "1 while learning is frozen.", labels=["model"]
        )
        metric = GaugeMetricFamily(
            "driftline_online_prequential_metric",
            "Prequential (test-then-train) metric over the guard's latest window.",
            labels=["model", "metric"],
        )
        for name, learner in self._learners.items():
            for key, count in sorted(learner.counts.items()):
                if key == "learnt":
                    examples.add_metric([name, "learnt"], count)
                elif key.startswith("refused_"):
                    examples.add_metric([name, key.removeprefix("refused_")], count)
                elif key.startswith("alarm_"):
                    alarms.add_metric([name, key.removeprefix("alarm_")], count)
            frozen.add_metric([name], 1.0 if learner.frozen else 0.0)
            value = learner.prequential()
            if value is not None:
                metric.add_metric([name, learner.metric_name], value)
        yield from (examples, alarms, frozen, metric)
