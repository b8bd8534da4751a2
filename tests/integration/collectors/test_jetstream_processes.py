"""The jetstream transport's processes killed with SIGKILL mid-work: nothing lost, nothing twice.

(b) ``driftline writer`` killed while its insert waits on a table lock: its batches are
delivered again (after ``ack_wait``) to another writer and stored once. (c) ``driftline
sidecar`` killed while it spools and publishes: every acknowledged record reaches the stream,
and the stream holds no record twice (a republished batch is dropped by its message id).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry

from collectors.jetstream import JetStreamConfig
from collectors.payload import encode
from collectors.stream_writer import StreamWriter
from collectors.writer_metrics import WriterMetrics
from storage import create_engine
from tests.database_pool import PostgresPool
from tests.integration.collectors.jetstream_helpers import (
    own_stream,
    records,
    stream_batches,
    stream_messages,
    wait_until,
)
from tests.integration.collectors.test_sidecar_process import DRIFTLINE, free_port, start
from tests.integration.collectors.test_stream_writer import counted, publish, sample
from tests.integration.test_cli import driftline_in_process

pytestmark = pytest.mark.integration

ROWS = 20


@pytest.fixture
def config(nats_url: str) -> Iterator[JetStreamConfig]:
    with own_stream(nats_url) as config:
        yield config


def project(config: JetStreamConfig) -> str:
    return f"""version: 1
models:
  - name: reg
    task: regression
    features: [{{name: x0, kind: numeric}}]
transport:
  type: jetstream
  servers: [{config.servers[0]}]
  stream: {config.stream}
  subject_prefix: {config.subject_prefix}
  consumer: {config.consumer}
  ack_wait: {int(config.ack_wait_seconds)}s
  duplicate_window: 1m
  max_age: 1h
  fetch_batch: {config.fetch_batch}
"""


@pytest.mark.postgres
def test_a_writer_killed_mid_batch_has_its_batches_stored_once_by_another(
    config: JetStreamConfig, migrated_postgres: PostgresPool, tmp_path: Path
) -> None:
    batches, rows = 6, 50
    url = migrated_postgres.acquire()
    engine = create_engine(url)
    (tmp_path / "driftline.yaml").write_text(project(config))
    publish(config, [encode(records(i, rows)) for i in range(batches)])
    locker = engine.connect()
    locker.execute(sa.text("LOCK TABLE prediction_records IN EXCLUSIVE MODE"))
    waiting = sa.text(
        "select count(*) from pg_stat_activity "
        "where datname = current_database() and wait_event_type = 'Lock'"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    environment["DRIFTLINE_DATABASE_URL"] = url
    with (tmp_path / "writer.log").open("wb") as log:
        process = subprocess.Popen(
            [str(DRIFTLINE), "writer", "--workers", "1", "--port", str(free_port())],
            cwd=tmp_path,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    registry = CollectorRegistry()
    try:

        def blocked() -> bool:
            assert process.poll() is None, (tmp_path / "writer.log").read_text()
            with engine.connect() as connection:
                return int(connection.execute(waiting).scalar_one()) >= 1

        wait_until(blocked, timeout=60, what="the writer's insert to wait on the lock")
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        locker.rollback()
        locker.close()
        writer = StreamWriter(engine, config, metrics=WriterMetrics(registry))
        writer.start()
        try:
            done = (batches * rows, batches * rows)
            wait_until(lambda: counted(engine) == done, timeout=30, what="the redelivery")
            wait_until(lambda: stream_messages(config) == 0, timeout=10, what="the acks")
        finally:
            writer.stop()
        final = counted(engine)
    finally:
        if process.poll() is None:
            process.kill()
        locker.close()
        engine.dispose()
        migrated_postgres.release(url)
    assert final == (batches * rows, batches * rows)
    assert sample(registry, "redeliveries_total") >= 1
    assert sample(registry, "batches_written_total") == batches


def test_a_sidecar_killed_mid_publish_loses_no_acknowledged_record(
    config: JetStreamConfig, tmp_path: Path
) -> None:
    (tmp_path / "driftline.yaml").write_text(project(config))
    created = driftline_in_process(tmp_path, "tokens", "create", "feeder", "--scope", "ingest")
    assert created.returncode == 0, created.transcript
    headers = {"authorization": f"Bearer {created.stdout.strip()}"}
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1/models/reg/predictions"
    acknowledged: list[int] = []

    def body(batch: int) -> dict[str, object]:
        # Explicit timestamps: a batch sent again has the same bytes, hence the same message id.
        return {
            "records": [
                {
                    "request_id": f"b{batch:04d}-{k:02d}",
                    "timestamp": 1_800_000_000 + batch,
                    "features": {"x0": k},
                    "prediction": 1.0,
                }
                for k in range(ROWS)
            ]
        }

    def feed(first: int, stop: threading.Event) -> int:
        batch = first
        with httpx.Client(timeout=5) as client:
            while not stop.is_set():
                try:
                    answer = client.post(url, json=body(batch), headers=headers)
                except httpx.TransportError:
                    return batch  # the in-flight batch: unknown outcome, sent again later
                assert answer.status_code == 200, answer.text
                acknowledged.append(batch)
                batch += 1
        return batch

    process = start(tmp_path, port)
    stop = threading.Event()
    result: list[int] = []
    feeder = threading.Thread(target=lambda: result.append(feed(0, stop)))
    feeder.start()
    wait_until(lambda: len(acknowledged) >= 30, timeout=60, what="30 acknowledged batches")
    process.send_signal(signal.SIGKILL)
    process.wait()
    feeder.join(timeout=30)
    restarted = start(tmp_path, port)
    try:
        again = threading.Event()
        threading.Timer(1.0, again.set).start()
        feed(result[0], again)

        def spool_empty() -> bool:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            return "\ndriftline_collector_spool_records 0.0" in text

        wait_until(spool_empty, timeout=30, what="the restarted sidecar's spool to drain")
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(timeout=30)
    in_stream = [rid for batch in stream_batches(config) for rid in batch.batch.request_ids]
    expected = {f"b{b:04d}-{k:02d}" for b in acknowledged for k in range(ROWS)}
    assert len(in_stream) == len(set(in_stream))  # nothing twice in the stream
    assert expected <= set(in_stream)  # nothing acknowledged lost

    engine = create_engine(f"sqlite:///{tmp_path / '.driftline' / 'driftline.db'}")
    writer = StreamWriter(engine, config, metrics=WriterMetrics(CollectorRegistry()))
    writer.start()
    try:
        wait_until(lambda: stream_messages(config) == 0, timeout=30, what="the writer")
    finally:
        writer.stop()
    with engine.connect() as connection:
        stored = [
            row[0]
            for row in connection.execute(sa.text("select request_id from prediction_records"))
        ]
    engine.dispose()
    assert sorted(stored) == sorted(in_stream)
    assert len(acknowledged) > 30
