"""The ``transport`` section: how recorded batches travel from the sidecars to the store.

``direct`` (the default): each sidecar (and ``driftline serve``) writes its spooled batches
into the database itself. ``jetstream``: they publish them to a NATS JetStream stream, and
``driftline writer`` processes store them; the settings here are shared by both sides, so
that they agree on the stream, its subjects and the writers' consumer.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, model_validator

from monitor.project._base import Spec, spec_error
from monitor.project.durations import Duration, format_duration

__all__ = ["DirectTransport", "JetStreamTransport", "Transport"]

_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SUBJECT = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")
_SCHEMES = ("nats", "tls", "ws", "wss")


def _check_name(value: str) -> str:
    if _NAME.fullmatch(value) is None:
        raise spec_error("must be 1-64 letters, digits, '_' or '-' (a JetStream name)")
    return value


def _check_subject(value: str) -> str:
    if _SUBJECT.fullmatch(value) is None or len(value) > 200:
        raise spec_error(
            "must be dot-separated tokens of letters, digits, '_' or '-', "
            "without wildcards, e.g. driftline.records"
        )
    return value


def _check_server(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in _SCHEMES or not parts.hostname:
        raise spec_error("must be a NATS URL such as nats://127.0.0.1:4222 (nats, tls, ws, wss)")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise spec_error("has an invalid port") from None
    return value


JetStreamName = Annotated[str, AfterValidator(_check_name)]
Subject = Annotated[str, AfterValidator(_check_subject)]
ServerURL = Annotated[str, AfterValidator(_check_server)]


class DirectTransport(Spec):
    """Each sidecar writes its spooled batches into the database itself."""

    type: Literal["direct"]
    """Selects this transport."""


class JetStreamTransport(Spec):
    """Sidecars publish spooled batches to NATS JetStream; ``driftline writer`` stores them."""

    type: Literal["jetstream"]
    """Selects this transport."""
    servers: tuple[ServerURL, ...] = ("nats://127.0.0.1:4222",)
    """NATS servers (any of them; the client fails over)."""
    stream: JetStreamName = "DRIFTLINE_RECORDS"
    """Name of the stream, created (or updated) by the first process that connects."""
    subject_prefix: Subject = "driftline.records"
    """Batches of model ``m`` are published to ``<subject_prefix>.m``."""
    publish_timeout: Duration = timedelta(seconds=5)
    """How long a sidecar waits for the stream to acknowledge a round of batches."""
    retention: Literal["workqueue", "limits", "interest"] = "workqueue"
    """``workqueue``: a batch is deleted once a writer stored it."""
    discard: Literal["new", "old"] = "new"
    """When the stream is full: ``new`` refuses publishes (sidecars keep batches in their
    spools), ``old`` deletes the oldest batches, stored or not."""
    storage: Literal["file", "memory"] = "file"
    """Where the NATS servers keep the stream."""
    max_age: Duration = timedelta(days=7)
    """Batches older than this are deleted, stored or not (``0s``: no limit)."""
    max_bytes: int | None = Field(default=None, ge=1)
    """Most bytes the stream holds; none: the servers' limit."""
    replicas: int = Field(default=1, ge=1, le=5)
    """Copies of each batch in a NATS cluster."""
    duplicate_window: Duration = timedelta(minutes=2)
    """How long the stream remembers message ids, to store a republished batch once."""
    consumer: JetStreamName = "driftline-writers"
    """Durable name of the pull consumer every writer shares."""
    ack_wait: Duration = timedelta(seconds=30)
    """A batch a writer took and did not acknowledge within this is delivered again."""
    max_ack_pending: int = Field(default=1024, ge=1, le=1_000_000)
    """Most batches handed to writers and not yet acknowledged, across all writers."""
    fetch_batch: int = Field(default=64, ge=1, le=10_000)
    """Most batches one writer worker takes (and writes as a few inserts) at a time."""

    @model_validator(mode="after")
    def _check_settings(self) -> Self:
        if not self.servers:
            raise spec_error("must list at least one server", at=("servers",))
        for name in ("publish_timeout", "duplicate_window", "ack_wait"):
            value: timedelta = getattr(self, name)
            if value < timedelta(seconds=1):
                got = format_duration(value)
                raise spec_error("must be at least 1s", at=(name,), got=got, got_mode="value")
        if self.max_age and self.duplicate_window > self.max_age:
            msg = f"must not exceed max_age ({format_duration(self.max_age)})"
            got = format_duration(self.duplicate_window)
            raise spec_error(msg, at=("duplicate_window",), got=got, got_mode="value")
        if self.fetch_batch > self.max_ack_pending:
            msg = f"must not exceed max_ack_pending ({self.max_ack_pending})"
            raise spec_error(msg, at=("fetch_batch",), got=self.fetch_batch, got_mode="value")
        return self


Transport = Annotated[DirectTransport | JetStreamTransport, Field(discriminator="type")]
"""Either transport, selected by its ``type``."""
