"""Headers shared by the JSON requests of every channel."""

from __future__ import annotations

import datetime as dt

from monitor.alerting.channels.identity import message_id
from monitor.alerting.channels.outgoing import USER_AGENT
from monitor.alerting.signing import signature_headers

__all__ = ["delivery_headers", "json_headers"]


def json_headers() -> dict[str, str]:
    """``Content-Type`` and ``User-Agent`` of a JSON request."""
    return {"Content-Type": "application/json", "User-Agent": USER_AGENT}


def delivery_headers(
    key: str, body: bytes, *, secret: str | None, now: dt.datetime
) -> dict[str, str]:
    """Standard Webhooks identity headers, signed when there is a secret.

    Parameters
    ----------
    key
        The delivery key: ``webhook-id`` and ``Idempotency-Key`` (via
        :func:`~monitor.alerting.channels.identity.message_id`), the same on every retry.
    body
        The exact request body.
    secret
        The ``whsec_`` secret, or ``None`` for an unsigned request.
    now
        The attempt's time: ``webhook-timestamp``.

    Returns
    -------
    dict of str to str
        ``webhook-id``, ``webhook-timestamp``, ``webhook-signature`` (when signed) and
        ``Idempotency-Key``.

    Raises
    ------
    ValueError
        If ``now`` is naive.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        msg = f"now must be timezone-aware, got the naive datetime {now.isoformat()}"
        raise ValueError(msg)
    msg_id = message_id(key)
    timestamp = int(now.timestamp())
    if secret is None:
        headers = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp)}
    else:
        headers = signature_headers(secret, msg_id, timestamp, body)
    headers["Idempotency-Key"] = msg_id
    return headers
