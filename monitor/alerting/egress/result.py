"""What became of one delivery attempt, and the wording both senders share."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["EXCERPT_CHARS", "Outcome", "SendResult", "certificate_error", "excerpt"]

EXCERPT_CHARS: Final = 300
"""Longest excerpt of a receiver's answer kept in a :class:`SendResult`."""

Outcome = Literal["delivered", "retry", "failed"]


@dataclass(frozen=True, slots=True)
class SendResult:
    """What became of one attempt.

    Attributes
    ----------
    outcome
        ``delivered``, ``retry`` (try again later) or ``failed`` (do not retry).
    status_code
        The HTTP status or SMTP reply code, if the receiver answered.
    retry_after_seconds
        The receiver's ``Retry-After``: the least wait before the next attempt.
    error
        What went wrong, in one line without credentials; ``None`` when delivered cleanly.
    response_excerpt
        The start of the receiver's answer (≤ 300 characters) when it was not a success.
    """

    outcome: Outcome
    status_code: int | None = None
    retry_after_seconds: float | None = None
    error: str | None = None
    response_excerpt: str | None = None


def excerpt(head: bytes) -> str | None:
    """The start of an answer, whitespace collapsed, at most 300 characters; ``None`` if empty."""
    text = " ".join(head.decode("utf-8", errors="replace").split())
    if not text:
        return None
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def certificate_error(exc: BaseException) -> bool:
    """Whether ``exc`` was caused by a TLS certificate that could not be verified."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
