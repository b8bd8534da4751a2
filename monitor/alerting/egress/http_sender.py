"""Sending an HTTP request to a checked address, and classifying the answer.

DNS rebinding: the host is resolved once by the policy, and the request goes to
``scheme://<checked IP>:port/...`` with the URL's own ``Host`` header and, for HTTPS, the
host name as TLS server name (httpx's ``sni_hostname`` request extension), so the server
certificate is verified against the host name. Nothing is resolved between check and
connect. ``Connection: close`` keeps a pooled connection made for one host name from being
reused for another that shares its IP. Redirects are never followed.

========================================== ========= ===================================
answer                                     outcome   notes
========================================== ========= ===================================
2xx                                        delivered
3xx                                        failed    not followed; ``error`` names the
                                                     ``Location``
408, 425, 429, 500, 502, 503, 504          retry     ``Retry-After`` (seconds or HTTP
                                                     date) → ``retry_after_seconds``
other 5xx except 501, 505                  retry     as Alertmanager retries every 5xx
410                                        failed    the endpoint is gone: disable it
other 4xx, 501, 505, anything else         failed    ``response_excerpt`` ≤ 300 chars
timeout, connection or protocol error      retry     ``status_code`` is ``None``
unresolvable host name                     retry     DNS may recover
refused by the policy, invalid URL         failed
TLS certificate not verifiable             failed
========================================== ========= ===================================
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Final

import httpx

from monitor.alerting.channels.outgoing import OutgoingRequest, redact_url
from monitor.alerting.egress.addresses import Address
from monitor.alerting.egress.policy import (
    EgressPolicy,
    EgressRefusedError,
    Target,
    UnresolvableHostError,
)
from monitor.alerting.egress.result import SendResult, certificate_error, excerpt

__all__ = ["classify", "parse_retry_after", "send"]

_READ_BYTES: Final = 4096
_RETRY_STATUSES: Final = frozenset({408, 425, 429, 500, 502, 503, 504})
_PERMANENT_5XX: Final = frozenset({501, 505})


def send(
    request: OutgoingRequest,
    *,
    policy: EgressPolicy,
    client: httpx.Client | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> SendResult:
    """Check, send and classify one HTTP request; never raises for the receiver's sake.

    Parameters
    ----------
    request
        The rendered request.
    policy
        Where requests may go.
    client
        An httpx client to send with (its redirect setting is overridden: redirects are
        never followed); a new one without proxy settings from the environment by default.
    clock
        The current time, to turn an HTTP-date ``Retry-After`` into seconds.

    Returns
    -------
    SendResult
        See the module's table.
    """
    try:
        target = policy.resolve(request.url)
    except EgressRefusedError as exc:
        return SendResult("failed", error=str(exc))
    except UnresolvableHostError as exc:
        return SendResult("retry", error=str(exc))
    own = client is None
    http = httpx.Client(trust_env=False) if client is None else client
    try:
        return _send_pinned(http, request, target, clock or _utc_now)
    finally:
        if own:
            http.close()


def _send_pinned(
    http: httpx.Client,
    request: OutgoingRequest,
    target: Target,
    clock: Callable[[], dt.datetime],
) -> SendResult:
    where = redact_url(request.url)
    last = SendResult("retry", error=f"cannot reach {where}: no address")
    for address in target.addresses:
        pinned = _pinned_request(http, request, target, address)
        try:
            response = http.send(pinned, stream=True, follow_redirects=False)
        except httpx.ConnectError as exc:  # not connected: try the next checked address
            last = _transport_failure(exc, where, request.timeout_seconds)
            if last.outcome == "failed":
                return last
            continue
        except httpx.TransportError as exc:
            return _transport_failure(exc, where, request.timeout_seconds)
        try:
            head = _read_head(response)
        except httpx.TransportError as exc:
            return _transport_failure(exc, where, request.timeout_seconds)
        finally:
            response.close()
        return classify(response, head, now=clock())
    return last


def _pinned_request(
    http: httpx.Client, request: OutgoingRequest, target: Target, address: Address
) -> httpx.Request:
    """The request sent to ``address`` with the URL's own ``Host`` and TLS server name."""
    url = httpx.URL(request.url)
    headers = dict(request.headers)
    headers["Host"] = url.netloc.decode("ascii").rsplit("@", 1)[-1]
    headers["Connection"] = "close"
    extensions = {}
    if target.scheme == "https" and not _is_ip(target.host):
        extensions["sni_hostname"] = target.host
    return http.build_request(
        request.method,
        url.copy_with(host=str(address)),
        headers=headers,
        content=request.body,
        timeout=request.timeout_seconds,
        extensions=extensions,
    )


def _read_head(response: httpx.Response) -> bytes:
    """The first bytes of a response body (enough for an excerpt; the rest is dropped)."""
    if response.is_success:
        return b""
    head = b""
    for chunk in response.iter_bytes():
        head += chunk
        if len(head) >= _READ_BYTES:
            break
    return head[:_READ_BYTES]


def classify(response: httpx.Response, head: bytes, *, now: dt.datetime) -> SendResult:
    """Turn a receiver's answer into a :class:`SendResult` (the module's table).

    Parameters
    ----------
    response
        The answer (its body need not have been read).
    head
        The first bytes of its body.
    now
        The current time, for an HTTP-date ``Retry-After``.
    """
    code = response.status_code
    status = f"{code} {response.reason_phrase}".strip()
    shown = excerpt(head)
    if 200 <= code < 300:
        return SendResult("delivered", status_code=code)
    if 300 <= code < 400:
        location = response.headers.get("Location", "(no Location header)")
        error = (
            f"receiver answered {status} redirecting to {location[:200]}; redirects are not "
            "followed: point the channel at the final URL"
        )
        return SendResult("failed", code, None, error, shown)
    if code in _RETRY_STATUSES or (500 <= code < 600 and code not in _PERMANENT_5XX):
        wait = parse_retry_after(response.headers.get("Retry-After"), now=now)
        error = f"receiver answered {status}; retry later"
        return SendResult("retry", code, wait, error, shown)
    if code == 410:
        error = (
            "receiver answered 410 Gone: the endpoint no longer exists; fix or remove the channel"
        )
        return SendResult("failed", code, None, error, shown)
    detail = f": {shown}" if shown else ""
    error = f"receiver refused the request with {status}{detail}"
    return SendResult("failed", code, None, error, shown)


def parse_retry_after(value: str | None, *, now: dt.datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (RFC 9110 §10.2.3).

    Parameters
    ----------
    value
        The header: ``delay-seconds`` or an ``HTTP-date``; ``None`` when absent.
    now
        The current time, timezone-aware.

    Returns
    -------
    float or None
        The delay (0 for a date in the past), or ``None`` if absent or unreadable.

    Examples
    --------
    >>> now = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
    >>> parse_retry_after("120", now=now)
    120.0
    >>> parse_retry_after("Fri, 01 May 2026 12:00:30 GMT", now=now)
    30.0
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def _transport_failure(exc: httpx.TransportError, where: str, timeout: float) -> SendResult:
    if certificate_error(exc):
        return SendResult(
            "failed", error=f"TLS certificate of {where} could not be verified: {exc}"
        )
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__
        return SendResult("retry", error=f"no answer from {where} within {timeout:g} s ({kind})")
    detail = str(exc) or type(exc).__name__
    return SendResult("retry", error=f"cannot reach {where}: {detail}")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
