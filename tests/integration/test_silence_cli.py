"""``driftline silence add | list | expire`` and ``driftline alerts list``: real processes.

Mistakes the commands refuse with one line run in this process (``driftline_in_process``).
"""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from storage import create_engine
from storage.repositories.alerting import (
    AlertRow,
    RuleDraft,
    SilenceRow,
    list_silences,
    rule_ids,
    save_alert,
    sync_alerting,
)
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
T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def run(cwd: Path, url: str, *args: str) -> Run:
    return driftline(cwd, "--database-url", url, *args, env=QUIET)


def stored(url: str) -> list[SilenceRow]:
    engine = create_engine(url)
    try:
        return list_silences(engine, now=utc_now(), include_expired=True)
    finally:
        engine.dispose()


def table_rows(output: str) -> dict[str, list[str]]:
    """The cells of each row of a rich table, by its first cell (the id)."""
    rows: dict[str, list[str]] = {}
    for line in output.splitlines():
        line = line.strip()
        if not (line.startswith("│") and line.endswith("│")):
            continue
        cells = [cell.strip() for cell in line[1:-1].split("│")]
        if cells[0].isdigit():
            rows[cells[0]] = cells
    return rows


def test_help_lists_the_commands(tmp_path: Path) -> None:
    top = driftline_in_process(tmp_path, "--help")
    silence = driftline_in_process(tmp_path, "silence", "--help")
    alerts = driftline_in_process(tmp_path, "alerts", "--help")

    assert_ok(top)
    assert {"silence", "alerts"} <= listed_commands(top.stdout), top.transcript
    assert listed_commands(silence.stdout) == {"add", "list", "expire"}, silence.transcript
    assert listed_commands(alerts.stdout) == {"list"}, alerts.transcript


def test_add_list_expire(tmp_path: Path, database_url: str) -> None:
    before = utc_now()
    added = run(
        tmp_path,
        database_url,
        "silence",
        "add",
        "model=churn",
        'severity=~"warn.*"',
        "--duration",
        "2h",
        "--comment",
        "retraining churn",
    )
    assert_ok(added)
    [silence_id] = added.stdout.split()  # the id alone on stdout, for $(...)
    assert added.stderr.startswith(f"silence {silence_id} active until "), added.transcript
    assert 'mutes alerts matching model="churn", severity=~"warn.*"' in added.stderr
    [row] = stored(database_url)
    assert row.id == int(silence_id)
    assert row.matchers == [
        {"name": "model", "op": "=", "value": "churn"},
        {"name": "severity", "op": "=~", "value": "warn.*"},
    ]
    assert before <= row.starts_at <= utc_now()
    assert row.ends_at - row.starts_at == dt.timedelta(hours=2)
    assert (row.created_by, row.comment, row.expired_at) == (
        getpass.getuser(),
        "retraining churn",
        None,
    )

    listed = run(tmp_path, database_url, "silence", "list")
    assert_ok(listed)
    cells = table_rows(listed.stdout)[silence_id]
    assert cells == [
        silence_id,
        'model="churn", severity=~"warn.*"',
        "active",
        row.starts_at.strftime("%Y-%m-%d %H:%M"),
        row.ends_at.strftime("%Y-%m-%d %H:%M"),
        getpass.getuser(),
        "retraining churn",
    ], listed.transcript

    expired = run(tmp_path, database_url, "silence", "expire", silence_id)
    assert_ok(expired)
    assert expired.stdout.strip() == f"expired silence {silence_id}", expired.transcript
    [row] = stored(database_url)
    assert row.expired_at is not None

    after = run(tmp_path, database_url, "silence", "list")
    assert_ok(after)
    assert after.stdout.strip() == "no silences (--all shows expired ones)", after.transcript
    everything = run(tmp_path, database_url, "silence", "list", "--all")
    assert table_rows(everything.stdout)[silence_id][2] == "expired", everything.transcript

    again = run(tmp_path, database_url, "silence", "expire", silence_id)
    assert_ok(again)
    assert f"silence {silence_id} was already expired" in again.stdout, again.transcript
    assert stored(database_url)[0].expired_at == row.expired_at


def test_add_until_an_instant_by_someone(tmp_path: Path, database_url: str) -> None:
    added = run(
        tmp_path,
        database_url,
        "silence",
        "add",
        'model=credit,team!~"ml|data"',
        "--until",
        "2031-01-01T06:00:00+02:00",
        "--comment",
        "maintenance",
        "--by",
        "alice",
    )

    assert_ok(added)
    [row] = stored(database_url)
    assert row.ends_at == dt.datetime(2031, 1, 1, 4, tzinfo=dt.UTC)
    assert row.created_by == "alice"
    assert [matcher["op"] for matcher in row.matchers] == ["=", "!~"]
    listed = run(tmp_path, database_url, "silence", "list")
    cells = table_rows(listed.stdout)[str(row.id)]
    assert cells[1:3] == ['model="credit", team!~"ml|data"', "active"], listed.transcript
    assert cells[4:6] == ["2031-01-01 04:00", "alice"], listed.transcript


