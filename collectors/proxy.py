"""The sidecar's reverse proxy: any HTTP model server behind it, its inference calls recorded.

Every request goes to the upstream as it came (method, path, query, body, and every header
but the hop-by-hop ones, ``Host`` and ``Expect``) over one pooled keep-alive client, and the
answer is streamed back chunk by chunk, bytes untouched, with its status and headers. The
client's credentials (``Authorization``, cookies) reach the upstream as sent; the proxy
neither checks nor keeps them.

Calls on inference routes are also recorded::

    POST /v2/models/{model}[/versions/{version}]/infer   Open Inference Protocol v2
    POST /v1/models/{model}:predict                      KServe v1
    POST {path}                                          routes given to the proxy

For those the proxy keeps a copy of the request and response bodies (at most
``max_record_bytes`` each, and ``max_held_bytes`` for every copy not yet turned into
records) and, once the answer is complete, queues an
:class:`~collectors.extract.ExchangeRecords` on the collector without blocking: nothing is
parsed on the event loop. A body over the limit is still forwarded; the call is recorded as
an error "payload too large to record". Upstream failures are answered 502 (unreachable) or
504 (no answer in time) with ``{"error": ...}`` and recorded as error / timeout.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge

from collectors.collector import RecordSource
from collectors.extract import Exchange, ExchangeRecords, Form, Outcome, PayloadSpec
from storage import ModelHandle

__all__ = ["ReverseProxy"]

_HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te",
     b"trailer", b"transfer-encoding", b"upgrade", b"host", b"expect"}
)  # fmt: skip
_OIP = re.compile(r"/v2/models/(?P<model>[^/]+)(?:/versions/(?P<version>[^/]+))?/infer")
_V1 = re.compile(r"/v1/models/(?P<model>[^/:]+):predict")

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


class _ClientGone(Exception):
    """The client disconnected while its request body was being forwarded."""


class _Budget:
    """Bytes of body copies held by the proxy and by queued records (thread-safe)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        self._lock = threading.Lock()

    def take(self, size: int) -> bool:
        with self._lock:
            if self.held + size > self.limit:
                return False
            self.held += size
            return True

    def release(self, size: int) -> None:
        with self._lock:
            self.held -= size


@dataclass(slots=True)
class _Copy:
    """A bounded copy of one body; ``refused`` says why it was given up."""

    limit: int
    budget: _Budget
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    refused: str | None = None

    def add(self, chunk: bytes) -> None:
        if self.refused is not None or not chunk:
            return
        if self.size + len(chunk) > self.limit:
            self.refused = "too_large"
        elif not self.budget.take(len(chunk)):
            self.refused = "backlog"
        else:
            self.size += len(chunk)
            self.chunks.append(chunk)
            return
        self.budget.release(self.size)
        self.chunks, self.size = [], 0


@dataclass(slots=True)
class _Call:
    model: str
    version: str | None
    form: Form
    sent: _Copy
    got: _Copy
    request_id: str
    received_at: float = field(default_factory=time.time)
    started: float = field(default_factory=time.perf_counter)
    status: int | None = None
    encodings: tuple[str | None, str | None] = (None, None)
    failure: tuple[Outcome, str] | None = None
    body_done: bool = False


