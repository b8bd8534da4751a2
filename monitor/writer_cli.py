"""The ``driftline writer`` command (its work is in :mod:`monitor.writer_setup`)."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["writer"]


def writer(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port of /healthz, /readyz and /metrics.")] = 8003,
    workers: Annotated[
        int,
        typer.Option(min=1, max=64, help="Consumer threads; run more processes for more CPU."),
    ] = 2,
) -> None:
    """Store the batches sidecars publish to NATS JetStream (transport: jetstream)."""
    from monitor.cli import user_errors
    from monitor.project import load_project
    from monitor.writer_setup import run_writer

    with user_errors():
        settings = ctx.obj.settings()
        path = settings.resolved_project_file()
        project = load_project(path) if path is not None else None
        run_writer(settings, project, path, port=port, workers=workers)
