"""Pushing tapped batches from the inference server to a sidecar over loopback.

The server's tap only appends to a deque (bounded; a full queue drops the batch and counts
it). One sender thread wakes every ``gather_seconds``, takes what is queued, joins the
batches of one model into one frame (a JSON header plus raw buffers), and posts the frames in
one body to the sidecar's ``POST /v1/tap`` over a kept-alive connection; the sidecar spools
and writes them. So the event loop pays for an append, the server's sender thread for one
bulk encoding and one post per wake-up (its CPU is measured by
``benchmarks/serving/tap_cost.py``), and the spool, the conversion to records and the
database writes run in another process.

While the sidecar is unreachable the sender retries with a back-off and the queue fills,
then drops (counted): the inference path never waits for monitoring.
"""

from __future__ import annotations

import logging
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from prometheus_client import CollectorRegistry, Counter

from collectors._buffers import describe, pack, unpack
from collectors._poster import Poster
from collectors.errors import PushError
from collectors.tap import Tapped

__all__ = [
    "DecodedTapped",
    "PushTap",
    "decode_tapped",
    "encode_tapped",
    "join_frames",
    "merge_tapped",
    "split_frames",
]

logger = logging.getLogger(__name__)

_MAGIC = b"DLT1"
_FRAME = struct.Struct("<I")
_ARRAYS = ("row_counts", "received_at", "latency_seconds")
_MAX_BACKOFF_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class DecodedTapped:
    """A tapped batch as the sidecar receives it (the attributes of :class:`Tapped`)."""

    model: str
    version: str
    request_ids: list[str]
    row_counts: NDArray[np.int64]
    features: NDArray[Any] | None
    feature_names: list[str]
    outputs: dict[str, NDArray[Any]]
    received_at: NDArray[np.float64]
    latency_seconds: NDArray[np.float64]
    statuses: list[str]
    errors: list[str | None]
    roles: dict[str, str]


def encode_tapped(batch: Tapped) -> bytes:
    """One tapped batch as bytes."""
    buffers: list[bytes] = []
    header = {
        "model": batch.model,
        "version": batch.version,
        "request_ids": list(batch.request_ids),
        "statuses": list(batch.statuses),
        "errors": list(batch.errors),
        "feature_names": list(batch.feature_names),
        "roles": dict(batch.roles),
        "arrays": {name: describe(getattr(batch, name), buffers) for name in _ARRAYS},
        "features": describe(batch.features, buffers),
        "outputs": {name: describe(value, buffers) for name, value in batch.outputs.items()},
    }
    return pack(_MAGIC, header, buffers)


def decode_tapped(data: bytes | memoryview) -> DecodedTapped:
    """The batch :func:`encode_tapped` wrote.

    Raises
    ------
    ValueError
        If ``data`` is not such a batch.
    """
    try:
        header, reader, _ = unpack(_MAGIC, data)
        arrays = {name: reader.value(spec) for name, spec in header["arrays"].items()}
        features = _array(reader.value(header["features"]), header["features"])
        outputs = {
            name: _array(reader.value(spec), spec) for name, spec in header["outputs"].items()
        }
        return DecodedTapped(
            model=str(header["model"]),
            version=str(header["version"]),
            request_ids=list(header["request_ids"]),
            row_counts=np.asarray(arrays["row_counts"], dtype=np.int64),
            features=features,
            feature_names=list(header["feature_names"]),
            outputs=outputs,  # type: ignore[arg-type]
            received_at=np.asarray(arrays["received_at"], dtype=np.float64),
            latency_seconds=np.asarray(arrays["latency_seconds"], dtype=np.float64),
            statuses=list(header["statuses"]),
            errors=list(header["errors"]),
            roles=dict(header["roles"]),
        )
    except (KeyError, TypeError) as error:
        raise ValueError(f"malformed tapped batch: {error!r}") from None


