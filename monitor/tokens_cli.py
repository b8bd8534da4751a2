"""``driftline tokens create | list | revoke``: scoped bearer tokens for the HTTP APIs.

``create`` writes the new secret alone on stdout (``TOKEN=$(driftline tokens create ...)``
works) and what was created, with a warning to keep the secret, on stderr. The store keeps
only a hash: a lost token cannot be shown again, only revoked and replaced.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from monitor.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["tokens_app"]

tokens_app = typer.Typer(
    help="Scoped API tokens for the ingest, feedback and read APIs.", no_args_is_help=True
)

_SCOPE_HELP = (
    "What the token may do (repeatable): ingest (post predictions), feedback (post labels), "
    "read (read APIs), admin (everything)."
)


@tokens_app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Unique name, e.g. the client: 'churn-sidecar'.")],
    scope: Annotated[list[str] | None, typer.Option("--scope", help=_SCOPE_HELP)] = None,
    expires_in: Annotated[
        str | None, typer.Option(help="Lifetime such as 90d, 12h or 1d12h (default: no expiry).")
    ] = None,
) -> None:
    """Create a token and print it once; only its hash is stored."""
    from monitor.cli import user_errors
    from storage import create_session_factory, create_token
    from storage.repositories.tokens import SCOPES, check_scope

    with user_errors():
        if not scope:
            raise ConfigError(f"give at least one --scope: {', '.join(SCOPES)}")
        scopes = [check_scope(value) for value in scope]
        expires_at = _expiry(expires_in)
        engine = _engine(ctx)
        try:
            with create_session_factory(engine)() as session:
                issued = create_token(session, name=name, scopes=scopes, expires_at=expires_at)
                session.commit()
        finally:
            engine.dispose()
    Console(highlight=False, soft_wrap=True).print(issued.token, markup=False)
    expiry = f"expires {_time(issued.expires_at)}" if issued.expires_at else "never expires"
    stderr = Console(stderr=True, highlight=False, soft_wrap=True)
    stderr.print(
        f"created API token {issued.name!r} (scopes: {', '.join(issued.scopes)}; {expiry})",
        markup=False,
    )
    stderr.print(
        "store it now, e.g. in a secret manager: it is shown only this once and cannot be "
        "recovered",
        markup=False,
    )


@tokens_app.command("list")
def list_command(ctx: typer.Context) -> None:
    """List the tokens (never their secrets), revoked and expired ones included."""
    from monitor.cli import user_errors
    from storage import create_session_factory, list_tokens
    from storage.types import utc_now

    with user_errors():
        engine = _engine(ctx)
        try:
            with create_session_factory(engine)() as session:
                tokens = list_tokens(session)
        finally:
            engine.dispose()
    if not tokens:
        Console().print(
            "no API tokens; create one with 'driftline tokens create NAME --scope ingest'",
            markup=False,
        )
        return
    now = utc_now()
    table = Table(title="API tokens (times in UTC)")
    table.add_column("name", overflow="fold")
    table.add_column("prefix", no_wrap=True)
    for column in ("scopes", "created", "expires", "last used", "revoked"):
        table.add_column(column, overflow="fold")
    for token in tokens:
        expires = _time(token.expires_at) if token.expires_at else "never"
        if token.is_expired(now):
            expires += " (expired)"
        table.add_row(
            token.name,
            f"{token.prefix}…",
            ", ".join(token.scopes),
            _time(token.created_at),
            expires,
            _time(token.last_used_at) if token.last_used_at else "never",
            _time(token.revoked_at) if token.revoked_at else "",
        )
    Console(highlight=False).print(table)


@tokens_app.command("revoke")
def revoke(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name of the token to revoke.")],
) -> None:
    """Revoke a token for good (APIs that cache tokens notice within their TTL, 30 s)."""
    from monitor.cli import user_errors
    from storage import create_session_factory, revoke_token

    with user_errors():
        engine = _engine(ctx)
        try:
            with create_session_factory(engine)() as session:
                revoke_token(session, name)
                session.commit()
        finally:
            engine.dispose()
    Console(highlight=False).print(f"revoked API token {name!r}", markup=False)


def _engine(ctx: typer.Context) -> Engine:
    from monitor.database import open_database

    return open_database(ctx.obj.settings())


def _expiry(expires_in: str | None) -> dt.datetime | None:
    from monitor.project.durations import parse_duration
    from storage.types import utc_now

    if expires_in is None:
        return None
    try:
        lifetime = parse_duration(expires_in)
    except ValueError as error:
        raise ConfigError(f"--expires-in: {error}") from None
    if lifetime <= dt.timedelta(0):
        raise ConfigError(f"--expires-in must be longer than 0s, got {expires_in!r}")
    try:
        return utc_now() + lifetime
    except OverflowError:
        raise ConfigError(f"--expires-in {expires_in!r} is too long") from None


def _time(value: dt.datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")
