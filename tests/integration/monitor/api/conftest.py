"""The API over a migrated database, with two models and a token per scope, for each test.

Building the app (and its routes' first use) costs more than most tests here, so each back
end gets one database and one app (one with authentication, one without) for the whole
directory. Before each test the database is emptied as a fresh migration leaves it
(:class:`tests.database_pool.MigratedState`) and seeded again, with new tokens; a test
therefore sees what it would see on an app of its own, whatever ran before it. A test that
reads the metrics, whose counts would span tests on a shared app, takes ``own_api``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine

from monitor.api import create_api_app
from storage import FeatureSpec, create_engine, create_session_factory, register_model
from storage.repositories.token_cache import TokenVerifier
from storage.repositories.tokens import create_token
from storage.types import FeatureKind
from tests.database_pool import MigratedState, PostgresPool, SqliteTemplate

#: Token name -> its scopes; each test gets one token of each.
SCOPES: dict[str, tuple[str, ...]] = {
    "reader": ("read",),
    "admin": ("admin",),
    "ingester": ("ingest",),
    "labeller": ("feedback", "ingest"),
}
V1 = (
    FeatureSpec("age", FeatureKind.NUMERIC),
    FeatureSpec("income", FeatureKind.NUMERIC),
    FeatureSpec("country", FeatureKind.CATEGORICAL),
)
V2 = (*V1, FeatureSpec("tenure", FeatureKind.NUMERIC))
SMALL_UPLOAD = 4096


def seed_models(engine: Engine) -> None:
    """``credit`` (binary, versions 1 and 2) and ``price`` (regression, version a)."""
    with create_session_factory(engine).begin() as session:
        for version, features in (("1", V1), ("2", V2)):
            register_model(
                session,
                name="credit",
                task="binary_classification",
                classes=("no", "yes"),
                version=version,
                features=features,
                description="Credit approvals",
            )
        register_model(
            session,
            name="price",
            task="regression",
            version="a",
            features=(FeatureSpec("rooms", FeatureKind.NUMERIC),),
        )


def seed_tokens(engine: Engine) -> dict[str, str]:
    with create_session_factory(engine).begin() as session:
        return {
            name: create_token(session, name=name, scopes=scopes).token
            for name, scopes in SCOPES.items()
        }


@dataclass
class Api:
    """A test client over one app, sending the named token's header by default."""

    app: FastAPI
    client: httpx.AsyncClient
    engine: Engine
    tokens: dict[str, str]
    registry: CollectorRegistry
    default_token: str | None = "admin"

    def headers(self, token: str | None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {self.tokens.get(token, token)}"
        return headers

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = "",
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        chosen = self.default_token if token == "" else token
        headers = self.headers(chosen, headers)
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)


def client_of(app: FastAPI) -> httpx.AsyncClient:
    """An HTTP client calling ``app`` in process."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://driftline")


@dataclass(frozen=True)
class App:
    """An app as the tests build it, with the registry its metrics go to."""

    app: FastAPI
    registry: CollectorRegistry


def new_app(engine: Engine, *, auth: bool = True, **options: Any) -> App:
    registry = CollectorRegistry()
    verifier = TokenVerifier(create_session_factory(engine), ttl_seconds=0) if auth else None
    app = create_api_app(
        engine,
        auth=auth,
        verifier=verifier,
        registry=registry,
        max_upload_bytes=SMALL_UPLOAD,
        **options,
    )
    return App(app, registry)


async def serve_seeded(engine: Engine, app: App) -> AsyncIterator[Api]:
    """Seed ``engine``'s (empty) database, then yield a client of ``app`` with the tokens."""
    seed_models(engine)
    tokens = seed_tokens(engine)
    async with client_of(app.app) as client:
        yield Api(app.app, client, engine, tokens, app.registry)


async def build_api(engine: Engine, *, auth: bool = True, **options: Any) -> AsyncIterator[Api]:
    """A new app over ``engine``'s empty database, seeded."""
    async for built in serve_seeded(engine, new_app(engine, auth=auth, **options)):
        yield built


@dataclass(frozen=True)
class SharedStore:
    """One migrated database and its two apps, shared by the tests of one back end."""

    engine: Engine
    state: MigratedState
    with_auth: App
    without_auth: App

    def emptied(self) -> Engine:
        """The engine, its database emptied as a fresh migration leaves it."""
        self.engine.dispose()  # no connection of an earlier test lives on
        self.state.empty(self.engine)
        return self.engine


@pytest.fixture(
    scope="package", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def shared_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SharedStore]:
    """A migrated database per back end, and the apps over it, for every test here."""
    pool: PostgresPool | None = None
    if request.param == "sqlite":
        template: SqliteTemplate = request.getfixturevalue("migrated_sqlite")
        url = template.copy_to(tmp_path_factory.mktemp("api") / "driftline.db")
    else:
        pool = request.getfixturevalue("migrated_postgres")
        url = pool.acquire()
    engine = create_engine(url)
    try:
        yield SharedStore(
            engine, MigratedState.of(engine), new_app(engine), new_app(engine, auth=False)
        )
    finally:
        engine.dispose()
        if pool is not None:
            pool.release(url)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def api(shared_store: SharedStore) -> AsyncIterator[Api]:
    """The API with authentication on, seeded, admin token by default."""
    async for built in serve_seeded(shared_store.emptied(), shared_store.with_auth):
        yield built


@pytest.fixture
async def open_api(shared_store: SharedStore) -> AsyncIterator[Api]:
    """The API without authentication (as the demo runs it)."""
    async for built in serve_seeded(shared_store.emptied(), shared_store.without_auth):
        yield built


@pytest.fixture
async def own_api(engine: Engine) -> AsyncIterator[Api]:
    """Like ``api``, but an app of the test's own, over a database of its own."""
    async for built in build_api(engine):
        yield built


def assert_error(response: httpx.Response, status: int, code: str, *fragments: str) -> None:
    """``response`` is an error of the API's shape, whose message holds ``fragments``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["error"], str), body
    assert body["error"], body
    assert set(body) <= {"error", "code", "details"}, body
    for fragment in fragments:
        assert fragment in body["error"], (fragment, body["error"])


def detail_locs(response: httpx.Response) -> list[list[str | int]]:
    return [detail["loc"] for detail in response.json()["details"]]
