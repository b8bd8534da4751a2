"""Real HTTP receivers on 127.0.0.1 for the sender tests: scripted answers, recorded requests."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    """What the receiver answers to one request."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay_seconds: float = 0.0


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Script = Callable[[Received], Reply]


class Receiver:
    """A threaded HTTP server answering every POST with ``script(request)``."""

    def __init__(self, script: Script, *, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[Received] = []
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler(script))
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._release.set()  # wake handlers that are holding back an answer
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler(self, script: Script) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                request = Received(
                    self.command,
                    self.path,
                    {name.lower(): value for name, value in self.headers.items()},
                    self.rfile.read(length),
                )
                receiver.requests.append(request)
                reply = script(request)
                if reply.delay_seconds and receiver._release.wait(reply.delay_seconds):
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: pytest shows failures, not access logs."""

        return Handler


@contextmanager
def running(script: Script | Reply, *, tls: ssl.SSLContext | None = None) -> Iterator[Receiver]:
    """A started receiver, stopped on exit; a fixed :class:`Reply` answers every request."""
    if isinstance(script, Reply):
        fixed = script

        def answer(request: Received) -> Reply:
            return fixed

        script = answer
    receiver = Receiver(script, tls=tls)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
