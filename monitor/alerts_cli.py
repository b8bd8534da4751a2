"""``driftline silence add | list | expire`` and ``driftline alerts list``, on the store.

Both talk to the database directly, as ``driftline tokens`` does, not to the REST API.
Matchers are written as ``amtool`` writes them: ``model=churn``, ``severity=~"warn.*"``
(regexes anchored at both ends), one per argument or several separated by commas. ``add``
prints the new silence's id alone on stdout (``ID=$(driftline silence add ...)``) and what
it mutes, and until when, on stderr.
"""

from __future__ import annotations

import datetime as dt
import getpass
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console
from rich.table import Table

from monitor.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from monitor.alerting.silences import Matcher

__all__ = ["alerts_app", "silence_app"]

silence_app = typer.Typer(
    help="Silences: mute the notifications of matching alerts for a while.", no_args_is_help=True
)
alerts_app = typer.Typer(help="Alerts raised by the alert rules.", no_args_is_help=True)

_MATCHER_HELP = (
    'Label matchers, all of which an alert must match: model=churn, severity=~"warn.*", '
    'team!=ml, model!~"test.*" (regexes match whole values).'
)
_ALERT_STATES: Final = ("pending", "firing", "resolved")


@silence_app.command("add")
def add(
    ctx: typer.Context,
    matchers: Annotated[list[str] | None, typer.Argument(help=_MATCHER_HELP)] = None,
    duration: Annotated[
        str | None, typer.Option(help="How long, from now: 30m, 2h, 1d12h.")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="When it ends instead: ISO 8601 with a timezone, 2026-10-01T06:00Z."),
    ] = None,
    comment: Annotated[str | None, typer.Option(help="Why (required).")] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Who adds it (default: your user name).")
    ] = None,
) -> None:
    """Add a silence starting now."""
    from monitor.alerting.silences import SilenceError, check_silence
    from monitor.cli import user_errors
    from storage.repositories.alerting import create_silence
    from storage.types import utc_now

    with user_errors():
        parsed = _parse_matchers(matchers or [])
        if comment is None or not comment.strip():
            raise ConfigError("--comment is required: say why the alerts are silenced")
        now = utc_now()
        ends_at = _end(now, duration, until)
        created_by = _author(by)
        try:
            check_silence(parsed, now, ends_at)
        except SilenceError as error:
            raise ConfigError(str(error)) from None
        engine = _engine(ctx)
        try:
            row = create_silence(
                engine,
                matchers=[matcher.to_dict() for matcher in parsed],
                starts_at=now,
                ends_at=ends_at,
                created_by=created_by,
                comment=comment,
            )
        finally:
            engine.dispose()
    Console(highlight=False, soft_wrap=True).print(str(row.id), markup=False)
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"silence {row.id} active until {_time(row.ends_at)} UTC: mutes alerts matching "
        f"{_text(parsed)}",
        markup=False,
    )


@silence_app.command("list")
def list_command(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include expired silences.")] = False,
) -> None:
    """List the pending and active silences (with --all, the expired ones too)."""
    from monitor.alerting.silences import Matcher, SilenceView
    from monitor.cli import user_errors
    from storage.repositories.alerting import list_silences
    from storage.types import utc_now

    now = utc_now()
    with user_errors():
        engine = _engine(ctx)
        try:
            rows = list_silences(engine, now=now, include_expired=all_)
        finally:
            engine.dispose()
    if not rows:
        hint = "" if all_ else " (--all shows expired ones)"
        Console().print(f"no silences{hint}", markup=False)
        return
    table = Table(title="Silences (times in UTC)")
    table.add_column("id", justify="right", no_wrap=True)
    for column in ("matchers", "state", "starts", "ends", "by", "comment"):
        table.add_column(column, overflow="fold")
    for row in rows:
        parsed = tuple(Matcher.from_dict(item) for item in row.matchers)
        view = SilenceView(row.id, parsed, row.starts_at, row.ends_at, row.expired_at)
        ends = row.ends_at if row.expired_at is None else min(row.ends_at, row.expired_at)
        table.add_row(
            str(row.id),
            _text(parsed),
            view.state(now),
            _time(row.starts_at),
            _time(ends),
            row.created_by,
            row.comment,
        )
    Console(highlight=False).print(table)


