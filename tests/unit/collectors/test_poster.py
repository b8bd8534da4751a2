from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from collectors._poster import Poster
from collectors.errors import PushError


class _Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    bodies: ClassVar[list[bytes]] = []
    status = 200
    connections: ClassVar[set[tuple[str, int]]] = set()

    def do_POST(self) -> None:
        length = int(self.headers["content-length"])
        type(self).bodies.append(self.rfile.read(length))
        type(self).connections.add(self.client_address)
        answer = b'{"accepted": 1}'
        self.send_response(type(self).status)
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Handler", (_Receiver,), {"bodies": [], "status": 200, "connections": set()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/tap", handler
    server.shutdown()
    server.server_close()


def test_bodies_arrive_in_order_on_one_kept_alive_connection(
    receiver: tuple[str, type[_Receiver]],
) -> None:
    url, handler = receiver
    poster = Poster(url, headers={"authorization": "Bearer t"}, timeout_seconds=5)
    for body in (b"one", b"two", b"\x00" * 100_000):
        poster.post(body)
    poster.close()
    assert handler.bodies == [b"one", b"two", b"\x00" * 100_000]
    assert len(handler.connections) == 1


def test_a_non_2xx_answer_raises_with_the_status(receiver: tuple[str, type[_Receiver]]) -> None:
    url, handler = receiver
    handler.status = 401
    poster = Poster(url, headers={}, timeout_seconds=5)
    with pytest.raises(PushError, match=r"answered 401: b'\{\"accepted\": 1\}'"):
        poster.post(b"x")
    poster.close()


def test_an_unreachable_sidecar_raises_push_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    poster = Poster(f"http://127.0.0.1:{port}/v1/tap", headers={}, timeout_seconds=5)
    with pytest.raises(PushError, match=rf"the sidecar at http://127.0.0.1:{port} unreachable"):
        poster.post(b"x")


def test_a_connection_the_server_closed_while_idle_is_replaced() -> None:
    """A server that closes each connection after one answer, without saying so (as an
    idle keep-alive timeout does): every post still succeeds, on a new connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    received: list[bytes] = []

    def serve() -> None:
        for _ in range(3):
            connection, _ = listener.accept()
            with connection:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += connection.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                while len(body) < length:
                    body += connection.recv(65536)
                received.append(body)
                connection.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    poster = Poster(f"http://127.0.0.1:{port}/v1/tap", headers={}, timeout_seconds=5)
    try:
        for body in (b"a", b"b", b"c"):
            poster.post(body)
            _wait_until_closed_by_peer(poster)
    finally:
        poster.close()
        listener.close()
    thread.join(timeout=5)
    assert received == [b"a", b"b", b"c"]


def _wait_until_closed_by_peer(poster: Poster) -> None:
    connection = poster._connection
    if connection is not None and connection.sock is not None:
        connection.sock.settimeout(5)
        assert connection.sock.recv(1, socket.MSG_PEEK) == b""


@pytest.mark.parametrize("url", ["ftp://host/x", "sidecar:8001", "http:///v1/tap"])
def test_a_url_that_is_not_http_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="must be http:// or https://"):
        Poster(url, headers={}, timeout_seconds=1)
