"""An in-process cache in front of :func:`storage.repositories.tokens.verify_token`.

A busy ingest API checks a bearer token on every request; :class:`TokenVerifier` keeps what
the store said of each token for a few seconds, so most requests cost a hash and a dict
lookup. Expiry and scopes are checked on every request from the cached value; **revocation
takes effect within the TTL**, in every process, since a cached token is only re-read
from the store once its entry is older than ``ttl_seconds``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy.orm import Session

from storage.errors import InvalidTokenError
from storage.repositories.tokens import (
    Scope,
    TokenInfo,
    check_scope,
    hash_token,
    lookup_token,
    record_use,
)
from storage.types import utc_now

__all__ = ["TokenVerifier"]


class TokenVerifier:
    """Verify bearer tokens against the store, caching each token's record for a TTL.

    Parameters
    ----------
    session_factory
        Makes a session per store access, e.g. :func:`storage.create_session_factory`'s.
    ttl_seconds
        How long a token's record is reused before it is read again: the longest a
        revocation takes to be noticed. ``0`` reads the store on every call.
    max_entries
        Most tokens kept; the least recently used are dropped first.
    clock
        The current time as an aware datetime; tests pass their own.

    Notes
    -----
    Only tokens found in the store are cached, so random guesses cannot fill the cache.
    ``last_used_at`` is recorded when a record is (re)read and the last write is older than
    :data:`~storage.repositories.tokens.LAST_USED_INTERVAL`, in a transaction of its own
    whose first statement is the write (safe on SQLite next to busy writers). It is thus
    at most ``max(ttl_seconds, 60)`` seconds behind. :meth:`verify` does blocking I/O on a
    cache miss: call it from a worker thread in async code. It is thread-safe.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        ttl_seconds: float = 30.0,
        max_entries: int = 10_000,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        if not ttl_seconds >= 0:
            msg = f"ttl_seconds must be >= 0, got {ttl_seconds!r}"
            raise ValueError(msg)
        if max_entries < 1:
            msg = f"max_entries must be >= 1, got {max_entries!r}"
            raise ValueError(msg)
        self.session_factory = session_factory
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self.clock = clock
        self._ttl = dt.timedelta(seconds=ttl_seconds)
        self._entries: OrderedDict[str, tuple[TokenInfo, dt.datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenVerifier(ttl_seconds={self.ttl_seconds!r}, max_entries={self.max_entries!r})"

    def verify(self, token: str, *, scope: Scope) -> TokenInfo:
        """Check ``token`` for ``scope``, from the cache when its entry is fresh.

        Raises
        ------
        InvalidTokenError
            If the token is malformed, unknown, revoked or expired.
        ScopeError
            If it is valid but does not carry ``scope`` (nor ``admin``).
        TokenSpecError
            If ``scope`` is not a scope.
        """
        scope = check_scope(scope)
        now = self.clock()
        token_hash = hash_token(token)
        info = self._cached(token_hash, now)
        fetched = info is None
        if info is None:
            info = self._fetch(token_hash, now)
        info.require(scope, now=now)
        if fetched and info.use_is_due(now):
            info = self._record_use(token_hash, info, now)
        return info

    def clear(self) -> None:
        """Forget every cached token (e.g. after revoking one in this process)."""
        with self._lock:
            self._entries.clear()

    def _cached(self, token_hash: str, now: dt.datetime) -> TokenInfo | None:
        with self._lock:
            entry = self._entries.get(token_hash)
            if entry is None:
                return None
            info, fetched_at = entry
            if not fetched_at <= now < fetched_at + self._ttl:  # stale, or the clock went back
                del self._entries[token_hash]
                return None
            self._entries.move_to_end(token_hash)
            return info

    def _fetch(self, token_hash: str, now: dt.datetime) -> TokenInfo:
        with self.session_factory() as session:
            info = lookup_token(session, token_hash)
        if info is None:
            raise InvalidTokenError("unknown")
        self._store(token_hash, info, now)
        return info

    def _record_use(self, token_hash: str, info: TokenInfo, now: dt.datetime) -> TokenInfo:
        with self.session_factory() as session:
            record_use(session, info.name, now=now)
            session.commit()
        info = replace(info, last_used_at=now)
        self._store(token_hash, info, now)
        return info

    def _store(self, token_hash: str, info: TokenInfo, now: dt.datetime) -> None:
        if self._ttl <= dt.timedelta(0):
            return
        with self._lock:
            self._entries[token_hash] = (info, now)
            self._entries.move_to_end(token_hash)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
