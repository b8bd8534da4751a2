"""The dashboard's routes: server-rendered pages, the login, the static files.

=====================================  =============================================
path                                   page
=====================================  =============================================
/                                      every model at a glance
/models/{model}                        results over time, the per-feature table
/models/{model}/features/{feature}     reference vs current of one feature
/models/{model}/report                 Evidently's report of a window (download)
/alerts, /alerts/{fingerprint}         alerts; one alert's history and deliveries
/silences                              silences
/login, /logout                        the read-token login
/static/...                            CSS, JS and Plotly.js (served from the package)
=====================================  =============================================

Every page takes ``from`` / ``to`` (:mod:`dashboards.web.timerange`) and ``version``, so
a URL shows the same thing to whoever opens it. Handlers are plain functions run in a
worker thread (they read the store); a bad parameter is a 400 page naming it, an unknown
model, monitor, feature or alert a 404 page. Nothing here changes the store.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Final
from urllib.parse import parse_qs

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dashboards.reports import window_report_html
from dashboards.web.alert_pages import alert_context, alerts_context, silences_context
from dashboards.web.auth import (
    COOKIE,
    COOKIE_MAX_AGE,
    LoginRequiredError,
    check_token,
    login_url,
    request_token,
    safe_next,
)
from dashboards.web.feature_page import feature_context
from dashboards.web.model_page import model_context
from dashboards.web.overview_page import overview_context
from dashboards.web.rendering import render
from dashboards.web.source import WindowSource, WindowUnavailableError
from dashboards.web.static_files import StaticFiles
from dashboards.web.timerange import PRESETS, PageQueryError, parse_moment, parse_time_range
from storage.errors import NotFoundError
from storage.repositories.dashboard import (
    model_overview,
    result_detail,
)
from storage.repositories.token_cache import TokenVerifier

__all__ = ["DashboardState", "dashboard_router"]

logger = logging.getLogger(__name__)
_MAX_LOGIN_BODY: Final = 16 * 1024


class DashboardState:
    """What every page needs: the store, the token check, the data source, the clock."""

    def __init__(
        self,
        engine: Engine,
        *,
        verifier: TokenVerifier | None,
        source: WindowSource | None,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.engine = engine
        self.verifier = verifier
        self.source = source
        self.clock = clock
        self.static = StaticFiles()

    @property
    def auth(self) -> bool:
        return self.verifier is not None


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def dashboard_router(
    engine: Engine,
    *,
    verifier: TokenVerifier | None,
    source: WindowSource | None = None,
    clock: Callable[[], dt.datetime] = _utc_now,
) -> APIRouter:
    """The dashboard's routes over ``engine``.

    Parameters
    ----------
    verifier
        Checks read tokens; None opens the dashboard to anyone (demos on a laptop).
    source
        Reads production records for distributions and reports; None shows a notice
        instead of them.
    clock
        Now, for relative time ranges.
    """
    state = DashboardState(engine, verifier=verifier, source=source, clock=clock)
    router = APIRouter(include_in_schema=False)

    def page(request: Request, build: Callable[[], Response]) -> Response:
        request.scope["driftline.dashboard"] = state
        try:
            if state.verifier is not None:
                check_token(state.verifier, request_token(request))
                request.scope["driftline.signed_in"] = True
            return build()
        except LoginRequiredError:
            return RedirectResponse(login_url(request), status_code=303)
        except PageQueryError as error:
            return _error(request, 400, "Bad request", str(error))
        except NotFoundError as error:
            return _error(request, 404, "Not found", str(error))
        except WindowUnavailableError as error:
            return _error(request, 404, "Not available", str(error))

    def query(request: Request, name: str) -> str | None:
        value = request.query_params.get(name, "").strip()
        return value or None

    @router.get("/")
    def overview(request: Request) -> Response:
        def build() -> Response:
            span = parse_time_range(request.query_params, now=state.clock())
            context = overview_context(engine, span, version=query(request, "version"))
            return render(request, "overview.html", presets=PRESETS, **context)

        return page(request, build)

    @router.get("/models/{model}")
    def model_page(request: Request, model: str) -> Response:
        def build() -> Response:
            now = state.clock()
            span = parse_time_range(request.query_params, now=now)
            context = model_context(
                engine,
                model,
                span,
                version=query(request, "version"),
                monitor=query(request, "monitor"),
                window=query(request, "window"),
                now=now,
            )
            return render(request, "model.html", presets=PRESETS, **context)

        return page(request, build)

    @router.get("/models/{model}/features/{feature}")
    def feature_page(request: Request, model: str, feature: str) -> Response:
        def build() -> Response:
            span = parse_time_range(request.query_params, now=state.clock())
            context = feature_context(
                engine,
                state.source,
                model,
                feature,
                span,
                monitor=query(request, "monitor"),
                window=query(request, "window"),
            )
            return render(request, "feature.html", presets=PRESETS, **context)

        return page(request, build)

    @router.get("/models/{model}/report")
    def report(request: Request, model: str) -> Response:
        def build() -> Response:
            return _report(
                state, request, model, query(request, "monitor"), query(request, "window")
            )

        return page(request, build)

    @router.get("/alerts")
    def alerts(request: Request) -> Response:
        def build() -> Response:
            span = parse_time_range(request.query_params, now=state.clock())
            context = alerts_context(
                engine, span, state=query(request, "state"), model=query(request, "model")
            )
            return render(request, "alerts.html", presets=PRESETS, **context)

        return page(request, build)

    @router.get("/alerts/{fingerprint}")
    def alert(request: Request, fingerprint: str) -> Response:
        def build() -> Response:
            return render(request, "alert.html", **alert_context(engine, fingerprint))

        return page(request, build)

    @router.get("/silences")
    def silences(request: Request) -> Response:
        def build() -> Response:
            expired = query(request, "expired") in ("1", "true", "yes")
            context = silences_context(engine, now=state.clock(), expired=expired)
            return render(request, "silences.html", **context)

        return page(request, build)

    @router.get("/login")
    def login_form(request: Request) -> Response:
        request.scope["driftline.dashboard"] = state
        if state.verifier is None:
            return RedirectResponse(safe_next(query(request, "next")), status_code=303)
        return render(request, "login.html", next=safe_next(query(request, "next")), reason="")

    @router.post("/login")
    async def login(request: Request) -> Response:
        request.scope["driftline.dashboard"] = state
        body = await _bounded_body(request)
        form = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=4)
        token = (form.get("token") or [""])[0].strip()
        target = safe_next((form.get("next") or ["/"])[0])
        if state.verifier is None:
            return RedirectResponse(target, status_code=303)
        try:
            await run_in_threadpool(check_token, state.verifier, token or None)
        except LoginRequiredError as error:
            reason = error.reason or "enter a token (driftline tokens create NAME --scope read)"
            return render(request, "login.html", status_code=401, next=target, reason=reason)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE,
            token,
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    @router.post("/logout")
    def logout(request: Request) -> Response:
        response = RedirectResponse("/login" if state.auth else "/", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @router.get("/static/{name}")
    def static(name: str) -> Response:
        return state.static.response(name)

    return router


async def _bounded_body(request: Request) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_LOGIN_BODY:
            break
    return bytes(body[:_MAX_LOGIN_BODY])


def _report(
    state: DashboardState, request: Request, model: str, monitor: str | None, window: str | None
) -> Response:
    """Evidently's report of one window as an HTML download."""
    if monitor is None or window is None:
        raise PageQueryError("monitor and window: a report needs both (a monitor and a window end)")
    if state.source is None:
        raise WindowUnavailableError("this dashboard has no access to production records")
    overview = model_overview(state.engine, model)
    chosen = next((m for m in overview.monitors if m.name == monitor), None)
    if chosen is None:
        raise NotFoundError(f"monitor: model {model!r} has no monitor {monitor!r}")
    end = parse_moment(window, now=state.clock(), name="window")
    detail = result_detail(state.engine, chosen.id, window_end=end)
    if detail is None:
        raise NotFoundError(
            f"window: monitor {monitor!r} has no result for the window ending {window}"
        )
    frames = state.source.report_frames(monitor, detail.point.window_start, detail.point.window_end)
    html = window_report_html(frames)
    stamp = detail.point.window_end.strftime("%Y%m%dT%H%MZ")
    filename = f"driftline-{model}-{monitor}-{stamp}.html".replace('"', "")
    return Response(
        html,
        media_type="text/html; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _error(request: Request, status: int, title: str, message: str) -> Response:
    return render(request, "error.html", status_code=status, title=title, message=message)
