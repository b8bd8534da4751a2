"""Channels: a notification (or retraining request) becomes the request a receiver expects.

Each channel type has a module with a pure ``render(spec, item, *, now)``; :func:`render_any`
dispatches on the declaration. The result is sent by :mod:`monitor.alerting.egress`.

========= ==============================================================================
type      what is sent
========= ==============================================================================
webhook   Alertmanager webhook payload v4 with Standard Webhooks headers (signed with a
          secret)
slack     Block Kit message to an incoming webhook
pagerduty Events API v2 trigger / resolve sharing one ``dedup_key`` per alert group
teams     Adaptive Card (1.4) to a Workflows webhook
opsgenie  create an alert with a stable ``alias``; close it by alias when resolved
email     multipart text + HTML message for an SMTP server
retrain   signed ``driftline.retrain`` webhook, Airflow DAG run or GitHub
          ``repository_dispatch``
========= ==============================================================================
"""

from __future__ import annotations

from monitor.alerting.channels.errors import ChannelMismatchError
from monitor.alerting.channels.outgoing import OutgoingEmail, OutgoingRequest
from monitor.alerting.channels.render import render_any

__all__ = ["ChannelMismatchError", "OutgoingEmail", "OutgoingRequest", "render_any"]
