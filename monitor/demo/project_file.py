"""The demo's ``driftline.yaml``: one served classifier, its monitors, rules and channels.

Everything runs on a short clock: monitors every 10 seconds (the shortest schedule a
project file allows) over the last 20 seconds of traffic, and alerts notified one second
after they fire. The signing secrets stay out of the file, as in any project: the file
names environment variables.
"""

from __future__ import annotations

from typing import Any

import yaml

from monitor.demo.scenario import CLASSES, NUMERIC

__all__ = [
    "ALERT_SECRET_VARIABLE",
    "DEMO_MODEL",
    "REFERENCE_NAME",
    "RETRAIN_SECRET_VARIABLE",
    "RULES",
    "project_yaml",
]

DEMO_MODEL = "demo-credit"
REFERENCE_NAME = "training"
ALERT_SECRET_VARIABLE = "DEMO_ALERT_SECRET"
RETRAIN_SECRET_VARIABLE = "DEMO_RETRAIN_SECRET"
#: Alert rule of each monitor kind the scenario is built to trip.
RULES = {
    "data_drift": "covariate-shift",
    "performance": "accuracy-drop",
    "failures": "error-burst",
}
_EVERY = "10s"
_WINDOW = {"type": "rolling", "size": "20s"}
_REFERENCE = {"type": "dataset", "dataset": REFERENCE_NAME}


def _monitor(kind: str, **more: Any) -> dict[str, Any]:
    return {
        "name": f"demo-{kind.replace('_', '-')}",
        "model": DEMO_MODEL,
        "kind": kind,
        "schedule": {"every": _EVERY},
        "window": _WINDOW,
        **more,
    }


def project_yaml(*, monitor_url: str, receiver_url: str) -> str:
    """The project file's text.

    Parameters
    ----------
    monitor_url
        Base URL of the monitor's dashboard, for the links in notifications.
    receiver_url
        Base URL of the demo's webhook receiver (``/alerts`` and ``/retrain``).
    """
    monitors = [
        _monitor(
            "data_drift",
            reference=_REFERENCE,
            min_samples=200,
            params={"drift_share": 0.25},
        ),
        _monitor("prediction_drift", reference=_REFERENCE, min_samples=200),
        _monitor(
            "performance",
            reference=_REFERENCE,
            min_samples=100,
            params={"metric": "accuracy", "min_labels": 100, "min_effect": 0.05},
        ),
        _monitor("failures", min_samples=100),
        _monitor("health", min_samples=50, params={"p99_slo": 0.5}),
    ]
    retrain = {"channels": ["retrain-pipeline"], "cooldown": "10m"}
    rules = [
        {
            "name": RULES["data_drift"],
            "monitor": "demo-data-drift",
            "condition": {"metric": "drift_share", "op": ">", "value": 0.2},
            "severity": "warning",
            "annotations": {"summary": "{{ value }} of the features drifted on {{ model }}"},
            "channels": ["on-call"],
            "retrain": retrain,
        },
        {
            "name": RULES["performance"],
            "monitor": "demo-performance",
            "condition": {"metric": "metric_drop", "op": ">", "value": 0.05},
            "severity": "critical",
            "annotations": {"summary": "accuracy fell by {{ value }} on {{ model }}"},
            "channels": ["on-call"],
            "retrain": retrain,
        },
        {
            "name": RULES["failures"],
            "monitor": "demo-failures",
            "condition": {"metric": "failure_rate", "op": ">", "value": 0.1},
            "severity": "critical",
            "annotations": {"summary": "{{ value }} of the requests failed on {{ model }}"},
            "channels": ["on-call"],
        },
    ]
    document = {
        "version": 1,
        "models": [
            {
                "name": DEMO_MODEL,
                "task": "binary_classification",
                "classes": list(CLASSES),
                "version": "1",
                "description": "Demo: chance that a loan goes bad, on generated applicants.",
                "features": [{"name": name, "kind": "numeric"} for name in NUMERIC]
                + [{"name": "segment", "kind": "categorical"}],
                "serving": {
                    "runtime": "sklearn",
                    "uri": "model.joblib",
                    "allow_pickle": True,  # the demo trained this file itself
                    "batching": {"max_batch_size": 32, "max_batch_delay_ms": 2},
                },
            }
        ],
        "monitors": monitors,
        "alert_rules": rules,
        "alerting": {
            "external_url": monitor_url,
            "group_wait": "1s",
            "group_interval": "10s",
            "repeat_interval": "1h",
            "resolved_retention": "15m",
            # Every alert is shown: the default rule would let the critical ones mute the
            # warning of the covariate shift.
            "inhibit_rules": [],
        },
        "channels": [
            {
                "name": "on-call",
                "type": "webhook",
                "url": f"{receiver_url}/alerts",
                "secret": f"${{{ALERT_SECRET_VARIABLE}}}",
            },
            {
                "name": "retrain-pipeline",
                "type": "retrain",
                "preset": "url",
                "url": f"{receiver_url}/retrain",
                "secret": f"${{{RETRAIN_SECRET_VARIABLE}}}",
            },
        ],
    }
    header = "# Written by `driftline demo`: its model, monitors, alert rules and channels.\n"
    return header + yaml.safe_dump(document, sort_keys=False)