ADD = ("silence", "add")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            (*ADD, 'severity=~"warn(.*"', "--duration", "2h", "--comment", "x"),
            "error: matcher 'severity=~\"warn(.*\"': invalid regular expression 'warn(.*':",
        ),
        (
            (*ADD, "model", "--duration", "2h", "--comment", "x"),
            "error: matcher 'model': invalid matcher 'model': expected name=value,",
        ),
        (
            (*ADD, "model=churn", "9x=1", "--duration", "2h", "--comment", "x"),
            "error: matcher '9x=1': invalid matcher '9x=1'",
        ),
        (
            (*ADD, 'model=~".*"', "--duration", "2h", "--comment", "x"),
            "error: at least one matcher must not match the empty string",
        ),
        ((*ADD, "--duration", "2h", "--comment", "x"), "error: give at least one matcher"),
        ((*ADD, "model=churn", "--duration", "2h"), "error: --comment is required"),
        ((*ADD, "model=churn", "--duration", "2h", "--comment", " "), "error: --comment is req"),
        (
            (*ADD, "model=churn", "--comment", "x"),
            "error: give --duration (like 2h) or --until (like 2026-10-01T06:00Z)",
        ),
        (
            (*ADD, "model=a", "--duration", "2h", "--until", "2031-01-01T00:00Z", "--comment", "x"),
            "error: give --duration or --until, not both",
        ),
        (
            (*ADD, "model=churn", "--duration", "3w", "--comment", "x"),
            "error: --duration: invalid duration '3w'",
        ),
        (
            (*ADD, "model=churn", "--duration", "0s", "--comment", "x"),
            "error: --duration must be longer than 0s, got '0s'",
        ),
        (
            (*ADD, "model=churn", "--duration", "99999999d", "--comment", "x"),
            "error: --duration '99999999d' is too long",
        ),
        (
            (*ADD, "model=churn", "--until", "2031-01-01T06:00", "--comment", "x"),
            "error: --until must include a timezone, like 2031-01-01T06:00Z",
        ),
        (
            (*ADD, "model=churn", "--until", "2020-01-01T00:00Z", "--comment", "x"),
            "error: --until must be in the future, got '2020-01-01T00:00Z'",
        ),
        (
            (*ADD, "model=churn", "--until", "tomorrow", "--comment", "x"),
            "error: --until must be an ISO 8601 instant",
        ),
        (
            (*ADD, "model=churn", "--duration", "1h", "--comment", "x", "--by", ""),
            "error: --by must be 1 to 127 characters",
        ),
        (("silence", "expire", "abc"), "error: a silence id is a whole number, got 'abc'"),
        (("alerts", "list", "--state", "burning"), "error: --state must be one of pending,"),
    ],
)
def test_mistakes_are_one_line_before_the_store_is_opened(
    tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    result = driftline_in_process(tmp_path, *args, env=QUIET)

    assert assert_user_error(result).startswith(expected)
    assert not (tmp_path / ".driftline").exists()  # rejected before opening the store


@pytest.mark.parametrize("silence_id", ["7", str(2**40)])
def test_expiring_an_unknown_silence_is_one_line(
    tmp_path: Path, database_url: str, silence_id: str
) -> None:
    args = ("--database-url", database_url, "silence", "expire", silence_id)
    result = driftline_in_process(tmp_path, *args, env=QUIET)

    assert assert_user_error(result) == f"error: unknown silence {silence_id}"


def test_no_silences_and_no_alerts(tmp_path: Path, database_url: str) -> None:
    silences = run(tmp_path, database_url, "silence", "list", "--all")
    alerts = run(tmp_path, database_url, "alerts", "list")

    assert_ok(silences)
    assert silences.stdout.strip() == "no silences"
    assert_ok(alerts)
    assert alerts.stdout.strip() == "no alerts"


def seed_alerts(engine: Engine) -> dict[int, AlertRow]:
    """Six alerts of one rule: models credit/price alternating, states pending/firing/resolved."""
    rule = RuleDraft("drift-high", None, {}, 0, "warning", {}, {}, [], {})
    sync_alerting(engine, [rule], [])
    alerts: dict[int, AlertRow] = {}
    with engine.begin() as connection:
        rule_id = rule_ids(connection)["drift-high"]
        for i in range(6):
            state = ("pending", "firing", "resolved")[i % 3]
            row = AlertRow(
                id=None,
                rule_id=rule_id,
                rule="drift-high",
                fingerprint=f"{i:064x}",
                state=state,
                labels={"model": ("credit", "price")[i % 2], "severity": "warning"},
                annotations={},
                value=0.5 + i,
                active_since=T0,
                fired_at=None if state == "pending" else T0 + dt.timedelta(hours=1),
                resolved_at=T0 + dt.timedelta(hours=2) if state == "resolved" else None,
                last_true_at=None,
                last_evaluated_at=T0,
            )
            alert_id = save_alert(connection, row)
            alerts[alert_id] = row
    return alerts


@pytest.mark.parametrize(
    "filters",
    [(), ("--state", "firing"), ("--model", "credit"), ("--state", "resolved", "--model", "price")],
)
def test_alerts_list_filters(
    tmp_path: Path, engine: Engine, database_url: str, filters: tuple[str, ...]
) -> None:
    alerts = seed_alerts(engine)
    wanted = dict(zip(filters[::2], filters[1::2], strict=True))

    result = run(tmp_path, database_url, "alerts", "list", *filters)

    assert_ok(result)
    rows = table_rows(result.stdout)
    expected = {
        str(alert_id)
        for alert_id, row in alerts.items()
        if row.state == wanted.get("--state", row.state)
        and row.labels["model"] == wanted.get("--model", row.labels["model"])
    }
    assert expected
    assert set(rows) == expected, result.transcript
    for alert_id, cells in rows.items():
        row = alerts[int(alert_id)]
        assert cells[1:4] == [
            "drift-high",
            row.state,
            f"model={row.labels['model']}, severity=warning",
        ], result.transcript
        assert cells[4] == f"{row.value:.4g}"
        assert cells[5:] == [
            "2026-03-01 00:00",
            "" if row.fired_at is None else "2026-03-01 01:00",
            "" if row.resolved_at is None else "2026-03-01 02:00",
        ], result.transcript
