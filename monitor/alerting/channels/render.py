"""Rendering any item for any channel: dispatch on the declaration's type."""

from __future__ import annotations

import datetime as dt

from monitor.alerting.channels import mail, opsgenie, pagerduty, retrain, slack, teams, webhook
from monitor.alerting.channels.errors import ChannelMismatchError
from monitor.alerting.channels.outgoing import OutgoingEmail, OutgoingRequest
from monitor.alerting.model import Notification, RetrainRequest
from monitor.project.channels import (
    Channel,
    EmailChannel,
    OpsgenieChannel,
    PagerDutyChannel,
    RetrainChannel,
    SlackChannel,
    TeamsChannel,
    WebhookChannel,
)

__all__ = ["render_any"]


def render_any(
    spec: Channel, item: Notification | RetrainRequest, *, now: dt.datetime
) -> OutgoingRequest | OutgoingEmail:
    """Turn a notification or retraining request into what the channel sends.

    Parameters
    ----------
    spec
        The channel's declaration.
    item
        A :class:`~monitor.alerting.model.Notification` (for every channel type but
        ``retrain``) or a :class:`~monitor.alerting.model.RetrainRequest` (for ``retrain``).
    now
        The attempt's time, timezone-aware (signatures and ``Date`` headers); render again
        for every attempt.

    Returns
    -------
    OutgoingRequest or OutgoingEmail
        An e-mail for ``email`` channels, an HTTP request for the others.

    Raises
    ------
    ChannelMismatchError
        If the channel cannot carry the item (a retraining request to Slack, a notification
        to a retraining channel), or the item is addressed to another channel.
    """
    if item.channel != spec.name:
        msg = (
            f"{_describe(item)} {item.key!r} is addressed to channel {item.channel!r}, "
            f"not to channel {spec.name!r} it was rendered for"
        )
        raise ChannelMismatchError(msg)
    if isinstance(spec, RetrainChannel):
        if isinstance(item, RetrainRequest):
            return retrain.render(spec, item, now=now)
    elif isinstance(item, Notification):
        return _render_notification(spec, item, now=now)
    raise ChannelMismatchError(_mismatch(spec, item))


def _render_notification(
    spec: SlackChannel
    | PagerDutyChannel
    | TeamsChannel
    | OpsgenieChannel
    | EmailChannel
    | WebhookChannel,
    item: Notification,
    *,
    now: dt.datetime,
) -> OutgoingRequest | OutgoingEmail:
    if isinstance(spec, SlackChannel):
        return slack.render(spec, item, now=now)
    if isinstance(spec, PagerDutyChannel):
        return pagerduty.render(spec, item, now=now)
    if isinstance(spec, TeamsChannel):
        return teams.render(spec, item, now=now)
    if isinstance(spec, OpsgenieChannel):
        return opsgenie.render(spec, item, now=now)
    if isinstance(spec, EmailChannel):
        return mail.render(spec, item, now=now)
    return webhook.render(spec, item, now=now)


def _describe(item: Notification | RetrainRequest) -> str:
    return "retraining request" if isinstance(item, RetrainRequest) else "notification"


def _mismatch(spec: Channel, item: Notification | RetrainRequest) -> str:
    if isinstance(item, RetrainRequest):
        return (
            f"channel {spec.name!r} is of type {spec.type!r} and cannot carry retraining "
            f"request {item.key!r} of rule {item.rule!r}: retraining requests go to channels "
            "of type 'retrain'"
        )
    return (
        f"channel {spec.name!r} is of type 'retrain' and cannot carry notification "
        f"{item.key!r} of group {item.group_key!r}: alert notifications go to channels of "
        "type slack, pagerduty, teams, opsgenie, email or webhook"
    )
