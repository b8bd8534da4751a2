"""Who may see the dashboard: a read token, kept in a cookie after the login page.

With auth on, every page but ``/login`` and the static files needs a token with the
``read`` scope (``admin`` covers it), from the ``driftline_session`` cookie the login form
sets or from an ``Authorization: Bearer`` header (for scripts). The cookie holds the token
itself, HttpOnly and SameSite=Lax (Secure when the page was served over HTTPS): it is checked
against the store on each request (cached briefly by :class:`TokenVerifier`), so revoking a
token ends its sessions. A visitor without a valid token is sent to the login page, which
returns them to the page they asked for.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote, urlsplit

from starlette.requests import Request

from storage.errors import InvalidTokenError, ScopeError
from storage.repositories.token_cache import TokenVerifier

__all__ = [
    "COOKIE",
    "COOKIE_MAX_AGE",
    "LoginRequiredError",
    "check_token",
    "login_url",
    "request_token",
    "safe_next",
]

COOKIE: Final = "driftline_session"
#: How long the browser keeps the login: 12 hours.
COOKIE_MAX_AGE: Final = 12 * 3600


class LoginRequiredError(Exception):
    """The visitor must log in; ``reason`` is shown on the login page (empty: none)."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


def request_token(request: Request) -> str | None:
    """The token a request carries: its bearer header, else the session cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    cookie = request.cookies.get(COOKIE, "").strip()
    return cookie or None


def check_token(verifier: TokenVerifier, token: str | None) -> None:
    """Raise :class:`LoginRequiredError` unless ``token`` may read.

    A plain function that may read the store: call it from a worker thread.
    """
    if token is None:
        raise LoginRequiredError()
    try:
        verifier.verify(token, scope="read")
    except InvalidTokenError as error:
        raise LoginRequiredError(f"{error}; log in again") from None
    except ScopeError:
        raise LoginRequiredError("this token cannot read: it needs the 'read' scope") from None


def safe_next(target: str | None) -> str:
    """``target`` when it is a path of this site, else ``/``: the login never redirects away.

    >>> safe_next("/models/churn?from=7d"), safe_next("//evil.example/"), safe_next("https://x/")
    ('/models/churn?from=7d', '/', '/')
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return "/"
    return target


def login_url(request: Request) -> str:
    """The login page, returning to the page of ``request`` once logged in."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(here, safe='')}"
