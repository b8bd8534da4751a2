"""The dashboard's static files: its CSS and JS, and Plotly.js from the installed package.

Nothing is fetched from a CDN, so the dashboard works offline. Only the listed names are
served (no path is ever joined from a request).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Final

from starlette.responses import FileResponse, PlainTextResponse, Response

__all__ = ["StaticFiles", "plotly_js_path"]

_HERE: Final = Path(__file__).parent / "static"
_TYPES: Final = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
#: A day: the URLs carry the package version, so a new release is fetched anew.
_CACHE: Final = "public, max-age=86400"


def plotly_js_path() -> Path:
    """Plotly.js as shipped inside the ``plotly`` Python package."""
    path = Path(str(files("plotly") / "package_data" / "plotly.min.js"))
    if not path.is_file():
        msg = f"plotly.min.js is missing from the plotly package (looked at {path})"
        raise FileNotFoundError(msg)
    return path


class StaticFiles:
    """Maps the few static names to files, resolved once."""

    def __init__(self) -> None:
        self._paths: dict[str, Path] = {
            "dashboard.css": _HERE / "dashboard.css",
            "dashboard.js": _HERE / "dashboard.js",
            "plotly.min.js": plotly_js_path(),
        }

    def response(self, name: str) -> Response:
        path = self._paths.get(name)
        if path is None:
            return PlainTextResponse(f"no static file {name!r}", status_code=404)
        return FileResponse(path, media_type=_TYPES[path.suffix], headers={"Cache-Control": _CACHE})
