"""Checks shared by the failure and health detector tests (not a test module)."""

from __future__ import annotations

import json

from detectors.outcome import DetectorResult, Status

__all__ = ["assert_drawable"]


def assert_drawable(result: DetectorResult, detector: str | None = None) -> None:
    """The one result shape, serialisable to strict JSON (what the dashboard receives)."""
    assert isinstance(result, DetectorResult)
    assert isinstance(result.status, Status)
    if detector is not None:
        assert result.detector == detector
    assert result.detector.split(".")[0] in {"failures", "health"}
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert payload["status"] == result.status.value
    assert payload["window"]["n"] == result.window.n
