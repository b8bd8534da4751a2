"""``driftline``: the one command-line entry point for every role.

User mistakes (a bad setting, project file or database URL) print one line on stderr and
exit with status 2; anything else is a bug, logged with its traceback, exit status 1.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from monitor import __version__
from monitor.alerts_cli import alerts_app, silence_app
from monitor.errors import ConfigError
from monitor.learning_cli import learning_app
from monitor.models_cli import models_app, serve, sidecar
from monitor.monitor_cli import backfill, monitor
from monitor.references_cli import references_app
from monitor.stack_cli import demo, up
from monitor.tokens_cli import tokens_app
from monitor.writer_cli import writer

# The settings, the store and the detectors (SQLAlchemy, pydantic, numpy) are imported by
# the commands that use them, so that `driftline --help` and commands that need none of them
# start fast.
if TYPE_CHECKING:
    from monitor.project import Project
    from monitor.settings import Settings

__all__ = ["app", "main"]

logger = logging.getLogger(__name__)

app = typer.Typer(
    name="driftline",
    help="Driftline: model observability and drift monitoring.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Schema migrations of the store.", no_args_is_help=True)
project_app = typer.Typer(help="The project file (driftline.yaml).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(project_app, name="project")
app.add_typer(models_app, name="models")
app.add_typer(learning_app, name="learning")
app.add_typer(tokens_app, name="tokens")
app.add_typer(references_app, name="reference")
app.add_typer(silence_app, name="silence")
app.add_typer(alerts_app, name="alerts")
app.command("serve")(serve)
app.command("sidecar")(sidecar)
app.command("writer")(writer)
app.command("monitor")(monitor)
app.command("backfill")(backfill)
app.command("demo")(demo)
app.command("up")(up)

USER_ERROR = 2


@dataclass(frozen=True)
class _Options:
    """Global options, applied on top of the DRIFTLINE_* environment."""

    overrides: dict[str, Any]

    def settings(self, **more: Any) -> Settings:
        from monitor.logging import configure_logging
        from monitor.settings import load_settings

        settings = load_settings(**{**self.overrides, **more})
        configure_logging(settings.log_level, settings.log_format)
        return settings


def _version(value: bool) -> None:
    if value:
        Console().print(f"driftline {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(help="Database URL (default: DRIFTLINE_DATABASE_URL, else embedded SQLite)."),
    ] = None,
    project: Annotated[
        Path | None,
        typer.Option(help="Project file (default: DRIFTLINE_PROJECT_FILE, else ./driftline.yaml)."),
    ] = None,
    log_level: Annotated[str | None, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    overrides = {
        key: value
        for key, value in {
            "database_url": database_url,
            "project_file": project,
            "log_level": log_level,
        }.items()
        if value is not None
    }
    ctx.obj = _Options(overrides)


#: Where the user mistakes other than :class:`ConfigError` are defined: (module, class).
_USER_ERROR_CLASSES = (("storage.errors", "StorageError"), ("detectors.errors", "DetectorError"))


def _is_user_error(exc: Exception) -> bool:
    """Whether ``exc`` is a configuration, input or database mistake.

    The store's and the detectors' error classes are looked up only among the modules
    already imported: an error of a module never imported cannot have been raised, and
    importing it here would cost every command that needs neither its start-up time.
    """
    if isinstance(exc, ConfigError):
        return True
    for module_name, class_name in _USER_ERROR_CLASSES:
        module = sys.modules.get(module_name)
        if module is not None and isinstance(exc, getattr(module, class_name)):
            return True
    return False


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn configuration, input and database mistakes into one stderr line and exit 2."""
    try:
        yield
    except Exception as exc:
        if not _is_user_error(exc):
            raise
        Console(stderr=True, highlight=False, soft_wrap=True).print(f"error: {exc}", markup=False)
        raise typer.Exit(USER_ERROR) from None


