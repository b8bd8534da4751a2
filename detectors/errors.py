"""Errors raised by the detectors: wrong shapes, dtypes, values or parameters."""

from __future__ import annotations

__all__ = ["DetectorError", "InvalidInputError"]


class DetectorError(Exception):
    """Root of every error raised by :mod:`detectors`."""


class InvalidInputError(DetectorError, ValueError):
    """An argument has the wrong shape, dtype or values; the message names it and the column."""
