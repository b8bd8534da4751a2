"""``driftline up`` (a project's processes together) and ``driftline demo`` (the live demo)."""

from __future__ import annotations

import os
import signal
import socket
import uuid
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console

from monitor.errors import ConfigError

__all__ = ["demo", "up"]

#: Exit status when a process of the stack dies, or the demo misses what it shows.
FAILED = 1


def _stop_on_sigterm() -> None:
    """Let SIGTERM (docker stop, systemd) stop the stack as Ctrl-C does."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _local(host: str) -> str:
    """Where this machine reaches a server bound to ``host``."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def up(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Interface every process binds (default DRIFTLINE_HOST).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(help="Port of the monitor's API and dashboard (default DRIFTLINE_PORT)."),
    ] = None,
    sidecar_port: Annotated[int, typer.Option(help="Port of the collector sidecar.")] = 8001,
    serve_port: Annotated[int, typer.Option(help="Port of the inference server.")] = 8080,
    serve: Annotated[
        bool,
        typer.Option(help="Run the inference server for the models with a serving block."),
    ] = True,
) -> None:
    """Run the monitor, the sidecar and the inference server of the project until Ctrl-C."""
    from monitor.cli import user_errors
    from monitor.database import open_database
    from monitor.project import load_project
    from monitor.registration import register_project_models
    from monitor.scheduling.sync import check_monitor_params
    from monitor.serving_workers import process_options
    from monitor.stack import Stack, StackError, project_roles
    from storage import create_session_factory, display_url
    from storage.repositories.tokens import create_token, revoke_token

    console = Console(highlight=False)
    with user_errors():
        overrides = {"host": host} if host is not None else {}
        settings = ctx.obj.settings(**overrides)
        path = settings.resolved_project_file()
        if path is None:
            raise ConfigError(
                "driftline up needs a project file: write ./driftline.yaml "
                "(examples/driftline.yaml shows every key) or pass --project FILE"
            )
        project = load_project(path)
        check_monitor_params(project)
        ports = {"monitor": settings.port if port is None else port, "sidecar": sidecar_port}
        served = serve and any(model.serving is not None for model in project.models)
        if served:
            ports["serve"] = serve_port
        if len(set(ports.values())) != len(ports):
            raise ConfigError(f"the processes need different ports, got {ports}")
        engine = open_database(settings)
        register_project_models(engine, project)
        token_name = None
        tap_token = settings.tap_token.get_secret_value() if settings.tap_token else None
        if served and tap_token is None:  # a token of this run, revoked when it stops
            token_name = f"up-{socket.gethostname()[:40]}-{uuid.uuid4().hex[:8]}"
            with create_session_factory(engine).begin() as session:
                tap_token = create_token(session, name=token_name, scopes=["ingest"]).token

    local = _local(settings.host)
    sidecar_url = f"http://{local}:{ports['sidecar']}"
    env = {
        **os.environ,
        "DRIFTLINE_DATABASE_URL": settings.resolved_database_url(),
        "DRIFTLINE_PROJECT_FILE": str(Path(path).resolve()),
        "DRIFTLINE_DATA_DIR": str(settings.data_dir.resolve()),
        "DRIFTLINE_HOST": settings.host,
        "DRIFTLINE_AUTO_MIGRATE": "false",
    }
    _, grace_seconds = process_options(settings, project)
    roles = project_roles(
        ports, host=local, tap_token=tap_token or "", serve_grace_seconds=grace_seconds
    )
    stack = Stack(roles, log_dir=settings.data_dir / "logs", env=env)
    console.print(f"store    {display_url(engine.url)}", markup=False)
    console.print(f"project  {path}", markup=False)
    _stop_on_sigterm()
    status = 0
    try:
        stack.start()
        console.print(f"[bold]dashboard and API[/bold]  http://{local}:{ports['monitor']}/")
        console.print(f"sidecar (ingest, feedback)  {sidecar_url}/", markup=False)
        if served:
            console.print(f"inference server  http://{local}:{ports['serve']}/v2", markup=False)
        console.print(f"logs  {stack.log_path('monitor').parent}/  ·  Ctrl-C stops everything")
        stack.wait()
    except KeyboardInterrupt:
        console.print("stopping")
    except StackError as error:
        Console(stderr=True, highlight=False).print(f"error: {error}", markup=False)
        status = FAILED
    finally:
        stack.stop()
        if token_name is not None:
            with create_session_factory(engine).begin() as session:
                revoke_token(session, token_name)
        engine.dispose()
    raise typer.Exit(status)


def demo(
    ctx: typer.Context,
    duration: Annotated[
        float,
        typer.Option(
            min=30,
            help="Seconds of replayed traffic (then up to 25 s for the last monitor runs).",
        ),
    ] = 120.0,
    rate: Annotated[
        float, typer.Option(min=10, max=2000, help="Requests per second sent to the server.")
    ] = 60.0,
    seed: Annotated[int | None, typer.Option(help="Seed of the generated data.")] = None,
    summary_json: Annotated[
        Path | None, typer.Option(help="Also write the summary to this JSON file.")
    ] = None,
) -> None:
    """The live demo: a classifier served, its traffic drifting, Driftline finding it.

    Runs in its own store (a fresh SQLite file under <data dir>/demo, unless --database-url
    is given). Exits 0 when every injected problem was found and reported (or on Ctrl-C).
    """
    import orjson

    from monitor.cli import user_errors
    from monitor.demo.run import DemoOptions
    from monitor.demo.view import DemoView
    from monitor.stack import StackError

    with user_errors():  # the demo's own lines, not its library's log, unless asked
        quiet = {} if "log_level" in ctx.obj.overrides else {"log_level": "WARNING"}
        settings = ctx.obj.settings(**quiet)
    options = DemoOptions(
        directory=settings.data_dir / "demo",
        duration_seconds=duration,
        rows_per_second=rate,
        seed=seed,
        database_url=settings.database_url,
    )
    _stop_on_sigterm()
    try:
        summary = DemoView(Console()).run(options)
    except StackError as error:
        Console(stderr=True, highlight=False).print(f"error: {error}", markup=False)
        raise typer.Exit(FAILED) from None
    if summary_json is not None:
        summary_json.write_bytes(orjson.dumps(summary.to_json(), option=orjson.OPT_INDENT_2))
    raise typer.Exit(0 if summary.ok or summary.interrupted else FAILED)
