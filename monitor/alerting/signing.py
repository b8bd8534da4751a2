"""Standard Webhooks v1 signatures: HMAC-SHA256 over ``{id}.{timestamp}.{body}``.

Every outgoing webhook is signed this way (``webhook-id``, ``webhook-timestamp``,
``webhook-signature: v1,<base64>``). The ``webhook-id`` is the delivery key and stays the
same on every retry; the timestamp is the attempt's, so a retried delivery is signed again.
Receivers verify with any Standard Webhooks library, e.g. ``standardwebhooks.Webhook``.

Secrets are written ``whsec_`` followed by the base64 of 24 to 64 random bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Final

from monitor.errors import ConfigError

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "MAX_SECRET_BYTES",
    "MIN_SECRET_BYTES",
    "SECRET_PREFIX",
    "SigningSecretError",
    "new_secret",
    "parse_secret",
    "sign",
    "signature_headers",
    "verify",
]

SECRET_PREFIX: Final = "whsec_"
"""Prefix of a symmetric Standard Webhooks secret."""
MIN_SECRET_BYTES: Final = 24
"""Shortest secret key the specification allows."""
MAX_SECRET_BYTES: Final = 64
"""Longest secret key the specification allows."""
DEFAULT_TOLERANCE_SECONDS: Final = 300
"""How old (or new) a received webhook's timestamp may be, as the reference libraries allow."""


class SigningSecretError(ConfigError):
    """A signing secret is not ``whsec_`` followed by the base64 of 24 to 64 bytes.

    The message never contains the secret.

    Parameters
    ----------
    message
        What is wrong.
    n_bytes
        The decoded key's length when that was the problem, else ``None``.
    """

    def __init__(self, message: str, *, n_bytes: int | None = None) -> None:
        super().__init__(message)
        self.n_bytes = n_bytes


def parse_secret(secret: str) -> bytes:
    """Decode a ``whsec_`` secret into its HMAC key.

    Parameters
    ----------
    secret
        ``whsec_`` followed by standard base64 (padding optional).

    Returns
    -------
    bytes
        The key, 24 to 64 bytes long.

    Raises
    ------
    SigningSecretError
        If the prefix is missing, the rest is not base64, or the key is too short or long.

    Examples
    --------
    >>> len(parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
    24
    """
    if not secret.startswith(SECRET_PREFIX):
        msg = f"signing secret must start with {SECRET_PREFIX!r} followed by base64"
        raise SigningSecretError(msg)
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        msg = f"signing secret after {SECRET_PREFIX!r} is not valid base64 (A-Z, a-z, 0-9, +, /)"
        raise SigningSecretError(msg) from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        msg = (
            f"signing secret must encode {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes, "
            f"got {len(key)} bytes"
        )
        raise SigningSecretError(msg, n_bytes=len(key))
    return key


def new_secret(n_bytes: int = 32) -> str:
    """Make a new random signing secret.

    Parameters
    ----------
    n_bytes
        Length of the key, 24 to 64.

    Returns
    -------
    str
        ``whsec_`` followed by the base64 of ``n_bytes`` random bytes.

    Raises
    ------
    ValueError
        If ``n_bytes`` is outside 24 to 64.

    Examples
    --------
    >>> len(parse_secret(new_secret()))
    32
    """
    if not MIN_SECRET_BYTES <= n_bytes <= MAX_SECRET_BYTES:
        msg = f"n_bytes must be between {MIN_SECRET_BYTES} and {MAX_SECRET_BYTES}, got {n_bytes}"
        raise ValueError(msg)
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(n_bytes)).decode("ascii")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Sign one message.

    Parameters
    ----------
    secret
        The ``whsec_`` secret.
    msg_id
        The ``webhook-id``; must not contain ``.``.
    timestamp
        The ``webhook-timestamp``, integer Unix seconds of the attempt.
    body
        The exact bytes sent as the request body.

    Returns
    -------
    str
        ``v1,`` followed by the base64 HMAC-SHA256 of ``{msg_id}.{timestamp}.{body}``.

    Raises
    ------
    SigningSecretError
        If the secret is malformed.
    ValueError
        If ``msg_id`` is empty or contains ``.``, or ``timestamp`` is negative.

    Examples
    --------
    >>> sign(
    ...     "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ...     "msg_p5jXN8AQM9LWM0D4loKWxJek",
    ...     1614265330,
    ...     b'{"test": 2432232314}',
    ... )
    'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
    """
    key = parse_secret(secret)
    if not msg_id or "." in msg_id:
        msg = f"webhook id must be non-empty and contain no '.', got {msg_id!r}"
        raise ValueError(msg)
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        msg = f"webhook timestamp must be a non-negative integer of Unix seconds, got {timestamp!r}"
        raise ValueError(msg)
    content = msg_id.encode("utf-8") + b"." + str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of one signed attempt.

    Parameters
    ----------
    secret
        The ``whsec_`` secret.
    msg_id
        The ``webhook-id`` (the delivery key, the same on every retry).
    timestamp
        Unix seconds of this attempt.
    body
        The exact request body.

    Returns
    -------
    dict of str to str
        ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature``.

    Raises
    ------
    SigningSecretError
        If the secret is malformed.
    ValueError
        As :func:`sign`.
    """
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: int,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> str | None:
    """Check a received webhook's Standard Webhooks signature, as a receiver does.

    Parameters
    ----------
    secret
        The ``whsec_`` secret shared with the sender.
    headers
        The request's headers (keys lower-case, as HTTP frameworks give them).
    body
        The exact request body.
    now
        Unix seconds at the receiver.
    tolerance_seconds
        How far ``webhook-timestamp`` may be from ``now`` (replay protection).

    Returns
    -------
    str or None
        ``None`` when one of the ``v1`` signatures matches and the timestamp is recent;
        otherwise what is wrong.

    Examples
    --------
    >>> secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    >>> signed = signature_headers(secret, "msg_1", 1614265330, b"{}")
    >>> verify(secret, signed, b"{}", now=1614265331) is None
    True
    >>> verify(secret, signed, b"{ }", now=1614265331)
    'no v1 signature matches the body'
    """
    msg_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    offered = headers.get("webhook-signature", "")
    if not msg_id or not stamp or not offered:
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    if not stamp.isdigit():
        return f"webhook-timestamp {stamp[:20]!r} is not Unix seconds"
    if abs(now - int(stamp)) > tolerance_seconds:
        return f"webhook-timestamp is {now - int(stamp)}s away from now"
    try:
        expected = sign(secret, msg_id, int(stamp), body)
    except ValueError as error:  # a malformed id
        return str(error)
    for candidate in offered.split():
        if hmac.compare_digest(candidate.encode(), expected.encode()):
            return None
    return "no v1 signature matches the body"
