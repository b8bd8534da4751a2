"""The web dashboard: server-rendered pages over the store, mounted by ``driftline monitor``.

:func:`dashboards.web.app.dashboard_router` builds its routes; :mod:`dashboards.web.source`
says what it needs from production data.
"""
