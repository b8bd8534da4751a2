"""A periodic job's failure is logged and never stops the scheduler's thread."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3

import pytest
from sqlalchemy.exc import OperationalError

from monitor.scheduling.scheduler import PeriodicJob, _guarded


def failing(error: Exception) -> PeriodicJob:
    def run() -> None:
        raise error

    return PeriodicJob("alert-deliveries", dt.timedelta(seconds=5), run)


def test_a_busy_store_is_one_warning_line(caplog: pytest.LogCaptureFixture) -> None:
    locked = OperationalError(
        "UPDATE deliveries ...", {}, sqlite3.OperationalError("database is locked")
    )

    with caplog.at_level(logging.WARNING, logger="monitor.scheduling.scheduler"):
        _guarded(failing(locked))()

    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        "alert-deliveries failed, retried at its next run: database is locked"
    )
    assert record.exc_info is None


def test_a_bug_is_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="monitor.scheduling.scheduler"):
        _guarded(failing(KeyError("oops")))()

    (record,) = caplog.records
    assert record.getMessage() == "alert-deliveries failed"
    assert record.exc_info is not None
