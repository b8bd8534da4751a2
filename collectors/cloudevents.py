"""CloudEvents from KServe's and Seldon's payload loggers: requests and responses joined.

The sidecar app serves ``POST /`` and ``POST /v1/cloudevents`` for them. Events come in
binary mode (attributes in ``ce-*`` headers, matched case-insensitively and percent-decoded
when encoded; the body is the raw payload) or structured mode (``Content-Type:
application/cloudevents+json``; attributes and ``data`` / ``data_base64`` in one object).

==========================================  =========================================
``ce-type``                                 paired on
==========================================  =========================================
``org.kubeflow.serving.inference.request``  ``ce-id`` (+ ``ce-component``): KServe sends
``org.kubeflow.serving.inference.response`` the same id on both events
``io.seldon.serving.inference.request``     ``ce-requestid``: Seldon Core v1 and
``io.seldon.serving.inference.response``    MLServer (a fresh ``ce-id`` per event)
``io.seldon.serving.feedback``              acknowledged and ignored
==========================================  =========================================

The model is ``ce-inferenceservicename`` (KServe) or ``ce-modelid`` (Seldon), each mapped
through ``names`` when listed there. The loggers send the two halves of a call in no
particular order, so the first to come waits in a bounded in-memory map. A request whose
response has not come within ``ttl_seconds`` is recorded without outputs, as an error (KServe
sends a response event only for HTTP 200, so a lone request is mostly a failed call; run the
logger in mode ``all``); a lone response is recorded with its outputs and no features. When
the map is full the oldest half is recorded alone at once (counted as evicted), so memory
stays bounded and nothing is dropped silently. The map is not persisted: the loggers keep
nothing across restarts either.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge

from collectors.collector import RecordSource
from collectors.errors import CollectorError
from collectors.extract import Body, Exchange, ExchangeRecords, Parsed, PayloadSpec
from storage import ModelHandle

__all__ = ["CloudEvent", "CloudEventError", "CloudEventsReceiver", "read_event"]

Kind = Literal["request", "response"]

_TYPES: dict[str, tuple[str, Kind]] = {
    "org.kubeflow.serving.inference.request": ("kserve", "request"),
    "org.kubeflow.serving.inference.response": ("kserve", "response"),
    "io.seldon.serving.inference.request": ("seldon", "request"),
    "io.seldon.serving.inference.response": ("seldon", "response"),
}
_IGNORED = frozenset({"io.seldon.serving.feedback"})
_STRUCTURED = "application/cloudevents+json"
_VERSIONS = ("1.0", "0.3")


class CloudEventError(CollectorError, ValueError):
    """A request that is not a CloudEvent the receiver can use; the message says why."""


@dataclass(frozen=True, slots=True)
class CloudEvent:
    """One event: its attributes (lower-case, without ``ce-``) and its payload."""

    attributes: Mapping[str, str]
    data: Body
    size: int


def read_event(headers: Mapping[str, str], body: bytes) -> CloudEvent:
    """The event in a binary-mode or structured-mode HTTP request.

    Raises
    ------
    CloudEventError
        A required attribute (specversion, id, type, source) is missing or the structured
        envelope is not a JSON object.
    """
    content_type = headers.get("content-type", "")
    if content_type.partition(";")[0].strip().lower() == _STRUCTURED:
        return _structured(body)
    attributes = {
        name[3:].lower(): unquote(value) if "%" in value else value
        for name, value in headers.items()
        if name.lower().startswith("ce-")
    }
    if content_type:
        attributes.setdefault("datacontenttype", content_type)
    _check(attributes, "header ce-")
    return CloudEvent(attributes, body, len(body))


def _structured(body: bytes) -> CloudEvent:
    try:
        envelope = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise CloudEventError(f"structured CloudEvent: not valid JSON ({error})") from None
    if not isinstance(envelope, dict):
        raise CloudEventError("structured CloudEvent: expected a JSON object")
    attributes = {
        str(key).lower(): str(value)
        for key, value in envelope.items()
        if key not in ("data", "data_base64") and isinstance(value, str | int | float)
    }
    _check(attributes, "")
    data: Body = Parsed(envelope.get("data"))
    if isinstance(envelope.get("data_base64"), str):
        try:
            data = base64.b64decode(envelope["data_base64"], validate=True)
        except binascii.Error:
            raise CloudEventError("data_base64: not valid base64") from None
    return CloudEvent(attributes, data, len(body))


def _check(attributes: Mapping[str, str], prefix: str) -> None:
    missing = [a for a in ("specversion", "id", "type", "source") if not attributes.get(a)]
    if missing:
        names = ", ".join(prefix + name for name in missing)
        raise CloudEventError(f"not a CloudEvent: missing {names}")
    if attributes["specversion"] not in _VERSIONS:
        versions = " or ".join(_VERSIONS)
        msg = f"specversion: expected {versions}, got {attributes['specversion']!r}"
        raise CloudEventError(msg)


@dataclass(frozen=True, slots=True)
class _Half:
    kind: Kind
    model: str
    request_id: str
    data: Body
    size: int
    arrived: float
    sent_at: float | None
    received_at: float


class CloudEventsReceiver:
    """Joins request and response events and hands each call to the collector.

    Parameters
    ----------
    submit
        The collector's non-blocking ``submit``.
    lookup
        The collector's ``handle(model, version)`` (called on the collector's thread only).
    registry
        Where the receiver's metrics go.
    names
        Event model name (``ce-inferenceservicename`` / ``ce-modelid``) → Driftline model.
    specs
        Model → where its payloads keep features and outputs.
    ttl_seconds
        How long the first half of a call waits for the other.
    max_pending, max_pending_bytes
        Most halves, and most payload bytes, waiting at once.
    """

    def __init__(
        self,
        submit: Callable[[RecordSource], None],
        lookup: Callable[[str, str | None], ModelHandle],
        *,
        registry: CollectorRegistry,
        names: Mapping[str, str] | None = None,
        specs: Mapping[str, PayloadSpec] | None = None,
        ttl_seconds: float = 30.0,
        max_pending: int = 10_000,
        max_pending_bytes: int = 256 * 2**20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_seconds <= 0 or max_pending < 1 or max_pending_bytes < 1:
            raise ValueError("ttl_seconds, max_pending and max_pending_bytes must be positive")
        self._submit = submit
        self._lookup = lookup
        self._names = dict(names or {})
        self._specs = dict(specs or {})
        self._ttl = ttl_seconds
        self._max_pending = max_pending
        self._max_bytes = max_pending_bytes
        self._clock = clock
        self._pending: OrderedDict[tuple[str, ...], _Half] = OrderedDict()
        self._pending_bytes = 0
        self._timer: asyncio.TimerHandle | None = None
        self._received = Counter(
            "driftline_cloudevents_received",
            "Payload-logger events accepted, by kind (request, response, ignored).",
            ("kind",),
            registry=registry,
        )
        self._unmatched = Counter(
            "driftline_cloudevents_unmatched",
            "Events recorded without their other half (timed out, evicted, repeated), by kind.",
            ("kind",),
            registry=registry,
        )
        self._evicted = Counter(
            "driftline_cloudevents_evicted",
            "Events recorded alone early because the map of waiting halves was full.",
            registry=registry,
        )
        Gauge(
            "driftline_cloudevents_pending",
            "Events waiting for their other half.",
            registry=registry,
        ).set_function(lambda: len(self._pending))
        Gauge(
            "driftline_cloudevents_pending_bytes",
            "Payload bytes of events waiting for their other half.",
            registry=registry,
        ).set_function(lambda: self._pending_bytes)

    async def receive(self, headers: Mapping[str, str], body: bytes) -> dict[str, str]:
        """Read one event (a structured one off the event loop) and join or hold it."""
        if _STRUCTURED in headers.get("content-type", "").lower():
            return self.accept(await asyncio.to_thread(read_event, headers, body))
        return self.accept(read_event(headers, body))

    def accept(self, event: CloudEvent) -> dict[str, str]:
        """Join ``event`` with its other half, or hold it; call on the event loop."""
        attributes = event.attributes
        if attributes["type"] in _IGNORED:
            self._received.labels("ignored").inc()
            return {"status": "ignored"}
        family, kind = self._classify(attributes["type"])
        model = self._model(attributes)
        key, request_id = _key(attributes, family, model)
        sent_at = _time(attributes)
        half = _Half(
            kind,
            model,
            request_id,
            event.data,
            event.size,
            arrived=self._clock(),
            sent_at=sent_at,
            received_at=time.time() if sent_at is None else sent_at,
        )
        self._received.labels(kind).inc()
        self.expire()
        other = self._pending.pop(key, None)
        if other is not None:
            self._pending_bytes -= other.size
            if other.kind != kind:
                request, response = (other, half) if kind == "response" else (half, other)
                self._submit_call(request, response)
                return {"status": "joined"}
            self._alone(other, f"a second {kind} event came with the same id")
        self._pending[key] = half
        self._pending_bytes += half.size
        while len(self._pending) > self._max_pending or self._pending_bytes > self._max_bytes:
            self._evicted.inc()
            self._pop_oldest("too many events waiting for their other half")
        self._arm()
        return {"status": "pending"}

    def expire(self) -> int:
        """Record every half older than the TTL alone; return how many."""
        count, now = 0, self._clock()
        while self._pending and now - next(iter(self._pending.values())).arrived >= self._ttl:
            self._pop_oldest(f"none within {self._ttl:g}s")
            count += 1
        return count

    def flush(self) -> int:
        """Record every waiting half alone (at shutdown); return how many."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        count = len(self._pending)
        while self._pending:
            self._pop_oldest("none before the sidecar stopped")
        return count

    @property
    def pending(self) -> tuple[int, int]:
        """Halves waiting, and their payload bytes."""
        return len(self._pending), self._pending_bytes

    def _classify(self, event_type: str) -> tuple[str, Kind]:
        known = _TYPES.get(event_type)
        if known is None:
            types = ", ".join([*_TYPES, *_IGNORED])
            raise CloudEventError(f"ce-type: expected one of {types}, got {event_type!r}")
        return known

    def _model(self, attributes: Mapping[str, str]) -> str:
        names = [attributes.get("modelid"), attributes.get("inferenceservicename")]
        if attributes["type"].startswith("org.kubeflow."):
            names.reverse()
        present = [name for name in names if name]
        for name in present:
            if name in self._names:
                return self._names[name]
        if not present:
            msg = "no model: expected ce-inferenceservicename (KServe) or ce-modelid (Seldon)"
            raise CloudEventError(msg)
        return present[0]

    def _pop_oldest(self, reason: str) -> None:
        _, half = self._pending.popitem(last=False)
        self._pending_bytes -= half.size
        self._alone(half, reason)

    def _alone(self, half: _Half, reason: str) -> None:
        """Record half a call; a request without its response is an error saying why."""
        self._unmatched.labels(half.kind).inc()
        if half.kind == "request":
            error = f"no response event: {reason}"
            self._send(half, half.data, None, outcome="error", error=error)
        else:
            self._send(half, None, half.data, outcome=None, error=None)

    def _submit_call(self, request: _Half, response: _Half) -> None:
        latency = None
        if request.sent_at is not None and response.sent_at is not None:
            latency = response.sent_at - request.sent_at
        self._send(request, request.data, response.data, None, None, latency=latency)

    def _send(
        self,
        half: _Half,
        request: Body | None,
        response: Body | None,
        outcome: Literal["error"] | None,
        error: str | None,
        *,
        latency: float | None = None,
    ) -> None:
        exchange = Exchange(
            request=request,
            response=response,
            received_at=half.received_at,
            request_id=half.request_id,
            latency_seconds=latency if latency is not None and latency >= 0 else None,
            http_status=200,
            outcome=outcome,
            error=error,
        )
        spec = self._specs.get(half.model)
        self._submit(ExchangeRecords(half.model, None, exchange, lookup=self._lookup, spec=spec))

    def _arm(self) -> None:
        if self._timer is not None or not self._pending:
            return
        oldest = next(iter(self._pending.values()))
        delay = max(oldest.arrived + self._ttl - self._clock(), 0.0)
        self._timer = asyncio.get_running_loop().call_later(delay + 0.001, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.expire()
        self._arm()


def _key(attributes: Mapping[str, str], family: str, model: str) -> tuple[tuple[str, ...], str]:
    if family == "kserve":
        component = attributes.get("component", "")
        return (family, model, component, attributes["id"]), attributes["id"]
    request_id = attributes.get("requestid")
    if not request_id:
        raise CloudEventError("Seldon events need ce-requestid to pair requests and responses")
    return (family, model, request_id), request_id


def _time(attributes: Mapping[str, str]) -> float | None:
    """``ce-time`` as epoch seconds (KServe ≥ 0.18: arrival / answer time), if readable."""
    value = attributes.get("time")
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.timestamp() if parsed.tzinfo is not None else None
