"""Errors of the channel renderers."""

from __future__ import annotations

from monitor.errors import ConfigError

__all__ = ["ChannelMismatchError"]


class ChannelMismatchError(ConfigError):
    """A notification or retraining request was given to a channel that cannot carry it.

    Raised, for instance, when an alert rule sends retraining requests to a Slack channel,
    or when the item names another channel than the declaration it is rendered with.
    """
