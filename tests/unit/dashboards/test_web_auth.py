"""The dashboard login's helpers: where it may send a visitor back to, what token counts."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from dashboards.web.auth import COOKIE, login_url, request_token, safe_next


def _request(path: str = "/", query: str = "", headers: dict[str, str] | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": query.encode(),
            "headers": raw,
            "scheme": "http",
            "server": ("127.0.0.1", 80),
        }
    )


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "models",
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_never_leaves_the_site(target: str | None) -> None:
    assert safe_next(target) == "/"


@pytest.mark.parametrize("target", ["/", "/models/churn", "/alerts?state=firing&from=7d"])
def test_next_keeps_local_paths(target: str) -> None:
    assert safe_next(target) == target


def test_login_url_returns_to_the_page_with_its_query() -> None:
    request = _request("/models/churn", "from=24h&version=2")
    assert login_url(request) == "/login?next=%2Fmodels%2Fchurn%3Ffrom%3D24h%26version%3D2"


def test_bearer_header_wins_over_the_cookie() -> None:
    request = _request(headers={"Authorization": "Bearer abc", "Cookie": f"{COOKIE}=def"})
    assert request_token(request) == "abc"
    assert request_token(_request(headers={"Cookie": f"{COOKIE}=def"})) == "def"
    assert request_token(_request(headers={"Authorization": "Basic xyz"})) is None
    assert request_token(_request(headers={"Authorization": "Bearer   "})) is None
    assert request_token(_request()) is None
