"""NATS JetStream between sidecars and writers: the settings, the subjects, the stream.

Sidecars publish each spooled batch to ``<subject_prefix>.<model>`` on one stream; a durable
pull consumer shared by every ``driftline writer`` takes them into the store. Whoever connects
first creates the stream (and the consumer); a stream whose settings changed in the project
file is updated. What the server refuses to change (the retention policy, the storage type)
is a :class:`~collectors.errors.TransportError` naming the setting.

Every message carries a ``Nats-Msg-Id`` derived from its bytes (:func:`message_id`), so a
batch published twice within the stream's duplicate window is stored once; past the window
the store's key, (model, request id), still keeps records unique.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Literal

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js import errors as js_errors

from collectors.errors import TransportError

__all__ = [
    "Discard",
    "JetStreamConfig",
    "Retention",
    "Storage",
    "connect",
    "ensure_consumer",
    "ensure_stream",
    "message_id",
]

logger = logging.getLogger(__name__)

Retention = Literal["workqueue", "limits", "interest"]
Discard = Literal["new", "old"]
Storage = Literal["file", "memory"]

MESSAGE_ID_HEADER = "Nats-Msg-Id"
_NANOSECONDS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class JetStreamConfig:
    """Where batches travel and how the stream and the writers' consumer are set up.

    The project file's ``transport`` block (``type: jetstream``) fills this in; the defaults
    here are the file's.
    """

    servers: tuple[str, ...] = ("nats://127.0.0.1:4222",)
    """NATS servers to connect to (any of them; the client fails over)."""
    stream: str = "DRIFTLINE_RECORDS"
    """Name of the stream."""
    subject_prefix: str = "driftline.records"
    """Batches of model ``m`` go to ``<subject_prefix>.m``; the stream takes ``<prefix>.>``."""
    publish_timeout_seconds: float = 5.0
    """How long a sidecar waits for the stream's acknowledgement of a publish."""
    retention: Retention = "workqueue"
    """``workqueue``: a message is deleted once a writer acknowledged it."""
    discard: Discard = "new"
    """When the stream is full: ``new`` refuses publishes (the sidecars' spools hold them),
    ``old`` deletes the oldest messages, written or not."""
    storage: Storage = "file"
    """Where the server keeps messages."""
    max_age_seconds: float = 7 * 86_400
    """Messages older than this are deleted, written or not (0: no limit)."""
    max_bytes: int | None = None
    """Most bytes the stream holds (None: the server's limit)."""
    replicas: int = 1
    """Copies of each message in a NATS cluster (1 to 5)."""
    duplicate_window_seconds: float = 120.0
    """How long the stream remembers message ids to drop republished batches."""
    consumer: str = "driftline-writers"
    """Durable name of the pull consumer every writer shares."""
    ack_wait_seconds: float = 30.0
    """A delivered batch not acknowledged within this is delivered again."""
    max_ack_pending: int = 1024
    """Most batches delivered and not yet acknowledged, across all writers."""
    fetch_batch: int = 64
    """Most batches one writer worker takes (and writes as few inserts) at a time."""
    connect_timeout_seconds: float = 2.0
    """How long one connection attempt may take."""

    @property
    def subjects(self) -> str:
        """The stream's subjects: every model's."""
        return f"{self.subject_prefix}.>"

    def subject(self, model: str) -> str:
        """The subject batches of ``model`` are published to."""
        return f"{self.subject_prefix}.{model}"


def message_id(payload: bytes) -> str:
    """A message id that depends on the bytes alone: a republished batch gets the same one.

    Two different batches with equal bytes would hold the same records (the same request ids),
    which the store keeps once anyway.

    Examples
    --------
    >>> message_id(b"batch") == message_id(b"batch") != message_id(b"other batch")
    True
    """
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


async def connect(config: JetStreamConfig, *, name: str) -> Client:
    """A connection to one of ``config.servers``.

    The client retries a lost connection a few times, then closes; callers reconnect with
    their own backoff (and meanwhile keep their batches: in the spool, or in the stream).

    Raises
    ------
    TransportError
        No server could be reached.
    """

    async def on_error(error: Exception) -> None:
        logger.warning("nats (%s): %s", name, error or type(error).__name__)

    try:
        return await nats.connect(
            servers=list(config.servers),
            name=name,
            connect_timeout=max(1, round(config.connect_timeout_seconds)),
            allow_reconnect=True,
            max_reconnect_attempts=5,
            reconnect_time_wait=1,
            error_cb=on_error,
        )
    except (nats.errors.Error, OSError) as error:
        servers = ", ".join(config.servers)
        raise TransportError(f"cannot connect to NATS at {servers}: {error}") from None


