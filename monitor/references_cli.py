"""``driftline reference upload | list | delete``: reference datasets of a model.

``upload`` reads a CSV or Parquet file, checks it against the model version's feature
schema and stores it normalised as Parquet; a progress bar on stderr (terminals only)
follows the steps. See :mod:`monitor.reference_validation` for what a file may hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.filesize import decimal
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine

    from monitor.references import PreparedReference
    from storage.repositories.references import ReferenceInfo

__all__ = ["references_app"]

references_app = typer.Typer(
    help="Reference datasets (such as the training set) that monitors compare with.",
    no_args_is_help=True,
)

_STEPS = ("reading", "validating", "storing")
_SHA_SHOWN = 12


@references_app.command("upload")
def upload(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Name of a registered model.")],
    file: Annotated[Path, typer.Argument(help="Data: .csv, .csv.gz, .parquet or .pq.")],
    name: Annotated[str, typer.Option(help="Name of the reference, unique per model.")] = (
        "training"
    ),
    version: Annotated[
        str | None, typer.Option(help="Model version to check against (default: the newest).")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite a reference of the same name.")
    ] = False,
) -> None:
    """Check a data file against the model's schema and store it as a reference."""
    from monitor.cli import user_errors
    from monitor.references import check_name, prepare_upload, store_reference
    from storage.errors import ConflictError

    with user_errors():
        check_name(name)
        engine = _engine(ctx)
        try:
            with _progress() as step:
                prepared = prepare_upload(engine, model, file, version=version, on_step=step)
                step("storing")
                try:
                    info = store_reference(engine, prepared, name=name, replace=replace)
                except ConflictError:
                    raise _conflict(engine, model, name) from None
        finally:
            engine.dispose()
    _print_uploaded(info, prepared)


@references_app.command("list")
def list_command(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Name of a registered model.")],
) -> None:
    """List a model's reference datasets."""
    from monitor.cli import user_errors
    from storage.repositories.references import list_references

    with user_errors():
        engine = _engine(ctx)
        try:
            references = list_references(engine, model)
        finally:
            engine.dispose()
    console = Console(highlight=False, soft_wrap=True)
    if not references:
        console.print(
            f"model {model!r} has no reference datasets; upload one with "
            f"'driftline reference upload {model} FILE'",
            markup=False,
        )
        return
    table = Table(title=f"reference datasets of model {model!r} (times in UTC)")
    table.add_column("name", overflow="fold")
    table.add_column("version", overflow="fold")
    for column in ("rows", "size"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("sha256", no_wrap=True)
    table.add_column("uploaded", no_wrap=True)
    for info in references:
        table.add_row(
            info.name,
            info.version or "(deleted)",
            f"{info.row_count:,}",
            decimal(info.size_bytes),
            f"{info.sha256[:_SHA_SHOWN]}…",
            info.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    Console(highlight=False).print(table)


@references_app.command("delete")
def delete(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Name of a registered model.")],
    name: Annotated[str, typer.Argument(help="Name of the reference dataset.")],
) -> None:
    """Delete a reference dataset."""
    from monitor.cli import user_errors
    from storage.repositories.references import delete_reference

    with user_errors():
        engine = _engine(ctx)
        try:
            delete_reference(engine, model, name)
        finally:
            engine.dispose()
    Console(highlight=False).print(
        f"deleted reference dataset {name!r} of model {model!r}", markup=False
    )


def _conflict(engine: Engine, model: str, name: str) -> Exception:
    """The store's conflict, worded with this command's options."""
    from storage.errors import ConflictError
    from storage.repositories.references import get_reference

    existing = get_reference(engine, model, name)
    return ConflictError(
        f"model {model!r} already has a reference dataset {name!r} "
        f"({existing.row_count:,} rows, sha256 {existing.sha256[:_SHA_SHOWN]}, uploaded "
        f"{existing.created_at:%Y-%m-%d %H:%M} UTC): add --replace to overwrite it, "
        "or choose another --name"
    )


def _engine(ctx: typer.Context) -> Engine:
    from monitor.database import open_database

    return open_database(ctx.obj.settings())


@contextmanager
def _progress() -> Iterator[Callable[[str], None]]:
    """A progress bar over the upload's steps on stderr; yields ``step(description)``."""
    stderr = Console(stderr=True)
    columns = (
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=stderr, transient=True, disable=not stderr.is_terminal) as bar:
        task = bar.add_task(_STEPS[0], total=len(_STEPS))

        def step(description: str) -> None:
            done = _STEPS.index(description) if description in _STEPS else 0
            bar.update(task, completed=done, description=description)

        yield step
        bar.update(task, completed=len(_STEPS), description="stored")


def _print_uploaded(info: ReferenceInfo, prepared: PreparedReference) -> None:
    console = Console(highlight=False, soft_wrap=True)
    console.print(
        f"stored reference dataset {info.name!r} of model {info.model_name!r} "
        f"(version {info.version}): {info.row_count:,} rows, "
        f"sha256 {info.sha256[:_SHA_SHOWN]}, {decimal(info.size_bytes)}",
        markup=False,
    )
    found = [
        f"labels (column {prepared.label_column!r})" if prepared.has_labels else "no labels",
        "predictions" if prepared.has_predictions else "no predictions",
    ]
    if prepared.has_probabilities:
        found.append("class probabilities")
    console.print(f"found: every feature, {', '.join(found)}", markup=False)
    if prepared.ignored_columns:
        ignored = ", ".join(repr(name) for name in prepared.ignored_columns)
        console.print(f"ignored columns: {ignored}", markup=False)
