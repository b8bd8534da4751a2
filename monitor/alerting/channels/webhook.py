"""The ``webhook`` channel: Alertmanager's webhook payload (version 4), optionally signed.

Any receiver written for Alertmanager's ``webhook_config`` understands the body. Driftline
adds what Alertmanager lacks: Standard Webhooks headers (``webhook-id`` = the delivery key,
the same on every retry; ``webhook-timestamp``; ``webhook-signature`` when the channel has a
``secret``) and an ``Idempotency-Key`` with the same id.

Differences from Alertmanager, on purpose: ``receiver`` is the channel name as declared
(Alertmanager escapes regex metacharacters in it, so ``a.b`` arrives as ``a\\.b``); the
metric value that decided an alert's state is added to its annotations as ``value`` unless an
annotation of that name exists; ``routeLabels`` is not sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from monitor.alerting.channels.encoding import ZERO_TIME, json_bytes, rfc3339
from monitor.alerting.channels.headers import delivery_headers, json_headers
from monitor.alerting.channels.outgoing import OutgoingRequest
from monitor.alerting.model import AlertSnapshot, Notification
from monitor.project.channels import WebhookChannel

__all__ = ["payload", "render"]

PAYLOAD_VERSION = "4"


def render(spec: WebhookChannel, item: Notification, *, now: dt.datetime) -> OutgoingRequest:
    """Build the POST of one notification to a webhook receiver.

    Parameters
    ----------
    spec
        The channel's declaration.
    item
        The notification.
    now
        The attempt's time (``webhook-timestamp``); render again for every attempt.

    Returns
    -------
    OutgoingRequest
        A JSON POST to ``spec.url`` with the payload of :func:`payload`.
    """
    body = json_bytes(payload(spec.name, item, now=now))
    secret = None if spec.secret is None else spec.secret.get_secret_value()
    headers = json_headers()
    headers.update({name: value.get_secret_value() for name, value in spec.headers.items()})
    headers.update(delivery_headers(item.key, body, secret=secret, now=now))
    return OutgoingRequest("POST", spec.url, headers, body, spec.timeout_seconds)


def payload(receiver: str, item: Notification, *, now: dt.datetime) -> dict[str, Any]:
    """The Alertmanager webhook message (version ``"4"``) of a notification.

    Parameters
    ----------
    receiver
        The channel name.
    item
        The notification.
    now
        Stands in for the end of a resolved alert that has no ``ends_at``.

    Returns
    -------
    dict
        ``version``, ``groupKey``, ``truncatedAlerts``, ``status``, ``receiver``,
        ``groupLabels``, ``commonLabels``, ``commonAnnotations``, ``externalURL``,
        ``notification_reason`` and ``alerts``.
    """
    return {
        "version": PAYLOAD_VERSION,
        "groupKey": item.group_key,
        "truncatedAlerts": 0,
        "status": item.status,
        "receiver": receiver,
        "groupLabels": dict(item.group_labels),
        "commonLabels": dict(item.common_labels),
        "commonAnnotations": dict(item.common_annotations),
        "externalURL": item.external_url,
        "notification_reason": item.reason,
        "alerts": [_alert(alert, now) for alert in item.alerts],
    }


def _alert(alert: AlertSnapshot, now: dt.datetime) -> dict[str, Any]:
    annotations = dict(alert.annotations)
    if alert.value is not None:
        annotations.setdefault("value", repr(alert.value))
    if alert.state == "firing":
        ends_at = ZERO_TIME
    else:
        ends_at = rfc3339(alert.ends_at if alert.ends_at is not None else now)
    return {
        "status": alert.state,
        "labels": dict(alert.labels),
        "annotations": annotations,
        "startsAt": rfc3339(alert.starts_at),
        "endsAt": ends_at,
        "generatorURL": alert.url,
        "fingerprint": alert.fingerprint,
    }
