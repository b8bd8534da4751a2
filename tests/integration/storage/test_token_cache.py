"""Tests of :class:`storage.repositories.token_cache.TokenVerifier` on SQLite and PostgreSQL:
what it caches, for how long, and what it still checks on every call. The clock is injected;
store reads are counted from the SQL the engine really runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from storage import create_session_factory
from storage.errors import InvalidTokenError, ScopeError
from storage.models import ApiToken
from storage.repositories.token_cache import TokenVerifier
from storage.repositories.tokens import IssuedToken, create_token, revoke_token

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


class Clock:
    """A settable clock."""

    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


class Statements:
    """The statements on ``api_tokens`` an engine runs, split into reads and writes."""

    def __init__(self) -> None:
        self.reads = 0
        self.writes = 0

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "api_tokens" in statement:
            if statement.lstrip().upper().startswith("SELECT"):
                self.reads += 1
            else:
                self.writes += 1


@pytest.fixture
def statements(engine: Engine) -> Iterator[Statements]:
    counter = Statements()
    event.listen(engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def create(engine: Engine, name: str = "sidecar", **kwargs: Any) -> IssuedToken:
    with create_session_factory(engine)() as session:
        issued = create_token(session, name=name, scopes=kwargs.pop("scopes", ["ingest"]), **kwargs)
        session.commit()
    return issued


def revoke(engine: Engine, name: str = "sidecar") -> None:
    with create_session_factory(engine)() as session:
        revoke_token(session, name, now=T0)
        session.commit()


def last_used(engine: Engine) -> dt.datetime | None:
    with engine.connect() as connection:
        return connection.scalar(sa.select(ApiToken.last_used_at))


def verifier(engine: Engine, clock: Clock, ttl_seconds: float = 30) -> TokenVerifier:
    return TokenVerifier(create_session_factory(engine), ttl_seconds=ttl_seconds, clock=clock)


def test_a_cached_token_is_not_read_again_within_the_ttl(
    engine: Engine, clock: Clock, statements: Statements
) -> None:
    issued = create(engine)
    tokens = verifier(engine, clock)
    statements.reads = statements.writes = 0

    for _ in range(5):
        assert tokens.verify(issued.token, scope="ingest").name == "sidecar"
        clock.advance(5)
    assert statements.reads == 1

    clock.advance(10)  # 30 s after the first read
    tokens.verify(issued.token, scope="ingest")
    assert statements.reads == 2


def test_revocation_takes_effect_within_the_ttl(engine: Engine, clock: Clock) -> None:
    issued = create(engine)
    tokens = verifier(engine, clock)
    tokens.verify(issued.token, scope="ingest")

    revoke(engine)
    clock.advance(29)
    tokens.verify(issued.token, scope="ingest")  # still cached
    clock.advance(1)
    with pytest.raises(InvalidTokenError) as caught:
        tokens.verify(issued.token, scope="ingest")

    assert caught.value.reason == "revoked"


def test_clear_forgets_the_cache_at_once(engine: Engine, clock: Clock) -> None:
    issued = create(engine)
    tokens = verifier(engine, clock)
    tokens.verify(issued.token, scope="ingest")

    revoke(engine)
    tokens.clear()

    with pytest.raises(InvalidTokenError):
        tokens.verify(issued.token, scope="ingest")


def test_a_zero_ttl_reads_the_store_every_time(
    engine: Engine, clock: Clock, statements: Statements
) -> None:
    issued = create(engine)
    tokens = verifier(engine, clock, ttl_seconds=0)
    statements.reads = 0

    tokens.verify(issued.token, scope="ingest")
    tokens.verify(issued.token, scope="ingest")
    assert statements.reads == 2
    revoke(engine)

    with pytest.raises(InvalidTokenError):
        tokens.verify(issued.token, scope="ingest")


def test_expiry_and_scope_are_checked_on_cached_tokens(
    engine: Engine, clock: Clock, statements: Statements
) -> None:
    issued = create(engine, expires_at=T0 + dt.timedelta(seconds=10), now=T0)
    tokens = verifier(engine, clock)
    tokens.verify(issued.token, scope="ingest")
    statements.reads = 0

    with pytest.raises(ScopeError, match="lacks the 'read' scope; it has: ingest"):
        tokens.verify(issued.token, scope="read")
    clock.advance(10)
    with pytest.raises(InvalidTokenError) as caught:
        tokens.verify(issued.token, scope="ingest")

    assert caught.value.reason == "expired"
    assert statements.reads == 0


def test_unknown_and_malformed_tokens_are_not_cached(
    engine: Engine, clock: Clock, statements: Statements
) -> None:
    issued = create(engine)
    tokens = verifier(engine, clock)
    unknown = issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B")
    statements.reads = 0

    for token, reason in ((unknown, "unknown"), (unknown, "unknown"), ("Bearer x", "malformed")):
        with pytest.raises(InvalidTokenError) as caught:
            tokens.verify(token, scope="ingest")
        assert caught.value.reason == reason

    assert statements.reads == 2  # one per unknown; a malformed token never reaches the store


def test_last_used_at_is_written_on_reads_at_most_once_a_minute(
    engine: Engine, clock: Clock, statements: Statements
) -> None:
    issued = create(engine)
    tokens = verifier(engine, clock)
    statements.writes = 0

    assert tokens.verify(issued.token, scope="ingest").last_used_at == T0
    assert last_used(engine) == T0
    for _ in range(11):  # cache hits and one re-read at +30 s: no write
        clock.advance(5)
        tokens.verify(issued.token, scope="ingest")
    assert statements.writes == 1
    assert last_used(engine) == T0

    clock.advance(5)  # +60 s: the entry read at +30 s is stale and the interval has passed
    assert tokens.verify(issued.token, scope="ingest").last_used_at == clock.now
    assert last_used(engine) == clock.now
    assert statements.writes == 2


def test_a_clock_going_back_drops_the_entry(
    engine: Engine, clock: Clock, statements: Statements
) -> None:
    issued = create(engine)
    tokens = verifier(engine, clock)
    tokens.verify(issued.token, scope="ingest")
    statements.reads = 0

    clock.advance(-1)
    tokens.verify(issued.token, scope="ingest")

    assert statements.reads == 1


def test_the_least_recently_used_entry_is_evicted(
    engine: Engine, clock: Clock, statements: Statements
) -> None:
    first, second, third = (create(engine, name) for name in ("a", "b", "c"))
    tokens = TokenVerifier(create_session_factory(engine), max_entries=2, clock=clock)
    for issued in (first, second, first, third):  # "b" is the least recently used
        tokens.verify(issued.token, scope="ingest")
    statements.reads = 0

    tokens.verify(first.token, scope="ingest")
    tokens.verify(third.token, scope="ingest")
    assert statements.reads == 0
    tokens.verify(second.token, scope="ingest")
    assert statements.reads == 1


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"ttl_seconds": -1}, "ttl_seconds must be >= 0, got -1"),
        ({"ttl_seconds": float("nan")}, "ttl_seconds must be >= 0, got nan"),
        ({"max_entries": 0}, "max_entries must be >= 1, got 0"),
    ],
)
def test_bad_settings_are_rejected(engine: Engine, kwargs: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        TokenVerifier(create_session_factory(engine), **kwargs)


def test_repr_shows_the_settings(engine: Engine) -> None:
    tokens = TokenVerifier(create_session_factory(engine), ttl_seconds=5, max_entries=10)

    assert repr(tokens) == "TokenVerifier(ttl_seconds=5, max_entries=10)"
