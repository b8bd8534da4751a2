"""Errors raised by the :mod:`monitor` package.

Every message is one line that says what was wrong, where (a file and field path, or an
environment variable), what was expected and what was got. Secret values never appear in a
message. None of these errors carries an HTTP status: mapping to a transport is the caller's
business.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataFileError",
    "DriftlineError",
    "NotDeclaredError",
    "ProjectFileError",
    "SettingsError",
]


class DriftlineError(Exception):
    """Root of every error raised by :mod:`monitor`."""


class ConfigError(DriftlineError, ValueError):
    """A user configuration mistake, in the settings or in the project file."""


class SettingsError(ConfigError):
    """A ``DRIFTLINE_*`` environment variable (or settings override) has an invalid value.

    Parameters
    ----------
    message
        The whole one-line message, starting with the variable name.
    env_var
        The environment variable (or override name) the message is about, if any.
    """

    def __init__(self, message: str, *, env_var: str | None = None) -> None:
        super().__init__(message)
        self.env_var = env_var


class DataFileError(ConfigError):
    """A data file cannot be read, or a column of it does not hold what a check needs.

    The message starts with the file name.
    """


class ProjectFileError(ConfigError):
    """The project file (``driftline.yaml``) cannot be read, parsed or validated.

    Parameters
    ----------
    message
        The whole one-line message, starting with the file name.
    source
        The file path (or ``"<string>"``) the message is about.
    field
        The field path inside the file, such as ``monitors[2].schedule.every``, if any.
    """

    def __init__(self, message: str, *, source: str = "", field: str | None = None) -> None:
        super().__init__(message)
        self.source = source
        self.field = field


class NotDeclaredError(DriftlineError, KeyError):
    """A name looked up in a loaded project is not declared in it."""

    def __str__(self) -> str:
        # KeyError quotes its argument; the message reads better without the quotes.
        return str(self.args[0]) if self.args else ""
