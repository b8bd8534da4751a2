"""The project file's ``transport`` block as the collectors take it."""

from __future__ import annotations

from collectors.jetstream import JetStreamConfig
from monitor.project.transport_specs import JetStreamTransport

__all__ = ["jetstream_config"]


def jetstream_config(spec: JetStreamTransport) -> JetStreamConfig:
    """The settings of a ``type: jetstream`` transport block."""
    return JetStreamConfig(
        servers=spec.servers,
        stream=spec.stream,
        subject_prefix=spec.subject_prefix,
        publish_timeout_seconds=spec.publish_timeout.total_seconds(),
        retention=spec.retention,
        discard=spec.discard,
        storage=spec.storage,
        max_age_seconds=spec.max_age.total_seconds(),
        max_bytes=spec.max_bytes,
        replicas=spec.replicas,
        duplicate_window_seconds=spec.duplicate_window.total_seconds(),
        consumer=spec.consumer,
        ack_wait_seconds=spec.ack_wait.total_seconds(),
        max_ack_pending=spec.max_ack_pending,
        fetch_batch=spec.fetch_batch,
    )
