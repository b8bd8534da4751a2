"""Spooled batches to NATS JetStream: the sidecar's side of the ``jetstream`` transport.

The collector's writer thread reads the oldest pending batches from the spool, in order,
and hands them to :meth:`JetStreamPublisher.publish`; only once that returns (every message
acknowledged by the stream) does it acknowledge the spool, which deletes the segments. So
the spool stays the durability point: while NATS is down, publishing fails, the writer
backs off and the spool grows (up to its quota); once NATS is back the same batches are
published again, with the same ``Nats-Msg-Id``, and the stream stores each once.

A batch larger than the server's ``max_payload`` (1 MiB by default) is cut between records
into several messages (:func:`collectors.payload.split`); each piece gets the id of its own
bytes, and the cut is the same on a replay.

nats-py is asyncio; the publisher runs its own event loop in a thread (``collector-nats``),
so that the connection is served (pings, reconnects) between batches too.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js import api as js_api
from prometheus_client import CollectorRegistry, Counter, Histogram

from collectors.errors import PayloadError, TransportError
from collectors.jetstream import (
    MESSAGE_ID_HEADER,
    JetStreamConfig,
    connect,
    ensure_stream,
    message_id,
)
from collectors.payload import model_of, split
from collectors.spool import Position

__all__ = ["JetStreamPublisher", "PublisherMetrics"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_HEADROOM_BYTES = 1024  # for the subject and headers within max_payload
_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class PublisherMetrics:
    """Metrics of publishing spooled batches to JetStream, on ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.messages = Counter(
            "driftline_collector_messages_published",
            "Messages (record batches) the stream acknowledged, republished ones included.",
            registry=registry,
        )
        self.duplicates = Counter(
            "driftline_collector_messages_duplicate",
            "Published messages the stream already held (same Nats-Msg-Id in its window).",
            registry=registry,
        )
        self.failures = Counter(
            "driftline_collector_publish_failures",
            "Rounds of publishing that failed (NATS unreachable, timed out or refusing); "
            "the batches stay in the spool and are published again.",
            registry=registry,
        )
        self.publish_seconds = Histogram(
            "driftline_collector_publish_duration_seconds",
            "Time to publish one round of spooled batches until the stream acknowledged all.",
            buckets=_BUCKETS,
            registry=registry,
        )


class JetStreamPublisher:
    """Publishes spooled payloads to a JetStream stream, one subject per model.

    Parameters
    ----------
    config
        The stream, its subjects and the publish timeout.
    metrics
        Where counts and timings go.
    name
        The connection's name, as NATS monitoring shows it.
    """

    def __init__(
        self, config: JetStreamConfig, *, metrics: PublisherMetrics, name: str = "driftline"
    ) -> None:
        self._config = config
        self._metrics = metrics
        self._name = name
        self._client: Client | None = None
        self._js: JetStreamContext | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="collector-nats", daemon=True
        )
        self._thread.start()
        self._connecting = asyncio.Lock()  # bound to the loop at its first use there
        asyncio.run_coroutine_threadsafe(self._start(), self._loop)

    def __repr__(self) -> str:
        return f"JetStreamPublisher(stream={self._config.stream!r}, servers={self._config.servers})"

    def publish(self, entries: Sequence[tuple[Position, bytes]]) -> int:
        """Publish the payloads of ``entries`` in order; return once the stream has them all.

        Returns
        -------
        int
            How many payloads were skipped because they are not record batches, or hold a
            record larger than a message may be (each logged); the others are published.

        Raises
        ------
        TransportError
            NATS is unreachable, did not acknowledge in time or refused a message; nothing
            is known to be stored, and publishing the same entries again is harmless.
        """
        started = time.perf_counter()
        try:
            skipped = self._run(self._publish(list(entries)))
        except TransportError:
            self._metrics.failures.inc()
            raise
        self._metrics.publish_seconds.observe(time.perf_counter() - started)
        return skipped

    def close(self, *, timeout: float = 5.0) -> None:
        """Flush and close the connection, then stop the event loop."""
        if self._loop.is_closed():
            return
        try:
            self._run(self._disconnect(), timeout=timeout)
        except TransportError as error:
            logger.warning("closing the NATS connection: %s", error)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        self._loop.close()

    def _run(self, work: Coroutine[Any, Any, _T], *, timeout: float | None = None) -> _T:
        budget = timeout or (
            self._config.publish_timeout_seconds + 6 * self._config.connect_timeout_seconds + 5
        )
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        try:
            return future.result(budget)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TransportError(f"NATS did not answer within {budget:.0f}s") from None

    async def _start(self) -> None:
        """Connect and set the stream up at once, not at the first batch."""
        try:
            await self._context()
        except TransportError as error:
            logger.warning("%s; batches wait in the spool until NATS answers", error)

    async def _context(self) -> JetStreamContext:
        async with self._connecting:
            return await self._connect()

    async def _connect(self) -> JetStreamContext:
        client = self._client
        if client is not None and client.is_connected and self._js is not None:
            return self._js
        if client is not None and not client.is_closed:
            if client.is_reconnecting:
                raise TransportError("the connection to NATS is being re-established")
            await client.close()
        self._client = self._js = None
        client = await connect(self._config, name=self._name)
        js = client.jetstream(timeout=self._config.publish_timeout_seconds)
        try:
            await ensure_stream(js, self._config)
        except TransportError:
            await client.close()
            raise
        self._client, self._js = client, js
        return js

    async def _publish(self, entries: list[tuple[Position, bytes]]) -> int:
        js = await self._context()
        assert self._client is not None  # set by _context
        limit = self._client.max_payload - _HEADROOM_BYTES
        messages: list[tuple[str, bytes]] = []
        skipped = 0
        for position, payload in entries:
            try:
                subject = self._config.subject(model_of(payload))
                messages += [(subject, piece) for piece in split(payload, limit)]
            except PayloadError as error:
                logger.error("skipped spool record at %s: %s", position, error)
                skipped += 1
        waiting: list[asyncio.Future[js_api.PubAck]] = []
        try:
            for subject, piece in messages:
                headers = {MESSAGE_ID_HEADER: message_id(piece)}
                published = await js.publish_async(
                    subject, piece, headers=headers, stream=self._config.stream
                )
                waiting.append(published)
            acks = await asyncio.wait_for(
                asyncio.gather(*waiting), self._config.publish_timeout_seconds
            )
        except (nats.errors.Error, OSError, TimeoutError) as error:
            self._js = None  # set the stream up again: it may have been deleted
            for future in waiting:
                future.cancel()
            stream = self._config.stream
            raise TransportError(f"publishing to stream {stream!r}: {error!r}") from None
        self._metrics.messages.inc(len(acks))
        self._metrics.duplicates.inc(sum(1 for ack in acks if ack.duplicate))
        return skipped

    async def _disconnect(self) -> None:
        # A connection still being attempted (NATS away) is abandoned.
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        client, self._client, self._js = self._client, None, None
        if client is not None and not client.is_closed:
            await client.close()
