"""The collector: tapped batches → bounded queue → durable spool → bulk writes to the store.

Two threads do the work, so that neither the inference server's event loop nor an ingest
request ever waits on the database (each gathers for up to ``flush_seconds``, 0.25 s by
default, so that it runs a few large operations rather than many small ones):

* the **spooler** takes what the tap queued, turns each batch into records of its model
  version, and appends them to the spool with one fsync per round; a round takes at most
  ``_MAX_RECORDS_PER_APPEND`` records, and when the queue holds more the next round starts
  at once, so that under a backlog the writer stores one round while the next is spooled;
* the **writer** reads the oldest unwritten batches from the spool, merges those of one model
  version into one insert (idempotent on (model, request id)), and acknowledges them once
  they are in the store. It waits up to ``flush_seconds`` after a small insert only when
  nothing was appended meanwhile. When the database is unreachable it backs off and retries; the
  spool grows meanwhile, up to its quota. With a ``publisher`` (the ``jetstream``
  transport, :mod:`collectors.publisher`) it publishes the batches instead, in order, and
  acknowledges them once the stream has them; ``driftline writer`` stores them.

Nothing is lost silently: a full queue or a full spool drops records with a counter
(``driftline_collector_records_dropped_total``), and a batch the store can never take
(unknown model, records that do not fit the schema) is rejected with a counter and a log
line naming it, then skipped so it cannot block the ones behind it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from collectors.errors import PayloadError, SpoolFullError, TransportError
from collectors.metrics import Backlog, CollectorMetrics
from collectors.payload import ModelBatch, concatenate, decode, encode, runs
from collectors.spool import Position, Spool
from storage import (
    InvalidBatchError,
    ModelHandle,
    NotFoundError,
    PredictionBatch,
    create_session_factory,
    get_model_version,
    insert_predictions,
)
from storage.errors import DatabaseConnectionError

__all__ = ["Collector", "Publisher", "RecordSource"]

logger = logging.getLogger(__name__)

_MAX_BACKOFF_SECONDS = 5.0
_NEWEST_TTL_SECONDS = 60.0
_MAX_SOURCES_PER_APPEND = 4096
_MAX_RECORDS_PER_APPEND = 32_768


class RecordSource(Protocol):
    """Something that becomes records of one model version, on the spooler's thread."""

    @property
    def model(self) -> str: ...

    @property
    def version(self) -> str: ...

    def records(self, model: ModelHandle) -> PredictionBatch:
        """The records, shaped for ``model`` (its classes, its features)."""
        ...


class Publisher(Protocol):
    """Takes spooled batches elsewhere durably (a JetStream stream) instead of the store."""

    def publish(self, entries: Sequence[tuple[Position, bytes]]) -> int:
        """Deliver the payloads in order, or raise ``TransportError``; return how many
        malformed ones were skipped."""
        ...


