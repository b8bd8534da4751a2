"""Dictionary encoding of categorical feature values.

Each distinct (model, feature, value) gets a row in ``feature_categories`` whose id is the
code stored in records. Codes are stable, shared by every version of a model, and assigned
safely by concurrent writers (insert-if-absent, then read back).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from storage.models import FeatureCategory

__all__ = ["decode_categories", "encode_categories"]

_CHUNK = 500
_table = FeatureCategory.__table__


def encode_categories(
    connection: Connection, model_id: int, feature: str, values: Sequence[str | None]
) -> NDArray[np.float64]:
    """Codes of ``values`` (NaN for None), creating codes for values not seen before."""
    distinct = [v for v in dict.fromkeys(values) if v is not None]
    codes = _lookup(connection, model_id, feature, distinct)
    missing = [v for v in distinct if v not in codes]
    if missing:
        rows = [{"model_id": model_id, "feature": feature, "value": v} for v in missing]
        insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
        connection.execute(insert(FeatureCategory).on_conflict_do_nothing(), rows)
        codes.update(_lookup(connection, model_id, feature, missing))
    return np.array([np.nan if v is None else codes[v] for v in values], dtype=np.float64)


def _lookup(
    connection: Connection, model_id: int, feature: str, values: Sequence[str]
) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        query = sa.select(_table.c.value, _table.c.id).where(
            _table.c.model_id == model_id,
            _table.c.feature == feature,
            _table.c.value.in_(chunk),
        )
        found.update(dict(connection.execute(query).all()))
    return found


def decode_categories(
    connection: Connection, model_id: int, codes: Iterable[int]
) -> dict[int, tuple[str, str]]:
    """Code to ``(feature, value)`` for the given codes."""
    wanted = sorted(set(codes))
    out: dict[int, tuple[str, str]] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        query = sa.select(_table.c.id, _table.c.feature, _table.c.value).where(
            _table.c.model_id == model_id, _table.c.id.in_(chunk)
        )
        out.update({code: (feature, value) for code, feature, value in connection.execute(query)})
    return out
