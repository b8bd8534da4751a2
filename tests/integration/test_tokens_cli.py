"""Tests of ``driftline tokens create | list | revoke``, run as a real process.

Mistakes the command refuses with one line run in this process (``driftline_in_process``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from storage import create_engine, create_session_factory, sqlite_url
from storage.errors import InvalidTokenError
from storage.repositories.tokens import Scope, TokenInfo, list_tokens, verify_token
from storage.types import utc_now
from tests.integration.test_cli import (
    Run,
    assert_ok,
    assert_user_error,
    driftline,
    driftline_in_process,
    listed_commands,
)

pytestmark = pytest.mark.integration

#: Keep the INFO lines of opening the database off stderr, so error output is exactly one line.
QUIET = {"DRIFTLINE_LOG_LEVEL": "WARNING"}


def tokens(cwd: Path, url: str, *args: str) -> Run:
    return driftline(cwd, "--database-url", url, "tokens", *args, env=QUIET)


def refused(cwd: Path, url: str, *args: str) -> str:
    """The one error line of a ``tokens`` command run in this process."""
    run = driftline_in_process(cwd, "--database-url", url, "tokens", *args, env=QUIET)
    return assert_user_error(run)


def verify(url: str, token: str, scope: Scope) -> TokenInfo:
    engine = create_engine(url)
    try:
        with create_session_factory(engine)() as session:
            info = verify_token(session, token, scope=scope)
            session.commit()
    finally:
        engine.dispose()
    return info


def stored(url: str) -> list[TokenInfo]:
    engine = create_engine(url)
    try:
        with create_session_factory(engine)() as session:
            return list_tokens(session)
    finally:
        engine.dispose()


def test_help_lists_the_token_commands(tmp_path: Path) -> None:
    top = driftline_in_process(tmp_path, "--help")
    sub = driftline_in_process(tmp_path, "tokens", "--help")

    assert_ok(top)
    assert "tokens" in listed_commands(top.stdout), top.transcript
    assert_ok(sub)
    assert listed_commands(sub.stdout) == {"create", "list", "revoke"}, sub.transcript


def test_create_list_revoke(tmp_path: Path, database_url: str) -> None:
    scopes = ("--scope", "ingest", "--scope", "feedback")
    created = tokens(tmp_path, database_url, "create", "sidecar", *scopes, "--expires-in", "90d")
    assert_ok(created)
    [token] = created.stdout.splitlines()  # the secret alone on stdout, for $(...)
    assert token.startswith("dlt_"), created.transcript
    assert "created API token 'sidecar' (scopes: ingest, feedback; expires " in created.stderr
    assert "shown only this once" in created.stderr, created.transcript
    assert token not in created.stderr, created.transcript

    info = verify(database_url, token, "feedback")
    assert info.name == "sidecar"
    assert info.expires_at is not None
    lifetime = info.expires_at - utc_now()
    assert dt.timedelta(days=89, hours=23) < lifetime <= dt.timedelta(days=90)

    listed = tokens(tmp_path, database_url, "list")
    assert_ok(listed)
    assert "sidecar" in listed.stdout, listed.transcript
    assert f"{token[:12]}…" in listed.stdout, listed.transcript
    assert token[12:20] not in listed.stdout + listed.stderr, listed.transcript
    assert "ingest, feedback" in listed.stdout, listed.transcript

    revoked = tokens(tmp_path, database_url, "revoke", "sidecar")
    assert_ok(revoked)
    assert "revoked API token 'sidecar'" in revoked.stdout, revoked.transcript
    with pytest.raises(InvalidTokenError) as caught:
        verify(database_url, token, "ingest")
    assert caught.value.reason == "revoked"
    [row] = stored(database_url)
    assert row.revoked_at is not None
    relisted = tokens(tmp_path, database_url, "list")
    assert row.revoked_at.strftime("%Y-%m-%d %H:%M") in relisted.stdout, relisted.transcript

    again = refused(tmp_path, database_url, "revoke", "sidecar")
    assert "'sidecar' was already revoked" in again
    duplicate = refused(tmp_path, database_url, "create", "sidecar", "--scope", "read")
    assert "'sidecar' already exists" in duplicate
    assert refused(tmp_path, database_url, "revoke", "ghost") == "error: unknown API token 'ghost'"


def test_no_tokens_then_an_admin_token_on_the_embedded_default(tmp_path: Path) -> None:
    none = driftline(tmp_path, "tokens", "list")
    assert_ok(none)
    assert "no API tokens" in none.stdout, none.transcript

    created = driftline(tmp_path, "tokens", "create", "ops", "--scope", "admin")
    assert_ok(created)
    url = sqlite_url(tmp_path / ".driftline" / "driftline.db")

    info = verify(url, created.stdout.strip(), "read")

    assert (info.scopes, info.expires_at) == (("admin",), None)
    assert "never expires" in created.stderr, created.transcript


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--scope", "write"), "error: unknown scope 'write': expected one of ingest, feedback,"),
        ((), "error: give at least one --scope: ingest, feedback, read, admin"),
        (("--scope", "read", "--expires-in", "3w"), "error: --expires-in: invalid duration '3w'"),
        (("--scope", "read", "--expires-in", "0s"), "error: --expires-in must be longer than 0s"),
    ],
)
def test_bad_options_are_one_line(tmp_path: Path, args: tuple[str, ...], expected: str) -> None:
    run = driftline_in_process(tmp_path, "tokens", "create", "ci", *args)

    assert assert_user_error(run).startswith(expected)
    assert not (tmp_path / ".driftline").exists()  # rejected before opening the store
