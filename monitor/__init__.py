"""monitor: settings, the project file, the CLI and (as they land) scheduler, alerting and API."""

from __future__ import annotations

__version__ = "0.1.0.dev0"
