"""Scoped API tokens: issue, verify, list and revoke. Only a SHA-256 of each is stored.

A token is ``dlt_`` followed by 43 URL-safe characters (256 random bits). The store keeps its
hex SHA-256 and its first 12 characters, so listings can show which token is which; the
secret itself is returned once, by :func:`create_token`, and cannot be recovered.

Scopes say what a bearer may do:

``ingest``
    post prediction records (``POST /v1/models/{model}/predictions``);
``feedback``
    post ground-truth labels (``POST /v1/models/{model}/feedback``);
``read``
    call the read APIs (models, windows, results, alerts);
``admin``
    everything, the three above included.

Verification looks a token up by its hash only. The stored prefix is never used to find or
reject a token: a prefix lookup followed by a comparison would let response times tell an
attacker which prefixes exist. An index walk on the hash leaks at most how much of the hash
of a guess matches some stored hash, which says nothing about any secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal, get_args

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.errors import InvalidTokenError, NotFoundError, ScopeError, TokenSpecError
from storage.models import ApiToken
from storage.types import utc_now

__all__ = [
    "LAST_USED_INTERVAL",
    "SCOPES",
    "TOKEN_PREFIX",
    "IssuedToken",
    "Scope",
    "TokenInfo",
    "check_scope",
    "create_token",
    "hash_token",
    "list_tokens",
    "lookup_token",
    "record_use",
    "revoke_token",
    "verify_token",
]

#: What a token may be used for; ``admin`` implies every other scope.
Scope = Literal["ingest", "feedback", "read", "admin"]
#: Every scope, in the order listings show them.
SCOPES: tuple[Scope, ...] = get_args(Scope)
#: How every Driftline token starts, so that secret scanners and people recognise one.
TOKEN_PREFIX = "dlt_"
#: Least time between two writes of a token's ``last_used_at``.
LAST_USED_INTERVAL = dt.timedelta(minutes=1)

_SECRET_BYTES = 32
_SHOWN_LENGTH = 12  # "dlt_" and 8 characters (48 of the 256 bits) for listings
_MAX_TOKEN_LENGTH = 256  # longer strings are not Driftline tokens; don't hash megabytes
_MAX_NAME = 127  # api_tokens.name
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token just created: the only value that ever holds its secret."""

    name: str
    #: The secret to hand to the client. Not in ``repr``, so it stays out of logs.
    token: str = field(repr=False)
    prefix: str
    scopes: tuple[Scope, ...]
    expires_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What the store knows of a token, without its secret."""

    name: str
    prefix: str
    scopes: tuple[Scope, ...]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    def allows(self, scope: Scope) -> bool:
        """Whether the token's scopes cover ``scope`` (``admin`` covers all)."""
        return "admin" in self.scopes or scope in self.scopes

    def is_expired(self, now: dt.datetime) -> bool:
        """Whether the token's expiry is at or before ``now``."""
        return self.expires_at is not None and self.expires_at <= now

    def require(self, scope: Scope, *, now: dt.datetime) -> None:
        """Check that the token is usable at ``now`` for ``scope``.

        Raises
        ------
        InvalidTokenError
            If the token is revoked or expired (reason ``"revoked"`` or ``"expired"``).
        ScopeError
            If it is valid but its scopes do not cover ``scope``.
        """
        if self.revoked_at is not None:
            raise InvalidTokenError("revoked")
        if self.is_expired(now):
            raise InvalidTokenError("expired")
        if not self.allows(scope):
            raise ScopeError(self.name, scope, self.scopes)

    def use_is_due(self, now: dt.datetime) -> bool:
        """Whether ``last_used_at`` is older than :data:`LAST_USED_INTERVAL` (or unset)."""
        return self.last_used_at is None or now - self.last_used_at >= LAST_USED_INTERVAL


def create_token(
    session: Session,
    *,
    name: str,
    scopes: Iterable[Scope | str],
    expires_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> IssuedToken:
    """Issue a new token; store only its hash and prefix. The caller commits.

    Parameters
    ----------
    session
        Where to add the token.
    name
        Unique name: letters, digits, ``.``, ``_`` and ``-``, at most 127 characters.
    scopes
        One or more of :data:`SCOPES`; duplicates are dropped.
    expires_at
        Timezone-aware time after which the token no longer verifies; ``None``: never.
    now
        The creation time (default: the current time).

    Returns
    -------
    IssuedToken
        With the plain secret, which is not stored and cannot be shown again.

    Raises
    ------
    TokenSpecError
        If the name, a scope or the expiry is invalid, or the name is taken. After one raised
        by the flush (a concurrent create of the same name) the session must be rolled back.
    """
    now = _aware(utc_now() if now is None else now, "now")
    _check_name(name)
    granted = _check_scopes(scopes)
    if expires_at is not None and _aware(expires_at, "expires_at") <= now:
        msg = f"expires_at must be in the future, got {expires_at.isoformat()}"
        raise TokenSpecError(msg)
    taken = session.scalar(sa.select(ApiToken.id).where(ApiToken.name == name))
    if taken is not None:
        raise TokenSpecError(_taken(name))
    token = TOKEN_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)
    prefix = token[:_SHOWN_LENGTH]
    session.add(
        ApiToken(
            name=name,
            token_hash=hash_token(token),
            token_prefix=prefix,
            scopes=list(granted),
            created_at=now,
            expires_at=expires_at,
        )
    )
    try:
        session.flush()
    except IntegrityError:
        raise TokenSpecError(_taken(name)) from None
    return IssuedToken(name, token, prefix, granted, expires_at)


