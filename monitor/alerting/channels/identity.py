"""Stable identifiers derived from keys: receivers deduplicate on them across retries."""

from __future__ import annotations

import hashlib
import re

__all__ = ["group_hash", "message_id"]

_MESSAGE_ID = re.compile(r"[A-Za-z0-9_~:+-]{1,255}")


def group_hash(group_key: str) -> str:
    """SHA-256 of a group key, in hex: the PagerDuty ``dedup_key`` and Opsgenie ``alias``.

    Every notification of one alert group (firing, repeated, resolved) gets the same value,
    so a resolve closes what the trigger opened. Alertmanager derives these keys the same way.

    Parameters
    ----------
    group_key
        :attr:`~monitor.alerting.model.Notification.group_key`.

    Returns
    -------
    str
        64 lower-case hex characters.

    Examples
    --------
    >>> group_hash("{}:{rule=\\"drift\\"}")[:16]
    '2f8643a371f624de'
    """
    return hashlib.sha256(group_key.encode("utf-8")).hexdigest()


def message_id(key: str) -> str:
    """The ``webhook-id`` (and ``Idempotency-Key``, Airflow ``dag_run_id``) of a delivery key.

    The key itself when it is 1-255 characters of letters, digits and ``_~:+-`` (no ``.``,
    which Standard Webhooks reserves as its separator); otherwise ``msg_`` and the key's
    SHA-256, so it stays the same on every retry either way.

    Parameters
    ----------
    key
        The delivery key of a notification or retraining request.

    Returns
    -------
    str
        A stable identifier safe in headers, signatures and Airflow run ids.

    Examples
    --------
    >>> message_id("ntf_01HZX")
    'ntf_01HZX'
    >>> message_id("a.b")[:12]
    'msg_2e7336dc'
    """
    if _MESSAGE_ID.fullmatch(key):
        return key
    return "msg_" + hashlib.sha256(key.encode("utf-8")).hexdigest()
