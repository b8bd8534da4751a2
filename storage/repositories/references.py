"""Reference datasets: named Parquet files stored per model, such as the training set.

The store keeps the bytes, their row count and SHA-256 and the model version they were
checked against; it never parses them. Validating and normalising a file is the caller's
job (``monitor.references``); here a reference is an opaque, content-addressed blob.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from storage.engine import write_transaction
from storage.errors import ConflictError, NotFoundError
from storage.models import ModelVersion, ReferenceDataset
from storage.repositories.monitors import find_model_id
from storage.types import utc_now

__all__ = [
    "REFERENCE_NAME_RULE",
    "ReferenceDigest",
    "ReferenceInfo",
    "check_reference_name",
    "delete_reference",
    "get_reference",
    "list_references",
    "load_reference_data",
    "reference_digest",
    "save_reference",
]

#: What a reference name may be, in words; the pattern below is its exact form.
REFERENCE_NAME_RULE = (
    "1-127 characters: letters, digits, '.', '_' or '-', starting with a letter or digit"
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,126}")

_COLUMNS = (
    ReferenceDataset.id,
    ReferenceDataset.name,
    ReferenceDataset.row_count,
    ReferenceDataset.sha256,
    sa.func.length(ReferenceDataset.data).label("size_bytes"),
    ReferenceDataset.created_at,
    ModelVersion.version,
)


@dataclass(frozen=True, slots=True)
class ReferenceInfo:
    """What is known of a stored reference dataset, without its bytes."""

    id: int
    model_name: str
    name: str
    #: Version whose schema the data was checked against; None if that version was deleted.
    version: str | None
    row_count: int
    #: Hex SHA-256 of the stored bytes.
    sha256: str
    size_bytes: int
    #: When the data was uploaded (or last replaced), UTC.
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ReferenceDigest:
    """What identifies a stored reference's content: enough to key a cache on."""

    model_id: int
    reference_id: int
    #: Hex SHA-256 of the stored bytes.
    sha256: str


