"""Tests of :mod:`monitor.logging`: text and JSON lines on stderr, at the configured level."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest

from monitor.logging import configure_logging

LOGGER = "driftline.tests.logging"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Put back the root logger's handlers and level, and SQLAlchemy's level, after a test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    sqlalchemy = logging.getLogger("sqlalchemy")
    sqlalchemy_level = sqlalchemy.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    sqlalchemy.setLevel(sqlalchemy_level)


def stderr_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err.splitlines()


def parse(line: str) -> dict[str, Any]:
    entry = json.loads(line)
    assert isinstance(entry, dict), line
    return entry


def test_json_format_is_one_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    before = dt.datetime.now(dt.UTC)
    logger = logging.getLogger(LOGGER)
    logger.info("stored %d records", 12)
    logging.getLogger("driftline.other").warning('café ☕ "quoted"\nsecond line')
    after = dt.datetime.now(dt.UTC)

    lines = stderr_lines(capsys)

    assert len(lines) == 2, lines
    first, second = (parse(line) for line in lines)
    assert set(first) == {"time", "level", "logger", "message"}
    assert first["level"] == "INFO"
    assert first["logger"] == LOGGER
    assert first["message"] == "stored 12 records"
    assert second["level"] == "WARNING"
    assert second["logger"] == "driftline.other"
    assert second["message"] == 'café ☕ "quoted"\nsecond line'
    for entry in (first, second):
        time = dt.datetime.fromisoformat(entry["time"])
        assert time.utcoffset() == dt.timedelta(0), entry
        # Record times have the resolution of time.time(): allow a millisecond either side.
        slack = dt.timedelta(milliseconds=1)
        assert before - slack <= time <= after + slack, entry


def test_json_includes_the_exception(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")

    try:
        raise ValueError("boom 42")
    except ValueError:
        logging.getLogger(LOGGER).exception("job failed")

    lines = stderr_lines(capsys)
    assert len(lines) == 1, lines  # the multi-line traceback stays inside one object
    entry = parse(lines[0])
    assert entry["level"] == "ERROR"
    assert entry["message"] == "job failed"
    assert entry["exception"].startswith("Traceback (most recent call last):")
    assert entry["exception"].rstrip().endswith("ValueError: boom 42")
    assert "test_json_includes_the_exception" in entry["exception"]


def test_text_format(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "text")
    logging.getLogger(LOGGER).warning("disk %s full", "almost")

    lines = stderr_lines(capsys)

    assert len(lines) == 1, lines
    pattern = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} WARNING " + re.escape(LOGGER)
    assert re.fullmatch(pattern + r": disk almost full", lines[0]), lines[0]
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[0])


def test_text_is_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging()
    logger = logging.getLogger(LOGGER)
    logger.debug("hidden")
    logger.info("shown")

    lines = stderr_lines(capsys)

    assert len(lines) == 1, lines
    assert lines[0].endswith(f" INFO    {LOGGER}: shown")


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize(
    ("level", "emitted"),
    [
        ("DEBUG", ["DEBUG", "INFO", "WARNING", "ERROR"]),
        ("INFO", ["INFO", "WARNING", "ERROR"]),
        ("WARNING", ["WARNING", "ERROR"]),
        ("ERROR", ["ERROR"]),
    ],
)
def test_level_is_applied(
    capsys: pytest.CaptureFixture[str], level: str, emitted: list[str], fmt: str
) -> None:
    configure_logging(level, fmt)  # type: ignore[arg-type]
    logger = logging.getLogger(LOGGER)
    for name in ("DEBUG", "INFO", "WARNING", "ERROR"):
        logger.log(logging.getLevelName(name), "at %s", name)

    lines = stderr_lines(capsys)

    assert [line.rpartition("at ")[2].rstrip('"}') for line in lines] == emitted
    assert logging.getLogger().level == logging.getLevelName(level)


def test_configuring_again_replaces_the_handler(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "text")
    configure_logging("INFO", "json")
    logging.getLogger(LOGGER).info("once")

    lines = stderr_lines(capsys)

    assert len(lines) == 1, lines
    assert parse(lines[0])["message"] == "once"
    assert len(logging.getLogger().handlers) == 1


def test_sqlalchemy_chatter_is_kept_below_warning(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("DEBUG", "json")
    logging.getLogger("sqlalchemy.engine.Engine").info("SELECT 1")
    logging.getLogger("alembic.runtime.migration").info("Running upgrade")

    messages = [parse(line)["message"] for line in stderr_lines(capsys)]

    assert messages == ["Running upgrade"]
