"""Collectors: record batches from the tap or the ingest API, spooled durably, written in bulk.

May import :mod:`storage`; never :mod:`monitor`, :mod:`serving` or :mod:`detectors`: the
inference server's tapped batches are taken by their attributes (:class:`collectors.tap.Tapped`).
"""

from __future__ import annotations

from collectors.cloudevents import CloudEvent, CloudEventError, CloudEventsReceiver
from collectors.collector import Collector, RecordSource
from collectors.errors import (
    AuthenticationError,
    CollectorError,
    PayloadError,
    PermissionDeniedError,
    SpoolClosedError,
    SpoolCorruptError,
    SpoolFailedError,
    SpoolFullError,
    SpoolLockedError,
)
from collectors.extract import Exchange, ExchangeRecords, PayloadSpec, extract
from collectors.metrics import CollectorMetrics
from collectors.payload import ModelBatch
from collectors.proxy import ReverseProxy
from collectors.spool import Position, Spool, SpoolRecovery, SpoolStats

__all__ = [
    "AuthenticationError",
    "CloudEvent",
    "CloudEventError",
    "CloudEventsReceiver",
    "Collector",
    "CollectorError",
    "CollectorMetrics",
    "Exchange",
    "ExchangeRecords",
    "ModelBatch",
    "PayloadError",
    "PayloadSpec",
    "PermissionDeniedError",
    "Position",
    "RecordSource",
    "ReverseProxy",
    "Spool",
    "SpoolClosedError",
    "SpoolCorruptError",
    "SpoolFailedError",
    "SpoolFullError",
    "SpoolLockedError",
    "SpoolRecovery",
    "SpoolStats",
    "extract",
]
