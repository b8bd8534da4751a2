"""Streaming concept-drift detectors over a stream of values (typically a model's errors).

Each detector is a small class in river's shape: keyword-only parameters checked when it is
built, ``update(x) -> bool`` (True on the update that completes a detection; the detector
resets itself on the next one), a vectorised ``update_many(xs)`` giving the same flags, and a
JSON-able ``to_state()`` / ``from_state()`` pair so the scheduler can keep a detector in the
database and resume it exactly::

    from detectors.streaming import DDM

    ddm = DDM()
    flags = ddm.update_many(errors)          # 1 = wrong prediction, 0 = right
    saved = ddm.to_state()                   # store as JSON
    ddm = DDM.from_state(saved)              # later: continue where it stopped
    result = ddm.to_result(flags)            # a DetectorResult for the dashboard

- :class:`DDM`, :class:`EDDM`: binary error streams, with a warning zone.
- :class:`ADWIN`, :class:`PageHinkley`, :class:`KSWIN`: any real-valued stream.

Detections are river's (0.26.1, and the indices ``statistics.md`` records for 0.23.0) on the
same streams; each module says where its arithmetic differs from river's and why.
"""

from __future__ import annotations

from detectors.streaming._base import StreamingDetector
from detectors.streaming._state import InvalidStateError
from detectors.streaming.adwin import ADWIN
from detectors.streaming.ddm import DDM
from detectors.streaming.eddm import EDDM
from detectors.streaming.kswin import KSWIN
from detectors.streaming.page_hinkley import PageHinkley

__all__ = ["ADWIN", "DDM", "EDDM", "KSWIN", "InvalidStateError", "PageHinkley", "StreamingDetector"]
