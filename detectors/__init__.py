"""Pure statistics over numpy arrays: drift tests, streaming detectors, metrics, health rules.

Imports numpy and scipy only, nothing of the rest of Driftline; no I/O, no logging.
"""

from __future__ import annotations

from detectors.errors import DetectorError, InvalidInputError
from detectors.results import ColumnTest

__all__ = ["ColumnTest", "DetectorError", "InvalidInputError"]
