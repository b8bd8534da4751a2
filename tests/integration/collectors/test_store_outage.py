"""PostgreSQL goes away during a steady stream and comes back: every record arrives once."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import make_url

from collectors.collector import Collector
from collectors.metrics import CollectorMetrics
from collectors.payload import ModelBatch
from collectors.spool import Spool
from storage import (
    FeatureSpec,
    PredictionBatch,
    create_engine,
    create_session_factory,
    register_model,
)
from storage.migrations import upgrade
from tests.integration.collectors.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

BATCHES, ROWS = 60, 50


def batch(i: int) -> ModelBatch:
    ids = [f"b{i:03d}-{k:02d}" for k in range(ROWS)]
    return ModelBatch(
        "reg",
        "1",
        PredictionBatch(
            request_ids=ids,
            timestamps_us=np.full(ROWS, 1_800_000_000_000_000 + i),
            features={"x": np.arange(ROWS, dtype=np.float64)},
            predictions=np.ones(ROWS),
        ),
    )


def test_records_wait_in_the_spool_while_postgres_is_unreachable(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    direct = create_engine(fresh_postgres_url)
    upgrade(direct)
    with create_session_factory(direct)() as session, session.begin():
        register_model(
            session,
            name="reg",
            task="regression",
            version="1",
            features=[FeatureSpec("x", "numeric")],
        )
    url = make_url(fresh_postgres_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    through_proxy = create_engine(url.set(host="127.0.0.1", port=proxy.port))
    registry = CollectorRegistry()
    spool = Spool(tmp_path / "spool")
    collector = Collector(
        through_proxy, spool, metrics=CollectorMetrics(registry), sleep=time.sleep
    )
    collector.start()
    count = sa.text("select count(*), count(distinct request_id) from prediction_records")
    try:
        for i in range(BATCHES):
            if i == 20:
                proxy.cut()
            if i == 45:
                with direct.connect() as connection:
                    stalled = connection.execute(count).one()[0]
                pending = spool.stats().pending_records
                proxy.restore()
            collector.ingest(batch(i))
            time.sleep(0.01)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with direct.connect() as connection:
                total, distinct = connection.execute(count).one()
            if total >= BATCHES * ROWS:
                break
            time.sleep(0.1)
    finally:
        collector.stop()
        spool.close()
        proxy.cut()
        through_proxy.dispose()
        direct.dispose()
    assert stalled <= 21 * ROWS  # nothing got through while the store was cut off
    assert pending >= 20  # the batches waited in the spool
    assert (total, distinct) == (BATCHES * ROWS, BATCHES * ROWS)
    assert registry.get_sample_value("driftline_collector_records_written_total") >= BATCHES * ROWS
