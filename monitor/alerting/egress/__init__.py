"""The egress guard: where alert requests may go, and sending them there.

Channel URLs are user input, so every request is checked against an :class:`EgressPolicy`
before it leaves (OWASP SSRF cheat sheet, case 2): only ``http``/``https``; the host is
resolved and **every** A/AAAA answer must be public unless allow-listed in
``DRIFTLINE_EGRESS_ALLOW`` (:func:`egress_policy`). Refused: private, shared (CGNAT),
loopback, link-local (cloud metadata ``169.254.169.254``), unspecified, multicast,
broadcast, documentation, benchmarking and other reserved ranges; IPv4-mapped, NAT64 and
6to4 IPv6 forms are judged by the IPv4 address they embed. Redirects are never followed.

- :mod:`~monitor.alerting.egress.policy`: :class:`EgressPolicy` (``check_url``,
  ``resolve``, ``check_host``) and its errors;
- :mod:`~monitor.alerting.egress.addresses`: the ranges and how refusals are worded;
- :mod:`~monitor.alerting.egress.http_sender`: :func:`send` and the outcome table;
- :mod:`~monitor.alerting.egress.smtp_sender`: :func:`send_email`;
- :mod:`~monitor.alerting.egress.result`: :class:`SendResult`.

DNS rebinding: the senders resolve once, check every answer, then connect to a checked
address themselves — HTTP by sending to the IP with the original ``Host`` header and the
host name as TLS server name (the certificate is verified against the name), SMTP by
opening the socket to the IP while ``STARTTLS`` verifies the name. Nothing is resolved
between check and connect. Residual risks: the built-in sender ignores proxy settings
(egress through an HTTP proxy is not supported), a caller-supplied ``httpx.Client`` with
proxy mounts would send through that proxy, and the guard sees only this process's DNS —
a network egress filter (a filtering proxy, a segregated subnet) remains advisable.
"""

from __future__ import annotations

from monitor.alerting.egress.http_sender import classify, parse_retry_after, send
from monitor.alerting.egress.policy import (
    ALLOW_ENV_VAR,
    EgressPolicy,
    EgressRefusedError,
    Resolver,
    Target,
    UnresolvableHostError,
    egress_policy,
    system_resolver,
)
from monitor.alerting.egress.result import Outcome, SendResult
from monitor.alerting.egress.smtp_sender import send_email

__all__ = [
    "ALLOW_ENV_VAR",
    "EgressPolicy",
    "EgressRefusedError",
    "Outcome",
    "Resolver",
    "SendResult",
    "Target",
    "UnresolvableHostError",
    "classify",
    "egress_policy",
    "parse_retry_after",
    "send",
    "send_email",
    "system_resolver",
]
