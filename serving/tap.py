"""The tap: where the server hands every finished batch, without waiting on it.

:mod:`collectors` implements :class:`Tap` (a bounded queue in front of the spool and the
store). ``submit`` is called on the event loop right after the batch's answers are sent on
their way, so it must return at once: queue the batch or count it as dropped, never block.
Failed requests (bad input, model errors, timeouts, refusals) are tapped too, with their
status and error, so failure rates can be measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = ["NullTap", "RequestStatus", "Tap", "TappedBatch"]

RequestStatus = Literal["ok", "bad_input", "error", "timeout", "overloaded"]
"""Outcome of one request: answered; refused as malformed or unfit (4xx); failed in the model
(5xx); deadline missed (504); refused because the queue was full (503)."""


@dataclass(frozen=True, slots=True)
class TappedBatch:
    """The requests one model answered (or refused) together.

    Attributes
    ----------
    model, version
        The model version that answered.
    request_ids
        One id per request.
    row_counts
        Rows per request; request ``i`` owns rows ``offsets[i]:offsets[i + 1]`` of
        ``features`` and of every output.
    features
        ``(total_rows, n_features)`` inputs as the model saw them (before preprocessing),
        or None when the requests could not be decoded.
    feature_names
        Column names of ``features`` (empty when the model declares none).
    outputs
        Model outputs over all rows, by name (empty for failed requests).
    received_at
        Per request, arrival time in seconds since the epoch (UTC).
    latency_seconds
        Per request, from arrival to answer.
    statuses, errors
        Per request, outcome and error message (None when ok).
    roles
        Which output is the prediction / the class probabilities / a score.
    """

    model: str
    version: str
    request_ids: tuple[str, ...]
    row_counts: NDArray[np.int64]
    features: NDArray[Any] | None
    feature_names: tuple[str, ...]
    outputs: Mapping[str, NDArray[Any]]
    received_at: NDArray[np.float64]
    latency_seconds: NDArray[np.float64]
    statuses: tuple[RequestStatus, ...]
    errors: tuple[str | None, ...]
    roles: Mapping[str, str] = field(default_factory=dict)

    @property
    def offsets(self) -> NDArray[np.int64]:
        """Row offsets: request ``i`` has rows ``offsets[i]:offsets[i + 1]``."""
        return np.concatenate(([0], np.cumsum(self.row_counts))).astype(np.int64)

    def __len__(self) -> int:
        return len(self.request_ids)


class Tap(Protocol):
    """Receives finished batches; must never block or raise."""

    def submit(self, batch: TappedBatch) -> None:
        """Take the batch (queue it, or count it as dropped) and return at once."""


class NullTap:
    """A tap that discards everything: serving without monitoring."""

    def submit(self, batch: TappedBatch) -> None:
        """Discard the batch."""
