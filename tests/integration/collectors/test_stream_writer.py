"""``driftline writer``'s consumers: batches from the stream into the store, each record once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from collectors.jetstream import JetStreamConfig
from collectors.payload import encode
from collectors.publisher import JetStreamPublisher, PublisherMetrics
from collectors.spool import Position
from collectors.stream_writer import StreamWriter
from collectors.writer_metrics import WriterMetrics
from storage import FeatureSpec, create_engine, create_session_factory, register_model
from tests.database_pool import PostgresPool
from tests.integration.collectors.jetstream_helpers import (
    own_stream,
    records,
    stream_messages,
    wait_until,
)
from tests.integration.collectors.tcp_proxy import TcpProxy
from tests.integration.test_cli import assert_user_error, driftline_in_process

pytestmark = pytest.mark.integration

COUNT = sa.text("select count(*), count(distinct request_id) from prediction_records")


@pytest.fixture
def config(nats_url: str) -> Iterator[JetStreamConfig]:
    with own_stream(nats_url) as config:
        yield config


def register(engine: Engine, name: str = "reg") -> None:
    with create_session_factory(engine)() as session, session.begin():
        register_model(
            session,
            name=name,
            task="regression",
            version="1",
            features=[FeatureSpec("x0", "numeric")],
        )


def publish(config: JetStreamConfig, payloads: list[bytes]) -> None:
    publisher = JetStreamPublisher(config, metrics=PublisherMetrics(CollectorRegistry()))
    try:
        publisher.publish([(Position(1, i), payload) for i, payload in enumerate(payloads)])
    finally:
        publisher.close()


def counted(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        total, distinct = connection.execute(COUNT).one()
    return int(total), int(distinct)


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(f"driftline_writer_{name}", labels or None) or 0.0


@pytest.mark.postgres
def test_the_stream_holds_batches_while_postgres_is_away_and_writers_catch_up(
    config: JetStreamConfig, migrated_postgres: PostgresPool
) -> None:
    batches, rows = 40, 50
    url = migrated_postgres.acquire()
    direct = create_engine(url)
    register(direct)
    proxy = TcpProxy((make_url(url).host or "127.0.0.1", make_url(url).port or 5432))
    through_proxy = create_engine(make_url(url).set(host="127.0.0.1", port=proxy.port))
    publish(config, [encode(records(i, rows)) for i in range(batches)])
    proxy.cut()
    registry = CollectorRegistry()
    writer = StreamWriter(through_proxy, config, metrics=WriterMetrics(registry), workers=2)
    writer.start()
    try:
        returned = ("batches_returned_total", {"reason": "store_unavailable"})
        wait_until(
            lambda: sample(registry, returned[0], **returned[1]) >= 2,
            timeout=30,
            what="the writers to hand batches back",
        )
        assert counted(direct) == (0, 0)
        assert stream_messages(config) == batches  # the stream holds every batch
        proxy.restore()
        wait_until(lambda: counted(direct)[0] >= batches * rows, timeout=60, what="catching up")
        wait_until(lambda: stream_messages(config) == 0, timeout=10, what="the acks")
        final = counted(direct)
    finally:
        writer.stop()
        proxy.cut()
        through_proxy.dispose()
        direct.dispose()
        migrated_postgres.release(url)
    assert final == (batches * rows, batches * rows)  # every record, exactly once
    assert sample(registry, "batches_written_total") == batches
    assert sample(registry, "records_inserted_total") == batches * rows
    assert sample(registry, "redeliveries_total") >= 1


def test_batches_the_store_cannot_take_are_rejected_and_not_delivered_again(
    config: JetStreamConfig, engine: Engine
) -> None:
    register(engine)
    good, unknown = records(0, 10), records(1, 10, model="nobody")
    misfit = records(2, 10, features=2)  # x1 is not a feature of reg
    publish(config, [encode(good), encode(unknown), encode(misfit)])

    async def garbage() -> None:
        client = await nats.connect(servers=list(config.servers))
        await client.jetstream().publish(config.subject("reg"), b"not a batch")
        await client.close()

    asyncio.run(garbage())
    registry = CollectorRegistry()
    writer = StreamWriter(engine, config, metrics=WriterMetrics(registry))
    writer.start()
    try:
        wait_until(lambda: stream_messages(config) == 0, timeout=20, what="every batch settled")
    finally:
        writer.stop()
    assert counted(engine) == (10, 10)
    rejected = "records_rejected_total"
    assert sample(registry, rejected, reason="unknown_model") == 10
    assert sample(registry, rejected, reason="invalid") == 10
    assert sample(registry, rejected, reason="malformed") == 1
    assert sample(registry, "batches_written_total") == 1


def test_the_writer_command_needs_the_jetstream_transport(tmp_path: Path) -> None:
    (tmp_path / "driftline.yaml").write_text("version: 1\n")
    line = assert_user_error(driftline_in_process(tmp_path, "writer"))
    assert line == (
        f"error: {tmp_path / 'driftline.yaml'}: transport.type is 'direct'; driftline writer "
        "stores what sidecars publish with type: jetstream"
    )
