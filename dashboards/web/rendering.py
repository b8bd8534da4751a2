"""Jinja templates of the dashboard, the filters they use, and the page response.

Templates live in ``dashboards/web/templates`` and are autoescaped. Times show in UTC.
"""

from __future__ import annotations

import datetime as dt
import math
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

__all__ = ["TEMPLATES", "render", "url_with"]

TEMPLATES: Final = Path(__file__).parent / "templates"


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _iso(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(value: float | int | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if value != 0 and abs(value) < 10 ** (-digits):
        return f"{value:.{digits - 1}e}"
    return f"{value:,.{digits}f}"


def _percent(value: float | None, digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{100 * value:.{digits}f} %"


def _seconds(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    if value < 1:
        return f"{1000 * value:.1f} ms"
    return f"{value:.2f} s"


def url_with(request: Request, path: str | None = None, **changes: str | None) -> str:
    """The current URL (or ``path``) with query parameters changed; None removes one.

    Keeps the page's range and filters, so links and forms carry the shared state.
    """
    params = dict(request.query_params)
    for key, value in changes.items():
        name = key.rstrip("_")  # from_ -> from
        if value is None or value == "":
            params.pop(name, None)
        else:
            params[name] = value
    target = request.url.path if path is None else path
    return f"{target}?{urlencode(params)}" if params else target


def _version_tag() -> str:
    try:
        return version("driftline")
    except PackageNotFoundError:  # a source tree that was never installed
        return "dev"


_ENV: Final = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters.update(when=_when, iso=_iso, number=_number, percent=_percent, seconds=_seconds)
_ENV.globals["version_tag"] = _version_tag()


def render(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """The page ``template`` rendered with ``context`` (and ``request``, ``url_with``)."""
    page = _ENV.get_template(template).render(
        request=request,
        url_with=lambda path=None, **changes: url_with(request, path, **changes),
        dashboard=request.scope.get("driftline.dashboard"),
        **context,
    )
    return HTMLResponse(page, status_code=status_code, headers=_HEADERS)


#: No framing by other sites, no sniffing, no referrer leaks of shared URLs' tokens.
_HEADERS: Final = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
