"""Tests of the ``driftline`` console script, run as a real process.

Every run gets an empty working directory (``tmp_path``), an environment without any
``DRIFTLINE_*`` variable from the outer shell, no stdin and a timeout. The terminal is
pinned to a known width so rich's output does not depend on the machine running the tests.

What only the command's own checks decide (help screens, user mistakes) runs in this
process instead (:func:`driftline_in_process`), under the same working directory and
environment, without the second or so each process spends starting.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import subprocess
import sys
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

import monitor
from monitor.cli import app
from storage import create_engine, create_session_factory, get_model_version, sqlite_url
from storage.migrations import current_revision
from storage.models import Model, ModelVersion
from storage.schema import FeatureSpec
from storage.types import FeatureKind, Task

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DRIFTLINE = Path(sys.executable).with_name("driftline")
EXAMPLE_PROJECT = REPO / "examples" / "driftline.yaml"
HEAD = str(ScriptDirectory(str(REPO / "alembic")).get_current_head())
TIMEOUT_SECONDS = 60
WIDE_TERMINAL = "200"
# Variables that would make rich emit colours or change its width whatever the output is.
_TERMINAL_VARIABLES = ("COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")
# The values the example project's ${NAME} references need to validate.
EXAMPLE_ENVIRONMENT = {
    "SLACK_WEBHOOK_URL": "https://hooks.slack.example.com/services/T000/B000/XXXX",
    "PAGERDUTY_ROUTING_KEY": "0123456789abcdef0123456789abcdef",
    "SMTP_PASSWORD": "smtp-pa55word-for-tests",
    "RETRAIN_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
}


@dataclass(frozen=True)
class Run:
    """What one ``driftline`` process did."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def transcript(self) -> str:
        """The command, its status and both streams, for assertion messages."""
        return (
            f"driftline {' '.join(self.args)} exited {self.returncode}\n"
            f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"
        )


