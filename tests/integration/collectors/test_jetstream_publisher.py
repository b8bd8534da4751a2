"""The sidecar's side of the jetstream transport: spooled batches published once each.

NATS is reached through a TCP proxy, so that a test can take it away and bring it back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from collectors.collector import Collector
from collectors.jetstream import JetStreamConfig
from collectors.metrics import CollectorMetrics
from collectors.payload import concatenate, encode
from collectors.publisher import JetStreamPublisher, PublisherMetrics
from collectors.spool import Position, Spool
from storage import create_engine, sqlite_url
from tests.integration.collectors.jetstream_helpers import (
    own_stream,
    records,
    stream_batches,
    stream_messages,
    wait_until,
)
from tests.integration.collectors.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(("127.0.0.1", 4222))
    yield proxy
    proxy.cut()


@pytest.fixture
def config(nats_url: str, proxy: TcpProxy) -> Iterator[JetStreamConfig]:
    with own_stream(nats_url, publish_timeout_seconds=2.0, connect_timeout_seconds=1.0) as config:
        yield config


def published(registry: CollectorRegistry, name: str) -> float:
    return registry.get_sample_value(f"driftline_collector_{name}_total") or 0.0


def test_batches_wait_in_the_spool_while_nats_is_away_and_are_published_once(
    config: JetStreamConfig, proxy: TcpProxy, tmp_path: Path
) -> None:
    via_proxy = replace(config, servers=(f"nats://127.0.0.1:{proxy.port}",))
    registry = CollectorRegistry()
    publisher = JetStreamPublisher(via_proxy, metrics=PublisherMetrics(registry))
    spool = Spool(tmp_path / "spool", fsync=False)
    engine = create_engine(sqlite_url(tmp_path / "unused.db"))
    collector = Collector(
        engine, spool, metrics=CollectorMetrics(registry), publisher=publisher, flush_seconds=0.05
    )
    collector.start()
    try:
        for i in range(10):
            collector.ingest(records(i, 20))
        wait_until(lambda: spool.stats().pending_records == 0, timeout=20, what="publishing")
        assert stream_messages(config) == 10

        proxy.cut()
        for i in range(10, 20):
            collector.ingest(records(i, 20))
        wait_until(
            lambda: published(registry, "publish_failures") >= 1, timeout=20, what="a failure"
        )
        assert spool.stats().pending_records == 10  # the spool holds them, nothing is lost
        assert stream_messages(config) == 10

        proxy.restore()
        wait_until(lambda: spool.stats().pending_records == 0, timeout=30, what="the replay")
    finally:
        collector.stop()
        publisher.close()
        spool.close()
        engine.dispose()
    ids = [rid for batch in stream_batches(config) for rid in batch.batch.request_ids]
    assert len(ids) == len(set(ids)) == 20 * 20


def test_a_batch_published_again_is_stored_once(config: JetStreamConfig) -> None:
    registry = CollectorRegistry()
    publisher = JetStreamPublisher(config, metrics=PublisherMetrics(registry))
    entries = [(Position(1, 100 * i), encode(records(i, 5))) for i in range(4)]
    try:
        assert publisher.publish(entries) == 0
        assert publisher.publish(entries) == 0  # a sidecar that died before its spool ack
    finally:
        publisher.close()
    assert published(registry, "messages_published") == 8
    assert published(registry, "messages_duplicate") == 4
    assert stream_messages(config) == 4


def test_a_batch_larger_than_a_message_is_cut_between_records(config: JetStreamConfig) -> None:
    big = records(0, 20_000, features=10)  # about 1.8 MB, NATS takes 1 MiB per message
    bad = (Position(1, 1), b"not a batch")
    publisher = JetStreamPublisher(config, metrics=PublisherMetrics(CollectorRegistry()))
    try:
        assert publisher.publish([(Position(1, 0), encode(big)), bad]) == 1
    finally:
        publisher.close()
    pieces = stream_batches(config)
    assert len(pieces) >= 2
    assert list(concatenate(pieces).batch.request_ids) == list(big.batch.request_ids)
