"""Serving an ASGI app with uvicorn on a loopback port, in a thread of the test process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["served_in_thread"]


@contextmanager
def served_in_thread(app: Any, *, startup_seconds: float = 60) -> Iterator[str]:
    """Serve ``app`` (lifespan on) on a free port of 127.0.0.1; yields its base URL and
    stops it (lifespan shutdown included) on exit."""
    import uvicorn

    web = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_seconds
    while not web.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.01)
    assert web.started, "the server did not start"
    port = web.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        web.should_exit = True
        thread.join(timeout=60)
