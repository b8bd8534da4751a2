"""Tests of :mod:`monitor.settings`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

import monitor.settings
from monitor.errors import ConfigError, SettingsError
from monitor.settings import Settings, load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No DRIFTLINE_* variable from the outer environment, and an empty working directory."""
    for name in list(os.environ):
        if name.upper().startswith("DRIFTLINE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings()

    assert settings.database_url is None
    assert settings.data_dir == tmp_path.resolve() / ".driftline"
    assert settings.project_file is None
    assert settings.auto_migrate is True
    assert settings.log_level == "INFO"
    assert settings.log_format == "text"
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DRIFTLINE_DATABASE_URL", "postgresql+psycopg://u:pw@db/driftline")
    monkeypatch.setenv("DRIFTLINE_DATA_DIR", "state")
    monkeypatch.setenv("DRIFTLINE_PROJECT_FILE", "conf/project.yaml")
    monkeypatch.setenv("DRIFTLINE_AUTO_MIGRATE", "false")
    monkeypatch.setenv("DRIFTLINE_LOG_LEVEL", "warning")
    monkeypatch.setenv("DRIFTLINE_LOG_FORMAT", "JSON")
    monkeypatch.setenv("DRIFTLINE_HOST", "0.0.0.0")
    monkeypatch.setenv("DRIFTLINE_PORT", "9100")

    settings = load_settings()

    assert settings.database_url == "postgresql+psycopg://u:pw@db/driftline"
    assert settings.data_dir == tmp_path.resolve() / "state"
    assert settings.project_file == tmp_path.resolve() / "conf" / "project.yaml"
    assert settings.auto_migrate is False
    assert settings.log_level == "WARNING"
    assert settings.log_format == "json"
    assert settings.host == "0.0.0.0"
    assert settings.port == 9100


def test_overrides_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLINE_PORT", "9100")

    assert load_settings(port=9200).port == 9200


def test_default_database_is_sqlite_in_absolute_data_dir(tmp_path: Path) -> None:
    settings = load_settings()

    expected = (tmp_path.resolve() / ".driftline" / "driftline.db").as_posix()
    assert settings.resolved_database_url() == f"sqlite:///{expected}"
    assert settings.resolved_database_url().startswith("sqlite:////")


def test_data_dir_is_resolved_when_settings_are_built(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    monkeypatch.chdir(first)
    settings = load_settings()
    monkeypatch.chdir(second)

    assert settings.data_dir == first.resolve() / ".driftline"
    assert load_settings().data_dir == second.resolve() / ".driftline"


def test_explicit_database_url_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLINE_DATABASE_URL", "sqlite:////var/lib/driftline.db")

    assert load_settings().resolved_database_url() == "sqlite:////var/lib/driftline.db"


def test_empty_database_url_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLINE_DATABASE_URL", "")

    assert load_settings().database_url is None


def test_database_url_is_not_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLINE_DATABASE_URL", "postgresql://driftline:hunter2@db/driftline")
    settings = load_settings()

    assert "hunter2" not in repr(settings)
    assert "database_url=" not in repr(settings)
    assert "hunter2" not in str(settings)


def test_project_file_defaults_to_driftline_yaml_in_cwd(tmp_path: Path) -> None:
    assert load_settings().resolved_project_file() is None

    (tmp_path / "driftline.yaml").write_text("version: 1\n", encoding="utf-8")

    assert load_settings().resolved_project_file() == tmp_path.resolve() / "driftline.yaml"


def test_explicit_project_file_is_returned_even_if_missing(tmp_path: Path) -> None:
    settings = load_settings(project_file="other.yaml")

    assert settings.resolved_project_file() == tmp_path.resolve() / "other.yaml"


@pytest.mark.parametrize("value", ["abc", "0", "65536", "-1", "80.5"])
def test_invalid_port_names_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("DRIFTLINE_PORT", value)

    with pytest.raises(SettingsError) as info:
        load_settings()

    assert str(info.value) == (
        f"DRIFTLINE_PORT: must be an integer between 1 and 65535, got {value!r}"
    )
    assert info.value.env_var == "DRIFTLINE_PORT"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        (
            "DRIFTLINE_LOG_LEVEL",
            "verbose",
            "must be one of DEBUG, INFO, WARNING, ERROR, got 'verbose'",
        ),
        ("DRIFTLINE_LOG_FORMAT", "xml", "must be one of text, json, got 'xml'"),
        (
            "DRIFTLINE_AUTO_MIGRATE",
            "maybe",
            "must be a boolean (true/false, 1/0, yes/no, on/off), got 'maybe'",
        ),
    ],
)
def test_invalid_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError) as info:
        load_settings()

    assert str(info.value) == f"{name}: {expected}"


def test_several_errors_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLINE_LOG_FORMAT", "xml")
    monkeypatch.setenv("DRIFTLINE_PORT", "abc")

    with pytest.raises(SettingsError) as info:
        load_settings()

    assert (
        str(info.value)
        == "DRIFTLINE_LOG_FORMAT: must be one of text, json, got 'xml' (and 1 more error)"
    )


def test_invalid_override_names_the_field() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(port=0)

    assert str(info.value) == "port: must be an integer between 1 and 65535, got 0"


def test_database_url_value_is_never_echoed() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(database_url=["postgresql://driftline:hunter2@db/x"])

    assert str(info.value) == "database_url: must be a SQLAlchemy database URL"


def test_settings_error_is_a_config_error_and_value_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLINE_PORT", "abc")

    with pytest.raises(SettingsError) as info:
        load_settings()

    assert isinstance(info.value, ConfigError)
    assert isinstance(info.value, ValueError)
    assert info.value.__context__ is None or info.value.__suppress_context__


def test_settings_are_frozen() -> None:
    settings = load_settings()

    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]


def test_no_settings_instance_at_module_level() -> None:
    assert not any(isinstance(value, Settings) for value in vars(monitor.settings).values())


def test_unknown_override_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match=r"unknown settings \['prot'\]"):
        load_settings(prot=9000)


def test_fields_are_documented() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DRIFTLINE_MONITOR_WORKERS", "0", "an integer between 1 and 64, got '0'"),
        ("DRIFTLINE_MONITOR_SETTLE_SECONDS", "-1", "a number of seconds of at least 0"),
        ("DRIFTLINE_LEADER_POLL_SECONDS", "0", "a number of seconds above 0"),
        ("DRIFTLINE_API_AUTH", "maybe", "a boolean"),
    ],
)
def test_scheduler_settings_say_what_they_expect(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert str(caught.value).startswith(f"{variable}: must be")
    assert expected in str(caught.value)
