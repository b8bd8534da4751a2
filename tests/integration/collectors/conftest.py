"""Fixtures of the collectors' integration tests: the NATS server with JetStream."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.nats_server import running_nats


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    """``nats://127.0.0.1:4222``, started for the session if nothing listens there."""
    with running_nats() as url:
        yield url
