"""Helpers of the JetStream transport tests: a stream of their own, batches, stream reads."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace

import nats
import numpy as np
from nats.js import errors as js_errors

from collectors.jetstream import JetStreamConfig
from collectors.payload import ModelBatch, decode
from storage import PredictionBatch


@contextlib.contextmanager
def own_stream(url: str, **settings: object) -> Iterator[JetStreamConfig]:
    """Settings naming a stream and subjects no other test uses; the stream is deleted after."""
    tag = uuid.uuid4().hex[:12]
    config = JetStreamConfig(
        servers=(url,),
        stream=f"DLTEST_{tag}",
        subject_prefix=f"dltest.{tag}",
        consumer=f"writers-{tag}",
        max_age_seconds=3600,
        duplicate_window_seconds=60,
        ack_wait_seconds=2,
        fetch_batch=8,
    )
    config = replace(config, **settings)  # type: ignore[arg-type]
    try:
        yield config
    finally:
        asyncio.run(_delete(config))


async def _delete(config: JetStreamConfig) -> None:
    client = await nats.connect(servers=list(config.servers))
    with contextlib.suppress(js_errors.NotFoundError):
        await client.jetstream().delete_stream(config.stream)
    await client.close()


def stream_messages(config: JetStreamConfig) -> int:
    """Messages the stream holds now (0 when it does not exist)."""

    async def count() -> int:
        client = await nats.connect(servers=list(config.servers))
        try:
            info = await client.jetstream().stream_info(config.stream)
        except js_errors.NotFoundError:
            return 0
        finally:
            await client.close()
        return int(info.state.messages)

    return asyncio.run(count())


def stream_batches(config: JetStreamConfig) -> list[ModelBatch]:
    """Every batch the stream holds, in order, read by sequence (no consumer)."""

    async def read() -> list[ModelBatch]:
        client = await nats.connect(servers=list(config.servers))
        js = client.jetstream()
        state = (await js.stream_info(config.stream)).state
        found = []
        for sequence in range(state.first_seq, state.last_seq + 1):
            with contextlib.suppress(js_errors.NotFoundError):
                message = await js.get_msg(config.stream, sequence)
                assert message.data is not None
                found.append(decode(message.data))
        await client.close()
        return found

    return asyncio.run(read())


def records(batch: int, rows: int, *, model: str = "reg", features: int = 1) -> ModelBatch:
    """``rows`` records ``b<batch>-<k>`` of a regression model with features x0, x1, ..."""
    return ModelBatch(
        model,
        "1",
        PredictionBatch(
            request_ids=[f"b{batch:04d}-{k:03d}" for k in range(rows)],
            timestamps_us=np.full(rows, 1_800_000_000_000_000 + batch, dtype=np.int64),
            features={f"x{j}": np.arange(rows, dtype=np.float64) + j for j in range(features)},
            predictions=np.ones(rows),
        ),
    )


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll ``condition`` every 50 ms; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)
