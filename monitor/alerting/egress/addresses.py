"""How an address is judged: which ranges are not public, and why, in words."""

from __future__ import annotations

import ipaddress
from typing import Final

__all__ = ["Address", "Network", "describe", "kind", "show"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Checked in order: the first network holding an address names why it is refused.
_DENIED: Final[tuple[tuple[Network, str], ...]] = tuple(
    (ipaddress.ip_network(network), why)
    for network, why in (
        ("0.0.0.0/8", "an unspecified ('this network') address"),
        ("10.0.0.0/8", "a private address"),
        ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address"),
        ("172.16.0.0/12", "a private address"),
        ("192.0.0.0/24", "an IETF protocol assignment address"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.168.0.0/16", "a private address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("255.255.255.255/32", "the broadcast address"),
        ("240.0.0.0/4", "a reserved address"),
        ("::/128", "the unspecified address"),
        ("::1/128", "a loopback address"),
        ("::/96", "an IPv4-compatible (deprecated) address"),
        ("100::/64", "a discard-only address"),
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
        ("2001::/32", "a Teredo tunnel address"),
        ("2001:db8::/32", "a documentation address"),
        ("fc00::/7", "a unique-local (private) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    )
)
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")


def describe(address: Address, allowed: tuple[Network, ...]) -> str | None:
    """Why ``address`` may not be reached, or ``None`` if it may.

    Parameters
    ----------
    address
        A resolved address.
    allowed
        Networks reachable although not public; an IPv6 form embedding an IPv4 address
        (IPv4-mapped, NAT64, 6to4) is allowed when either address is in them.

    Returns
    -------
    str or None
        ``"a loopback address"``, ``"an IPv4-mapped form of 127.0.0.1, a loopback address"``,
        ..., or ``None``.

    Examples
    --------
    >>> describe(ipaddress.ip_address("169.254.169.254"), ())
    'a link-local address'
    >>> describe(ipaddress.ip_address("::ffff:10.0.0.1"), ())
    'an IPv4-mapped form of 10.0.0.1, a private address'
    >>> describe(ipaddress.ip_address("10.0.0.1"), (ipaddress.ip_network("10.0.0.0/8"),)) is None
    True
    """
    form, embedded = _embedded_ipv4(address)
    candidates = (address,) if embedded is None else (address, embedded)
    if any(item in network for item in candidates for network in allowed):
        return None
    if embedded is None:
        return kind(address)
    inner = kind(embedded)
    return None if inner is None else f"{form} of {embedded}, {inner}"


def show(address: Address) -> str:
    """An address as written in messages; IPv4-mapped ones in their dotted form."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return f"::ffff:{address.ipv4_mapped}"
    return str(address)


def kind(address: Address) -> str | None:
    """The kind of a non-public address (``"a private address"``), ``None`` if public."""
    for network, kind in _DENIED:
        if address.version == network.version and address in network:
            return kind
    return None if address.is_global else "a reserved (non-global) address"


def _embedded_ipv4(address: Address) -> tuple[str, ipaddress.IPv4Address | None]:
    """The IPv4 address an IPv6 address stands for, and what kind of form it is."""
    if isinstance(address, ipaddress.IPv4Address):
        return "", None
    if address.ipv4_mapped is not None:
        return "an IPv4-mapped form", address.ipv4_mapped
    if address in _NAT64:
        return "a NAT64 form", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return "a 6to4 form", address.sixtofour
    return "", None
