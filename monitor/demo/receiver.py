"""The demo's stand-in for an on-call tool and a retraining pipeline: a loopback receiver.

``POST /alerts`` takes the ``webhook`` channel's notifications (Alertmanager's payload) and
``POST /retrain`` the ``retrain`` channel's requests. Each is checked as a real receiver
would check it, by its Standard Webhooks signature, and kept in arrival order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from monitor.alerting.signing import verify

__all__ = ["Delivery", "Receiver", "running_receiver"]

DeliveryKind = Literal["alert", "retrain"]
_START_SECONDS = 30.0


@dataclass(frozen=True)
class Delivery:
    """One request the receiver got."""

    route: DeliveryKind
    received_at: float
    #: ``None`` when the signature verified; else why not.
    signature_problem: str | None
    #: Alerts: ``(alertname, status)`` of each alert in the notification; retrain: the rule.
    alerts: tuple[tuple[str, str], ...]
    body: dict[str, Any]

    @property
    def verified(self) -> bool:
        return self.signature_problem is None


class Receiver:
    """Collects and verifies deliveries; thread-safe."""

    def __init__(self, *, alert_secret: str, retrain_secret: str) -> None:
        self._secrets: dict[DeliveryKind, str] = {"alert": alert_secret, "retrain": retrain_secret}
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self.app = Starlette(
            routes=[
                Route("/alerts", self._endpoint("alert"), methods=["POST"]),
                Route("/retrain", self._endpoint("retrain"), methods=["POST"]),
            ]
        )

    def deliveries(self) -> list[Delivery]:
        """Everything received so far, oldest first."""
        with self._lock:
            return list(self._deliveries)

    def _endpoint(self, route: DeliveryKind) -> Any:
        async def receive(request: Request) -> Response:
            body = await request.body()
            problem = verify(self._secrets[route], request.headers, body, now=int(time.time()))
            try:
                document = orjson.loads(body)
            except orjson.JSONDecodeError:
                return JSONResponse({"error": "the body is not JSON"}, status_code=400)
            if not isinstance(document, dict):
                return JSONResponse({"error": "the body is not a JSON object"}, status_code=400)
            delivery = Delivery(route, time.time(), problem, _alerts(route, document), document)
            with self._lock:
                self._deliveries.append(delivery)
            status = 200 if problem is None else 401
            return JSONResponse({"received": problem is None}, status_code=status)

        return receive


def _alerts(route: DeliveryKind, document: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    if route == "retrain":
        data = document.get("data") or {}
        return ((str(data.get("rule", "")), "retrain"),)
    return tuple(
        (str(alert.get("labels", {}).get("alertname", "")), str(alert.get("status", "")))
        for alert in document.get("alerts", [])
        if isinstance(alert, dict)
    )


@contextmanager
def running_receiver(receiver: Receiver, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``receiver`` on a free loopback port in a thread; yield its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(receiver.app, host=host, port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="demo-receiver", daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the demo's webhook receiver did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