def driftline(
    cwd: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> Run:
    """Run the installed console script in ``cwd`` with a controlled environment."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith("DRIFTLINE_") and name not in _TERMINAL_VARIABLES
    }
    environment.update({"COLUMNS": WIDE_TERMINAL, "NO_COLOR": "1"})
    environment.update(env or {})
    completed = subprocess.run(
        [str(DRIFTLINE), *args],
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(tuple(args), completed.returncode, completed.stdout, completed.stderr)


#: The loggers whose handlers or levels the CLI sets (see :mod:`monitor.logging`).
_CLI_LOGGERS = ("", "sqlalchemy", "alembic", "httpx", "httpcore")


@contextlib.contextmanager
def _logging_kept() -> Iterator[None]:
    """Give the loggers back the handlers and levels they had before the CLI set its own."""
    loggers = [logging.getLogger(name) for name in _CLI_LOGGERS]
    saved = [(logger, logger.handlers[:], logger.level) for logger in loggers]
    try:
        yield
    finally:
        for logger, handlers, level in saved:
            logger.handlers[:] = handlers
            logger.setLevel(level)


def driftline_in_process(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> Run:
    """Run ``driftline`` in this process (typer's test runner), as :func:`driftline` would.

    Same working directory, environment and terminal width; what the process would print as
    a traceback (a bug) is appended to stderr, with exit status 1.
    """
    environment: dict[str, str | None] = {
        name: None
        for name in os.environ
        if name.upper().startswith("DRIFTLINE_") or name in _TERMINAL_VARIABLES
    }
    environment.update({"COLUMNS": WIDE_TERMINAL, "NO_COLOR": "1"})
    environment.update(env or {})
    with _logging_kept(), contextlib.chdir(cwd):
        result = CliRunner().invoke(app, list(args), env=environment)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return Run(tuple(args), result.exit_code, result.stdout, stderr)


def assert_ok(run: Run) -> None:
    assert run.returncode == 0, run.transcript
    assert "Traceback" not in run.stderr, run.transcript


def assert_user_error(run: Run) -> str:
    """Exit status 2, one ``error:`` line on stderr, nothing else; returns that line."""
    assert run.returncode == 2, run.transcript
    assert "Traceback" not in run.stderr, run.transcript
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.transcript
    assert lines[0].startswith("error: "), run.transcript
    return lines[0]


def listed_commands(help_text: str) -> set[str]:
    """The first word of each line of the ``Commands`` panel of a help screen."""
    panel = help_text.partition("Commands")[2]
    return {
        match.group(1)
        for line in panel.splitlines()
        if (match := re.match(r"^[\s│|]*([a-z][a-z-]*)\s{2,}\S", line))
    }


def schema_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


# --- help and version ----------------------------------------------------------------------


#: Command groups and commands of ``driftline --help``, which each test module lists.
TOP_LEVEL_COMMANDS = {"db", "project", "demo", "tokens", "reference", "silence", "alerts"}


def test_help_lists_the_commands(tmp_path: Path) -> None:
    top = driftline(tmp_path, "--help")  # the installed console script, as a process
    db = driftline_in_process(tmp_path, "db", "--help")

    assert_ok(top)
    assert listed_commands(top.stdout) >= TOP_LEVEL_COMMANDS, top.transcript
    assert_ok(db)
    assert {"upgrade", "current", "check", "downgrade"} <= listed_commands(db.stdout), db.transcript


def test_version(tmp_path: Path) -> None:
    run = driftline_in_process(tmp_path, "--version")

    assert_ok(run)
    assert run.stdout.strip() == f"driftline {monitor.__version__}", run.transcript
    assert not (tmp_path / ".driftline").exists()  # --version touches no database


# --- db upgrade / current / downgrade --------------------------------------------------------


def test_db_commands_on_the_embedded_sqlite_default(tmp_path: Path) -> None:
    database = tmp_path / ".driftline" / "driftline.db"

    upgrade = driftline(tmp_path, "db", "upgrade")
    assert_ok(upgrade)
    assert database.is_file(), upgrade.transcript
    assert f"revision {HEAD}" in upgrade.stdout, upgrade.transcript
    assert str(database) in upgrade.stdout, upgrade.transcript
    url = sqlite_url(database)
    assert schema_revision(url) == HEAD

    current = driftline(tmp_path, "db", "current")
    assert_ok(current)
    assert HEAD in current.stdout, current.transcript
    assert "up to date" in current.stdout, current.transcript

    checked = driftline(tmp_path, "db", "check")
    assert_ok(checked)
    assert "schema matches the models" in checked.stdout, checked.transcript
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("DROP INDEX ix_prediction_records_model_time"))
    finally:
        engine.dispose()
    drifted = driftline_in_process(tmp_path, "db", "check")
    assert "ix_prediction_records_model_time" in assert_user_error(drifted)
    broken = driftline(tmp_path, "db", "downgrade", "base", "--yes")
    assert "ix_prediction_records_model_time" in assert_user_error(broken)
    # The failed downgrade is rolled back whole: DDL is transactional on SQLite too.
    assert schema_revision(url) == HEAD
    engine = create_engine(url)
    try:
        assert "deliveries" in sa.inspect(engine).get_table_names()
        assert "ix_deliveries_status_next" in {
            index["name"] for index in sa.inspect(engine).get_indexes("deliveries")
        }
    finally:
        engine.dispose()
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "CREATE INDEX ix_prediction_records_model_time "
                    "ON prediction_records (model_id, timestamp_us)"
                )
            )
    finally:
        engine.dispose()

    refused = driftline_in_process(tmp_path, "db", "downgrade", "base")
    line = assert_user_error(refused)
    assert "--yes" in line
    assert schema_revision(url) == HEAD  # nothing was dropped

    downgrade = driftline(tmp_path, "db", "downgrade", "base", "--yes")
    assert_ok(downgrade)
    assert schema_revision(url) is None
    engine = create_engine(url)
    try:
        assert sa.inspect(engine).get_table_names() == ["alembic_version"]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_db_commands_on_postgresql(tmp_path: Path, fresh_postgres_url: str) -> None:
    """The URL reaches each command by the option and by the environment, alternately."""
    option = ("--database-url", fresh_postgres_url)
    environment = {"DRIFTLINE_DATABASE_URL": fresh_postgres_url}

    assert schema_revision(fresh_postgres_url) is None

    upgrade = driftline(tmp_path, *option, "db", "upgrade")
    assert_ok(upgrade)
    assert f"revision {HEAD}" in upgrade.stdout, upgrade.transcript
    assert schema_revision(fresh_postgres_url) == HEAD

    current = driftline(tmp_path, "db", "current", env=environment)
    assert_ok(current)
    assert HEAD in current.stdout, current.transcript
    assert "up to date" in current.stdout, current.transcript

    line = assert_user_error(driftline_in_process(tmp_path, *option, "db", "downgrade", "base"))
    assert "--yes" in line
    assert schema_revision(fresh_postgres_url) == HEAD

    assert_ok(driftline(tmp_path, "db", "downgrade", "base", "--yes", env=environment))
    assert schema_revision(fresh_postgres_url) is None
    assert not (tmp_path / ".driftline").exists()  # the embedded default was never used


# --- user errors: one line on stderr, exit status 2 -------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("not a url", "not a url", id="unparseable"),
        pytest.param("mysql://u@h/db", "mysql", id="unsupported-scheme"),
        pytest.param("postgresql://u:s3cret@127.0.0.1:1/x", "127.0.0.1:1", id="unreachable"),
    ],
)
def test_a_wrong_database_url_is_one_line(tmp_path: Path, url: str, expected: str) -> None:
    run = driftline_in_process(tmp_path, "--database-url", url, "db", "upgrade")

    line = assert_user_error(run)
    assert expected in line
    assert run.stdout == "", run.transcript
    assert "s3cret" not in run.stdout + run.stderr
    assert not (tmp_path / ".driftline").exists()


def test_a_wrong_database_url_from_the_environment_is_one_line(tmp_path: Path) -> None:
    url = "postgresql://u:s3cret@127.0.0.1:1/x"
    run = driftline_in_process(tmp_path, "db", "current", env={"DRIFTLINE_DATABASE_URL": url})

    assert "127.0.0.1:1" in assert_user_error(run)
    assert "s3cret" not in run.stdout + run.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "version: 1\nmodels:\n  - name: a\n     task: regression\n",
            r"(:4:|line 4\b)",
            id="yaml-syntax",
        ),
        pytest.param(
            "version: 1\nmodels:\n  - name: a\n    task: regression\n    colour: red\n",
            r"models\[0\]\.colour",
            id="unknown-key",
        ),
    ],
)
def test_a_malformed_project_file_is_one_line(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "project.yaml").write_text(text, encoding="utf-8")

    line = assert_user_error(driftline_in_process(tmp_path, "project", "check", "project.yaml"))

    assert "project.yaml" in line
    assert re.search(expected, line), line


def test_a_missing_project_file_is_one_line(tmp_path: Path) -> None:
    line = assert_user_error(driftline_in_process(tmp_path, "project", "check", "absent.yaml"))

    assert "absent.yaml" in line
    assert "not found" in line


@pytest.mark.parametrize(
    ("variable", "value"),
    [("DRIFTLINE_PORT", "abc"), ("DRIFTLINE_PORT", "70000"), ("DRIFTLINE_LOG_LEVEL", "verbose")],
)
def test_a_bad_setting_is_one_line(tmp_path: Path, variable: str, value: str) -> None:
    run = driftline_in_process(tmp_path, "db", "current", env={variable: value})

    line = assert_user_error(run)
    assert line.startswith(f"error: {variable}"), line
    assert repr(value) in line
    assert not (tmp_path / ".driftline").exists()


# --- project check / sync ---------------------------------------------------------------------


def example_project(directory: Path) -> Path:
    """Copy the example project into ``directory``; check it needs what we provide."""
    text = EXAMPLE_PROJECT.read_text(encoding="utf-8")
    values = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    referenced = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", "\n".join(values)))
    assert referenced == set(EXAMPLE_ENVIRONMENT), "update EXAMPLE_ENVIRONMENT for the example"
    return Path(shutil.copy(EXAMPLE_PROJECT, directory / "driftline.yaml"))


def test_project_check_lists_the_example_models(tmp_path: Path) -> None:
    example_project(tmp_path)

    run = driftline(tmp_path, "project", "check", "driftline.yaml", env=EXAMPLE_ENVIRONMENT)

    assert_ok(run)
    assert "valid" in run.stdout, run.transcript
    for name in ("credit-risk", "house-price", "credit-data-drift", "risk-slack"):
        assert name in run.stdout, run.transcript
    for secret in EXAMPLE_ENVIRONMENT.values():
        assert secret not in run.stdout + run.stderr


def test_project_check_without_the_environment_names_the_variable(tmp_path: Path) -> None:
    example_project(tmp_path)

    line = assert_user_error(driftline_in_process(tmp_path, "project", "check", "driftline.yaml"))

    assert "SLACK_WEBHOOK_URL" in line


def test_project_sync_registers_the_example_models(tmp_path: Path, database_url: str) -> None:
    example_project(tmp_path)
    args = ("--database-url", database_url, "project", "sync", "driftline.yaml")

    first = driftline(tmp_path, *args, env=EXAMPLE_ENVIRONMENT)
    second = driftline(tmp_path, *args, env=EXAMPLE_ENVIRONMENT)

    assert_ok(first)
    assert "credit-risk" in first.stdout, first.transcript
    assert_ok(second)
    engine = create_engine(database_url)
    try:
        with create_session_factory(engine)() as session:
            credit = get_model_version(session, "credit-risk")
            house = get_model_version(session, "house-price")
            models = session.scalar(sa.select(sa.func.count()).select_from(Model))
            versions = session.scalar(sa.select(sa.func.count()).select_from(ModelVersion))
    finally:
        engine.dispose()
    assert (credit.version, credit.task, credit.classes) == (
        "2026.10",
        Task.BINARY_CLASSIFICATION,
        ("good", "bad"),
    )
    assert credit.schema.features == (
        FeatureSpec("age", FeatureKind.NUMERIC),
        FeatureSpec("income", FeatureKind.NUMERIC),
        FeatureSpec("country", FeatureKind.CATEGORICAL),
        FeatureSpec("application_note", FeatureKind.TEXT),
        FeatureSpec("applicant_embedding", FeatureKind.EMBEDDING, 384),
    )
    assert (house.version, house.task, house.classes) == ("7", Task.REGRESSION, ())
    assert [f.name for f in house.schema.features] == ["surface_m2", "rooms", "district"]
    assert (models, versions) == (2, 2)  # the second sync added nothing


# --- demo -------------------------------------------------------------------------------------


def test_demo_refuses_a_replay_too_short_to_show_anything(tmp_path: Path) -> None:
    """The demo itself runs end to end in tests/e2e/test_demo.py."""
    run = driftline_in_process(tmp_path, "demo", "--duration", "10")

    assert run.returncode == 2
    assert "Invalid value for '--duration'" in run.stderr
    assert "greater than or equal to 30" in run.stderr
