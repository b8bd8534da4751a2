"""The egress policy: which URLs and hosts alert requests may reach.

Only ``http`` and ``https``; the host is resolved and **every** A/AAAA answer must be a
public address (:mod:`~monitor.alerting.egress.addresses`) unless allow-listed in
``DRIFTLINE_EGRESS_ALLOW``: IP networks, or host names trusted whatever they resolve to.
URLs are parsed by httpx, the parser that later sends them, so the checked host is the
connected one. Messages show a URL's scheme, host and port only: paths and queries of
webhook URLs are often credentials.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import httpx

from monitor.alerting.channels.outgoing import redact_url
from monitor.alerting.egress.addresses import Address, Network, describe, show
from monitor.errors import ConfigError, DriftlineError, SettingsError

if TYPE_CHECKING:
    from monitor.settings import Settings

__all__ = [
    "ALLOW_ENV_VAR",
    "EgressPolicy",
    "EgressRefusedError",
    "Resolver",
    "Target",
    "UnresolvableHostError",
    "egress_policy",
    "system_resolver",
]

ALLOW_ENV_VAR: Final = "DRIFTLINE_EGRESS_ALLOW"
"""The setting that allow-lists non-public destinations."""
_HOST_NAME = re.compile(
    r"(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
)


Resolver = Callable[[str, int], Sequence[str]]
"""Resolves ``(host, port)`` to address strings."""


class EgressRefusedError(ConfigError):
    """A URL or host may not be reached: bad scheme, or a non-public address not allow-listed."""


class UnresolvableHostError(DriftlineError, OSError):
    """A host name has no address (or DNS failed); sending may succeed later."""


@dataclass(frozen=True, slots=True)
class Target:
    """A checked destination: connect only to ``addresses``, in order."""

    scheme: str
    host: str
    port: int
    addresses: tuple[Address, ...]


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``getaddrinfo`` gives for a TCP connection to ``host:port``."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


class EgressPolicy:
    """Which destinations alert requests may reach.

    Parameters
    ----------
    allow
        IP addresses or networks (``127.0.0.1``, ``10.0.0.0/8``, ``fd00::/8``) and host
        names (``hooks.internal.example``) reachable although not public.
    resolver
        Resolves ``(host, port)`` to address strings; ``getaddrinfo`` by default.

    Raises
    ------
    SettingsError
        If an ``allow`` entry is neither an IP network nor a host name; the message
        starts with ``DRIFTLINE_EGRESS_ALLOW``.
    """

    def __init__(self, allow: Iterable[str] = (), *, resolver: Resolver | None = None) -> None:
        networks: list[Network] = []
        hosts: set[str] = set()
        for raw in allow:
            entry = raw.strip()
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            name = entry.lower().rstrip(".")
            if _HOST_NAME.fullmatch(name) is None:
                msg = (
                    f"{ALLOW_ENV_VAR}: {entry!r} is neither an IP address or network "
                    "(like 127.0.0.1 or 10.0.0.0/8) nor a host name"
                )
                raise SettingsError(msg, env_var=ALLOW_ENV_VAR)
            hosts.add(name)
        self._networks = tuple(networks)
        self._hosts = frozenset(hosts)
        self._resolve = resolver or system_resolver

    def __repr__(self) -> str:
        allowed = [str(network) for network in self._networks] + sorted(self._hosts)
        return f"EgressPolicy(allow={allowed!r})"

    def check_url(self, url: str, *, what: str = "webhook URL") -> None:
        """Raise unless ``url`` may be requested; see :meth:`resolve`."""
        self.resolve(url, what=what)

    def resolve(self, url: str, *, what: str = "webhook URL") -> Target:
        """Check a URL and return the addresses a request to it may connect to.

        Parameters
        ----------
        url
            The URL, as httpx parses it.
        what
            How messages call the URL.

        Returns
        -------
        Target
            Scheme, host, port and the checked addresses.

        Raises
        ------
        EgressRefusedError
            If the URL is invalid, not ``http``/``https``, or one of its addresses is not
            public and not allow-listed. The message shows only scheme, host and port.
        UnresolvableHostError
            If the host name does not resolve.
        """
        shown = redact_url(url)
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            raise EgressRefusedError(f"{what} {shown} is not a valid URL") from None
        if parsed.scheme not in {"http", "https"}:
            msg = (
                f"{what} {shown} uses the scheme {parsed.scheme!r}; only http and https are allowed"
            )
            raise EgressRefusedError(msg)
        host = parsed.raw_host.decode("ascii")
        if not host:
            raise EgressRefusedError(f"{what} {shown} has no host")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        addresses = self.check_host(host, port, what=f"{what} {shown}")
        return Target(parsed.scheme, host, port, addresses)

    def check_host(self, host: str, port: int, *, what: str) -> tuple[Address, ...]:
        """Resolve a host and check every address.

        Parameters
        ----------
        host
            A host name (ASCII) or IP address.
        port
            The TCP port.
        what
            How messages call the destination (``SMTP server smtp.example.com:587``).

        Returns
        -------
        tuple of IPv4Address or IPv6Address
            The addresses, all allowed.

        Raises
        ------
        EgressRefusedError
            If an address is not public and not allow-listed.
        UnresolvableHostError
            If the host name does not resolve.
        """
        try:
            addresses: tuple[Address, ...] = (ipaddress.ip_address(host),)
        except ValueError:
            addresses = self._lookup(host, port, what)
        if host.lower().rstrip(".") in self._hosts:
            return addresses
        for address in addresses:
            reason = self.refusal(address)
            if reason is not None:
                refused = f"refused unless allow-listed in {ALLOW_ENV_VAR}"
                shown = show(address)
                raise EgressRefusedError(f"{what} resolves to {shown}, {reason}; {refused}")
        return addresses

    def refusal(self, address: Address) -> str | None:
        """Why ``address`` may not be reached (``"a loopback address"``), or ``None``."""
        return describe(address, self._networks)

    def _lookup(self, host: str, port: int, what: str) -> tuple[Address, ...]:
        try:
            answers = self._resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise UnresolvableHostError(f"{what}: cannot resolve {host!r}: {exc}") from None
        addresses = tuple(ipaddress.ip_address(answer) for answer in answers)
        if not addresses:
            raise UnresolvableHostError(f"{what}: {host!r} resolves to no address")
        return addresses


def egress_policy(settings: Settings) -> EgressPolicy:
    """The policy of ``DRIFTLINE_EGRESS_ALLOW`` (comma-separated, blanks ignored).

    Raises
    ------
    SettingsError
        If an entry is neither an IP network nor a host name.
    """
    return EgressPolicy(entry for entry in settings.egress_allow.split(",") if entry.strip())
