"""API tokens, kept only as a SHA-256 hash."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import utc_now

__all__ = ["ApiToken"]


class ApiToken(Base):
    """A scoped bearer token. The secret itself is shown once and never stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(127), unique=True)
    #: Hex SHA-256 of the token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the token, to recognise it in listings.
    token_prefix: Mapped[str] = mapped_column(String(16))
    #: ``read``, ``ingest``, ``admin``, ...
    scopes: Mapped[list[str]]
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