@silence_app.command("expire")
def expire(
    ctx: typer.Context,
    silence_id: Annotated[str, typer.Argument(metavar="ID", help="The silence's id.")],
) -> None:
    """End a silence now."""
    from monitor.cli import user_errors
    from storage.repositories.alerting import expire_silence
    from storage.types import utc_now

    with user_errors():
        number = _silence_id(silence_id)
        engine = _engine(ctx)
        now = utc_now()
        try:
            row = expire_silence(engine, number, now=now)
        finally:
            engine.dispose()
    if row.expired_at is not None and row.expired_at < now:
        message = f"silence {row.id} was already expired (at {_time(row.expired_at)} UTC)"
    else:
        message = f"expired silence {row.id}"
    Console(highlight=False).print(message, markup=False)


@alerts_app.command("list")
def alerts_list(
    ctx: typer.Context,
    state: Annotated[
        str | None, typer.Option(help="Only alerts in this state: pending, firing, resolved.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Only alerts of this model.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.", min=1)] = 100,
) -> None:
    """List alerts, newest first."""
    from monitor.cli import user_errors
    from storage.repositories.alerting import list_alerts

    with user_errors():
        if state is not None and state not in _ALERT_STATES:
            msg = f"--state must be one of {', '.join(_ALERT_STATES)}, got {state!r}"
            raise ConfigError(msg)
        engine = _engine(ctx)
        try:
            rows = list_alerts(engine, state=state, model=model, limit=limit)
        finally:
            engine.dispose()
    if not rows:
        Console().print("no alerts", markup=False)
        return
    table = Table(title="Alerts (times in UTC)")
    table.add_column("id", justify="right", no_wrap=True)
    for column in ("rule", "state", "labels", "value", "active since", "fired", "resolved"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            str(row.id),
            row.rule,
            row.state,
            ", ".join(f"{name}={value}" for name, value in sorted(row.labels.items())),
            "" if row.value is None else f"{row.value:.4g}",
            _time(row.active_since),
            _time(row.fired_at),
            _time(row.resolved_at),
        )
    Console(highlight=False).print(table)


def _engine(ctx: typer.Context) -> Engine:
    from monitor.database import open_database

    return open_database(ctx.obj.settings())


def _parse_matchers(texts: list[str]) -> tuple[Matcher, ...]:
    from monitor.alerting.silences import MatcherError, parse_matchers

    if not texts:
        raise ConfigError("give at least one matcher, like model=churn")
    parsed: list[Matcher] = []
    for text in texts:
        try:
            found = parse_matchers(text)
        except MatcherError as error:
            raise ConfigError(f"matcher {text!r}: {error}") from None
        if not found:
            raise ConfigError(f"matcher {text!r}: expected name=value, like model=churn")
        parsed += found
    return tuple(parsed)


def _end(now: dt.datetime, duration: str | None, until: str | None) -> dt.datetime:
    from monitor.project.durations import parse_duration

    if duration is not None and until is not None:
        raise ConfigError("give --duration or --until, not both")
    if duration is not None:
        try:
            length = parse_duration(duration)
        except ValueError as error:
            raise ConfigError(f"--duration: {error}") from None
        if length <= dt.timedelta(0):
            raise ConfigError(f"--duration must be longer than 0s, got {duration!r}")
        try:
            return now + length
        except OverflowError:
            raise ConfigError(f"--duration {duration!r} is too long") from None
    if until is None:
        raise ConfigError("give --duration (like 2h) or --until (like 2026-10-01T06:00Z)")
    try:
        ends_at = dt.datetime.fromisoformat(until)
    except ValueError:
        msg = f"--until must be an ISO 8601 instant like 2026-10-01T06:00Z, got {until!r}"
        raise ConfigError(msg) from None
    if ends_at.tzinfo is None or ends_at.utcoffset() is None:
        raise ConfigError(f"--until must include a timezone, like {until}Z, got {until!r}")
    if ends_at <= now:
        raise ConfigError(f"--until must be in the future, got {until!r}")
    return ends_at.astimezone(dt.UTC)


def _author(by: str | None) -> str:
    if by is not None:
        if not by.strip() or len(by) > 127:
            raise ConfigError(f"--by must be 1 to 127 characters, got {by!r}")
        return by
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment or the password database
        return "cli"


def _silence_id(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise ConfigError(f"a silence id is a whole number, got {text!r}") from None
    if not 1 <= number < 2**31:
        raise ConfigError(f"unknown silence {number}")
    return number


def _text(matchers: tuple[Matcher, ...]) -> str:
    return ", ".join(str(matcher) for matcher in matchers)


def _time(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