class ReverseProxy:
    """An ASGI app forwarding everything to ``upstream`` and recording inference calls.

    Parameters
    ----------
    upstream
        Base URL of the model server; its path, if any, prefixes every forwarded path.
    submit
        The collector's non-blocking ``submit``.
    lookup
        The collector's ``handle(model, version)``, called on the collector's thread only.
    registry
        Where the proxy's metrics go.
    routes
        Further recorded routes: path → model (read with that model's :class:`PayloadSpec`).
    names
        Upstream model name → Driftline model, where they differ.
    specs
        Model → where its payloads keep features and outputs.
    timeout_seconds, connect_timeout_seconds
        How long the upstream may take to answer (between bytes), and to accept a connection.
    max_record_bytes, max_held_bytes
        Largest body copied for recording; most bytes of copies held at once.
    max_connections
        Most connections to the upstream, all kept alive between calls.
    """

    def __init__(
        self,
        upstream: str,
        submit: Callable[[RecordSource], None],
        lookup: Callable[[str, str | None], ModelHandle],
        *,
        registry: CollectorRegistry,
        routes: Mapping[str, str] | None = None,
        names: Mapping[str, str] | None = None,
        specs: Mapping[str, PayloadSpec] | None = None,
        timeout_seconds: float = 60.0,
        connect_timeout_seconds: float = 5.0,
        max_record_bytes: int = 8 * 2**20,
        max_held_bytes: int = 256 * 2**20,
        max_connections: int = 1000,
    ) -> None:
        base = httpx.URL(upstream)
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError(f"upstream: expected an http(s) URL, got {upstream!r}")
        self._base = base
        self._prefix = base.raw_path.rstrip(b"/")
        self._submit = submit
        self._lookup = lookup
        self._routes = dict(routes or {})
        self._names = dict(names or {})
        self._specs = dict(specs or {})
        self._timeout = httpx.Timeout(timeout_seconds, connect=connect_timeout_seconds)
        self._limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._max_record = max_record_bytes
        self._budget = _Budget(max_held_bytes)
        self._http: httpx.AsyncClient | None = None
        self._recorded = Counter(
            "driftline_proxy_calls_recorded",
            "Inference calls through the proxy handed to the collector.",
            registry=registry,
        )
        self._failures = Counter(
            "driftline_proxy_upstream_failures",
            "Calls the upstream did not answer (unreachable, timeout) or broke off (broken).",
            ("reason",),
            registry=registry,
        )
        self._unrecorded = Counter(
            "driftline_proxy_bodies_unrecorded",
            "Bodies forwarded but not kept: over the size limit (too_large: recorded as an "
            "error) or over the memory budget (backlog: call not recorded).",
            ("reason",),
            registry=registry,
        )
        Gauge(
            "driftline_proxy_held_bytes",
            "Bytes of request / response copies not yet turned into records.",
            registry=registry,
        ).set_function(lambda: self._budget.held)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            call = self._call(scope)
            try:
                await self._forward(scope, receive, send, call)
            except _ClientGone:
                pass  # nothing to answer, nobody to answer to
            finally:
                if call is not None:
                    self._record(call)
        else:  # websockets are not proxied
            await receive()
            await send({"type": "websocket.close", "code": 1003})

    async def aclose(self) -> None:
        """Close the pooled connections to the upstream."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:  # made on first use, inside the serving event loop
            self._http = httpx.AsyncClient(
                timeout=self._timeout, limits=self._limits, trust_env=False
            )
            for name in list(self._http.headers):  # forward the client's headers, not httpx's
                del self._http.headers[name]
        return self._http

    def _call(self, scope: Scope) -> _Call | None:
        if scope["method"] != "POST":
            return None
        path: str = scope["path"]
        model, version = self._routes.get(path), None
        form: Form = "auto"
        if model is None and (match := _OIP.fullmatch(path) or _V1.fullmatch(path)):
            model = self._names.get(match["model"], match["model"])
            version = match.groupdict().get("version")
            form = "oip_v2" if match.re is _OIP else "kserve_v1"
        if model is None:
            return None
        request_id = _header(scope, b"x-request-id") or uuid.uuid4().hex
        return _Call(
            model,
            version,
            form,
            sent=_Copy(self._max_record, self._budget),
            got=_Copy(self._max_record, self._budget),
            request_id=request_id,
        )

    async def _forward(
        self, scope: Scope, receive: Receive, send: Send, call: _Call | None
    ) -> None:
        raw = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string") or b""
        url = self._base.copy_with(raw_path=self._prefix + raw + (b"?" + query if query else b""))
        has_body = any(
            name.lower() in (b"content-length", b"transfer-encoding")
            for name, _ in scope["headers"]
        )
        content = _body(receive, call) if has_body else None
        headers = _forwarded(scope["headers"])
        request = self._client().build_request(
            scope["method"], url, headers=headers, content=content
        )
        try:
            response = await self._client().send(request, stream=True)
        except httpx.TimeoutException as error:
            await self._refuse(
                send, receive, call, 504, "timeout", f"no answer in time ({error!r:.200})"
            )
            return
        except httpx.HTTPError as error:
            await self._refuse(
                send, receive, call, 502, "unreachable", f"unreachable ({error!r:.200})"
            )
            return
        if call is not None:
            call.status = response.status_code
            call.encodings = (
                _header(scope, b"content-encoding"),
                response.headers.get("content-encoding"),
            )
        await self._relay(response, send, call)

    async def _relay(self, response: httpx.Response, send: Send, call: _Call | None) -> None:
        """Stream the upstream's answer to the client as it comes, keeping a copy."""
        try:
            start = _forwarded(response.headers.raw)
            await send(
                {"type": "http.response.start", "status": response.status_code, "headers": start}
            )
            async for chunk in response.aiter_raw():
                if call is not None:
                    call.got.add(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except httpx.HTTPError as error:  # the status is sent: all that is left is to cut
            self._failures.labels("broken").inc()
            if call is not None:
                call.failure = ("error", f"the upstream broke off its answer ({error!r:.200})")
            raise
        finally:
            await response.aclose()

    async def _refuse(
        self,
        send: Send,
        receive: Receive,
        call: _Call | None,
        status: int,
        reason: str,
        detail: str,
    ) -> None:
        self._failures.labels(reason).inc()
        if call is not None:
            call.status = status
            call.failure = ("timeout" if status == 504 else "error", f"upstream {detail}")
            if not call.body_done:  # read the rest: what the client sent is recorded
                async for _ in _body(receive, call):
                    pass
        body = orjson.dumps({"error": f"upstream {detail}"})
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _record(self, call: _Call) -> None:
        refused = {call.sent.refused, call.got.refused} - {None}
        for reason in refused:
            self._unrecorded.labels(reason).inc()
        if "backlog" in refused:
            self._budget.release(call.sent.size + call.got.size)
            return
        failure = call.failure
        if failure is None and refused:
            failure = ("error", f"payload too large to record (over {self._max_record} bytes)")
        exchange = Exchange(
            request=None if call.sent.refused else b"".join(call.sent.chunks),
            response=None if call.got.refused else b"".join(call.got.chunks),
            received_at=call.received_at,
            request_id=call.request_id,
            latency_seconds=time.perf_counter() - call.started,
            http_status=call.status,
            outcome=None if failure is None else failure[0],
            error=None if failure is None else failure[1],
            form=call.form,
            request_encoding=call.encodings[0],
            response_encoding=call.encodings[1],
        )
        held = call.sent.size + call.got.size
        source = ExchangeRecords(
            call.model,
            call.version,
            exchange,
            lookup=self._lookup,
            spec=self._specs.get(call.model),
            release=lambda: self._budget.release(held),
        )
        self._recorded.inc()
        self._submit(source)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _body(receive: Receive, call: _Call | None) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            if call is not None:
                call.failure = ("error", "the client went away before sending its request")
            raise _ClientGone
        chunk: bytes = message.get("body", b"")
        if call is not None:
            call.sent.add(chunk)
            call.body_done = not message.get("more_body", False)
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


def _forwarded(headers: Any) -> list[tuple[bytes, bytes]]:
    """The headers without the hop-by-hop ones (and those ``Connection`` names)."""
    pairs = [(name.lower(), value) for name, value in headers]
    named = {
        token.strip().lower()
        for name, value in pairs
        if name == b"connection"
        for token in value.split(b",")
    }
    return [(n, v) for n, v in pairs if n not in _HOP_BY_HOP and n not in named]


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope["headers"]:
        if name.lower() == wanted:
            return bytes(value).decode("latin-1")
    return None
