"""Silences through the API: created from either matcher form, listed with their state, expired.

A new silence is checked as Alertmanager checks one (:func:`~monitor.alerting.silences.
check_silence`), after the request's own rules: exactly one of ``matchers`` (objects) and
``matchers_text`` (``model=churn,severity=~"warn.*"``); exactly one of ``ends_at`` and
``duration``; a start in the past starts now; the end must lie ahead. Every problem raises
:class:`InvalidRequestError` at the body field at fault.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy.engine import Engine

from monitor.alerting.silences import (
    Matcher,
    MatcherError,
    MatchOp,
    SilenceError,
    SilenceState,
    SilenceView,
    check_silence,
    parse_matchers,
)
from monitor.api.services.errors import InvalidRequestError
from monitor.project._base import Loc
from storage.repositories.alerting import (
    SilenceRow,
    create_silence,
    expire_silence,
    get_silence,
    list_silences,
)
from storage.types import utc_now

__all__ = [
    "ANONYMOUS",
    "SilenceInfo",
    "SilenceRequest",
    "add_silence",
    "expire",
    "silence_of",
    "silences_of",
]

#: ``created_by`` of a silence made without a token (an API running without auth).
ANONYMOUS: Final = "anonymous"
_MATCHERS: Loc = ("body", "matchers")
_MATCHERS_TEXT: Loc = ("body", "matchers_text")


@dataclass(frozen=True, slots=True)
class SilenceRequest:
    """A silence as asked for; times are aware UTC datetimes."""

    comment: str
    #: ``(name, op, value)`` triples; exclusive with ``matchers_text``.
    matchers: Sequence[tuple[str, MatchOp, str]] | None = None
    matchers_text: str | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    duration: dt.timedelta | None = None
    created_by: str | None = None


@dataclass(frozen=True, slots=True)
class SilenceInfo:
    """A stored silence with its parsed matchers and its state at the time it was read."""

    id: int
    matchers: tuple[Matcher, ...]
    starts_at: dt.datetime
    ends_at: dt.datetime
    created_by: str
    comment: str
    expired_at: dt.datetime | None
    created_at: dt.datetime
    state: SilenceState

    @classmethod
    def of(cls, row: SilenceRow, now: dt.datetime) -> SilenceInfo:
        matchers = tuple(Matcher.from_dict(item) for item in row.matchers)
        view = SilenceView(row.id, matchers, row.starts_at, row.ends_at, row.expired_at)
        return cls(
            id=row.id,
            matchers=matchers,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            created_by=row.created_by,
            comment=row.comment,
            expired_at=row.expired_at,
            created_at=row.created_at,
            state=view.state(now),
        )


def add_silence(
    engine: Engine,
    request: SilenceRequest,
    *,
    requester: str | None,
    now: dt.datetime | None = None,
) -> SilenceInfo:
    """Check and store a silence.

    Parameters
    ----------
    requester
        Who asks (the token's name): ``created_by`` when the request gives none; without
        one either, :data:`ANONYMOUS`.
    now
        The current time (default: the clock's).

    Raises
    ------
    InvalidRequestError
        At the body field at fault.
    """
    now = utc_now() if now is None else now
    matchers, where = _matchers(request)
    starts_at, ends_at = _window(request, now)
    if not request.comment.strip():
        raise InvalidRequestError(("body", "comment"), "must not be blank")
    created_by = request.created_by if request.created_by is not None else requester
    if created_by is not None and not created_by.strip():
        raise InvalidRequestError(("body", "created_by"), "must not be blank")
    try:
        check_silence(matchers, starts_at, ends_at)  # the window is good: only matchers remain
    except SilenceError as error:
        raise InvalidRequestError(where, str(error)) from None
    row = create_silence(
        engine,
        matchers=[matcher.to_dict() for matcher in matchers],
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=created_by or ANONYMOUS,
        comment=request.comment,
    )
    return SilenceInfo.of(row, now)


def silences_of(
    engine: Engine, *, include_expired: bool = False, now: dt.datetime | None = None
) -> list[SilenceInfo]:
    """Silences, newest first: pending and active ones, and expired ones if asked."""
    now = utc_now() if now is None else now
    rows = list_silences(engine, now=now, include_expired=include_expired)
    return [SilenceInfo.of(row, now) for row in rows]


def silence_of(engine: Engine, silence_id: int, *, now: dt.datetime | None = None) -> SilenceInfo:
    """One silence.

    Raises
    ------
    NotFoundError
        If there is no silence ``silence_id``.
    """
    now = utc_now() if now is None else now
    return SilenceInfo.of(get_silence(engine, silence_id), now)


def expire(engine: Engine, silence_id: int, *, now: dt.datetime | None = None) -> SilenceInfo:
    """End a silence now; one already expired keeps its first expiry.

    Raises
    ------
    NotFoundError
        If there is no silence ``silence_id``.
    """
    now = utc_now() if now is None else now
    return SilenceInfo.of(expire_silence(engine, silence_id, now=now), now)


def _matchers(request: SilenceRequest) -> tuple[tuple[Matcher, ...], Loc]:
    """The matchers of either form, and where in the body they came from."""
    if request.matchers is not None and request.matchers_text is not None:
        raise InvalidRequestError(_MATCHERS_TEXT, "give matchers or matchers_text, not both")
    if request.matchers_text is not None:
        try:
            return parse_matchers(request.matchers_text), _MATCHERS_TEXT
        except MatcherError as error:
            raise InvalidRequestError(_MATCHERS_TEXT, str(error)) from None
    if request.matchers is None:
        raise InvalidRequestError(
            _MATCHERS,
            "missing: give matchers, a list of {name, op, value} objects, "
            'or matchers_text, like model=churn,severity=~"warn.*"',
        )
    return tuple(_matcher(index, *item) for index, item in enumerate(request.matchers)), _MATCHERS


def _matcher(index: int, name: str, op: MatchOp, value: str) -> Matcher:
    at = (*_MATCHERS, index)
    try:
        Matcher(name, "=", "")
    except MatcherError as error:
        raise InvalidRequestError((*at, "name"), str(error)) from None
    try:
        return Matcher(name, op, value)
    except MatcherError as error:  # the name is good: the op, or the regular expression
        raise InvalidRequestError((*at, "value"), str(error)) from None


def _window(request: SilenceRequest, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """``(starts_at, ends_at)``: a start in the past starts now; the end must lie ahead."""
    starts_at = now if request.starts_at is None or request.starts_at < now else request.starts_at
    if request.ends_at is not None and request.duration is not None:
        raise InvalidRequestError(("body", "duration"), "give ends_at or duration, not both")
    if request.duration is not None:
        if request.duration <= dt.timedelta(0):
            raise InvalidRequestError(("body", "duration"), "must be longer than 0s")
        try:
            return starts_at, starts_at + request.duration
        except OverflowError:
            msg = f"is too long: the silence would end after the year {dt.MAXYEAR}"
            raise InvalidRequestError(("body", "duration"), msg) from None
    if request.ends_at is None:
        raise InvalidRequestError(
            ("body", "ends_at"),
            "missing: give ends_at, an instant with a timezone, or duration, like 2h",
        )
    if request.ends_at <= now:
        msg = f"must be in the future (now is {now.isoformat()}), got {request.ends_at.isoformat()}"
        raise InvalidRequestError(("body", "ends_at"), msg)
    if request.ends_at <= starts_at:
        msg = (
            f"must be after starts_at ({starts_at.isoformat()}), got {request.ends_at.isoformat()}"
        )
        raise InvalidRequestError(("body", "ends_at"), msg)
    return starts_at, request.ends_at
