"""The declarative base: naming convention and the shared column types."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, TypeVar

from sqlalchemy import JSON, BigInteger, Constraint, Index, Integer, MetaData, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

from storage.types import UTCDateTime

__all__ = ["NAMING_CONVENTION", "Base", "BigIntPK", "JSONValue", "applies_to", "only_on"]

#: Constraint names alembic can refer to, which SQLite's batch mode needs to alter tables.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: JSON on SQLite, JSONB on PostgreSQL.
JSONValue = JSON().with_variant(JSONB(), "postgresql")

#: 64-bit keys on PostgreSQL; SQLite only autoincrements a column declared ``INTEGER``
#: (which is 64-bit there anyway).
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")

_DIALECTS = "driftline_dialects"
_Element = TypeVar("_Element", Constraint, Index)


def only_on(dialect: str, element: _Element) -> _Element:
    """Declare ``element`` (a constraint or an index) for one back end only.

    ``CREATE TABLE`` skips it elsewhere (SQLAlchemy's ``ddl_if``), and the models-vs-database
    comparison (:func:`applies_to`) ignores it there.
    """
    element.info[_DIALECTS] = frozenset({dialect})
    return element.ddl_if(dialect=dialect)


def applies_to(element: object, dialect: str) -> bool:
    """Whether a constraint or index of the models exists on ``dialect``."""
    info = getattr(element, "info", None)
    dialects = info.get(_DIALECTS) if isinstance(info, dict) else None
    return dialects is None or dialect in dialects


class Base(DeclarativeBase):
    """Base of every Driftline table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSONValue,
        list[str]: JSONValue,
        list[dict[str, Any]]: JSONValue,
        str: String(255),
    }
