"""Process settings read from ``DRIFTLINE_*`` environment variables.

Settings are built once, by the CLI entry point, with :func:`load_settings`, and passed down
explicitly. Nothing here runs at import time: relative paths are resolved against the working
directory of the moment the settings are built.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

from monitor.errors import SettingsError

__all__ = ["ENV_PREFIX", "Settings", "load_settings"]

ENV_PREFIX = "DRIFTLINE_"
"""Prefix of every environment variable read into :class:`Settings`."""

_PROJECT_FILE_NAME = "driftline.yaml"
_DATABASE_FILE_NAME = "driftline.db"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
LogFormat = Literal["text", "json"]


class Settings(BaseSettings):
    """Process-wide settings, one field per ``DRIFTLINE_<FIELD>`` environment variable.

    Examples
    --------
    >>> settings = Settings(port=9000)
    >>> settings.port
    9000
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", frozen=True, use_attribute_docstrings=True
    )

    database_url: str | None = Field(default=None, repr=False)
    """SQLAlchemy URL of the database; ``None`` means the SQLite file ``<data_dir>/driftline.db``.

    Kept out of ``repr`` because it may embed a password."""

    data_dir: Annotated[Path, Field(validate_default=True)] = Path(".driftline")
    """Directory for the embedded database and spool files; made absolute at build time."""

    project_file: Path | None = None
    """Path of the project file; ``None`` means ``./driftline.yaml`` if that file exists."""

    auto_migrate: bool = True
    """Whether services run ``alembic upgrade head`` when they start."""

    log_level: LogLevel = "INFO"
    """Minimum level of emitted log records (case-insensitive)."""

    log_format: LogFormat = "text"
    """``text`` for human-readable lines, ``json`` for one JSON object per line."""

    host: str = "127.0.0.1"
    """Interface the HTTP services bind to."""

    port: int = Field(default=8000, ge=1, le=65535)
    """TCP port the HTTP services listen on (1-65535)."""

    grpc_port: int | None = Field(default=None, ge=1, le=65535)
    """TCP port on which ``driftline serve`` also speaks the Open Inference Protocol over
    gRPC (1-65535, on ``host``); unset or empty: REST only."""

    admin_token: SecretStr | None = Field(default=None, repr=False)
    """Bearer token for the model repository API (load / unload); without one, only
    loopback clients may use it."""

    serve_allow_pickle: bool = False
    """Let callers of the model repository API deploy pickled (joblib) model files, which
    runs code from the file. Models declared in the project file opt in per model."""

    serve_workers: int | None = Field(default=None, ge=1, le=64)
    """Worker processes of ``driftline serve`` (1-64), sharing its ports; unset: the project
    file's ``serving.workers``, else 1."""

    serve_grace_seconds: float | None = Field(default=None, gt=0, le=3600)
    """How long ``driftline serve`` lets in-flight requests finish on SIGTERM before it stops
    them; unset: the project file's ``serving.grace_period_seconds``, else 30."""

    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    """Largest request body the HTTP services accept (413 above)."""

    tap_url: str | None = None
    """Base URL of a ``driftline sidecar`` that ``driftline serve`` pushes its tap to, instead
    of recording in its own process (e.g. ``http://127.0.0.1:8001``)."""

    tap_token: SecretStr | None = Field(default=None, repr=False)
    """Bearer token (scope ``ingest``) sent with the pushed tap."""

    spool_quota_bytes: int = Field(default=1024**3, ge=1024**2)
    """Disk quota of each collector spool; records beyond it are dropped and counted."""

    retention_days: int | None = Field(default=30, ge=1)
    """Days raw prediction records are kept (by event time), with the labels they leave
    behind; set it empty to keep them forever. Monitor results are always kept."""

    retention_batch_size: int = Field(default=10_000, ge=100)
    """Rows deleted per transaction when old records are pruned."""

    partition_interval: Literal["day", "week", "month"] = "day"
    """Width (UTC) of the partitions of the records table the monitor creates ahead on
    PostgreSQL; partitions created on demand for late records are one day."""

    partition_ahead_days: int = Field(default=7, ge=1, le=366)
    """Days ahead of now the monitor keeps partitions of the records table created
    (PostgreSQL)."""

    api_auth: bool = True
    """Whether the monitor's REST API and dashboard require a bearer token (``driftline
    tokens create``); only the demo turns it off."""

    monitor_settle_seconds: float = Field(default=15.0, ge=0)
    """How long after a window ends the scheduler computes it, so that records still on
    their way through a collector's spool are in the store."""

    monitor_workers: int = Field(default=4, ge=1, le=64)
    """Monitors a ``driftline monitor`` process runs at the same time."""

    monitor_max_catch_up: int = Field(default=100, ge=1)
    """Most missed windows one run of a monitor computes; older ones need a backfill."""

    monitor_refresh_seconds: float = Field(default=5.0, gt=0)
    """How often the scheduler re-reads the monitors (API changes take effect within it)."""

    leader_poll_seconds: float = Field(default=1.0, gt=0)
    """How often standby monitor processes try to take over scheduling (PostgreSQL)."""

    egress_allow: str = ""
    """Comma-separated IP networks (``10.0.0.0/8``, ``127.0.0.1``) and host names that
    alert and retraining requests may reach although they are private, loopback or
    link-local; every other such destination is refused (SSRF guard)."""

    _cwd: Path = PrivateAttr(default_factory=Path.cwd)

    @field_validator(
        "database_url",
        "project_file",
        "admin_token",
        "tap_url",
        "tap_token",
        "retention_days",
        "grpc_port",
        "serve_workers",
        "serve_grace_seconds",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """Treat an empty environment variable as an unset one."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("data_dir", "project_file", mode="after")
    @classmethod
    def _make_absolute(cls, value: Path | None) -> Path | None:
        """Resolve relative paths against the current working directory."""
        return None if value is None else value.expanduser().resolve()

    @field_validator("log_level", "log_format", "partition_interval", mode="before")
    @classmethod
    def _normalise_case(cls, value: object, info: ValidationInfo) -> object:
        """Accept ``debug`` for ``DEBUG`` and ``JSON`` for ``json``."""
        if not isinstance(value, str):
            return value
        stripped = value.strip()
        return stripped.upper() if info.field_name == "log_level" else stripped.lower()

    def resolved_database_url(self) -> str:
        """The database URL to connect to.

        Returns
        -------
        str
            :attr:`database_url` if set, else ``sqlite:///<absolute data_dir>/driftline.db``.
        """
        if self.database_url is not None:
            return self.database_url
        return f"sqlite:///{(self.data_dir / _DATABASE_FILE_NAME).as_posix()}"

    def resolved_project_file(self) -> Path | None:
        """The project file to load.

        Returns
        -------
        pathlib.Path or None
            :attr:`project_file` if set, else ``driftline.yaml`` in the working directory the
            settings were built in if that file exists, else ``None``.
        """
        if self.project_file is not None:
            return self.project_file
        candidate = self._cwd / _PROJECT_FILE_NAME
        return candidate if candidate.is_file() else None


# What each field must be, in the words of the error message.
_EXPECTED: dict[str, str] = {
    "database_url": "a SQLAlchemy database URL",
    "data_dir": "a directory path",
    "project_file": "a file path",
    "auto_migrate": "a boolean (true/false, 1/0, yes/no, on/off)",
    "log_level": "one of DEBUG, INFO, WARNING, ERROR",
    "log_format": "one of text, json",
    "host": "a host name or IP address",
    "port": "an integer between 1 and 65535",
    "grpc_port": "an integer between 1 and 65535, or empty for no gRPC",
    "admin_token": "a token string",
    "serve_allow_pickle": "a boolean (true/false, 1/0, yes/no, on/off)",
    "serve_workers": "an integer between 1 and 64, or empty for the project file's value",
    "serve_grace_seconds": "a number of seconds above 0 and at most 3600, or empty",
    "max_body_bytes": "an integer of at least 1024",
    "spool_quota_bytes": "an integer of at least 1048576 (1 MiB)",
    "tap_url": "a URL such as http://127.0.0.1:8001",
    "tap_token": "a token string",
    "retention_days": "a whole number of days of at least 1, or empty to keep records forever",
    "retention_batch_size": "an integer of at least 100",
    "partition_interval": "one of day, week, month",
    "partition_ahead_days": "a whole number of days between 1 and 366",
    "api_auth": "a boolean (true/false, 1/0, yes/no, on/off)",
    "monitor_settle_seconds": "a number of seconds of at least 0",
    "monitor_workers": "an integer between 1 and 64",
    "monitor_max_catch_up": "an integer of at least 1",
    "monitor_refresh_seconds": "a number of seconds above 0",
    "leader_poll_seconds": "a number of seconds above 0",
    "egress_allow": "a comma-separated list of IP networks (10.0.0.0/8, 127.0.0.1) and host names",
}
# Values never echoed back in a message.
_SENSITIVE = frozenset({"database_url", "admin_token", "tap_token"})


def load_settings(**overrides: Any) -> Settings:
    """Build :class:`Settings` from the environment, with keyword overrides taking precedence.

    Parameters
    ----------
    **overrides
        Field values that win over ``DRIFTLINE_*`` environment variables (CLI options).

    Returns
    -------
    Settings
        The validated, frozen settings.

    Raises
    ------
    SettingsError
        If a value is invalid; the one-line message names the environment variable, e.g.
        ``DRIFTLINE_PORT: must be an integer between 1 and 65535, got 'abc'``.
    """
    unknown = sorted(set(overrides) - set(Settings.model_fields))
    if unknown:
        msg = (
            f"load_settings() got unknown settings {unknown}; known: {list(Settings.model_fields)}"
        )
        raise TypeError(msg)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = _to_settings_error(exc.errors()[0], overrides, exc.error_count())
    raise error  # outside the handler: no chained error repeating the offending value


def _to_settings_error(error: ErrorDetails, overrides: dict[str, Any], count: int) -> SettingsError:
    """Turn the first pydantic error into a one-line :class:`SettingsError`."""
    field = str(error["loc"][0]) if error["loc"] else ""
    name = field if field in overrides else f"{ENV_PREFIX}{field.upper()}"
    expected = _EXPECTED.get(field)
    text = f"must be {expected}" if expected else error["msg"]
    if field not in _SENSITIVE:
        # The variable as written, not as normalised by a validator ("verbose", not "VERBOSE").
        got = error["input"] if field in overrides else os.environ.get(name, error["input"])
        text += f", got {got!r}"
    if count > 1:
        more = count - 1
        text += f" (and {more} more error{'s' if more > 1 else ''})"
    return SettingsError(f"{name}: {text}", env_var=name)
