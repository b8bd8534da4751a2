"""One seeded store per back end for the whole directory: seeding runs real monitors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.engine import Engine

from storage import create_engine, sqlite_url
from storage.migrations import upgrade
from tests.conftest import new_postgres_database
from tests.integration.dashboards.seeding import Seeded, seeded_store

#: The first seeded hour: fixed, so pages are asked for explicit ranges.
START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Store:
    engine: Engine
    seeded: Seeded


@pytest.fixture(
    scope="package", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """24 hours of traffic with a covariate shift, an error burst and a concept change."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path_factory.mktemp("dashboards") / "driftline.db")
        yield from _seed(url)
    else:
        with new_postgres_database() as url:
            yield from _seed(url)


def _seed(url: str) -> Iterator[Store]:
    engine = create_engine(url)
    try:
        upgrade(engine)
        with seeded_store(engine, start=START) as seeded:
            yield Store(engine, seeded)
    finally:
        engine.dispose()
