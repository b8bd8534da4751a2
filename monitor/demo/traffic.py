"""The demo's clients: inference requests to the server and late labels to the sidecar.

Requests are single-row Open Inference Protocol v2 calls, one input per feature, sent at a
steady rate by concurrent tasks, as many independent clients would. A malformed request
leaves out the ``segment`` input: the server answers 400 and records it as a bad input.
Nine labels in ten arrive, :data:`LABEL_DELAY_SECONDS` after their prediction, in batches
through the sidecar's feedback API.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

from monitor.demo.scenario import NUMERIC, Scenario, Traffic

__all__ = ["LABEL_DELAY_SECONDS", "TrafficCounts", "TrafficReplay"]

LABEL_DELAY_SECONDS = 4.0
_LABEL_SHARE = 0.9
_TICK_SECONDS = 0.1
_CONCURRENCY = 64
#: Most requests waiting for an answer or a connection.
_BACKLOG = 2 * _CONCURRENCY
_TIMEOUT_SECONDS = 10.0
_KEEPALIVE_SECONDS = 2.0  # below the server's keep-alive timeout (uvicorn: 5 s)


@dataclass
class TrafficCounts:
    """What the clients sent and what came back."""

    requests: int = 0
    #: Not sent because too many were still waiting for an answer.
    shed: int = 0
    answered: int = 0
    #: Answered 4xx: the malformed requests.
    refused: int = 0
    #: 5xx or no answer at all.
    failed: int = 0
    labels_sent: int = 0
    labels_accepted: int = 0
    feedback_failures: int = 0


class TrafficReplay:
    """Replays the scenario for ``duration_seconds`` at ``rows_per_second``.

    Parameters
    ----------
    scenario
        Where rows and their true labels come from.
    server_url, sidecar_url
        Base URLs of the inference server and the sidecar.
    model
        The served model's name.
    feedback_token
        Bearer token with the ``feedback`` scope.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        server_url: str,
        sidecar_url: str,
        model: str,
        feedback_token: str,
        duration_seconds: float,
        rows_per_second: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._scenario = scenario
        self._infer_url = f"{server_url}/v2/models/{model}/infer"
        self._feedback_url = f"{sidecar_url}/v1/models/{model}/feedback"
        self._feedback_headers = {"Authorization": f"Bearer {feedback_token}"}
        self._duration = duration_seconds
        self._rate = rows_per_second
        self._clock = clock
        self._labels: deque[tuple[float, str, str]] = deque()
        self._rng = np.random.default_rng()
        self.counts = TrafficCounts()
        #: Share of the replay done, 0 to 1.
        self.progress = 0.0

    async def run(self) -> TrafficCounts:
        """Send the traffic, then the labels still due; return the counts."""
        # Idle connections are dropped here before the server's keep-alive timeout (uvicorn:
        # 5 s) closes them, so a request is never written to a connection the server is
        # closing at that moment (a lost request, seen once in CI at equal timeouts).
        limits = httpx.Limits(
            max_connections=_CONCURRENCY,
            max_keepalive_connections=_CONCURRENCY,
            keepalive_expiry=_KEEPALIVE_SECONDS,
        )
        async with httpx.AsyncClient(limits=limits, timeout=_TIMEOUT_SECONDS) as client:
            slots = asyncio.Semaphore(_CONCURRENCY)
            tasks: set[asyncio.Task[None]] = set()
            start = self._clock()
            sent = 0
            while (elapsed := self._clock() - start) < self._duration:
                self.progress = elapsed / self._duration
                due = int(self._rate * elapsed) - sent  # by the clock: a slow tick sends more
                sent += due
                # A machine too busy to answer at the rate gets fewer requests, not a backlog
                # that would replay each phase late.
                n = max(0, min(due, _BACKLOG - len(tasks)))
                self.counts.shed += due - n
                if n:
                    traffic = self._scenario.at(self.progress, n)
                    for body, label in zip(_infer_bodies(traffic), traffic.labels, strict=True):
                        task = asyncio.create_task(self._request(client, slots, body, str(label)))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                await self._send_due_labels(client, now=self._clock())
                await asyncio.sleep(_TICK_SECONDS)
            self.progress = 1.0
            if tasks:
                await asyncio.gather(*tasks)
            while self._labels:  # the last labels come after the last requests
                await self._send_due_labels(client, now=self._clock())
                await asyncio.sleep(_TICK_SECONDS)
        return self.counts

    async def _request(
        self, client: httpx.AsyncClient, slots: asyncio.Semaphore, body: dict[str, Any], label: str
    ) -> None:
        request_id = body["id"]
        async with slots:
            self.counts.requests += 1
            try:
                response = await client.post(self._infer_url, json=body)
            except httpx.HTTPError:
                self.counts.failed += 1
                return
        if response.status_code == 200:
            self.counts.answered += 1
            if self._rng.random() < _LABEL_SHARE:
                due = self._clock() + LABEL_DELAY_SECONDS
                self._labels.append((due, request_id, label))
        elif 400 <= response.status_code < 500:
            self.counts.refused += 1
        else:
            self.counts.failed += 1

    async def _send_due_labels(self, client: httpx.AsyncClient, *, now: float) -> None:
        due: list[dict[str, str]] = []
        while self._labels and self._labels[0][0] <= now:
            _, request_id, label = self._labels.popleft()
            due.append({"request_id": request_id, "label": label})
        if not due:
            return
        self.counts.labels_sent += len(due)
        try:
            response = await client.post(
                self._feedback_url, json={"labels": due}, headers=self._feedback_headers
            )
        except httpx.HTTPError:
            self.counts.feedback_failures += 1
            return
        if response.status_code == 200:
            self.counts.labels_accepted += len(due)
        else:
            self.counts.feedback_failures += 1


def _infer_bodies(traffic: Traffic) -> list[dict[str, Any]]:
    """One single-row OIP v2 request per row, one input per feature."""
    numbers = traffic.features[list(NUMERIC)].to_numpy(dtype=float).tolist()
    rows = zip(numbers, traffic.features["segment"], traffic.malformed.tolist(), strict=True)
    bodies = []
    for values, segment, malformed in rows:
        inputs: list[dict[str, Any]] = [
            {"name": name, "shape": [1], "datatype": "FP64", "data": [value]}
            for name, value in zip(NUMERIC, values, strict=True)
        ]
        if not malformed:  # a malformed request leaves the segment out
            inputs.append({"name": "segment", "shape": [1], "datatype": "BYTES", "data": [segment]})
        bodies.append({"id": uuid.uuid4().hex, "inputs": inputs})
    return bodies
