"""Monitors and results in the store: declare, sync, one result per window, pages, state."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage import ConflictError, NotFoundError, create_session_factory, register_model
from storage.models import MonitorResult
from storage.repositories.monitors import (
    MonitorDraft,
    ResultDraft,
    delete_monitor,
    get_monitor,
    last_window_ends,
    list_monitors,
    list_results,
    load_detector_state,
    put_monitor,
    result_windows,
    save_detector_state,
    save_result,
    sync_project_monitors,
)
from storage.schema import FeatureSpec
from storage.types import FeatureKind

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def store(engine: Engine) -> Engine:
    with create_session_factory(engine).begin() as session:
        for name in ("churn", "fraud"):
            register_model(
                session,
                name=name,
                task="regression",
                version="1",
                features=[FeatureSpec("x", FeatureKind.NUMERIC)],
            )
    return engine


def draft(name: str, model: str = "churn", every: str = "1h") -> MonitorDraft:
    return MonitorDraft(name, model, "failures", {"schedule": {"every": every}})


def result(monitor_id: int, hour: int, status: str = "ok", score: float = 0.1) -> ResultDraft:
    return ResultDraft(
        monitor_id=monitor_id,
        window_start=T0 + hour * HOUR,
        window_end=T0 + (hour + 1) * HOUR,
        status=status,  # type: ignore[arg-type]
        score=score,
        sample_size=10,
        summary={"hour": hour},
    )


def test_put_creates_then_replaces_the_configuration(store: Engine) -> None:
    created = put_monitor(store, draft("m1"))
    changed = put_monitor(store, draft("m1", every="2h"))

    assert (created.id, created.model_name, created.source) == (changed.id, "churn", "api")
    assert changed.config == {"schedule": {"every": "2h"}}
    assert [m.name for m in list_monitors(store)] == ["m1"]


def test_unknown_model_names_the_registered_ones(store: Engine) -> None:
    with pytest.raises(
        NotFoundError, match="unknown model 'nope'; registered models: churn, fraud"
    ):
        put_monitor(store, draft("m1", model="nope"))


def test_project_and_api_monitors_do_not_overwrite_each_other(store: Engine) -> None:
    put_monitor(store, draft("from-api"))
    sync_project_monitors(store, [draft("from-file")])

    with pytest.raises(ConflictError, match="declared in the project file"):
        put_monitor(store, draft("from-file"))
    with pytest.raises(ConflictError, match="created through the API"):
        sync_project_monitors(store, [draft("from-api")])
    with pytest.raises(ConflictError, match="remove it there"):
        delete_monitor(store, "from-file")


def test_sync_deletes_project_monitors_no_longer_declared_with_their_results(store: Engine) -> None:
    sync_project_monitors(store, [draft("a"), draft("b")])
    put_monitor(store, draft("api"))
    save_result(store, result(get_monitor(store, "b").id, 0))

    deleted = sync_project_monitors(store, [draft("a", every="30m")])

    assert deleted == ["b"]
    assert [m.name for m in list_monitors(store)] == ["a", "api"]
    assert get_monitor(store, "a").config["schedule"] == {"every": "30m"}
    with store.connect() as connection:
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(MonitorResult)).scalar() == 0
        )


def test_list_filters_by_model_and_enabled(store: Engine) -> None:
    put_monitor(store, draft("a"))
    put_monitor(store, MonitorDraft("b", "fraud", "health", {}, enabled=False))

    assert [m.name for m in list_monitors(store, model_name="fraud")] == ["b"]
    assert [m.name for m in list_monitors(store, enabled=True)] == ["a"]


def test_saving_a_window_again_replaces_its_result(store: Engine) -> None:
    monitor_id = put_monitor(store, draft("m")).id
    first = save_result(store, result(monitor_id, 0, "ok", 0.1))
    again = save_result(store, result(monitor_id, 0, "alarm", 0.9))

    page = list_results(store, monitor_name="m")
    assert first == again
    assert [(r.status, r.score) for r in page.items] == [("alarm", 0.9)]


def test_pages_walk_every_result_once_newest_window_first(store: Engine) -> None:
    ids = [put_monitor(store, draft(name)).id for name in ("a", "b")]
    for hour in range(7):
        for monitor_id in ids:
            save_result(store, result(monitor_id, hour))
    seen = []
    cursor = None
    while True:
        page = list_results(store, model_name="churn", limit=3, cursor=cursor)
        seen.extend((r.monitor_name, r.window_start) for r in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break

    assert len(seen) == len(set(seen)) == 14
    ends = [start for _, start in seen]
    assert ends == sorted(ends, reverse=True)


def test_results_filter_by_range_and_status(store: Engine) -> None:
    monitor_id = put_monitor(store, draft("m")).id
    for hour in range(5):
        save_result(store, result(monitor_id, hour, "alarm" if hour % 2 else "ok"))

    page = list_results(store, start=T0 + HOUR, end=T0 + 4 * HOUR, status="ok")

    assert [r.summary["hour"] for r in page.items] == [2]
    assert result_windows(store, monitor_id, start=T0, end=T0 + 2 * HOUR) == {
        (T0, T0 + HOUR),
        (T0 + HOUR, T0 + 2 * HOUR),
    }
    assert last_window_ends(store, [monitor_id, 999]) == {monitor_id: T0 + 5 * HOUR}


@pytest.mark.parametrize("cursor", ["junk", "2026-03-01T00:00:00~x", "2026-03-01T00:00:00~3"])
def test_a_malformed_cursor_is_refused(store: Engine, cursor: str) -> None:
    with pytest.raises(ValueError, match="malformed cursor"):
        list_results(store, cursor=cursor)


def test_detector_state_round_trip(store: Engine) -> None:
    monitor_id = put_monitor(store, draft("m")).id

    assert load_detector_state(store, monitor_id) is None
    save_detector_state(store, monitor_id, {"adwin": {"width": 3, "values": [1.0, 2.5]}})
    assert load_detector_state(store, monitor_id) == {"adwin": {"width": 3, "values": [1.0, 2.5]}}


def test_deleting_an_unknown_monitor_is_not_found(store: Engine) -> None:
    with pytest.raises(NotFoundError, match="unknown monitor 'ghost'"):
        delete_monitor(store, "ghost")


def test_create_refuses_an_existing_name_and_replace_an_unknown_one(store: Engine) -> None:
    put_monitor(store, draft("m"), mode="create")

    with pytest.raises(ConflictError, match="'m' already exists"):
        put_monitor(store, draft("m", every="2h"), mode="create")
    with pytest.raises(NotFoundError, match="unknown monitor 'other'"):
        put_monitor(store, draft("other"), mode="replace")
    assert put_monitor(store, draft("m", every="2h"), mode="replace").config["schedule"] == {
        "every": "2h"
    }
    assert [m.name for m in list_monitors(store)] == ["m"]
