"""One error shape for every failure, and the factory's independence between apps."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine

from monitor.api import create_api_app
from storage.errors import ConflictError, DatabaseConnectionError, NotFoundError
from tests.integration.monitor.api.conftest import Api, assert_error, client_of

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def test_an_unknown_route_is_a_404_in_the_error_shape(api: Api) -> None:
    response = await api.get("/api/v2/models")

    assert_error(response, 404, "no_route", "no route GET /api/v2/models", "/api/v1")


async def test_a_wrong_method_is_a_405_listing_the_allowed_ones(api: Api) -> None:
    response = await api.request("PATCH", "/api/v1/monitors/x")

    assert_error(response, 405, "method_not_allowed", "PATCH", "/api/v1/monitors/x")
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "PUT", "DELETE"}


def failing_router() -> APIRouter:
    router = APIRouter(prefix="/boom")

    def crash() -> None:
        raise RuntimeError("a bug")

    def lookup() -> None:
        raise NotFoundError("unknown widget 'w'")

    def clash() -> None:
        raise ConflictError("widget 'w' exists")

    def invalid() -> None:
        raise ValueError("widget size must be positive, got -1")

    def down() -> None:
        raise DatabaseConnectionError("cannot connect to database 'x': refused")

    for path, handler in (
        ("/crash", crash),
        ("/lookup", lookup),
        ("/clash", clash),
        ("/invalid", invalid),
        ("/down", down),
    ):
        router.add_api_route(path, handler, methods=["GET"])
    return router


async def test_errors_of_every_layer_map_to_their_status(engine: Engine) -> None:
    registry = CollectorRegistry()
    app = create_api_app(engine, auth=False, registry=registry, extra_routers=[failing_router()])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://driftline") as client:
        crash = await client.get("/boom/crash")
        lookup = await client.get("/boom/lookup")
        clash = await client.get("/boom/clash")
        invalid = await client.get("/boom/invalid")
        down = await client.get("/boom/down")
        metrics = (await client.get("/metrics")).text

    assert_error(crash, 500, "internal_error", "server log")
    assert "a bug" not in crash.text
    assert_error(lookup, 404, "not_found", "unknown widget 'w'")
    assert_error(clash, 409, "conflict", "widget 'w' exists")
    assert_error(invalid, 422, "validation_error", "must be positive, got -1")
    assert_error(down, 503, "database_unavailable", "refused")
    assert 'route="/boom/crash",status="500"' in metrics


async def test_apps_are_independent(engine: Engine) -> None:
    first, second = create_api_app(engine), create_api_app(engine)  # no clash on a registry

    async with client_of(first) as one, client_of(second) as two:
        await one.get("/healthz")
        text_one = (await one.get("/metrics")).text
        text_two = (await two.get("/metrics")).text

    assert 'route="/healthz"' in text_one
    assert 'route="/healthz"' not in text_two


def test_the_upload_limit_must_be_positive(engine: Engine) -> None:
    with pytest.raises(ValueError, match="max_upload_bytes must be >= 1, got 0"):
        create_api_app(engine, max_upload_bytes=0)