def merge_tapped(batches: list[Tapped]) -> list[Tapped | DecodedTapped]:
    """Join consecutive batches of one model version with the same columns and outputs."""
    merged: list[Tapped | DecodedTapped] = []
    run: list[Tapped] = []
    for batch in batches:
        if run and not _joinable(run[0], batch):
            merged.append(_join(run))
            run = []
        run.append(batch)
    if run:
        merged.append(_join(run))
    return merged


def _joinable(first: Tapped, batch: Tapped) -> bool:
    """Whether ``batch`` can join a run that began with ``first``: the same model version,
    feature names and roles, and features and outputs alike (see :func:`_alike`).

    Batches of one model share their names and roles objects, so identity settles most
    comparisons without building anything.
    """
    if first.model != batch.model or first.version != batch.version:
        return False
    names, other_names = first.feature_names, batch.feature_names
    if names is not other_names and tuple(names) != tuple(other_names):
        return False
    if first.roles is not batch.roles and dict(first.roles) != dict(batch.roles):
        return False
    if not _alike(first.features, batch.features):
        return False
    outputs, others = first.outputs, batch.outputs
    if outputs.keys() != others.keys():
        return False
    return all(_alike(value, others[name]) for name, value in outputs.items())


def _alike(one: NDArray[Any] | None, other: NDArray[Any] | None) -> bool:
    """Both absent, or both object arrays or both numeric, with the same shape past rows."""
    if one is None or other is None:
        return one is other
    return (one.dtype.kind == "O") == (other.dtype.kind == "O") and one.shape[1:] == other.shape[1:]


def _join(run: list[Tapped]) -> Tapped | DecodedTapped:
    if len(run) == 1:
        return run[0]
    first = run[0]
    features = first.features
    return DecodedTapped(
        model=first.model,
        version=first.version,
        request_ids=[rid for batch in run for rid in batch.request_ids],
        row_counts=np.concatenate([batch.row_counts for batch in run]),
        features=None if features is None else np.concatenate([b.features for b in run]),
        feature_names=list(first.feature_names),
        outputs={name: np.concatenate([b.outputs[name] for b in run]) for name in first.outputs},
        received_at=np.concatenate([batch.received_at for batch in run]),
        latency_seconds=np.concatenate([batch.latency_seconds for batch in run]),
        statuses=[status for batch in run for status in batch.statuses],
        errors=[error for batch in run for error in batch.errors],
        roles=dict(first.roles),
    )


def _array(value: Any, spec: dict[str, Any] | None) -> NDArray[Any] | None:
    if value is None or isinstance(value, np.ndarray):
        return value
    array = np.empty(len(value), dtype=object) if spec and len(spec.get("shape", [])) == 1 else None
    if array is not None:
        array[:] = value
        return array
    return np.array(value, dtype=object)


def join_frames(frames: list[bytes]) -> bytes:
    """Frames as one body: each prefixed with its length."""
    return b"".join(part for frame in frames for part in (_FRAME.pack(len(frame)), frame))


def split_frames(body: bytes) -> list[memoryview]:
    """The frames of a body :func:`join_frames` made.

    Raises
    ------
    ValueError
        If a length prefix runs past the body.
    """
    view, offset, frames = memoryview(body), 0, []
    while offset < len(view):
        if offset + _FRAME.size > len(view):
            raise ValueError(f"truncated frame length at byte {offset}")
        (length,) = _FRAME.unpack_from(view, offset)
        start, offset = offset + _FRAME.size, offset + _FRAME.size + length
        if offset > len(view):
            raise ValueError(f"frame at byte {start} runs past the end of the body")
        frames.append(view[start:offset])
    return frames


