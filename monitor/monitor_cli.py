"""``driftline monitor`` and ``driftline backfill``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from monitor.errors import ConfigError

__all__ = ["backfill", "monitor"]


def monitor(
    ctx: typer.Context,
    port: Annotated[
        int | None, typer.Option(help="Port of the API (default: DRIFTLINE_PORT, 8000).")
    ] = None,
    scheduler: Annotated[
        bool,
        typer.Option(help="Schedule monitors (while leading); --no-scheduler serves the API only."),
    ] = True,
) -> None:
    """Run the monitor: REST API, and the scheduler when this process is the leader."""
    from monitor.cli import user_errors
    from monitor.monitor_process import run_monitor
    from monitor.project import load_project

    with user_errors():
        settings = ctx.obj.settings()
        path = settings.resolved_project_file()
        project = load_project(path) if path is not None else None
        run_monitor(
            settings, project, port=settings.port if port is None else port, scheduler=scheduler
        )


def _moment(value: str, option: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        msg = f"{option} {value!r} is not an ISO-8601 date or time, e.g. 2026-11-01T00:00Z"
        raise ConfigError(msg) from None
    if moment.tzinfo is None:
        if "T" in value or " " in value:
            raise ConfigError(f"{option} {value!r} needs a timezone, e.g. {value}Z")
        moment = moment.replace(tzinfo=dt.UTC)  # a bare date means midnight UTC
    return moment


def backfill(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model whose monitors are backfilled.")],
    start: Annotated[
        str, typer.Option("--from", help="Start, ISO-8601 (a bare date is midnight UTC).")
    ],
    end: Annotated[str, typer.Option("--to", help="End, ISO-8601.")],
    monitor_name: Annotated[
        str | None, typer.Option("--monitor", help="Only this monitor of the model.")
    ] = None,
    recompute: Annotated[
        bool, typer.Option(help="Recompute windows that already have a result.")
    ] = False,
) -> None:
    """Compute the model's monitors over past windows (resumable: done windows are skipped)."""
    from monitor.cli import user_errors
    from monitor.database import open_database
    from monitor.scheduling.backfill import plan_backfill, run_backfill
    from monitor.scheduling.runner import MonitorRunner

    console = Console()
    with user_errors():
        first, last = _moment(start, "--from"), _moment(end, "--to")
        engine = open_database(ctx.obj.settings())
        try:
            plan = plan_backfill(
                engine,
                model,
                start=first,
                end=last,
                monitor_name=monitor_name,
                recompute=recompute,
            )
            if plan.already_done:
                console.print(f"{plan.already_done} windows already computed, skipped")
            counts: dict[str, int] = {}
            columns = (
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
            )
            with Progress(*columns, console=console, transient=False) as progress:
                task = progress.add_task("backfill", total=len(plan))

                def advance(report: object) -> None:
                    status = getattr(report, "status", "?")
                    counts[status] = counts.get(status, 0) + 1
                    progress.advance(task)

                run_backfill(MonitorRunner(engine), plan, progress=advance)
        finally:
            engine.dispose()
    outcome = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to do"
    console.print(f"backfilled {len(plan)} windows: {outcome}", markup=False)
