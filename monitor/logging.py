"""Log handlers for Driftline processes, set once by the CLI: text or JSON lines on stderr."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from typing import Literal

import orjson

__all__ = ["JsonFormatter", "configure_logging"]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure_logging(level: str = "INFO", fmt: Literal["text", "json"] = "text") -> None:
    """Send Driftline's logs to stderr at ``level``, replacing handlers set before."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Driftline logs what it migrates; alembic's own steps show only at DEBUG, and
    # SQLAlchemy's statement chatter never (echo is the engine's business).
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    alembic_level = logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING
    logging.getLogger("alembic").setLevel(alembic_level)
    # Each outgoing HTTP request is not news; the CLI reports failures itself.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(alembic_level)