class PushTap:
    """A tap (``serving.tap.Tap``) that sends batches to a sidecar, never blocking.

    Parameters
    ----------
    url
        The sidecar's base URL (``/v1/tap`` is appended).
    registry
        Where the sent and dropped counters go.
    token
        Bearer token with the ``ingest`` scope.
    queue_batches
        Batches held at most; more are dropped (counted) while the sidecar lags or is away.
    max_batches_per_request, max_rows_per_request
        At most this many batches, and rows, in one push.
    gather_seconds
        How long the sender sleeps between pushes, letting batches gather: each push costs
        the server about a millisecond of CPU whatever its size.
    timeout_seconds
        Connect and answer timeout of a push.
    """

    def __init__(
        self,
        url: str,
        *,
        registry: CollectorRegistry,
        token: str | None = None,
        queue_batches: int = 10_000,
        max_batches_per_request: int = 4096,
        max_rows_per_request: int = 65_536,
        gather_seconds: float = 0.5,
        timeout_seconds: float = 10.0,
    ) -> None:
        headers = {"content-type": "application/octet-stream"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self._poster = Poster(
            url.rstrip("/") + "/v1/tap", headers=headers, timeout_seconds=timeout_seconds
        )
        # A deque, not a queue.Queue: append and popleft are atomic, so submitting costs the
        # event loop no lock and no condition; the bound is checked before appending.
        self._queue: deque[Tapped] = deque()
        self._capacity = queue_batches
        self._most = max_batches_per_request
        self._most_rows = max_rows_per_request
        self._gather = gather_seconds
        self._capped = False
        self._stopping = threading.Event()
        self._sent = Counter(
            "driftline_tap_batches_sent",
            "Tapped batches delivered to the sidecar.",
            registry=registry,
        )
        self._dropped = Counter(
            "driftline_tap_batches_dropped",
            "Tapped batches lost before the sidecar (queue full, sidecar unreachable at stop).",
            ("reason",),
            registry=registry,
        )
        self._thread = threading.Thread(target=self._run, name="tap-push", daemon=True)
        self._thread.start()

    def submit(self, batch: Tapped) -> None:
        """Queue the batch; a full queue drops it (counted)."""
        if len(self._queue) >= self._capacity:
            # The labelled series is made on the first drop, not before: an alert that
            # catches the first increment looks for a newly created series.
            self._dropped.labels("queue_full").inc()
            return
        self._queue.append(batch)

    def close(self, *, timeout: float = 10.0) -> None:
        """Send what is queued (for up to ``timeout`` seconds), then stop."""
        self._stopping.set()
        self._thread.join(timeout)
        left = len(self._queue)
        if left:
            self._dropped.labels("stopped").inc(left)

    def _run(self) -> None:
        backoff = 0.1
        pending: list[Tapped] = []
        try:
            while not (self._stopping.is_set() and not self._queue and not pending):
                if not pending:
                    pending = self._take()
                    if not pending:
                        continue
                try:
                    self._poster.post(
                        join_frames([encode_tapped(b) for b in merge_tapped(pending)])
                    )
                except PushError as error:
                    if self._stopping.is_set():
                        self._dropped.labels("stopped").inc(len(pending))
                        return
                    logger.warning("sidecar unreachable, retrying in %.1fs: %s", backoff, error)
                    time.sleep(backoff)
                    backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)
                    continue
                except Exception:  # process boundary: a batch that cannot be encoded
                    logger.exception("dropping %d tapped batches that cannot be sent", len(pending))
                    self._dropped.labels("error").inc(len(pending))
                    pending = []
                    continue
                self._sent.inc(len(pending))
                pending = []
                backoff = 0.1
        finally:
            self._poster.close()

    def _take(self) -> list[Tapped]:
        """What is queued, up to a push's worth, after sleeping ``gather_seconds`` (at once
        when the previous take was cut short by the limits: the queue is behind).

        The thread sleeps instead of waiting on the queue: a consumer woken by every
        ``submit`` would fight the event loop for the GIL once per batch.
        """
        if not self._capped:
            self._stopping.wait(self._gather)
        queue, rows = self._queue, 0
        batches: list[Tapped] = []
        while queue and len(batches) < self._most and rows < self._most_rows:
            batch = queue.popleft()
            batches.append(batch)
            rows += len(batch.request_ids) if batch.features is None else len(batch.features)
        self._capped = bool(queue) and (len(batches) >= self._most or rows >= self._most_rows)
        return batches