# Commands import their heavy dependencies (sklearn, the migrations) when they run, so
# that `driftline --help` stays fast.
def _engine(ctx: typer.Context, *, migrate: bool | None = None) -> Any:
    from monitor.database import open_database

    return open_database(ctx.obj.settings(), migrate=migrate)


@db_app.command("upgrade")
def db_upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Migrate the schema forward (to the newest revision by default)."""
    from storage import create_engine, display_url
    from storage.migrations import current_revision, upgrade

    with user_errors():
        settings = ctx.obj.settings()
        engine = create_engine(settings.resolved_database_url())
        upgrade(engine, revision)
        Console().print(
            f"{display_url(engine.url)}: schema at revision {current_revision(engine)}",
            markup=False,
        )
        engine.dispose()


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Show the schema revision of the database and the newest one available."""
    from storage import create_engine, display_url
    from storage.migrations import current_revision, head_revision

    with user_errors():
        engine = create_engine(ctx.obj.settings().resolved_database_url())
        current, head = current_revision(engine), head_revision()
        state = "up to date" if current == head else f"behind: newest is {head}"
        Console().print(f"{display_url(engine.url)}: {current or 'empty'} ({state})", markup=False)
        engine.dispose()


@db_app.command("check")
def db_check(ctx: typer.Context) -> None:
    """Check that the database schema matches this Driftline's models (alembic check)."""
    from storage import create_engine, display_url
    from storage.migrations import check

    with user_errors():
        engine = create_engine(ctx.obj.settings().resolved_database_url())
        try:
            check(engine)
        finally:
            engine.dispose()
        Console().print(f"{display_url(engine.url)}: schema matches the models", markup=False)


@db_app.command("downgrade")
def db_downgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision; 'base' removes every table.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm that data may be lost.")] = False,
) -> None:
    """Migrate the schema back to REVISION. Tables and data added since are dropped."""
    from storage import create_engine, display_url
    from storage.migrations import current_revision, downgrade

    with user_errors():
        if not yes:
            raise ConfigError(
                f"downgrading to {revision!r} drops the tables and data added since: "
                "add --yes to confirm"
            )
        engine = create_engine(ctx.obj.settings().resolved_database_url())
        downgrade(engine, revision)
        current = current_revision(engine) or "empty"
        Console().print(f"{display_url(engine.url)}: schema at {current}", markup=False)
        engine.dispose()


@db_app.command("prune")
def db_prune(
    ctx: typer.Context,
    older_than: Annotated[
        str | None,
        typer.Option(
            help="Delete records older than this, e.g. 30d or 12h "
            "(default: DRIFTLINE_RETENTION_DAYS days)."
        ),
    ] = None,
    model: Annotated[str | None, typer.Option(help="Prune only this model.")] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(min=1, help="Rows per transaction (default: DRIFTLINE_RETENTION_BATCH_SIZE)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be deleted; delete nothing.")
    ] = False,
    exact: Annotated[
        bool,
        typer.Option(
            "--exact",
            help="On partitioned PostgreSQL, delete rows up to the cutoff instead of "
            "dropping only whole partitions.",
        ),
    ] = False,
) -> None:
    """Delete prediction records older than a cutoff, and the labels no record joins any more."""
    from monitor.database import open_database
    from monitor.prune_command import prune_cutoff, run_prune
    from storage.types import utc_now

    with user_errors():
        settings = ctx.obj.settings()
        cutoff = prune_cutoff(older_than, settings, now=utc_now())
        if cutoff is None:
            Console(highlight=False, soft_wrap=True).print(
                "retention is off (DRIFTLINE_RETENTION_DAYS is empty): nothing pruned; "
                "pass --older-than to prune anyway",
                markup=False,
            )
            return
        engine = open_database(settings)
        try:
            summary = run_prune(
                engine,
                cutoff=cutoff,
                model_name=model,
                batch_size=batch_size or settings.retention_batch_size,
                dry_run=dry_run,
                exact=exact,
            )
        finally:
            engine.dispose()
    Console(highlight=False, soft_wrap=True).print(summary, markup=False)


