"""The project file's ``transport`` block: defaults, checks, and the collectors' settings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from collectors.jetstream import JetStreamConfig
from monitor.errors import ProjectFileError
from monitor.project import parse_project
from monitor.transport_setup import jetstream_config


def transport(text: str) -> object:
    return parse_project(f"version: 1\ntransport:\n{text}").transport


def test_direct_is_the_default() -> None:
    assert parse_project("version: 1\n").transport.type == "direct"


def test_jetstream_defaults_are_the_collectors_defaults() -> None:
    spec = transport("  type: jetstream\n")
    assert jetstream_config(spec) == JetStreamConfig()  # type: ignore[arg-type]


def test_jetstream_settings_reach_the_collectors() -> None:
    spec = transport(
        "  type: jetstream\n"
        "  servers: [nats://a:4222, tls://b:4222]\n"
        "  stream: S1\n  subject_prefix: team.records\n  publish_timeout: 10s\n"
        "  retention: limits\n  discard: old\n  storage: memory\n  max_age: 1d\n"
        "  max_bytes: 1000000\n  replicas: 3\n  duplicate_window: 5m\n  consumer: w\n"
        "  ack_wait: 1m\n  max_ack_pending: 100\n  fetch_batch: 10\n"
    )
    config = jetstream_config(spec)  # type: ignore[arg-type]
    assert config.servers == ("nats://a:4222", "tls://b:4222")
    assert (config.stream, config.subject("m.x"), config.subjects) == (
        "S1",
        "team.records.m.x",
        "team.records.>",
    )
    assert (config.retention, config.discard, config.storage) == ("limits", "old", "memory")
    assert config.max_age_seconds == timedelta(days=1).total_seconds()
    assert (config.max_bytes, config.replicas, config.duplicate_window_seconds) == (1e6, 3, 300)
    assert (config.consumer, config.ack_wait_seconds, config.publish_timeout_seconds) == (
        "w",
        60,
        10,
    )
    assert (config.max_ack_pending, config.fetch_batch) == (100, 10)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("  type: nats\n", "transport.type: must be one of 'direct', 'jetstream', got 'nats'"),
        (
            "  type: jetstream\n  servers: ['http://x:4222']\n",
            "transport.servers[0]: must be a NATS URL such as nats://127.0.0.1:4222",
        ),
        ("  type: jetstream\n  servers: []\n", "transport.servers: must list at least one server"),
        ("  type: jetstream\n  stream: a.b\n", "transport.stream: must be 1-64 letters"),
        (
            "  type: jetstream\n  subject_prefix: 'a.>'\n",
            "transport.subject_prefix: must be dot-separated tokens",
        ),
        ("  type: jetstream\n  replicas: 7\n", "transport.replicas: must be <= 5, got 7"),
        (
            "  type: jetstream\n  ack_wait: 0s\n",
            "transport.ack_wait: must be at least 1s, got '0s'",
        ),
        (
            "  type: jetstream\n  max_age: 1m\n",
            "transport.duplicate_window: must not exceed max_age (1m), got '2m'",
        ),
        (
            "  type: jetstream\n  max_ack_pending: 10\n",
            "transport.fetch_batch: must not exceed max_ack_pending (10), got 64",
        ),
        ("  type: direct\n  stream: s\n", "transport.stream: key not allowed"),
        ("  type: jetstream\n  retention: forever\n", "transport.retention: must be one of"),
    ],
)
def test_mistakes_are_named_with_their_path(text: str, message: str) -> None:
    with pytest.raises(ProjectFileError) as caught:
        transport(text)
    assert str(caught.value).startswith(f"<string>: {message}")
