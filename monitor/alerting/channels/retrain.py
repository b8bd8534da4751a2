"""The ``retrain`` channel: a retraining request to a pipeline.

``preset: url`` POSTs a Standard Webhooks payload, ``{"type": "driftline.retrain",
"timestamp", "data"}``, signed with the channel's secret; the other presets build the
request their API expects (:mod:`~monitor.alerting.channels.airflow`,
:mod:`~monitor.alerting.channels.github`) and are signed too when the channel has a secret.
Every request carries the delivery key as ``webhook-id`` / ``Idempotency-Key`` when signed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from monitor.alerting.channels import airflow, github
from monitor.alerting.channels.encoding import json_bytes, rfc3339
from monitor.alerting.channels.headers import delivery_headers, json_headers
from monitor.alerting.channels.outgoing import OutgoingRequest
from monitor.alerting.channels.retrain_data import EVENT_TYPE, retrain_data
from monitor.alerting.model import RetrainRequest
from monitor.project.channels import RetrainChannel

__all__ = ["payload", "render"]


def render(spec: RetrainChannel, item: RetrainRequest, *, now: dt.datetime) -> OutgoingRequest:
    """Build the request of one retraining request for the channel's preset.

    Parameters
    ----------
    spec
        The channel's declaration.
    item
        The retraining request.
    now
        The attempt's time (``webhook-timestamp``); render again for every attempt.

    Returns
    -------
    OutgoingRequest
        The POST for the preset, with Standard Webhooks headers when the channel has a
        secret.

    Raises
    ------
    ValueError
        If the declaration lacks a field its preset needs (the project loader rejects that).
    """
    if spec.preset == "airflow":
        request = airflow.dag_run_request(spec, item)
    elif spec.preset == "github":
        request = github.dispatch_request(spec, item)
    else:
        if spec.url is None or spec.secret is None:
            msg = f"channel {spec.name!r}: preset 'url' needs url and secret"
            raise ValueError(msg)
        body = json_bytes(payload(item))
        request = OutgoingRequest("POST", spec.url, json_headers(), body, spec.timeout_seconds)
    if spec.secret is None:
        return request
    signed = delivery_headers(
        item.key, request.body, secret=spec.secret.get_secret_value(), now=now
    )
    return dataclasses.replace(request, headers={**request.headers, **signed})


def payload(item: RetrainRequest) -> dict[str, Any]:
    """The Standard Webhooks payload of preset ``url``: ``type``, ``timestamp``, ``data``."""
    return {
        "type": EVENT_TYPE,
        "timestamp": rfc3339(item.created_at),
        "data": retrain_data(item),
    }
