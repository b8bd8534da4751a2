"""Ground-truth labels: bulk upsert by (model, request id).

Labels arrive hours or days after their predictions, sometimes more than once; the last
write wins and ``revision`` counts the writes, so replaying a feedback batch is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from storage.engine import write_transaction
from storage.errors import InvalidBatchError
from storage.models import GroundTruthLabel
from storage.repositories.models import ModelHandle
from storage.types import utc_now

__all__ = ["upsert_labels"]

_CHUNK = 5_000


def upsert_labels(
    engine: Engine,
    model: ModelHandle,
    request_ids: Sequence[str],
    values: Sequence[Any],
    *,
    event_timestamps_us: ArrayLike | None = None,
) -> int:
    """Store labels for ``request_ids``; returns how many were written.

    ``values`` are class labels (strings) for classifiers, numbers for regression. Within
    one call a repeated request id keeps its last value.

    Raises
    ------
    InvalidBatchError
        If lengths differ, a request id is empty, a class is unknown or a value not finite;
        nothing is written.
    """
    if len(request_ids) != len(values):
        msg = f"labels: {len(request_ids)} request ids but {len(values)} values"
        raise InvalidBatchError(msg)
    times: list[int | None] = [None] * len(values)
    if event_timestamps_us is not None:
        try:
            times = [int(t) for t in np.asarray(event_timestamps_us, dtype=np.int64).tolist()]
        except (TypeError, ValueError, OverflowError):
            msg = "labels: event timestamps must be integers (microseconds since the epoch)"
            raise InvalidBatchError(msg) from None
        if len(times) != len(values):
            msg = f"labels: {len(values)} values but {len(times)} event timestamps"
            raise InvalidBatchError(msg)
    encoded = _encode(model, values)
    now = utc_now()
    rows: dict[str, dict[str, Any]] = {}
    for i, (request_id, value, at) in enumerate(zip(request_ids, encoded, times, strict=True)):
        if (
            not isinstance(request_id, str)
            or not 0 < len(request_id.encode()) <= 255
            or "\x00" in request_id
        ):
            msg = f"labels: request id at position {i} must be 1-255 characters, got {request_id!r}"
            raise InvalidBatchError(msg)
        rows[request_id] = {
            "model_id": model.model_id,
            "request_id": request_id,
            "value": value,
            "event_timestamp_us": at,
            "received_at": now,
            "revision": 1,
        }
    with write_transaction(engine) as connection:
        insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
        statement = insert(GroundTruthLabel)
        statement = statement.on_conflict_do_update(
            index_elements=["model_id", "request_id"],
            set_={
                "value": statement.excluded.value,
                "event_timestamp_us": statement.excluded.event_timestamp_us,
                "received_at": statement.excluded.received_at,
                "revision": GroundTruthLabel.revision + 1,
            },
        )
        batch = list(rows.values())
        for start in range(0, len(batch), _CHUNK):
            connection.execute(statement, batch[start : start + _CHUNK])
    return len(rows)


def _encode(model: ModelHandle, values: Sequence[Any]) -> list[float]:
    if model.task.is_classification:
        index = model.class_index()
        out = []
        for i, label in enumerate(values):
            if label not in index:
                msg = (
                    f"labels: unknown class {label!r} at position {i}; "
                    f"model {model.model_name!r} has classes {list(model.classes)}"
                )
                raise InvalidBatchError(msg)
            out.append(float(index[label]))
        return out
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidBatchError("labels: regression labels must be numbers") from None
    if array.ndim != 1 or not np.isfinite(array).all():
        raise InvalidBatchError("labels: regression labels must be finite numbers")
    return [float(v) for v in array.tolist()]