def _load_project(ctx: typer.Context, file: Path | None) -> tuple[Path, Project]:
    from monitor.project import load_project

    path = file or ctx.obj.settings().resolved_project_file()
    if path is None:
        raise ConfigError(
            "no project file: pass one, set DRIFTLINE_PROJECT_FILE, or create ./driftline.yaml"
        )
    return path, load_project(path)


@project_app.command("check")
def project_check(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(help="Project file.")] = None,
) -> None:
    """Validate the project file (monitor params included) and list what it declares."""
    from monitor.scheduling.sync import check_monitor_params

    with user_errors():
        path, project = _load_project(ctx, file)
        check_monitor_params(project)
    table = Table(title=f"{path}: valid")
    for column in ("section", "count", "names"):
        table.add_column(column)
    for section in ("models", "monitors", "alert_rules", "channels"):
        items = getattr(project, section)
        table.add_row(section, str(len(items)), ", ".join(item.name for item in items))
    Console().print(table)


@project_app.command("sync")
def project_sync(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(help="Project file.")] = None,
) -> None:
    """Register the project's models and versions in the store (idempotent)."""
    from monitor.registration import register_project_models

    with user_errors():
        _, project = _load_project(ctx, file)
        engine = _engine(ctx)
        try:
            handles = register_project_models(engine, project)
        finally:
            engine.dispose()
    names = ", ".join(f"{h.model_name} v{h.version}" for h in handles) or "none"
    Console().print(f"registered models: {names}", markup=False)


@app.command("check")
def check_files(
    reference: Annotated[
        Path, typer.Argument(help="Reference data: .csv, .csv.gz, .parquet or .pq.")
    ],
    current: Annotated[Path, typer.Argument(help="Current data, in the same formats.")],
    output_format: Annotated[
        str, typer.Option("--format", help="table, json or html (Evidently's report).")
    ] = "table",
    columns: Annotated[str | None, typer.Option(help="Check only these columns: a,b,c.")] = None,
    output: Annotated[
        Path | None, typer.Option(help="Write the report here (html: drift-report.html).")
    ] = None,
    policy: Annotated[str, typer.Option(help="Test choice: driftline or evidently.")] = "driftline",
    correction: Annotated[
        str, typer.Option(help="Multiple-testing correction: bh, bonferroni, by or none.")
    ] = "bh",
    drift_share: Annotated[
        float, typer.Option(help="Share of drifted columns at which the dataset drifts.")
    ] = 0.5,
    categorical: Annotated[str | None, typer.Option(help="Columns tested as categories.")] = None,
    numeric: Annotated[str | None, typer.Option(help="Columns tested as numbers.")] = None,
    sample_limit: Annotated[
        int | None,
        typer.Option(help="Test a uniform sample of at most this many rows a side (default: all)."),
    ] = None,
    multivariate: Annotated[
        bool,
        typer.Option(
            "--multivariate", help="Also test all columns together (domain classifier, AUC)."
        ),
    ] = False,
    text: Annotated[
        list[str] | None,
        typer.Option("--text", help="Test this column as text (repeatable, or a,b)."),
    ] = None,
) -> None:
    """Compare two data files column by column; exit 0 no drift, 1 drift, 2 error."""
    from monitor.check_command import CheckOptions, parse_names, run_check

    with user_errors():
        status = run_check(
            CheckOptions(
                reference=reference,
                current=current,
                output_format=output_format,
                columns=parse_names(columns),
                output=output,
                policy=policy,
                correction=correction,
                drift_share=drift_share,
                categorical=parse_names(categorical) or (),
                numeric=parse_names(numeric) or (),
                sample_limit=sample_limit,
                multivariate=multivariate,
                text=tuple(name for value in text or () for name in parse_names(value) or ()),
            )
        )
    raise typer.Exit(status)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted")
        sys.exit(130)
    except Exception:
        logger.exception("driftline failed unexpectedly; this is a bug, please report it")
        sys.exit(1)
