"""Posting bodies to one URL over one kept-alive connection (the push tap's sender thread).

The sender runs inside the inference server, so every CPU second it spends is taken from
serving. The standard library's HTTP client posts a body for about a third of httpx's CPU
(measured on the tap's bodies, see ``benchmarks/serving/tap_cost.py``), and nothing more than
"POST these bytes, expect 2xx" is needed here.
"""

from __future__ import annotations

import http.client
import select
import ssl
import urllib.parse
from collections.abc import Mapping

from collectors.errors import PushError

__all__ = ["Poster"]


class Poster:
    """POSTs bodies to ``url`` on one keep-alive connection, reopened after any failure.

    Parameters
    ----------
    url
        ``http://`` or ``https://`` URL the bodies go to.
    headers
        Sent with every body (``content-length`` is added).
    timeout_seconds
        Connect and read timeout.

    Raises
    ------
    ValueError
        If ``url`` is not an absolute http(s) URL.
    """

    def __init__(self, url: str, *, headers: Mapping[str, str], timeout_seconds: float) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the push URL must be http:// or https://host..., got {url!r}")
        self._secure = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = dict(headers)
        self._timeout = timeout_seconds
        self._connection: http.client.HTTPConnection | None = None

    def post(self, body: bytes) -> None:
        """Send ``body``; return once the server answered 2xx.

        A kept-alive connection the server has closed meanwhile (it is readable while idle)
        is replaced before sending, as httpx's pool does; any failure closes the connection.

        Raises
        ------
        PushError
            The server is unreachable, timed out, closed the connection or answered non-2xx.
        """
        try:
            status, answer = self._send(body)
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise PushError(f"{self._where()} unreachable: {error!r}") from None
        if not 200 <= status < 300:
            raise PushError(f"{self._where()} answered {status}: {answer[:200]!r}")

    def close(self) -> None:
        """Close the connection (the next post opens a new one)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _send(self, body: bytes) -> tuple[int, bytes]:
        connection = self._connection
        if connection is not None and _closed_by_peer(connection):
            self.close()
            connection = None
        if connection is None:
            connection = self._connection = self._connect()
        connection.request("POST", self._path, body=body, headers=self._headers)
        response = connection.getresponse()
        answer = response.read()
        if response.will_close:
            self.close()
        return response.status, answer

    def _connect(self) -> http.client.HTTPConnection:
        if self._secure:
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)

    def _where(self) -> str:
        scheme = "https" if self._secure else "http"
        port = f":{self._port}" if self._port else ""
        return f"the sidecar at {scheme}://{self._host}{port}"


def _closed_by_peer(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle connection has something to read: the peer's close (or junk)."""
    sock = connection.sock
    if sock is None:
        return False
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)