def check_reference_name(name: str) -> None:
    """Raise :class:`ValueError` unless ``name`` follows :data:`REFERENCE_NAME_RULE`."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        msg = f"reference name must be {REFERENCE_NAME_RULE}; got {name!r}"
        raise ValueError(msg)


def save_reference(
    engine: Engine,
    *,
    model_name: str,
    name: str,
    data: bytes,
    row_count: int,
    version: str | None = None,
    replace: bool = False,
) -> ReferenceInfo:
    """Store ``data`` as the reference ``name`` of a model, in one transaction.

    Parameters
    ----------
    data
        The dataset's bytes (Parquet, as written by ``monitor.references``).
    row_count
        Rows in ``data``; the store does not parse it to check.
    version
        Model version the data was checked against (default: the newest).
    replace
        Overwrite a reference of the same name instead of failing.

    Raises
    ------
    ValueError
        A malformed name, empty ``data`` or a negative ``row_count``.
    NotFoundError
        The model or the version does not exist.
    ConflictError
        The model has a reference of that name and ``replace`` is false.
    """
    check_reference_name(name)
    if not isinstance(data, bytes) or not data:
        raise ValueError(f"reference {name!r}: data must be non-empty bytes")
    if isinstance(row_count, bool) or not isinstance(row_count, int) or row_count < 0:
        raise ValueError(f"reference {name!r}: row_count must be an integer >= 0, got {row_count}")
    values: dict[str, Any] = {
        "row_count": row_count,
        "sha256": hashlib.sha256(data).hexdigest(),
        "data": data,
        "created_at": utc_now(),
    }
    try:
        return _write(engine, model_name, name, version, values, replace=replace)
    except IntegrityError:
        # Another writer stored the same name between our read and our insert.
        if not replace:
            raise _conflict(model_name, name, get_reference(engine, model_name, name)) from None
    try:  # with replace, overwrite what the other writer stored
        return _write(engine, model_name, name, version, values, replace=replace)
    except IntegrityError:
        raise _conflict(model_name, name, get_reference(engine, model_name, name)) from None


def _write(
    engine: Engine,
    model_name: str,
    name: str,
    version: str | None,
    values: dict[str, Any],
    *,
    replace: bool,
) -> ReferenceInfo:
    with write_transaction(engine) as connection:
        model_id = find_model_id(connection, model_name)
        version_id = _version_id(connection, model_id, model_name, version)
        existing = _find(connection, model_id, name)
        if existing is not None and not replace:
            raise _conflict(model_name, name, existing)
        if existing is None:
            insert = sa.insert(ReferenceDataset).values(
                model_id=model_id, name=name, model_version_id=version_id, **values
            )
            connection.execute(insert)
        else:
            update = sa.update(ReferenceDataset).where(ReferenceDataset.id == existing.id)
            connection.execute(update.values(model_version_id=version_id, **values))
        return _info(model_name, _find(connection, model_id, name))


def list_references(engine: Engine, model_name: str) -> list[ReferenceInfo]:
    """A model's reference datasets, by name.

    Raises
    ------
    NotFoundError
        The model does not exist.
    """
    with engine.connect() as connection:
        model_id = find_model_id(connection, model_name)
        rows = connection.execute(_select(model_id).order_by(ReferenceDataset.name)).all()
    return [_info(model_name, row) for row in rows]


def get_reference(engine: Engine, model_name: str, name: str) -> ReferenceInfo:
    """One reference dataset's description, without its bytes.

    Raises
    ------
    NotFoundError
        The model or the reference does not exist; the message lists the model's references.
    """
    with engine.connect() as connection:
        model_id = find_model_id(connection, model_name)
        return _info(model_name, _require(connection, model_id, model_name, name))


def reference_digest(engine: Engine, model_name: str, name: str) -> ReferenceDigest:
    """The ids and SHA-256 of a reference, read as cheaply as the store allows.

    Cheaper than :func:`get_reference` on SQLite, which keeps a row's columns in declaration
    order: ``created_at`` comes after ``data``, so reading it walks the pages of the whole
    blob (about 13 ms for 50 MB), while the columns read here all come before it.

    Raises
    ------
    NotFoundError
        The model or the reference does not exist.
    """
    with engine.connect() as connection:
        model_id = find_model_id(connection, model_name)
        row = connection.execute(
            sa.select(ReferenceDataset.id, ReferenceDataset.sha256).where(
                ReferenceDataset.model_id == model_id, ReferenceDataset.name == name
            )
        ).one_or_none()
        if row is None:
            raise _missing(connection, model_id, model_name, name)
    return ReferenceDigest(model_id=model_id, reference_id=int(row.id), sha256=row.sha256)


def load_reference_data(engine: Engine, model_name: str, name: str) -> tuple[ReferenceInfo, bytes]:
    """A reference dataset's description and its bytes, read together.

    Raises
    ------
    NotFoundError
        The model or the reference does not exist.
    """
    with engine.connect() as connection:
        model_id = find_model_id(connection, model_name)
        row = _require(connection, model_id, model_name, name)
        data = connection.execute(
            sa.select(ReferenceDataset.data).where(ReferenceDataset.id == row.id)
        ).scalar_one()
    return _info(model_name, row), bytes(data)


def delete_reference(engine: Engine, model_name: str, name: str) -> None:
    """Delete a reference dataset.

    Raises
    ------
    NotFoundError
        The model or the reference does not exist.
    """
    with write_transaction(engine) as connection:
        model_id = find_model_id(connection, model_name)
        row = _require(connection, model_id, model_name, name)
        connection.execute(sa.delete(ReferenceDataset).where(ReferenceDataset.id == row.id))


def _version_id(
    connection: Connection, model_id: int, model_name: str, version: str | None
) -> int | None:
    query = sa.select(ModelVersion.id).where(ModelVersion.model_id == model_id)
    if version is not None:
        query = query.where(ModelVersion.version == version)
    found = connection.execute(query.order_by(ModelVersion.id.desc()).limit(1)).scalar()
    if found is None and version is not None:
        versions = connection.execute(
            sa.select(ModelVersion.version)
            .where(ModelVersion.model_id == model_id)
            .order_by(ModelVersion.id)
        ).scalars()
        msg = (
            f"model {model_name!r} has no version {version!r}; "
            f"its versions: {', '.join(versions) or 'none'}"
        )
        raise NotFoundError(msg)
    return None if found is None else int(found)


def _select(model_id: int) -> sa.Select[Any]:
    return (
        sa.select(*_COLUMNS)
        .select_from(ReferenceDataset)
        .outerjoin(ModelVersion, ModelVersion.id == ReferenceDataset.model_version_id)
        .where(ReferenceDataset.model_id == model_id)
    )


def _find(connection: Connection, model_id: int, name: str) -> sa.Row[Any] | None:
    return connection.execute(_select(model_id).where(ReferenceDataset.name == name)).one_or_none()


def _require(connection: Connection, model_id: int, model_name: str, name: str) -> sa.Row[Any]:
    row = _find(connection, model_id, name)
    if row is None:
        raise _missing(connection, model_id, model_name, name)
    return row


def _missing(connection: Connection, model_id: int, model_name: str, name: str) -> NotFoundError:
    names = connection.execute(
        sa.select(ReferenceDataset.name)
        .where(ReferenceDataset.model_id == model_id)
        .order_by(ReferenceDataset.name)
    ).scalars()
    msg = (
        f"model {model_name!r} has no reference dataset {name!r}; "
        f"its reference datasets: {', '.join(names) or 'none'}"
    )
    return NotFoundError(msg)


def _info(model_name: str, row: Any) -> ReferenceInfo:
    return ReferenceInfo(
        id=int(row.id),
        model_name=model_name,
        name=row.name,
        version=row.version,
        row_count=int(row.row_count),
        sha256=row.sha256,
        size_bytes=int(row.size_bytes),
        created_at=row.created_at,
    )


def _conflict(model_name: str, name: str, existing: Any) -> ConflictError:
    uploaded = existing.created_at.strftime("%Y-%m-%d %H:%M UTC")
    msg = (
        f"model {model_name!r} already has a reference dataset {name!r} "
        f"({existing.row_count} rows, sha256 {existing.sha256[:12]}, uploaded {uploaded}); "
        "to overwrite it, save again with replace, or choose another name"
    )
    return ConflictError(msg)