def verify_token(
    session: Session, token: str, *, scope: Scope, now: dt.datetime | None = None
) -> TokenInfo:
    """Check a bearer token for ``scope`` and record its use; the caller commits.

    ``last_used_at`` is written at most once per :data:`LAST_USED_INTERVAL`, by a
    conditional ``UPDATE`` that also keeps concurrent processes from writing it twice. On
    SQLite, that write after a read can fail with ``SQLITE_BUSY_SNAPSHOT`` while other
    writers commit; request paths should use
    :class:`~storage.repositories.token_cache.TokenVerifier`, which reads and writes in
    separate transactions (and caches).

    Raises
    ------
    InvalidTokenError
        If the token is malformed, unknown, revoked or expired; one message for all,
        :attr:`InvalidTokenError.reason` says which.
    ScopeError
        If the token is valid but does not carry ``scope`` (nor ``admin``).
    TokenSpecError
        If ``scope`` is not one of :data:`SCOPES` (a bug in the caller).
    """
    scope = check_scope(scope)
    now = _aware(utc_now() if now is None else now, "now")
    info = lookup_token(session, hash_token(token))
    if info is None:
        raise InvalidTokenError("unknown")
    info.require(scope, now=now)
    if info.use_is_due(now):
        record_use(session, info.name, now=now)
        info = replace(info, last_used_at=now)
    return info


def list_tokens(session: Session) -> list[TokenInfo]:
    """Every token, revoked and expired ones included, by name."""
    return [_info(row) for row in session.scalars(sa.select(ApiToken).order_by(ApiToken.name))]


def revoke_token(session: Session, name: str, *, now: dt.datetime | None = None) -> None:
    """Revoke the named token for good; the caller commits.

    Raises
    ------
    NotFoundError
        If no token has that name.
    TokenSpecError
        If it was already revoked.
    """
    now = _aware(utc_now() if now is None else now, "now")
    row = session.scalars(sa.select(ApiToken).where(ApiToken.name == name)).one_or_none()
    if row is None:
        msg = f"unknown API token {name!r}"
        raise NotFoundError(msg)
    if row.revoked_at is not None:
        msg = f"API token {name!r} was already revoked at {row.revoked_at.isoformat()}"
        raise TokenSpecError(msg)
    row.revoked_at = now
    session.flush()


def hash_token(token: str) -> str:
    """The hex SHA-256 stored for ``token``.

    Raises
    ------
    InvalidTokenError
        With reason ``"malformed"`` if ``token`` does not look like a Driftline token.
    """
    if (
        not isinstance(token, str)
        or not token.startswith(TOKEN_PREFIX)
        or len(token) > _MAX_TOKEN_LENGTH
    ):
        raise InvalidTokenError("malformed")
    return hashlib.sha256(token.encode()).hexdigest()


def lookup_token(session: Session, token_hash: str) -> TokenInfo | None:
    """The token stored with this hash, whatever its state, or ``None``."""
    row = session.scalars(sa.select(ApiToken).where(ApiToken.token_hash == token_hash)).first()
    return None if row is None else _info(row)


def record_use(session: Session, name: str, *, now: dt.datetime) -> bool:
    """Set ``last_used_at`` to ``now`` unless it is more recent than the interval allows.

    Returns
    -------
    bool
        Whether the row was written (``False`` if another process just did).
    """
    cutoff = now - LAST_USED_INTERVAL
    result = session.execute(
        sa.update(ApiToken)
        .where(
            ApiToken.name == name,
            sa.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= cutoff),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    return isinstance(result, sa.CursorResult) and result.rowcount > 0


def check_scope(value: str) -> Scope:
    """``value`` as a :data:`Scope`; raise :class:`TokenSpecError` if it is none."""
    for scope in SCOPES:
        if value == scope:
            return scope
    msg = f"unknown scope {value!r}: expected one of {', '.join(SCOPES)}"
    raise TokenSpecError(msg)


def _check_scopes(scopes: Iterable[Scope | str]) -> tuple[Scope, ...]:
    if isinstance(scopes, str):
        msg = f"scopes must be a list of scope names, got the string {scopes!r}"
        raise TokenSpecError(msg)
    wanted = {check_scope(value) for value in scopes}
    if not wanted:
        msg = f"a token needs at least one scope: {', '.join(SCOPES)}"
        raise TokenSpecError(msg)
    return tuple(scope for scope in SCOPES if scope in wanted)


def _check_name(name: str) -> None:
    if not isinstance(name, str) or len(name) > _MAX_NAME or not _NAME.fullmatch(name):
        msg = (
            f"token name must be 1-{_MAX_NAME} letters, digits, '.', '_' or '-' "
            f"(starting with a letter or digit), got {name!r}"
        )
        raise TokenSpecError(msg)


def _aware(value: dt.datetime, what: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        msg = f"{what} must be timezone-aware, got naive {value.isoformat()}"
        raise TokenSpecError(msg)
    return value


def _taken(name: str) -> str:
    return (
        f"an API token named {name!r} already exists (names stay taken after revocation, "
        "for the record); choose another name"
    )


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(
        name=row.name,
        prefix=row.token_prefix,
        scopes=tuple(scope for scope in SCOPES if scope in row.scopes),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )
