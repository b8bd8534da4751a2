"""An API app per test over a migrated database, with two models and a token per scope."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine

from monitor.api import create_api_app
from storage import FeatureSpec, create_session_factory, register_model
from storage.repositories.token_cache import TokenVerifier
from storage.repositories.tokens import create_token
from storage.types import FeatureKind

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


async def build_api(engine: Engine, *, auth: bool = True, **options: Any) -> AsyncIterator[Api]:
    seed_models(engine)
    tokens = seed_tokens(engine)
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
    async with client_of(app) as client:
        yield Api(app, client, engine, tokens, registry)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def api(engine: Engine) -> AsyncIterator[Api]:
    """The API with authentication on, seeded, admin token by default."""
    async for built in build_api(engine):
        yield built


@pytest.fixture
async def open_api(engine: Engine) -> AsyncIterator[Api]:
    """The API without authentication (as the demo runs it)."""
    async for built in build_api(engine, auth=False):
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
