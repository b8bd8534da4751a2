"""Who may call what: ``read`` for GET, ``admin`` for changes, nothing for ingest tokens."""

from __future__ import annotations

import datetime as dt

import pytest

from storage import create_session_factory
from storage.repositories.tokens import create_token, revoke_token
from tests.integration.monitor.api.conftest import Api, assert_error

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

MONITOR = {
    "name": "credit-health",
    "model": "credit",
    "kind": "health",
    "schedule": {"every": "10m"},
    "window": {"type": "rolling", "size": "1h"},
}
#: (method, path, scope it needs, JSON body)
OPERATIONS = [
    ("GET", "/api/v1/models", "read", None),
    ("GET", "/api/v1/models/credit", "read", None),
    ("GET", "/api/v1/models/credit/versions", "read", None),
    ("GET", "/api/v1/models/credit/references", "read", None),
    ("POST", "/api/v1/models/credit/references", "admin", None),
    ("GET", "/api/v1/models/credit/references/training", "read", None),
    ("DELETE", "/api/v1/models/credit/references/training", "admin", None),
    ("GET", "/api/v1/monitors", "read", None),
    ("POST", "/api/v1/monitors", "admin", MONITOR),
    ("GET", "/api/v1/monitors/credit-health", "read", None),
    ("PUT", "/api/v1/monitors/credit-health", "admin", MONITOR),
    ("DELETE", "/api/v1/monitors/credit-health", "admin", None),
    ("GET", "/api/v1/monitors/credit-health/results", "read", None),
    ("GET", "/api/v1/results", "read", None),
    ("GET", "/api/v1/whoami", "read", None),
]


async def test_no_token_is_a_401_asking_for_one(api: Api) -> None:
    for method, path, scope, body in OPERATIONS:
        response = await api.request(method, path, token=None, json=body)

        assert_error(response, 401, "missing_token", "Authorization: Bearer", f"--scope {scope}")
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header", ["Bearer dlt_unknown", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer "]
)
async def test_a_bad_token_or_scheme_is_a_401(api: Api, header: str) -> None:
    response = await api.get("/api/v1/models", token=None, headers={"Authorization": header})

    assert response.status_code == 401, response.text
    assert response.json()["code"] in {"missing_token", "invalid_token"}
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_an_unknown_token_is_invalid(api: Api) -> None:
    response = await api.get("/api/v1/models", token="dlt_" + "x" * 43)

    assert_error(response, 401, "invalid_token", "invalid API token")
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_revoked_and_expired_tokens_are_refused(api: Api) -> None:
    now = dt.datetime.now(dt.UTC)
    with create_session_factory(api.engine).begin() as session:
        expired = create_token(
            session,
            name="expired",
            scopes=["read"],
            now=now - dt.timedelta(hours=2),
            expires_at=now - dt.timedelta(hours=1),
        ).token
        revoke_token(session, "reader")

    assert_error(await api.get("/api/v1/models", token="reader"), 401, "invalid_token")
    assert_error(await api.get("/api/v1/models", token=expired), 401, "invalid_token")


@pytest.mark.parametrize("token", ["ingester", "labeller"])
async def test_ingest_and_feedback_tokens_grant_nothing_here(api: Api, token: str) -> None:
    for method, path, scope, body in OPERATIONS:
        response = await api.request(method, path, token=token, json=body)

        assert_error(response, 403, "insufficient_scope", f"lacks the {scope!r} scope", token)
        assert f'scope="{scope}"' in response.headers["www-authenticate"]


async def test_a_read_token_reads_but_does_not_change(api: Api) -> None:
    for method, path, scope, body in OPERATIONS:
        response = await api.request(method, path, token="reader", json=body)

        if scope == "admin":
            assert_error(
                response, 403, "insufficient_scope", "lacks the 'admin' scope; it has: read"
            )
        else:
            assert response.status_code not in (401, 403), (method, path, response.text)


async def test_an_admin_token_may_do_everything(api: Api) -> None:
    for method, path, _, body in OPERATIONS:
        response = await api.request(method, path, token="admin", json=body)

        assert response.status_code not in (401, 403), (method, path, response.text)


async def test_without_auth_every_operation_is_open(open_api: Api) -> None:
    for method, path, _, body in OPERATIONS:
        response = await open_api.request(method, path, token=None, json=body)

        assert response.status_code not in (401, 403), (method, path, response.text)


async def test_health_and_metrics_are_open_with_auth_on(api: Api) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert (await api.get(path, token=None)).status_code == 200, path
