"""Tests of :mod:`storage.repositories.tokens` on SQLite and PostgreSQL: issuing, verifying,
listing and revoking scoped API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import pickle
from collections.abc import Callable, Iterable

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage import create_session_factory
from storage.errors import (
    InvalidTokenError,
    NotFoundError,
    ScopeError,
    StorageError,
    TokenError,
    TokenSpecError,
)
from storage.models import ApiToken
from storage.repositories.tokens import (
    LAST_USED_INTERVAL,
    SCOPES,
    IssuedToken,
    Scope,
    TokenInfo,
    create_token,
    list_tokens,
    record_use,
    revoke_token,
    verify_token,
)

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def create(
    engine: Engine,
    name: str = "sidecar",
    scopes: Iterable[str] = ("ingest",),
    *,
    expires_at: dt.datetime | None = None,
    now: dt.datetime = T0,
) -> IssuedToken:
    with create_session_factory(engine)() as session:
        issued = create_token(session, name=name, scopes=scopes, expires_at=expires_at, now=now)
        session.commit()
    return issued


def verify(engine: Engine, token: str, scope: Scope = "ingest", now: dt.datetime = T0) -> TokenInfo:
    with create_session_factory(engine)() as session:
        info = verify_token(session, token, scope=scope, now=now)
        session.commit()
    return info


def revoke(engine: Engine, name: str, now: dt.datetime = T0) -> None:
    with create_session_factory(engine)() as session:
        revoke_token(session, name, now=now)
        session.commit()


def stored(engine: Engine) -> list[ApiToken]:
    with create_session_factory(engine)() as session:
        return list(session.scalars(sa.select(ApiToken).order_by(ApiToken.name)))


# --- create -----------------------------------------------------------------------------------


def test_create_stores_only_the_hash_and_a_prefix(engine: Engine) -> None:
    issued = create(engine, scopes=["feedback", "ingest", "feedback"])

    assert issued.token.startswith("dlt_")
    assert len(issued.token) == 4 + 43  # 32 random bytes, URL-safe base64
    assert issued.prefix == issued.token[:12]
    assert issued.scopes == ("ingest", "feedback")  # canonical order, no duplicates
    assert issued.token not in repr(issued)
    [row] = stored(engine)
    assert row.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()
    assert row.token_prefix == issued.prefix
    assert row.scopes == ["ingest", "feedback"]
    assert row.created_at == T0
    with engine.connect() as connection:
        cells = connection.execute(sa.select(ApiToken.__table__)).one()
    assert not any(issued.token[12:] in str(cell) for cell in cells)


def test_two_tokens_get_different_secrets(engine: Engine) -> None:
    first, second = create(engine, "a"), create(engine, "b")

    assert first.token != second.token
    assert first.prefix != second.prefix


def test_a_duplicate_name_is_rejected(engine: Engine) -> None:
    first = create(engine)
    revoke(engine, "sidecar")  # a revoked token's name stays taken

    with pytest.raises(TokenSpecError, match="'sidecar' already exists"):
        create(engine, scopes=["read"])

    assert [row.token_prefix for row in stored(engine)] == [first.prefix]


@pytest.mark.parametrize(
    ("name", "scopes", "expires_at", "expected"),
    [
        ("", ["ingest"], None, "token name must be"),
        ("has space", ["ingest"], None, "got 'has space'"),
        ("-dash-first", ["ingest"], None, "starting with a letter or digit"),
        ("x" * 128, ["ingest"], None, "1-127"),
        ("ok", [], None, "at least one scope"),
        ("ok", ["ingest", "write"], None, "unknown scope 'write': expected one of ingest, feed"),
        ("ok", "ingest", None, "a list of scope names"),
        ("ok", ["ingest"], dt.datetime(2027, 1, 1), "timezone-aware"),
        ("ok", ["ingest"], T0, "must be in the future"),
        ("ok", ["ingest"], T0 - dt.timedelta(days=1), "must be in the future"),
    ],
)
def test_invalid_creations_are_rejected(
    engine: Engine, name: str, scopes: list[str], expires_at: dt.datetime | None, expected: str
) -> None:
    with pytest.raises(TokenSpecError, match=expected) as caught:
        create(engine, name, scopes, expires_at=expires_at)

    assert isinstance(caught.value, ValueError)
    assert stored(engine) == []


# --- verify -----------------------------------------------------------------------------------


def test_verify_accepts_the_token_for_its_scopes(engine: Engine) -> None:
    expires = T0 + dt.timedelta(days=90)
    issued = create(engine, scopes=["ingest", "feedback"], expires_at=expires)

    ingest = verify(engine, issued.token, "ingest")
    feedback = verify(engine, issued.token, "feedback")

    assert ingest.name == "sidecar"
    assert ingest.prefix == issued.prefix
    assert ingest.scopes == ("ingest", "feedback")
    assert ingest.created_at == T0
    assert ingest.expires_at == expires
    assert ingest.expires_at.tzinfo is not None
    assert ingest.revoked_at is None
    assert feedback.name == "sidecar"


@pytest.mark.parametrize("scope", SCOPES)
def test_admin_implies_every_scope(engine: Engine, scope: Scope) -> None:
    issued = create(engine, scopes=["admin"])

    assert verify(engine, issued.token, scope).scopes == ("admin",)


def test_a_missing_scope_is_a_scope_error_naming_both_sides(engine: Engine) -> None:
    issued = create(engine, scopes=["ingest", "read"])

    with pytest.raises(ScopeError) as caught:
        verify(engine, issued.token, "feedback")

    error = caught.value
    assert isinstance(error, TokenError)
    assert isinstance(error, StorageError)
    assert str(error) == "API token 'sidecar' lacks the 'feedback' scope; it has: ingest, read"
    assert (error.required, error.granted) == ("feedback", ("ingest", "read"))
    assert pickle.loads(pickle.dumps(error)).granted == ("ingest", "read")


def _unknown(engine: Engine, issued: IssuedToken) -> str:
    return issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B")


def _revoked(engine: Engine, issued: IssuedToken) -> str:
    revoke(engine, issued.name, now=T0 + dt.timedelta(seconds=1))
    return issued.token


@pytest.mark.parametrize(
    ("reason", "present"),
    [
        ("unknown", _unknown),
        ("malformed", lambda _engine, issued: issued.token[4:]),
        ("malformed", lambda _engine, _issued: "dlt_" + "x" * 300),
        ("malformed", lambda _engine, _issued: ""),
        ("revoked", _revoked),
    ],
)
def test_invalid_tokens_share_one_message(
    engine: Engine, reason: str, present: Callable[[Engine, IssuedToken], str]
) -> None:
    issued = create(engine)
    token = present(engine, issued)

    with pytest.raises(InvalidTokenError) as caught:
        verify(engine, token, now=T0 + dt.timedelta(seconds=2))

    assert caught.value.reason == reason
    assert str(caught.value) == "invalid API token: unknown, revoked or expired"
    assert pickle.loads(pickle.dumps(caught.value)).reason == reason


def test_a_token_expires_at_its_expiry(engine: Engine) -> None:
    expires = T0 + dt.timedelta(hours=1)
    issued = create(engine, expires_at=expires)

    verify(engine, issued.token, now=expires - dt.timedelta(microseconds=1))
    with pytest.raises(InvalidTokenError) as caught:
        verify(engine, issued.token, now=expires)

    assert caught.value.reason == "expired"
    assert str(caught.value) == InvalidTokenError.MESSAGE


def test_expiry_is_checked_before_scope(engine: Engine) -> None:
    issued = create(engine, scopes=["read"], expires_at=T0 + dt.timedelta(hours=1))

    with pytest.raises(InvalidTokenError):
        verify(engine, issued.token, "ingest", now=T0 + dt.timedelta(hours=2))


def test_the_stored_prefix_plays_no_part_in_verification(engine: Engine) -> None:
    issued = create(engine)
    with engine.begin() as connection:
        connection.execute(sa.update(ApiToken).values(token_prefix="dlt_changed"))
    same_prefix = issued.prefix + "A" * (len(issued.token) - len(issued.prefix))

    assert verify(engine, issued.token).prefix == "dlt_changed"
    with pytest.raises(InvalidTokenError) as caught:
        verify(engine, same_prefix)
    assert caught.value.reason == "unknown"


def test_an_unknown_scope_argument_is_a_bug_reported_as_such(engine: Engine) -> None:
    issued = create(engine)

    with pytest.raises(TokenSpecError, match="unknown scope 'write'"):
        verify(engine, issued.token, "write")  # type: ignore[arg-type]


# --- last_used_at -----------------------------------------------------------------------------


def test_last_used_at_is_written_at_most_once_a_minute(engine: Engine) -> None:
    issued = create(engine)

    def last_used() -> dt.datetime | None:
        return stored(engine)[0].last_used_at

    assert last_used() is None
    first = verify(engine, issued.token, now=T0 + dt.timedelta(seconds=5))
    assert first.last_used_at == T0 + dt.timedelta(seconds=5)
    assert last_used() == T0 + dt.timedelta(seconds=5)

    soon = verify(engine, issued.token, now=T0 + dt.timedelta(seconds=64))
    assert soon.last_used_at == T0 + dt.timedelta(seconds=5)
    assert last_used() == T0 + dt.timedelta(seconds=5)

    later = T0 + dt.timedelta(seconds=5) + LAST_USED_INTERVAL
    assert verify(engine, issued.token, now=later).last_used_at == later
    assert last_used() == later


def test_a_failed_verification_records_no_use(engine: Engine) -> None:
    issued = create(engine, scopes=["read"])

    with pytest.raises(ScopeError):
        verify(engine, issued.token, "ingest")

    assert stored(engine)[0].last_used_at is None


def test_record_use_skips_a_write_another_process_just_made(engine: Engine) -> None:
    create(engine)
    factory = create_session_factory(engine)
    now = T0 + dt.timedelta(minutes=5)

    with factory() as session:
        assert record_use(session, "sidecar", now=now)
        session.commit()
    with factory() as session:
        assert not record_use(session, "sidecar", now=now + dt.timedelta(seconds=59))
        assert record_use(session, "sidecar", now=now + LAST_USED_INTERVAL)
        session.commit()

    assert stored(engine)[0].last_used_at == now + LAST_USED_INTERVAL


# --- list and revoke --------------------------------------------------------------------------


def test_list_shows_every_token_without_secrets(engine: Engine) -> None:
    reader = create(engine, "reader", ["read"], expires_at=T0 + dt.timedelta(days=1))
    sidecar = create(engine, "sidecar", ["ingest", "feedback"])
    revoke(engine, "reader", now=T0 + dt.timedelta(hours=1))

    with create_session_factory(engine)() as session:
        tokens = list_tokens(session)

    assert [token.name for token in tokens] == ["reader", "sidecar"]
    assert tokens[0] == TokenInfo(
        name="reader",
        prefix=reader.prefix,
        scopes=("read",),
        created_at=T0,
        expires_at=T0 + dt.timedelta(days=1),
        last_used_at=None,
        revoked_at=T0 + dt.timedelta(hours=1),
    )
    assert tokens[1].scopes == ("ingest", "feedback")
    text = repr(tokens)
    assert reader.token not in text
    assert sidecar.token not in text


def test_list_of_an_empty_store(engine: Engine) -> None:
    with create_session_factory(engine)() as session:
        assert list_tokens(session) == []


def test_revoke_records_the_time_and_only_once(engine: Engine) -> None:
    create(engine)
    create(engine, "other")
    revoke(engine, "sidecar", now=T0 + dt.timedelta(minutes=1))

    with pytest.raises(TokenSpecError, match="'sidecar' was already revoked at 2026-03-01T12:01"):
        revoke(engine, "sidecar", now=T0 + dt.timedelta(minutes=2))

    assert [row.revoked_at for row in stored(engine)] == [None, T0 + dt.timedelta(minutes=1)]


def test_revoking_an_unknown_token_is_not_found(engine: Engine) -> None:
    with pytest.raises(NotFoundError, match="unknown API token 'ghost'"):
        revoke(engine, "ghost")
