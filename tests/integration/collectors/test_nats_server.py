"""The test setup starts a NATS server with JetStream where none listens (tests/nats_server.py)."""

from __future__ import annotations

import asyncio

import nats
import pytest

from tests.integration.collectors.test_sidecar_process import free_port
from tests.nats_server import listening, running_nats

pytestmark = pytest.mark.integration


def test_a_server_with_jetstream_is_started_when_none_listens() -> None:
    port = free_port()
    assert not listening(port=port)

    async def jetstream_answers(url: str) -> bool:
        client = await nats.connect(url)
        try:
            info = await client.jetstream().account_info()
        finally:
            await client.close()
        return info.limits is not None

    with running_nats(port) as url:
        assert url == f"nats://127.0.0.1:{port}"
        assert asyncio.run(jetstream_answers(url))
    assert not listening(port=port)
