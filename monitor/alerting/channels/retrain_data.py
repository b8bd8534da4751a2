"""The data of a retraining request, shared by every retraining preset."""

from __future__ import annotations

from typing import Any

from monitor.alerting.channels.encoding import plain, rfc3339
from monitor.alerting.model import RetrainRequest

__all__ = ["EVENT_TYPE", "retrain_data"]

EVENT_TYPE = "driftline.retrain"
"""The ``type`` of the Standard Webhooks payload of a retraining request."""


def retrain_data(item: RetrainRequest) -> dict[str, Any]:
    """What a retraining pipeline is told: which model, which window, what drifted.

    Parameters
    ----------
    item
        The retraining request.

    Returns
    -------
    dict
        ``model``, ``version``, ``monitor``, ``rule``, ``window`` (``start``, ``end`` in
        RFC 3339), ``findings`` (plain JSON values), ``score`` and ``links`` (dashboard pages
        of the model and the alert), in plain JSON types.
    """
    return {
        "model": item.model,
        "version": item.version,
        "monitor": item.monitor,
        "rule": item.rule,
        "window": {"start": rfc3339(item.window_start), "end": rfc3339(item.window_end)},
        "findings": [plain(finding) for finding in item.findings],
        "score": plain(item.score),
        "links": dict(item.links),
    }
