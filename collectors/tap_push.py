"""Pushing tapped batches from the inference server to a sidecar over loopback.

The server's tap only queues (bounded; a full queue drops the batch and counts it). One
sender thread takes what is queued, encodes each batch (a JSON header plus raw buffers), and
posts them together to the sidecar's ``POST /v1/tap``; the sidecar spools and writes them.
So the server process pays for a queue put and a compact encoding, and the spool, the
conversion to records and the database writes run in another process.

While the sidecar is unreachable the sender retries with a back-off and the queue fills,
then drops (counted): the inference path never waits for monitoring.
"""

from __future__ import annotations

import logging
import queue
import struct
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
from numpy.typing import NDArray
from prometheus_client import CollectorRegistry, Counter

from collectors._buffers import describe, pack, unpack
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
        if run and _signature(run[0]) != _signature(batch):
            merged.append(_join(run))
            run = []
        run.append(batch)
    if run:
        merged.append(_join(run))
    return merged


def _signature(batch: Tapped) -> tuple[object, ...]:
    features = batch.features
    return (
        batch.model,
        batch.version,
        tuple(batch.feature_names),
        tuple(sorted(batch.roles.items())),
        None if features is None else (features.dtype.kind == "O", features.shape[1:]),
        tuple(
            (name, value.dtype.kind == "O", value.shape[1:])
            for name, value in batch.outputs.items()
        ),
    )


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
    """A tap (``serving.tap.Tap``) that sends batches to a sidecar, never blocking."""

    def __init__(
        self,
        url: str,
        *,
        registry: CollectorRegistry,
        token: str | None = None,
        queue_batches: int = 10_000,
        max_batches_per_request: int = 4096,
        gather_seconds: float = 0.2,
        timeout_seconds: float = 10.0,
    ) -> None:
        self._url = url.rstrip("/") + "/v1/tap"
        self._headers = {"content-type": "application/octet-stream"}
        if token:
            self._headers["authorization"] = f"Bearer {token}"
        self._queue: queue.Queue[Tapped] = queue.Queue(maxsize=queue_batches)
        self._most = max_batches_per_request
        self._gather = gather_seconds
        self._timeout = timeout_seconds
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
        try:
            self._queue.put_nowait(batch)
        except queue.Full:
            self._dropped.labels("queue_full").inc()

    def close(self, *, timeout: float = 10.0) -> None:
        """Send what is queued (for up to ``timeout`` seconds), then stop."""
        self._stopping.set()
        self._thread.join(timeout)
        left = self._queue.qsize()
        if left:
            self._dropped.labels("stopped").inc(left)

    def _run(self) -> None:
        backoff = 0.1
        with httpx.Client(timeout=self._timeout) as client:
            pending: list[Tapped] = []
            while not (self._stopping.is_set() and self._queue.empty() and not pending):
                if not pending:
                    pending = self._take()
                    if not pending:
                        continue
                try:
                    body = join_frames([encode_tapped(batch) for batch in merge_tapped(pending)])
                    answer = client.post(self._url, content=body, headers=self._headers)
                    answer.raise_for_status()
                except httpx.HTTPError as error:
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

    def _take(self) -> list[Tapped]:
        """Everything queued, after sleeping ``gather_seconds``.

        The thread sleeps instead of waiting on the queue: a consumer woken by every
        ``put`` would fight the event loop for the GIL once per batch.
        """
        self._stopping.wait(self._gather)
        batches: list[Tapped] = []
        while len(batches) < self._most:
            try:
                batches.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batches
