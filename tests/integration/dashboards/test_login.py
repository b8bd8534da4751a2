"""The dashboard behind a read token: nothing is shown without one."""

from __future__ import annotations

import html

import pytest

from dashboards.web.app import dashboard_router
from dashboards.web.auth import COOKIE
from monitor.api import create_api_app
from storage import create_session_factory
from storage.repositories.token_cache import TokenVerifier
from storage.repositories.tokens import create_token, revoke_token
from tests.integration.dashboards.client import PageClient
from tests.integration.dashboards.conftest import Store

pytestmark = pytest.mark.integration


def _token(store: Store, name: str, *scopes: str) -> str:
    with create_session_factory(store.engine)() as session:
        token = create_token(session, name=name, scopes=scopes).token
        session.commit()
    return token


@pytest.fixture
def http(store: Store) -> PageClient:
    verifier = TokenVerifier(create_session_factory(store.engine), ttl_seconds=0)
    router = dashboard_router(store.engine, verifier=verifier)
    app = create_api_app(store.engine, auth=True, verifier=verifier, extra_routers=[router])
    return PageClient(app)


@pytest.mark.parametrize("path", ["/", "/models/churn", "/alerts", "/silences", "/alerts/x"])
def test_every_page_sends_an_anonymous_visitor_to_the_login(http: PageClient, path: str) -> None:
    page = http.get(path, params={"from": "24h"})
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=")
    assert "churn" not in page.text


def test_login_with_a_read_token_returns_to_the_page(store: Store, http: PageClient) -> None:
    token = _token(store, "viewer-login", "read")
    form = http.get("/login", params={"next": "/models/churn?from=24h"})
    assert form.status_code == 200
    assert 'type="password"' in form.text
    answer = http.post("/login", data={"token": token, "next": "/models/churn?from=24h"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/models/churn?from=24h"
    cookie = answer.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    page = http.get("/models/churn", params={"from": "24h"})
    assert page.status_code == 200
    assert "Log out" in page.text
    logout = http.post("/logout")
    assert logout.status_code == 303
    assert logout.headers["location"] == "/login"
    http.cookies.clear()
    assert http.get("/").status_code == 303


@pytest.mark.parametrize(
    ("scopes", "reason"),
    [(("ingest",), "needs the 'read' scope"), ((), "log in again")],
)
def test_a_token_that_cannot_read_is_refused_with_the_reason(
    store: Store, http: PageClient, scopes: tuple[str, ...], reason: str
) -> None:
    token = _token(store, f"t-{len(scopes)}", *scopes) if scopes else "dl_nonsense"
    answer = http.post("/login", data={"token": token, "next": "/"})
    assert answer.status_code == 401
    assert reason in html.unescape(answer.text)
    assert "set-cookie" not in answer.headers


def test_login_never_redirects_off_site(store: Store, http: PageClient) -> None:
    token = _token(store, "viewer-next", "read")
    answer = http.post("/login", data={"token": token, "next": "https://evil.example/"})
    assert answer.headers["location"] == "/"


def test_a_revoked_token_ends_its_session(store: Store, http: PageClient) -> None:
    token = _token(store, "viewer-revoked", "read")
    http.cookies.set(COOKIE, token)
    assert http.get("/").status_code == 200
    with create_session_factory(store.engine)() as session:
        revoke_token(session, "viewer-revoked")
        session.commit()
    assert http.get("/").status_code == 303


def test_scripts_may_use_a_bearer_header(store: Store, http: PageClient) -> None:
    token = _token(store, "viewer-script", "admin")
    page = http.get("/alerts", headers={"Authorization": f"Bearer {token}"})
    assert page.status_code == 200
