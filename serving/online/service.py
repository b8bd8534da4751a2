"""Running the learning in a server: the learner's thread, the followers, the admin routes.

- **The learner** (one process per model, ``learner: true``; worker 0 when ``driftline
  serve`` runs several workers) runs :meth:`Learner.step` on its own thread, off the event
  loop; when it publishes a snapshot, the server deploys it (the previous version drains)
  and ``current.json`` in the snapshot directory points at it.
- **Followers**: every other serving process polls ``current.json`` every ``poll_seconds`` and
  deploys the version it names when that is not the one it serves; a process that starts
  serves the published snapshot from the first request. A worker beside the learner is
  therefore behind it by at most ``poll_seconds`` plus the time to load a snapshot; the
  learner publishes every ``snapshot_every`` examples or ``snapshot_seconds``.
- **Admin routes**, beside the repository extension and under the same admin policy::

      GET  /v2/repository/models/{m}/learning             the learner's status
      POST /v2/repository/models/{m}/learning/freeze      stop learning
      POST /v2/repository/models/{m}/learning/unfreeze    resume learning
      POST /v2/repository/models/{m}/learning/rollback    {"parameters": {"version": V}}:
                                                          restore a snapshot (default: the
                                                          newest good one) and freeze

  A process that follows a model but does not learn it hands these to the learner's
  process (``remote``: through the supervisor, when serving with several workers).

:class:`LearningApp` wraps the server's ASGI app: it starts the learning once the app has
started (models deployed) and stops it before the app shuts down.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson

from serving.admin import AdminAccessError, AdminPolicy, read_parameters
from serving.app import ASGIApp, Receive, Scope, Send
from serving.config import ModelConfig
from serving.errors import (
    InvalidRequestError,
    ModelNotFoundError,
    ModelNotReadyError,
    ServingError,
)
from serving.online.learner import Learner, snapshot_config
from serving.online.snapshots import Published, publish, read_published
from serving.online.store import SnapshotInfo
from serving.repository import ModelRepository

__all__ = ["ACTIONS", "LearningApp", "OnlineLearning", "Remote", "published_config"]

logger = logging.getLogger(__name__)


_BACKOFF_SECONDS = 5.0

ACTIONS = ("status", "freeze", "unfreeze", "rollback")
"""What the admin routes ask of a learner."""

Remote = Callable[[str, str, bytes], Awaitable[dict[str, Any]]]
"""Hands ``(model, action, body)`` to the process that learns the model; its status."""


def published_config(base: ModelConfig) -> ModelConfig:
    """What a follower of ``base`` serves: the snapshot the learner published last, or
    ``base`` before the first one."""
    learning = base.learning
    assert learning is not None
    published = read_published(learning.snapshot_dir, base.name)
    if published is None:
        return base
    snapshot = SnapshotInfo(
        published.sequence, published.version, published.file, published.sha256 or None, "good"
    )
    return snapshot_config(base, snapshot)


class OnlineLearning:
    """The learners and followers of one serving process.

    Parameters
    ----------
    repository
        The server's model repository (snapshots are deployed into it).
    learners
        The models this process learns, by name (already started).
    followed
        The base configuration of every learning model this process serves.
    remote
        Where the admin actions on a followed model that another process learns go (None:
        they are refused with 404).
    after_step
        Run on a learner's thread after each of its steps (metrics catch up with it).
    """

    def __init__(
        self,
        repository: ModelRepository,
        learners: Mapping[str, Learner],
        followed: Mapping[str, ModelConfig],
        *,
        remote: Remote | None = None,
        after_step: Callable[[], None] | None = None,
    ) -> None:
        self.repository = repository
        self.learners = dict(learners)
        self.followed = dict(followed)
        self.remote = remote
        self._after_step = after_step
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start every learner's thread and every follower (on the running loop)."""
        self._loop = asyncio.get_running_loop()
        self._stopping.clear()
        for name, learner in self.learners.items():
            learner.bind(self.publisher(name))
            thread = threading.Thread(
                target=self._learn, args=(learner,), name=f"learner-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        for name, config in self.followed.items():
            if name not in self.learners:  # a learner deploys what it publishes itself
                self._tasks.append(asyncio.create_task(self._follow(config)))

    async def stop(self) -> None:
        """Stop the followers and let each learner finish its step."""
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for thread in self._threads:
            await asyncio.to_thread(thread.join, 30)
        self._threads.clear()

    def publisher(self, name: str) -> Callable[[ModelConfig], None]:
        """What a learner calls to serve a snapshot: deploy here, point followers at it."""

        def publish_snapshot(config: ModelConfig) -> None:
            learning = config.learning
            assert learning is not None
            loop = self._loop
            if loop is not None and loop.is_running() and self._serving(name) != config.version:
                future = asyncio.run_coroutine_threadsafe(self.repository.deploy(config), loop)
                future.result(timeout=300)
            sequence = _sequence(config)
            publish(
                learning.snapshot_dir,
                name,
                Published(config.version, config.uri, learning.snapshot_sha256 or "", sequence),
            )

        return publish_snapshot

    def _learn(self, learner: Learner) -> None:
        poll = learner.learning.poll_seconds
        while not self._stopping.is_set():
            try:
                result = learner.step()
            except Exception:  # process boundary: the learner must outlive one bad step
                logger.exception("model %s: a learning step failed", learner.base.name)
                self._stopping.wait(_BACKOFF_SECONDS)
                continue
            if self._after_step is not None:
                self._after_step()
            if result.learnt + result.refused < learner.learning.batch_size:
                self._stopping.wait(poll)  # caught up: wait for more labels

    async def _follow(self, base: ModelConfig) -> None:
        learning = base.learning
        assert learning is not None
        while True:
            try:
                config = await asyncio.to_thread(published_config, base)
                if config is not base and self._serving(base.name) != config.version:
                    await self.repository.deploy(config)
            except asyncio.CancelledError:
                raise
            except Exception:  # process boundary: keep serving what is loaded
                logger.exception("model %s: following its snapshots failed", base.name)
            await asyncio.sleep(learning.poll_seconds)

    def _serving(self, name: str) -> str | None:
        try:
            return self.repository.resolve(name).version
        except ServingError:
            return None

    # -- admin -----------------------------------------------------------------------------

    def learner(self, name: str) -> Learner:
        """The learner of ``name`` in this process."""
        learner = self.learners.get(name)
        if learner is None:
            learning = ", ".join(sorted(self.learners)) or "none"
            raise ModelNotFoundError(
                f"model {name!r} does not learn online in this process; learning: {learning}"
            )
        return learner

    async def handle(self, name: str, action: str, body: bytes) -> dict[str, Any]:
        """Run an admin action (:data:`ACTIONS`) on ``name``'s learner, here or in the
        process that learns it; returns the learner's status.

        Raises
        ------
        ModelNotFoundError
            No such action, or ``name`` is not learnt online here or by the remote.
        InvalidRequestError
            The body's parameters are wrong.
        """
        if action not in ACTIONS:
            raise _unknown_action(action)
        if name not in self.learners and name in self.followed and self.remote is not None:
            return await self.remote(name, action, body)
        return await self.control(name, action, body)

    async def control(self, name: str, action: str, body: bytes) -> dict[str, Any]:
        """Run an admin action on the learner of ``name`` in this process (off the loop)."""
        learner = self.learner(name)
        if action == "status":
            # Off the loop too: a learning step holds the learner's lock while the loop
            # deploys the snapshot it publishes.
            return await asyncio.to_thread(learner.status)
        parameters = read_parameters(body)
        reason = parameters.get("reason", "manual")
        if not isinstance(reason, str):
            raise InvalidRequestError("parameters.reason: expected a string")
        if action == "freeze":
            await asyncio.to_thread(learner.freeze, reason)
        elif action == "unfreeze":
            await asyncio.to_thread(learner.unfreeze, reason)
        elif action == "rollback":
            version = parameters.get("version")
            if version is not None and not isinstance(version, str):
                raise InvalidRequestError("parameters.version: expected a string")
            await asyncio.to_thread(learner.rollback, version, reason)
        else:
            raise _unknown_action(action)
        return await asyncio.to_thread(learner.status)


class LearningApp:
    """The server's ASGI app, with online learning started and stopped around it and the
    learning admin routes in front of it."""

    def __init__(self, app: ASGIApp, learning: OnlineLearning, *, admin: AdminPolicy) -> None:
        self.app = app
        self.learning = learning
        self._admin = admin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        parts = scope.get("path", "").strip("/").split("/")
        if (
            scope["type"] == "http"
            and parts[:3] == ["v2", "repository", "models"]
            and len(parts) in (5, 6)
            and parts[4] == "learning"
        ):
            await self._route(scope, receive, send, parts[3], parts[5:])
            return
        await self.app(scope, receive, send)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def sent(message: dict[str, Any]) -> None:
            if message["type"] == "lifespan.startup.complete":
                await self.learning.start()
            await send(message)

        async def received() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self.learning.stop()
            return message

        await self.app(scope, received, sent)

    async def _route(
        self, scope: Scope, receive: Receive, send: Send, name: str, rest: list[str]
    ) -> None:
        method = scope["method"]
        try:
            if not rest:
                if method != "GET":
                    raise _MethodError("GET")
                await _answer(send, 200, await self.learning.handle(name, "status", b""))
                return
            if method != "POST":
                raise _MethodError("POST")
            client = scope.get("client")
            headers = dict(scope["headers"])
            authorization = headers.get(b"authorization", b"").decode("latin-1") or None
            self._admin.check(authorization, client[0] if client else None)
            if rest[0] not in ACTIONS[1:]:
                raise _unknown_action(rest[0])
            body = await _body(receive)
            await _answer(send, 200, await self.learning.handle(name, rest[0], body))
        except _MethodError as error:
            await _answer(send, 405, {"error": f"method {method} not allowed here; use {error}"})
        except AdminAccessError as error:
            await _answer(send, 403, {"error": str(error)})
        except ModelNotFoundError as error:
            await _answer(send, 404, {"error": str(error)})
        except InvalidRequestError as error:
            await _answer(send, 400, {"error": str(error)})
        except ModelNotReadyError as error:
            await _answer(send, 503, {"error": str(error)})
        except Exception as error:  # process boundary: a bug is a 500, never a dropped request
            logger.exception("learning admin %s %s failed", method, scope["path"])
            await _answer(send, 500, {"error": f"internal error: {error}"})


def _unknown_action(action: str) -> ModelNotFoundError:
    return ModelNotFoundError(f"no learning action {action!r}; use {', '.join(ACTIONS[1:])}")


class _MethodError(Exception):
    pass


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise InvalidRequestError("client disconnected before the body was complete")
        chunks.append(message.get("body", b""))
        if sum(map(len, chunks)) > 1 << 20:
            raise InvalidRequestError("body: larger than 1 MiB")
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _answer(send: Send, status: int, document: Any) -> None:
    body = orjson.dumps(document)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _sequence(config: ModelConfig) -> int:
    _, _, tail = config.version.rpartition("-s")
    return int(tail) if tail.isdigit() else 0
