"""The HTTP face of the server: Open Inference Protocol v2 REST as a lean ASGI app.

Routes (``[/versions/{v}]`` optional on every model path)::

    GET  /v2/health/live | /v2/health/ready | /v2
    GET  /v2/models/{m}[/versions/{v}]            metadata
    GET  /v2/models/{m}[/versions/{v}]/ready
    POST /v2/models/{m}[/versions/{v}]/infer      OIP inference (JSON, or JSON + binary tensors)
    POST /v2/models/{m}[/versions/{v}]/records    [{feature: value}, ...] for row-minded callers
    POST /v2/repository/index
    POST /v2/repository/models/{m}/load | unload
    GET  /metrics                                 Prometheus

A plain ASGI callable rather than a framework router: the inference route is the hot path
and the protocol's surface is small and fixed. Handlers only parse the path and headers,
call :class:`~serving.inference.InferenceService` or the repository, and map errors once
(:data:`STATUS`) to ``{"error": "..."}``.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from serving.admin import AdminAccessError, AdminPolicy, load_config, read_parameters
from serving.deployer import Deployer
from serving.errors import (
    DeadlineExceededError,
    InvalidRequestError,
    ModelNotFoundError,
    ModelNotReadyError,
    PredictionError,
    QueueFullError,
    RuntimeLoadError,
    ServingError,
)
from serving.inference import InferenceService
from serving.protocol.requests import parse_request
from serving.protocol.responses import encode_error, encode_json, encode_result
from serving.repository import ModelRepository

__all__ = ["STATUS", "ASGIApp", "ServingApp"]

logger = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
"""An ASGI application (the server's app, or one wrapping it)."""

STATUS: tuple[tuple[type[ServingError], int], ...] = (
    (AdminAccessError, 403),
    (ModelNotFoundError, 404),
    (ModelNotReadyError, 503),
    (QueueFullError, 503),
    (DeadlineExceededError, 504),
    (InvalidRequestError, 400),
    (PredictionError, 400),
    (RuntimeLoadError, 400),
)
"""HTTP status of each error, first match wins; any other :class:`ServingError` is a 500."""

_JSON = (b"content-type", b"application/json")


class _HTTPError(Exception):
    def __init__(self, status: int, message: str, headers: list[tuple[bytes, bytes]] = []) -> None:  # noqa: B006
        super().__init__(message)
        self.status = status
        self.headers = headers


class ServingApp:
    """The inference server's ASGI application."""

    def __init__(
        self,
        *,
        repository: ModelRepository,
        service: InferenceService,
        registry: CollectorRegistry,
        admin: AdminPolicy,
        max_body_bytes: int,
        version: str,
        on_startup: Callable[[], Awaitable[None]] | None = None,
        on_shutdown: Callable[[], Awaitable[None]] | None = None,
        deployer: Deployer | None = None,
    ) -> None:
        self._repository = repository
        self._service = service
        self._registry = registry
        self._admin = admin
        self._max_body = max_body_bytes
        self._on_startup = on_startup
        self._on_shutdown = on_shutdown
        # Carries out load / unload: the repository, or every worker's (serving.workers).
        self._deployer: Deployer = deployer if deployer is not None else repository
        self._started = False
        self._metadata = encode_json(
            {
                "name": "driftline",
                "version": version,
                "extensions": ["model_repository", "binary_tensor_data"],
            }
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if self._on_startup is not None:
                        await self._on_startup()
                except ServingError as error:  # the operator's mistake: one line
                    logger.error("startup failed: %s", error)
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                except Exception as error:  # process boundary: report, refuse to start
                    logger.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                self._started = True
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self._started = False
                if self._on_shutdown is not None:
                    await self._on_shutdown()
                await self._repository.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            status, body, content_type = await self._route(scope, receive)
            headers = [(b"content-type", content_type)]
        except _HTTPError as error:
            status, body, headers = error.status, encode_error(str(error)), [_JSON, *error.headers]
        except ServingError as error:
            status, body, headers = _status(error), encode_error(str(error)), [_JSON]
            if status == 500:
                logger.error("request failed: %s", error)
        except Exception as error:  # process boundary: a bug must not kill the connection
            logger.exception("unexpected error on %s %s", scope["method"], scope["path"])
            status, body, headers = 500, encode_error(f"internal error: {error}"), [_JSON]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _route(self, scope: Scope, receive: Receive) -> tuple[int, bytes, bytes]:
        method: str = scope["method"]
        parts = scope["path"].strip("/").split("/")
        if parts[0] == "metrics" and len(parts) == 1:
            _allow(method, "GET")
            return 200, generate_latest(self._registry), CONTENT_TYPE_LATEST.encode()
        if parts[0] != "v2":
            raise _HTTPError(404, f"no route {scope['path']}; the API is under /v2")
        if len(parts) == 1:
            _allow(method, "GET")
            return 200, self._metadata, _JSON[1]
        if parts[1] == "health" and len(parts) == 3 and parts[2] in ("live", "ready"):
            _allow(method, "GET")
            return self._health(parts[2])
        if parts[1] == "models" and len(parts) >= 3:
            return await self._model_route(scope, receive, method, parts[2:])
        if parts[1] == "repository":
            return await self._repository_route(scope, receive, method, parts[2:])
        raise _HTTPError(404, f"no route {scope['path']}")

    def ready(self) -> bool:
        """Whether the server has started and every known model is loaded."""
        return self._started and all(row["state"] == "READY" for row in self._repository.index())

    def _health(self, what: str) -> tuple[int, bytes, bytes]:
        if what == "live":
            return 200, encode_json({"live": True}), _JSON[1]
        ready = self.ready()
        return (200 if ready else 503), encode_json({"ready": ready}), _JSON[1]

    async def _model_route(
        self, scope: Scope, receive: Receive, method: str, parts: list[str]
    ) -> tuple[int, bytes, bytes]:
        name, version, rest = parts[0], None, parts[1:]
        if len(rest) >= 2 and rest[0] == "versions":
            version, rest = rest[1], rest[2:]
        action = rest[0] if len(rest) == 1 else None if not rest else "?"
        if action is None:
            _allow(method, "GET")
            return (
                200,
                encode_json(self._repository.resolve(name, version).model.metadata()),
                _JSON[1],
            )
        if action == "ready":
            _allow(method, "GET")
            deployment = self._repository.resolve(name, version)
            return (
                200,
                encode_json({"name": name, "ready": True, "version": deployment.version}),
                _JSON[1],
            )
        if action == "infer":
            _allow(method, "POST")
            body = await self._body(scope, receive)
            json_length = _json_length(scope)
            result = await self._service.infer(
                name, version, lambda: parse_request(body, json_length=json_length)
            )
            return 200, encode_result(result), _JSON[1]
        if action == "records":
            _allow(method, "POST")
            body = await self._body(scope, receive)
            return 200, await self._service.infer_records(name, version, body), _JSON[1]
        raise _HTTPError(404, f"no route {scope['path']}")

    async def _repository_route(
        self, scope: Scope, receive: Receive, method: str, parts: list[str]
    ) -> tuple[int, bytes, bytes]:
        if parts == ["index"]:
            _allow(method, "POST", "GET")
            return 200, encode_json(self._repository.index()), _JSON[1]
        if len(parts) == 3 and parts[0] == "models" and parts[2] in ("load", "unload"):
            _allow(method, "POST")
            headers = dict(scope["headers"])
            authorization = headers.get(b"authorization", b"").decode("latin-1") or None
            client = scope.get("client")
            self._admin.check(authorization, client[0] if client else None)
            body = await self._body(scope, receive)
            name = parts[1]
            if parts[2] == "unload":
                await self._deployer.undeploy(name, _unload_version(body))
                return 200, b"", _JSON[1]
            base = self._repository.known(name)
            config = load_config(name, body, base, policy=self._admin)
            await self._deployer.deploy(config)
            return 200, b"", _JSON[1]
        raise _HTTPError(404, f"no route {scope['path']}")

    async def _body(self, scope: Scope, receive: Receive) -> bytes:
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self._max_body:
            raise _HTTPError(
                413, f"body of {int(length)} bytes exceeds the limit of {self._max_body}"
            )
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _HTTPError(400, "client disconnected before the body was complete")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max_body:
                raise _HTTPError(413, f"body exceeds the limit of {self._max_body} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        encoding = headers.get(b"content-encoding", b"identity").lower()
        if encoding in (b"gzip", b"deflate"):
            return self._inflate(body, encoding)
        if encoding != b"identity":
            raise _HTTPError(415, f"unsupported Content-Encoding {encoding.decode('latin-1')!r}")
        return body

    def _inflate(self, body: bytes, encoding: bytes) -> bytes:
        wbits = 31 if encoding == b"gzip" else 15
        inflater = zlib.decompressobj(wbits)
        try:
            data = inflater.decompress(body, self._max_body + 1)
        except zlib.error as error:
            raise _HTTPError(400, f"body is not valid {encoding.decode()} data: {error}") from None
        if len(data) > self._max_body or inflater.unconsumed_tail:
            raise _HTTPError(413, f"decompressed body exceeds the limit of {self._max_body} bytes")
        return data


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise _HTTPError(
            405,
            f"method {method} not allowed here; use {' or '.join(allowed)}",
            [(b"allow", ", ".join(allowed).encode())],
        )


def _json_length(scope: Scope) -> int | None:
    for key, value in scope["headers"]:
        if key == b"inference-header-content-length":
            if not value.isdigit():
                raise InvalidRequestError("Inference-Header-Content-Length: expected a byte count")
            return int(value)
    return None


def _unload_version(body: bytes) -> str | None:
    version = read_parameters(body).get("version")
    if version is not None and not isinstance(version, str):
        raise InvalidRequestError("parameters.version: expected a string")
    return version


def _status(error: ServingError) -> int:
    for kind, status in STATUS:
        if isinstance(error, kind):
            return status
    return 500
