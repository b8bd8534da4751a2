"""A streaming drift detector over a model's per-row errors, resumed from run to run.

The detector (:mod:`detectors.streaming`) sees one error per labelled row, in time order:
1 for a wrong class and 0 for a right one (classifiers), the absolute error (regression; DDM
and EDDM take 0/1 errors only, so they are for classifiers). Between runs its state is kept
as JSON::

    {"streaming": {"detector": "ddm", "last_timestamp_us": 1795521420000000,
                   "state": {...detector.to_state()...}}}

Only rows after ``last_timestamp_us`` are fed, so overlapping windows (rolling ones) never
feed a row twice; the price is that a label arriving after its row was passed over is never
fed. A saved state written for another detector (the monitor's ``streaming`` param changed)
or that no longer loads starts a fresh detector, and the details say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors.outcome import DetectorResult, Span
from detectors.streaming import ADWIN, DDM, EDDM, KSWIN, InvalidStateError, PageHinkley
from detectors.streaming import StreamingDetector as Detector

__all__ = ["BINARY_ONLY", "DETECTORS", "StreamingRun", "feed"]

DETECTORS: Mapping[str, type[Detector]] = {
    "ddm": DDM,
    "eddm": EDDM,
    "adwin": ADWIN,
    "page_hinkley": PageHinkley,
    "kswin": KSWIN,
}
#: Detectors that take 0/1 errors only (classifiers).
BINARY_ONLY = ("ddm", "eddm")
_KEY = "streaming"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class StreamingRun:
    """What one window did to the detector."""

    result: DetectorResult
    #: Whether a drift was detected inside the window.
    drift: bool
    #: The state to save for the next run.
    state: dict[str, Any]
    details: dict[str, Any]


def feed(
    name: str,
    errors: NDArray[np.float64],
    timestamps_us: NDArray[np.int64],
    state: Mapping[str, Any] | None,
    *,
    window: Span,
) -> StreamingRun:
    """Feed the rows after the saved state's last timestamp to detector ``name``.

    Parameters
    ----------
    name
        A key of :data:`DETECTORS`.
    errors, timestamps_us
        One error and one timestamp per labelled row, in any order (sorted here, stably).
    state
        The state a previous run returned (the whole ``KindOutcome.state``), or None.
    window
        The window's span, for the result.
    """
    detector, last_us, note = _restore(name, state)
    order = np.argsort(timestamps_us, kind="stable")
    times, values = timestamps_us[order], errors[order]
    if last_us is not None:
        after = times > last_us
        times, values = times[after], values[after]
    flags = detector.update_many(values)
    result = detector.to_result(flags, window=window)
    detected = [int(i) for i in np.flatnonzero(flags)]
    details: dict[str, Any] = {
        **result.to_dict(),
        "detector_name": name,
        "fed": int(values.size),
        "detections_at": [_iso(int(times[i])) for i in detected],
        "state_note": note,
    }
    newest = int(times[-1]) if times.size else last_us
    saved = {_KEY: {"detector": name, "last_timestamp_us": newest, "state": detector.to_state()}}
    return StreamingRun(result, bool(detected), saved, details)


def _restore(name: str, state: Mapping[str, Any] | None) -> tuple[Detector, int | None, str | None]:
    """The saved detector and its last fed timestamp, or a fresh one and why."""
    cls = DETECTORS[name]
    saved = (state or {}).get(_KEY)
    if saved is None:
        return cls(), None, None
    if not isinstance(saved, Mapping) or saved.get("detector") != name:
        other = saved.get("detector") if isinstance(saved, Mapping) else None
        return cls(), None, f"saved state was for detector {other!r}; started afresh"
    last = saved.get("last_timestamp_us")
    if last is not None and (isinstance(last, bool) or not isinstance(last, int)):
        return cls(), None, f"saved last_timestamp_us {last!r} is not an integer; started afresh"
    try:
        return cls.from_state(saved.get("state") or {}), last, None
    except InvalidStateError as error:
        return cls(), None, f"saved state did not load ({error}); started afresh"


def _iso(timestamp_us: int) -> str:
    return (_EPOCH + timedelta(microseconds=timestamp_us)).isoformat()
