"""Driftline's REST API: models, reference datasets, monitors and results under ``/api/v1``.

Build it with :func:`create_api_app`; handlers call :mod:`monitor.api.services`, errors are
answered as :class:`ErrorBody` by :mod:`monitor.api.handlers`.
"""

from __future__ import annotations

from monitor.api.app import API_PREFIX, DEFAULT_MAX_UPLOAD_BYTES, create_api_app
from monitor.api.errors import ErrorBody, ErrorDetail

__all__ = [
    "API_PREFIX",
    "DEFAULT_MAX_UPLOAD_BYTES",
    "ErrorBody",
    "ErrorDetail",
    "create_api_app",
]
