"""Dynamic batching for one model version.

Requests queue per model; one dispatcher task takes what is queued (up to
``max_batch_size`` rows), runs the model on a single worker thread, and resolves each
request's future with its slice of the outputs. While a batch computes, new requests
queue up and form the next batch, so under load batches fill without any wait.

``max_batch_delay_ms`` lets a batch of *concurrent* requests wait a little for more; a
request that finds the model idle (nothing else queued) is dispatched at once, so latency at
low load is never the batching window. The queue is bounded (:class:`QueueFullError`) and
every request carries a deadline (:class:`DeadlineExceededError`). When a batch fails, its
requests are retried one by one, so that one bad request does not fail its neighbours.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from serving.config import BatchingConfig
from serving.errors import DeadlineExceededError, PredictionError, QueueFullError, ServingError

__all__ = ["Batcher", "Computed", "Pending"]

logger = logging.getLogger(__name__)

Outputs = dict[str, NDArray[Any]]
Predict = Callable[[NDArray[Any], tuple[str, ...]], Outputs]


@dataclass(slots=True, eq=False)
class Pending:
    """One request waiting for its prediction."""

    request_id: str
    features: NDArray[Any]
    outputs: tuple[str, ...]
    received_at: float
    """Arrival, seconds since the epoch."""
    arrived: float
    """Arrival on the monotonic clock (``time.perf_counter``)."""
    deadline: float
    """Monotonic time after which the answer is useless."""
    future: asyncio.Future[Outputs]
    dispatched: float = 0.0
    result: Outputs | BaseException | None = field(default=None)
    abandoned: bool = False
    """The caller stopped waiting (deadline missed); it reports the request itself."""
    observed: bool = False
    """The batch hook counted and tapped the request."""

    @property
    def rows(self) -> int:
        return len(self.features)


BatchDone = Callable[[list["Pending"], "Computed", float], None]
"""Called on the event loop after a batch's futures are resolved: the requests (each with
``result`` set), what the model computed and the compute time in seconds."""


@dataclass(slots=True)
class Computed:
    """The batch as the model saw it: all rows, and all outputs when the batch succeeded as
    a whole (None when requests had to be run one by one)."""

    features: NDArray[Any] | None = None
    outputs: Outputs | None = None


class Batcher:
    """Queue, batch and run the requests of one model version."""

    def __init__(
        self,
        predict: Predict,
        config: BatchingConfig,
        *,
        on_batch: BatchDone,
        name: str,
        always_compute: tuple[str, ...] = (),
    ) -> None:
        self._predict = predict
        self._always = always_compute
        self._config = config
        self._on_batch = on_batch
        self._delay = config.max_batch_delay_ms / 1000
        self._queue: deque[Pending] = deque()
        self._arrived = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"model-{name}")
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def depth(self) -> int:
        """Requests waiting (queued, not yet running)."""
        return len(self._queue)

    def start(self) -> None:
        """Start the dispatcher on the running event loop."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def submit(self, pending: Pending) -> Outputs:
        """Queue a request and wait for its outputs (or its error)."""
        if self._closing:
            raise QueueFullError("the model version is being unloaded; retry")
        if len(self._queue) >= self._config.max_queue_size:
            raise QueueFullError(
                f"the model's queue is full ({self._config.max_queue_size} requests); retry later"
            )
        pending.future.add_done_callback(_retrieve)
        self._queue.append(pending)
        self._arrived.set()
        timeout = max(pending.deadline - time.perf_counter(), 0.0)
        timer = asyncio.get_running_loop().call_later(timeout, _expire, pending)
        try:
            return await pending.future
        finally:
            timer.cancel()

    async def close(self) -> None:
        """Stop taking requests, finish every queued and running one, then stop."""
        self._closing = True
        self._arrived.set()
        if self._task is not None:
            await self._task
        self._executor.shutdown(wait=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._arrived.clear()
                await self._arrived.wait()
                continue
            batch = self._take(self._config.max_batch_size)
            if len(batch) > 1 and self._delay > 0:
                await self._fill(batch)
            live = self._drop_expired(batch)
            if not live:
                continue
            started = time.perf_counter()
            for pending in live:
                pending.dispatched = started
            computed = Computed()
            try:
                computed = await loop.run_in_executor(self._executor, self._compute, live)
            except Exception as error:  # process boundary: the dispatcher must survive
                logger.exception("batch of %d requests failed outside the model", len(live))
                for pending in live:
                    pending.result = error
            compute_seconds = time.perf_counter() - started
            for pending in live:
                _resolve(pending)
            try:
                self._on_batch(live, computed, compute_seconds)
            except Exception:  # process boundary: metrics or tap must not stop serving
                logger.exception("batch hook failed")

    def _take(self, max_rows: int) -> list[Pending]:
        queue = self._queue
        batch = [queue.popleft()]
        rows = batch[0].rows
        while queue and rows + queue[0].rows <= max_rows:
            pending = queue.popleft()
            rows += pending.rows
            batch.append(pending)
        return batch

    async def _fill(self, batch: list[Pending]) -> None:
        rows = sum(pending.rows for pending in batch)
        until = batch[0].arrived + self._delay
        while rows < self._config.max_batch_size:
            if not self._queue:
                remaining = until - time.perf_counter()
                if remaining <= 0:
                    return
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), remaining)
                except TimeoutError:
                    return
                if not self._queue:
                    return
            if rows + self._queue[0].rows > self._config.max_batch_size:
                return
            more = self._take(self._config.max_batch_size - rows)
            rows += sum(pending.rows for pending in more)
            batch.extend(more)

    def _drop_expired(self, batch: list[Pending]) -> list[Pending]:
        now = time.perf_counter()
        live = []
        for pending in batch:
            if pending.deadline <= now or pending.future.done():
                if not pending.future.done():
                    pending.future.set_exception(DeadlineExceededError(_late(pending)))
            else:
                live.append(pending)
        return live

    def _compute(self, batch: list[Pending]) -> Computed:
        """Run the model on the batch (worker thread); set each request's ``result``."""
        wanted = (name for pending in batch for name in pending.outputs)
        names = tuple(dict.fromkeys((*wanted, *self._always)))
        if len(batch) == 1:
            features = batch[0].features
        else:
            features = np.concatenate([pending.features for pending in batch])
        try:
            outputs = self._predict(features, names)
            _check_rows(outputs, len(features))
        except Exception as error:
            if len(batch) == 1:
                batch[0].result = error
                return Computed(features)
            for pending in batch:  # isolate the request(s) the model refuses
                self._compute([pending])
            return Computed(features)
        start = 0
        for pending in batch:
            end = start + pending.rows
            pending.result = {name: outputs[name][start:end] for name in pending.outputs}
            start = end
        return Computed(features, outputs)


def _check_rows(outputs: Outputs, rows: int) -> None:
    for name, array in outputs.items():
        if np.ndim(array) == 0 or len(array) != rows:
            raise ServingError(
                f"the model returned {np.shape(array)} for output {name!r}, not {rows} rows"
            )


def _expire(pending: Pending) -> None:
    """The deadline passed: answer 504 now; the batch, if it runs, skips the request."""
    if not pending.future.done():
        pending.abandoned = True
        pending.future.set_exception(DeadlineExceededError(_late(pending)))


def _retrieve(future: asyncio.Future[Outputs]) -> None:
    """Mark an error as seen: a request that timed out no longer awaits its future."""
    if not future.cancelled():
        future.exception()


def _resolve(pending: Pending) -> None:
    if pending.future.done():
        return
    result = pending.result
    if isinstance(result, BaseException):
        pending.future.set_exception(result)
    elif result is None:
        pending.future.set_exception(PredictionError("the model returned nothing"))
    else:
        pending.future.set_result(result)


def _late(pending: Pending) -> str:
    waited = (time.perf_counter() - pending.arrived) * 1000
    return f"request {pending.request_id!r} missed its deadline after {waited:.0f} ms"
