"""Ports shared by worker processes through ``SO_REUSEPORT``.

Each worker opens its own listening socket on the same address; the kernel hashes every new
connection to one of them, so connections spread evenly over the workers (a single
inherited socket would let whichever worker wakes first take a burst of them, and gRPC
cannot adopt an inherited socket at all). The supervisor first checks that nobody holds the
port, then keeps a bound, never-listening ``SO_REUSEPORT`` socket on it for as long as it
runs: that claims the port against other programs while workers restart, and takes no
connections itself.
"""

from __future__ import annotations

import socket

from serving.workers.errors import PortTakenError

__all__ = ["bind_shared", "claim_port"]


def claim_port(host: str, port: int, *, what: str) -> socket.socket:
    """A bound (not listening) ``SO_REUSEPORT`` socket holding ``host:port`` for the workers.

    Raises
    ------
    PortTakenError
        If another socket holds the port (even one that also set ``SO_REUSEPORT``), or the
        host is not an address of this machine.
    """
    family, address = _address(host, port, what)
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)
    except OSError as error:
        raise PortTakenError(
            f"cannot listen for {what} on {_show(host, port)}: {error.strerror or error}"
        ) from None
    finally:
        probe.close()
    return bind_shared(host, port, what=what)


def bind_shared(host: str, port: int, *, what: str = "HTTP") -> socket.socket:
    """A socket bound to ``host:port`` with ``SO_REUSEPORT``, for one worker to listen on.

    Raises
    ------
    PortTakenError
        If the port is held by a socket that does not share it.
    """
    family, address = _address(host, port, what)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(address)
    except OSError as error:
        sock.close()
        raise PortTakenError(
            f"cannot listen for {what} on {_show(host, port)}: {error.strerror or error}"
        ) from None
    sock.set_inheritable(False)
    return sock


def _address(host: str, port: int, what: str) -> tuple[socket.AddressFamily, tuple[str, int]]:
    try:
        found = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as error:
        raise PortTakenError(
            f"cannot listen for {what} on {_show(host, port)}: {error.strerror}"
        ) from None
    family, _, _, _, address = found[0]
    return family, (str(address[0]), int(address[1]))


def _show(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
