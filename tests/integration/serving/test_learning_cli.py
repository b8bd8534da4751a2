"""``driftline learning status | freeze | unfreeze | rollback`` against a real server on
loopback (uvicorn in a thread) serving a model that learns online."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from serving.admin import AdminPolicy
from serving.online.learner import Learner
from serving.online.memory import MemoryStore
from serving.online.service import LearningApp, OnlineLearning
from serving.server import create_server
from tests.app_thread import served_in_thread
from tests.integration.test_cli import driftline_in_process
from tests.unit.serving.online.streams import FEATURES, hyperplane, model_config, river_model

pytest.importorskip("river")
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, MemoryStore]]:
    """The URL of a server whose model ``m`` learns online, and the learner's store."""
    directory = tmp_path_factory.mktemp("learning")
    rows, truth = hyperplane(300, seed=3)
    base = model_config(river_model(rows, truth), directory, name="m")
    store = MemoryStore(len(FEATURES))
    learner = Learner(base, store)
    server = create_server([learner.start()])
    online = OnlineLearning(server.repository, {"m": learner}, {"m": base})
    app = LearningApp(server.app, online, admin=AdminPolicy())
    with served_in_thread(app) as url:
        yield url, store


def test_the_commands_show_and_change_the_learning_state(
    served: tuple[str, MemoryStore], tmp_path: Path
) -> None:
    url, store = served

    def learning(*args: str) -> str:
        run = driftline_in_process(tmp_path, "learning", *args, "--url", url)
        assert run.returncode == 0, run.transcript
        return run.stdout

    assert learning("status", "m").startswith("m: learning, serving 1, 0 examples learnt")
    assert learning("freeze", "m", "--reason", "labels look wrong").startswith("m: frozen")
    assert learning("status", "m").startswith("m: frozen, serving 1")
    assert learning("unfreeze", "m").startswith("m: learning")
    assert learning("rollback", "m", "--to", "1").startswith("m: frozen, serving 1")
    kinds = [(event.kind, event.reason) for event in store.events]
    assert kinds == [
        ("freeze", "labels look wrong"),
        ("unfreeze", "manual"),
        ("rollback", "manual"),
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("status", "ghost"), "404 model 'ghost' does not learn online"),
        (("rollback", "m", "--to", "9"), "400 model 'm' has no snapshot '9' to roll back to"),
    ],
)
def test_mistakes_are_one_line(
    served: tuple[str, MemoryStore], tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    url, _ = served
    run = driftline_in_process(tmp_path, "learning", *args, "--url", url)
    assert run.returncode == 2, run.transcript
    assert expected in run.stderr, run.transcript
    assert len(run.stderr.strip().splitlines()) == 1, run.transcript
    assert "Traceback" not in run.stderr


def test_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    run = driftline_in_process(tmp_path, "learning", "status", "m", "--url", "http://127.0.0.1:9")
    assert run.returncode == 2, run.transcript
    assert run.stderr.startswith("error: cannot reach the server at http://127.0.0.1:9"), run.stderr
    assert "Traceback" not in run.stderr