class Collector:
    """Moves record batches from the tap or the ingest API into the store, durably.

    With ``publisher``, spooled batches go to it instead of the store (the ``engine`` still
    serves model lookups).
    """

    def __init__(
        self,
        engine: Engine,
        spool: Spool,
        *,
        metrics: CollectorMetrics,
        queue_batches: int = 10_000,
        write_batch_bytes: int = 32 * 2**20,
        idle_seconds: float = 0.05,
        flush_seconds: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
        publisher: Publisher | None = None,
    ) -> None:
        self._engine = engine
        self._publisher = publisher
        self._target = "the store" if publisher is None else "the transport"
        self._sessions = create_session_factory(engine)
        self._spool = spool
        self._metrics = metrics
        self._queue: queue.Queue[RecordSource] = queue.Queue(maxsize=queue_batches)
        self._write_batch_bytes = write_batch_bytes
        self._idle = idle_seconds
        self._flush = flush_seconds
        self._sleep = sleep
        self._handles: dict[tuple[str, str | None], tuple[ModelHandle, float]] = {}
        self._appended = threading.Event()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._spool_loop, name="collector-spooler", daemon=True),
            threading.Thread(target=self._write_loop, name="collector-writer", daemon=True),
        ]
        metrics.track_backlog(self.backlog)

    def start(self) -> None:
        """Start the spooler and the writer."""
        for thread in self._threads:
            thread.start()

    def stop(self, *, timeout: float = 10.0) -> None:
        """Spool what is queued, give the writer ``timeout`` seconds to catch up, stop.

        What the writer could not write stays in the spool for the next start.
        """
        self._stopping.set()
        self._appended.set()
        for thread in self._threads:
            thread.join(timeout)

    def submit(self, source: RecordSource) -> None:
        """Queue a tapped batch; never blocks (a full queue drops it, counted)."""
        try:
            self._queue.put_nowait(source)
        except queue.Full:
            self._metrics.dropped.labels("queue_full").inc(_count(source))

    def ingest(self, item: ModelBatch) -> Position:
        """Append records to the spool now (fsynced when this returns); for the ingest API.

        Raises
        ------
        SpoolFullError
            The spool is at its quota; nothing was written.
        """
        position = self._spool.append([encode(item)])
        self._metrics.received.labels("ingest").inc(len(item))
        self._appended.set()
        return position

    def backlog(self) -> Backlog:
        """Queue and spool sizes, for metrics and health."""
        stats = self._spool.stats()
        return Backlog(
            queue_batches=self._queue.qsize(),
            spool_bytes=stats.disk_bytes,
            spool_quota_bytes=stats.quota_bytes,
            spool_records=stats.pending_records,
            oldest_unwritten_at=stats.oldest_pending_appended_at,
        )

    def handle(self, model: str, version: str | None = None) -> ModelHandle:
        """The stored model version, or the newest one (cached; "newest" for a minute)."""
        key = (model, version)
        cached = self._handles.get(key)
        now = time.monotonic()
        if cached is not None and (version is not None or now - cached[1] < _NEWEST_TTL_SECONDS):
            return cached[0]
        with self._sessions() as session:
            handle = get_model_version(session, model, version)
        self._handles[key] = (handle, now)
        return handle

    # -- spooler -------------------------------------------------------------------------

    def _spool_loop(self) -> None:
        full = False
        while not (self._stopping.is_set() and self._queue.empty()):
            # Sleep, then take everything queued: a consumer woken by every put would fight
            # the inference server's event loop for the GIL once per batch, and one larger
            # append (one fsync) costs far less than many small ones. After a full round
            # there is more queued already: no sleep.
            if not full:
                self._stopping.wait(self._flush)
            sources: list[RecordSource] = []
            records = 0
            while len(sources) < _MAX_SOURCES_PER_APPEND and records < _MAX_RECORDS_PER_APPEND:
                try:
                    sources.append(self._queue.get_nowait())
                except queue.Empty:
                    break
                records += _count(sources[-1])
            full = len(sources) >= _MAX_SOURCES_PER_APPEND or records >= _MAX_RECORDS_PER_APPEND
            if not sources:
                continue
            try:
                self._spool_sources(sources)
            except Exception:  # process boundary: the spooler must survive any one batch
                logger.exception("spooling %d tapped batches failed", len(sources))
                self._metrics.dropped.labels("error").inc(sum(_count(s) for s in sources))

    def _spool_sources(self, sources: list[RecordSource]) -> None:
        items: list[ModelBatch] = []
        records = 0
        for source in sources:
            try:
                handle = self.handle(source.model, source.version)
                item = ModelBatch(source.model, source.version, source.records(handle))
            except (NotFoundError, InvalidBatchError) as error:
                logger.error(
                    "rejected tapped batch of %s v%s: %s", source.model, source.version, error
                )
                self._metrics.rejected.labels(_reason(error)).inc(_count(source))
                continue
            items.append(item)
            records += len(item)
        # One payload per run of one model version: fewer, larger frames to decode and write.
        payloads = [encode(concatenate(run)) for run in runs(items)]
        if not payloads:
            return
        try:
            self._spool.append(payloads)
        except SpoolFullError as error:
            logger.error("dropped %d tapped records: %s", records, error)
            self._metrics.dropped.labels("spool_full").inc(records)
            return
        self._metrics.received.labels("tap").inc(records)
        self._appended.set()

    # -- writer --------------------------------------------------------------------------

    def _write_loop(self) -> None:
        backoff = 0.1
        while True:
            self._appended.clear()  # set again by any append from here on
            entries = self._spool.read(max_bytes=self._write_batch_bytes)
            if not entries:
                if self._stopping.is_set() and not any(t.is_alive() for t in self._threads[:1]):
                    return
                self._appended.wait(self._idle)
                continue
            try:
                self._deliver(entries)
                small = sum(len(payload) for _, payload in entries) < self._write_batch_bytes // 2
                if small and not self._appended.is_set():
                    self._stopping.wait(self._flush)  # let the next insert gather more
            except (DBAPIError, DatabaseConnectionError, OSError, TransportError) as error:
                if self._stopping.is_set():
                    return
                logger.warning(
                    "%s is unavailable, retrying in %.1fs: %s", self._target, backoff, error
                )
                self._sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)
                continue
            backoff = 0.1

    def _deliver(self, entries: list[tuple[Position, bytes]]) -> None:
        """Store or publish ``entries``, then acknowledge them in the spool."""
        if self._publisher is None:
            self._write(entries)
        else:
            skipped = self._publisher.publish(entries)
            if skipped:
                self._metrics.rejected.labels("malformed").inc(skipped)
        self._spool.acknowledge(entries[-1][0])

    def _write(self, entries: list[tuple[Position, bytes]]) -> None:
        items: list[ModelBatch] = []
        for position, payload in entries:
            try:
                items.append(decode(payload))
            except PayloadError as error:
                logger.error("rejected spool record at %s: %s", position, error)
                self._metrics.rejected.labels("malformed").inc()
        for run in runs(items):
            try:
                self._insert(concatenate(run))
            except (InvalidBatchError, NotFoundError) as error:
                if len(run) == 1:
                    self._reject(run[0], error)
                    continue
                for item in run:  # find the batches that do not fit; write the others
                    try:
                        self._insert(item)
                    except (InvalidBatchError, NotFoundError) as single:
                        self._reject(item, single)

    def _insert(self, item: ModelBatch) -> None:
        handle = self.handle(item.model, item.version)
        started = time.perf_counter()
        insert_predictions(self._engine, handle, item.batch)
        self._metrics.write_seconds.observe(time.perf_counter() - started)
        self._metrics.written.inc(len(item))

    def _reject(self, item: ModelBatch, error: Exception) -> None:
        logger.error(
            "rejected %d records of %s v%s: %s", len(item), item.model, item.version, error
        )
        self._metrics.rejected.labels(_reason(error)).inc(len(item))


def _count(source: RecordSource) -> int:
    rows = getattr(source, "record_count", None)
    return int(rows) if isinstance(rows, int) else 1


def _reason(error: Exception) -> str:
    return "unknown_model" if isinstance(error, NotFoundError) else "invalid"
