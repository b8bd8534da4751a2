"""``driftline writer``: a pool of consumers that store the batches of a JetStream stream.

Every worker, in this process or in any other, pulls from one durable consumer
(:func:`collectors.jetstream.ensure_consumer`), so the stream's batches are spread over all
of them and adding a writer adds throughput. A worker:

1. fetches up to ``fetch_batch`` messages (the consumer's ``max_ack_pending`` bounds what
   all workers hold at once);
2. decodes them and writes each run of one model version as one insert, idempotent on
   (model, request id), in a thread of its own; while that runs it tells the stream the
   batches are in progress, so a slow insert is not mistaken for a dead writer;
3. acknowledges the messages only after the commit. A batch the store can never take
   (unknown model, records not fitting the schema, not a record batch) is terminated, with
   a counter and a log line, so it cannot block the ones behind it.

Failures: while the store is unreachable the batches are handed back with a delay
(``nak``) and the worker waits as long before fetching again, up to 10 s; nothing is
lost, the stream holds the batches. A writer that dies leaves its batches unacknowledged:
the stream delivers them again after ``ack_wait``, to any writer, and the store's key keeps
each record once. On ``stop`` (SIGTERM, Ctrl-C) a worker finishes the insert it is in,
acknowledges it, hands back what it fetched but did not start, and closes its connection.

Threads, not processes, make up the pool: a worker spends most of its time waiting for
PostgreSQL (the COPY and the ``INSERT ... SELECT`` run in the server, with the GIL released),
while decoding is a JSON header and zero-copy numpy views. Measured on 10,000 records of 20
features: 1.5 ms of decoding and about 40 ms of this process's CPU in a 400 ms insert. A
writer's CPU-bound share is therefore about 10 %; for more CPU, run more writer processes
(they share the consumer).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass

import nats
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from collectors.errors import PayloadError, TransportError
from collectors.jetstream import JetStreamConfig, connect, ensure_consumer, ensure_stream
from collectors.payload import ModelBatch, concatenate, decode, runs
from collectors.writer_metrics import WriterMetrics
from storage import (
    InvalidBatchError,
    ModelHandle,
    NotFoundError,
    create_session_factory,
    get_model_version,
    insert_predictions,
)
from storage.errors import DatabaseConnectionError

__all__ = ["StreamWriter"]

logger = logging.getLogger(__name__)

_MAX_BACKOFF_SECONDS = 10.0
INSERT_RECORDS = 10_000
"""Most records merged into one insert, so that its staging table stays within PostgreSQL's
``temp_buffers`` (8 MB by default: 10,000 records of 20 features take about 3 MB) and a
failed insert has little to redo."""
_FETCH_TIMEOUT_SECONDS = 1.0
_OK = "ok"


@dataclass(slots=True)
class _Delivery:
    """One fetched message, its batch (None when malformed) and what became of it."""

    message: Msg
    item: ModelBatch | None
    outcome: str = _OK
    """``ok``, or the reason it was rejected."""


class StreamWriter:
    """Stores the batches of a JetStream stream with ``workers`` consumer threads.

    Parameters
    ----------
    engine
        The store.
    config
        The stream, the consumer and its settings.
    metrics
        Where counts, timings and the lag go.
    workers
        Consumer threads in this process.
    name
        Prefix of the connections' names, as NATS monitoring shows them.
    """

    def __init__(
        self,
        engine: Engine,
        config: JetStreamConfig,
        *,
        metrics: WriterMetrics,
        workers: int = 1,
        name: str = "driftline-writer",
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._engine = engine
        self._sessions = create_session_factory(engine)
        self._config = config
        self._metrics = metrics
        self._name = name
        self._handles: dict[tuple[str, str], ModelHandle] = {}
        self._handles_lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(i,), name=f"writer-{i}", daemon=True)
            for i in range(workers)
        ]

    def start(self) -> None:
        """Start the workers."""
        for thread in self._threads:
            thread.start()

    def stop(self, *, timeout: float = 60.0) -> None:
        """Let each worker finish (or hand back) its batches and close its connection."""
        self._stopping.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0.0))

    @property
    def workers(self) -> int:
        """Workers of the pool."""
        return len(self._threads)

    @property
    def alive(self) -> int:
        """Workers still running."""
        return sum(thread.is_alive() for thread in self._threads)

    # -- one worker ----------------------------------------------------------------------

    def _run(self, index: int) -> None:
        asyncio.run(self._work(f"{self._name}-{index}"))

    async def _work(self, name: str) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                client = await connect(self._config, name=name)
            except TransportError as error:
                logger.warning("%s: %s; retrying in %.1fs", name, error, backoff)
                await self._pause(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)
                continue
            try:
                js = client.jetstream(timeout=self._config.publish_timeout_seconds)
                await ensure_stream(js, self._config)
                await ensure_consumer(js, self._config)
                subscription = await js.pull_subscribe_bind(
                    durable=self._config.consumer, stream=self._config.stream
                )
                backoff = 0.5
                await self._consume(subscription)
            except (TransportError, nats.errors.Error, OSError) as error:
                if self._stopping.is_set():
                    return
                logger.warning("%s: %r; reconnecting in %.1fs", name, error, backoff)
                await self._pause(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)
            except Exception:  # a bug: the worker lives on; its batches are redelivered
                logger.exception("%s failed; reconnecting in %.0fs", name, _MAX_BACKOFF_SECONDS)
                await self._pause(_MAX_BACKOFF_SECONDS)
            finally:
                with contextlib.suppress(nats.errors.Error, OSError, TimeoutError):
                    await client.flush(timeout=2)  # the last acknowledgements
                with contextlib.suppress(nats.errors.Error, OSError, TimeoutError):
                    await client.close()

    async def _consume(self, subscription: JetStreamContext.PullSubscription) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                messages = await subscription.fetch(
                    self._config.fetch_batch, timeout=_FETCH_TIMEOUT_SECONDS
                )
            except TimeoutError:  # nothing to do (nats-py raises its own and asyncio's)
                messages = []
            if not messages:  # (a fetch may also end empty-handed)
                self._metrics.saw(pending=0, stored_at=None)
                continue
            if self._stopping.is_set():
                await self._hand_back(messages, "shutdown", delay=None)
                return
            if await self._handle(messages, backoff):
                backoff = 0.5
            else:  # the store is unavailable: wait as long as the batches were delayed
                await self._pause(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)

    async def _handle(self, messages: list[Msg], backoff: float) -> bool:
        """Store ``messages`` and acknowledge them; False when the store was unavailable."""
        started = time.perf_counter()
        self._metrics.redeliveries.inc(sum(m.metadata.num_delivered > 1 for m in messages))
        deliveries = [_decoded(message) for message in messages]
        writing = asyncio.ensure_future(asyncio.to_thread(self._write, deliveries))
        try:
            while not writing.done():  # a slow insert is not a dead writer
                await asyncio.wait({writing}, timeout=self._config.ack_wait_seconds / 3)
                if not writing.done():
                    for message in messages:
                        await message.in_progress()
            writing.result()
        except (DBAPIError, DatabaseConnectionError, OSError) as error:
            logger.warning(
                "the store is unavailable; %d batches back to the stream for %.1fs: %s",
                len(messages),
                backoff,
                error,
            )
            await self._hand_back(messages, "store_unavailable", delay=backoff)
            return False
        except Exception:  # a bug: keep the batches (and the worker), say so loudly
            logger.exception("writing %d batches failed; handed back", len(messages))
            await self._hand_back(messages, "error", delay=_MAX_BACKOFF_SECONDS)
            return False
        await self._settle(deliveries)
        self._metrics.write_seconds.observe(time.perf_counter() - started)
        last = messages[-1].metadata
        self._metrics.saw(pending=last.num_pending, stored_at=last.timestamp.timestamp())
        return True

    async def _settle(self, deliveries: list[_Delivery]) -> None:
        for delivery in deliveries:
            records = 0 if delivery.item is None else len(delivery.item)
            if delivery.outcome == _OK:
                await delivery.message.ack()
                self._metrics.batches.inc()
                self._metrics.records.inc(records)
            else:
                await delivery.message.term()
                self._metrics.rejected.labels(delivery.outcome).inc(max(records, 1))

    async def _hand_back(self, messages: list[Msg], reason: str, *, delay: float | None) -> None:
        for message in messages:
            with contextlib.suppress(nats.errors.Error):
                await message.nak(delay=delay)
        self._metrics.naks.labels(reason).inc(len(messages))

    async def _pause(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(min(0.1, deadline - time.monotonic()))

    # -- the store (on a thread of its own) ----------------------------------------------

    def _write(self, deliveries: list[_Delivery]) -> None:
        """Insert the decodable batches: runs of one model version, up to a size each."""
        for group in _groups([d for d in deliveries if d.item is not None]):
            items = [d.item for d in group if d.item is not None]
            try:
                self._insert(concatenate(items))
            except (InvalidBatchError, NotFoundError) as error:
                if len(group) == 1:
                    self._reject(group[0], error)
                    continue
                for delivery, item in zip(group, items, strict=True):  # find the misfits
                    try:
                        self._insert(item)
                    except (InvalidBatchError, NotFoundError) as single:
                        self._reject(delivery, single)

    def _insert(self, item: ModelBatch) -> None:
        result = insert_predictions(self._engine, self._model(item.model, item.version), item.batch)
        self._metrics.inserted.inc(result.inserted)

    def _model(self, model: str, version: str) -> ModelHandle:
        key = (model, version)
        with self._handles_lock:
            cached = self._handles.get(key)
        if cached is not None:
            return cached
        with self._sessions() as session:
            handle = get_model_version(session, model, version)
        with self._handles_lock:
            self._handles[key] = handle
        return handle

    @staticmethod
    def _reject(delivery: _Delivery, error: Exception) -> None:
        item = delivery.item
        assert item is not None
        logger.error(
            "rejected %d records of %s v%s: %s", len(item), item.model, item.version, error
        )
        delivery.outcome = "unknown_model" if isinstance(error, NotFoundError) else "invalid"


def _groups(deliveries: list[_Delivery]) -> list[list[_Delivery]]:
    """Consecutive deliveries of one model version and columns, each group holding at most
    :data:`INSERT_RECORDS` records (a larger batch alone)."""
    groups: list[list[_Delivery]] = []
    start = 0
    for run in runs([d.item for d in deliveries if d.item is not None]):
        size = 0
        for delivery in deliveries[start : start + len(run)]:
            assert delivery.item is not None
            if not groups or size == 0 or size + len(delivery.item) > INSERT_RECORDS:
                groups.append([])
                size = 0
            groups[-1].append(delivery)
            size += len(delivery.item)
        start += len(run)
    return groups


def _decoded(message: Msg) -> _Delivery:
    try:
        return _Delivery(message, decode(message.data))
    except PayloadError as error:
        logger.error(
            "rejected message %s of %s: %s",
            message.metadata.sequence.stream,
            message.subject,
            error,
        )
        return _Delivery(message, None, outcome="malformed")
