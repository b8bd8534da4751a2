"""Evidently reports of Driftline's data, as standalone HTML.

Evidently is imported lazily (it is heavy) with its telemetry switched off, and the
deprecation warnings its own imports raise are silenced here, not in callers.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

__all__ = ["data_drift_html"]


def data_drift_html(
    reference: Any, current: Any, *, numeric: Sequence[str], categorical: Sequence[str]
) -> str:
    """Evidently's DataDriftPreset report of two pandas frames, as one HTML document."""
    os.environ["DO_NOT_TRACK"] = "1"  # before Evidently is imported: no telemetry
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from evidently import DataDefinition, Dataset, Report
        from evidently.presets import DataDriftPreset

        definition = DataDefinition(
            numerical_columns=list(numeric), categorical_columns=list(categorical)
        )
        snapshot = Report([DataDriftPreset()]).run(
            Dataset.from_pandas(current, data_definition=definition),
            Dataset.from_pandas(reference, data_definition=definition),
        )
        return str(snapshot.get_html_str(as_iframe=False))