def stream_config(config: JetStreamConfig) -> js_api.StreamConfig:
    """The stream's settings as the server takes them."""
    return js_api.StreamConfig(
        name=config.stream,
        subjects=[config.subjects],
        retention=js_api.RetentionPolicy(config.retention),
        discard=js_api.DiscardPolicy(config.discard),
        storage=js_api.StorageType(config.storage),
        max_age=config.max_age_seconds,
        max_bytes=-1 if config.max_bytes is None else config.max_bytes,
        num_replicas=config.replicas,
        duplicate_window=config.duplicate_window_seconds,
    )


def _differences(current: js_api.StreamConfig, wanted: js_api.StreamConfig) -> list[str]:
    """The settings of the server's stream that differ from the wanted ones."""
    names = (
        "subjects",
        "retention",
        "discard",
        "storage",
        "max_age",
        "max_bytes",
        "num_replicas",
        "duplicate_window",
    )
    found = []
    for name in names:
        have, want = getattr(current, name), getattr(wanted, name)
        if name in {"max_age", "duplicate_window"}:
            have, want = round((have or 0) * _NANOSECONDS), round((want or 0) * _NANOSECONDS)
        if have != want:
            found.append(f"{name} {have!r} -> {want!r}")
    return found


async def ensure_stream(js: JetStreamContext, config: JetStreamConfig) -> None:
    """Create the stream if it is missing, or update the settings that changed.

    Raises
    ------
    TransportError
        The server refused the stream's settings (the message quotes its reason).
    """
    wanted = stream_config(config)
    try:
        try:
            info = await js.stream_info(config.stream)
        except js_errors.NotFoundError:
            try:
                await js.add_stream(wanted)
                logger.info("created JetStream stream %s on %s", config.stream, config.subjects)
                return
            except js_errors.BadRequestError:  # another process created it meanwhile
                info = await js.stream_info(config.stream)
        changes = _differences(info.config, wanted)
        if changes:
            await js.update_stream(wanted)
            logger.info("updated JetStream stream %s: %s", config.stream, ", ".join(changes))
    except js_errors.APIError as error:
        raise TransportError(
            f"JetStream refused stream {config.stream!r}: {error.description or error}"
        ) from None
    except (nats.errors.Error, OSError) as error:
        raise TransportError(f"setting up stream {config.stream!r}: {error!r}") from None


def consumer_config(config: JetStreamConfig) -> js_api.ConsumerConfig:
    """The writers' durable pull consumer as the server takes it."""
    return js_api.ConsumerConfig(
        durable_name=config.consumer,
        name=config.consumer,
        ack_policy=js_api.AckPolicy.EXPLICIT,
        deliver_policy=js_api.DeliverPolicy.ALL,
        ack_wait=config.ack_wait_seconds,
        max_ack_pending=config.max_ack_pending,
        max_deliver=-1,
        filter_subject=config.subjects,
    )


async def ensure_consumer(js: JetStreamContext, config: JetStreamConfig) -> None:
    """Create the writers' durable consumer if it is missing.

    An existing consumer is left as it is (its settings are the server's, not re-applied);
    a different ``ack_wait`` or ``max_ack_pending`` is logged.

    Raises
    ------
    TransportError
        The server refused the consumer.
    """
    wanted = consumer_config(config)
    try:
        try:
            info = await js.consumer_info(config.stream, config.consumer)
        except js_errors.NotFoundError:
            await js.add_consumer(config.stream, wanted)
            logger.info("created JetStream consumer %s on %s", config.consumer, config.stream)
            return
        have = info.config
        if (have.ack_wait, have.max_ack_pending) != (wanted.ack_wait, wanted.max_ack_pending):
            logger.warning(
                "consumer %s keeps ack_wait %ss and max_ack_pending %s; the project file says "
                "%ss and %s (delete the consumer to apply them)",
                config.consumer,
                have.ack_wait,
                have.max_ack_pending,
                wanted.ack_wait,
                wanted.max_ack_pending,
            )
    except js_errors.APIError as error:
        raise TransportError(
            f"JetStream refused consumer {config.consumer!r} on stream {config.stream!r}: "
            f"{error.description or error}"
        ) from None
    except (nats.errors.Error, OSError) as error:
        raise TransportError(f"setting up consumer {config.consumer!r}: {error!r}") from None
