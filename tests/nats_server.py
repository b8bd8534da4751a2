"""The NATS server with JetStream the transport tests run against, started when missing.

Tests use ``nats://127.0.0.1:4222``. When nothing listens there, :func:`running_nats`
starts ``nats-server -js`` on that address with a temporary store directory and stops it
afterwards. Without a server and without the binary the tests are skipped, unless
``DRIFTLINE_REQUIRE_POSTGRES`` is set (CI), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HOST, PORT = "127.0.0.1", 4222
URL = f"nats://{HOST}:{PORT}"
_BINARIES = ("/usr/sbin/nats-server", "nats-server")


def listening(host: str = HOST, port: int = PORT) -> bool:
    """Whether something accepts TCP connections at ``host:port``."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def _unavailable(reason: str) -> None:
    if os.environ.get("DRIFTLINE_REQUIRE_POSTGRES"):
        pytest.fail(f"NATS JetStream is required in CI: {reason}")
    pytest.skip(reason)


@contextlib.contextmanager
def running_nats(port: int = PORT) -> Iterator[str]:
    """The URL of a NATS server with JetStream on ``port``, started here if none listens."""
    url = f"nats://{HOST}:{port}"
    if listening(HOST, port):
        yield url
        return
    binary = next((b for b in (shutil.which(name) for name in _BINARIES) if b), None)
    if binary is None:
        _unavailable(f"no NATS server at {url} and no nats-server binary to start one")
    assert binary is not None
    with tempfile.TemporaryDirectory(prefix="driftline-nats-") as store:
        log = Path(store) / "nats.log"
        process = subprocess.Popen(
            [binary, "-js", "-a", HOST, "-p", str(port), "-sd", store, "-l", str(log)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and process.poll() is None:
                if listening(HOST, port):
                    break
                time.sleep(0.05)
            if not listening(HOST, port):
                tail = log.read_text(errors="replace")[-500:] if log.exists() else ""
                _unavailable(f"{binary} did not start listening on {url}: {tail}")
            yield url
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
