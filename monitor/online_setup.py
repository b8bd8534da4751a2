"""Online learning in ``driftline serve``: from the project file to running learners.

:func:`learning_config` turns a model's ``learning: online`` block into the server's
:class:`~serving.online.config.OnlineConfig`. :func:`start_learning` opens the store,
registers the models, resumes each learner from its newest snapshot (so the server starts
serving that snapshot, not the base file) and returns the configurations to serve with a
function that wraps the built server's app in :class:`~serving.online.service.LearningApp`.

A process that is not the learner (``learner=False``: a worker beside the one that learns)
starts on the snapshot the learner published last and follows the ones it publishes; its
learning admin routes go to the learner through ``remote``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

from monitor.project import Project
from monitor.project.learning_specs import OnlineSpec
from monitor.project.model_specs import ModelSpec
from monitor.settings import Settings
from serving.admin import AdminPolicy
from serving.config import ModelConfig
from serving.online.config import GuardConfig, OnlineConfig
from serving.online.learner import Learner
from serving.online.metrics import LearningMetrics
from serving.online.service import LearningApp, OnlineLearning, Remote, published_config
from serving.server import Server

__all__ = ["learning_config", "start_learning", "with_learning"]

Wrap = Callable[[Server, AdminPolicy], LearningApp]


def learning_config(model: ModelSpec, project_dir: Path) -> OnlineConfig | None:
    """The online settings of ``model`` (None unless it declares ``learning: online``).

    A relative ``snapshot_dir`` is resolved against the project file's folder; an absent
    one is left empty for :func:`start_learning` to put under the data dir.
    """
    spec = model.serving
    if spec is None or spec.learning != "online":
        return None
    settings = spec.online if spec.online is not None else OnlineSpec()
    directory = ""
    if settings.snapshot_dir is not None:
        directory = str((project_dir / settings.snapshot_dir).resolve())
    guard = settings.guard
    return OnlineConfig(
        task=model.task,
        classes=tuple(model.classes or ()),
        labels=settings.labels,
        learn_many=settings.learn_many,
        batch_size=settings.batch_size,
        poll_seconds=settings.poll_seconds,
        snapshot_every=settings.snapshot_every,
        snapshot_seconds=settings.snapshot_seconds,
        label_wait_seconds=settings.label_wait_seconds,
        snapshot_dir=directory,
        guard=GuardConfig(
            action=guard.action,
            window=guard.window,
            min_drop=guard.min_drop,
            alpha=guard.alpha,
            detector=guard.detector,
        ),
    )


def with_learning(
    project: Project, project_dir: Path, configs: Sequence[ModelConfig]
) -> list[ModelConfig]:
    """``configs`` with the online settings of the models that learn online."""
    models = {model.name: model for model in project.models}
    out = []
    for config in configs:
        model = models.get(config.name)
        learning = learning_config(model, project_dir) if model is not None else None
        out.append(dataclasses.replace(config, learning=learning) if learning else config)
    return out


def start_learning(
    settings: Settings,
    project: Project | None,
    configs: Sequence[ModelConfig],
    stack: ExitStack,
    *,
    learner: bool = True,
    remote: Remote | None = None,
) -> tuple[list[ModelConfig], Wrap | None]:
    """Resume the learners of ``configs``; returns what to serve and how to wrap the app.

    With ``learner=False`` nothing is learnt here: the models start on their published
    snapshots, and ``remote`` takes their admin actions to the learner. Returns
    ``(configs, None)`` unchanged when no model learns online.
    """
    learning = [c for c in configs if c.learning is not None]
    if not learning:
        return list(configs), None
    from monitor.database import open_database
    from monitor.online_store import SqlLearningStore
    from monitor.registration import register_project_models
    from storage import create_session_factory, get_model_version

    default_dir = str((settings.data_dir / "online").resolve())
    configs = [
        dataclasses.replace(
            c,
            learning=dataclasses.replace(
                c.learning, snapshot_dir=c.learning.snapshot_dir or default_dir, learner=learner
            ),
        )
        if c.learning is not None
        else c
        for c in configs
    ]
    followed = {c.name: c for c in configs if c.learning is not None}
    learners: dict[str, Learner] = {}
    if learner:
        engine = open_database(settings)
        stack.callback(engine.dispose)
        if project is not None:
            register_project_models(engine, project)
        for name, base in followed.items():
            with create_session_factory(engine)() as session:
                handle = get_model_version(session, name, base.version)
            learners[name] = Learner(base, SqlLearningStore(engine, handle))
    serving = [
        learners[c.name].start()
        if c.name in learners
        else published_config(c)
        if c.name in followed
        else c
        for c in configs
    ]

    def wrap(server: Server, admin: AdminPolicy) -> LearningApp:
        metrics = LearningMetrics(learners, server.registry) if learners else None
        online = OnlineLearning(
            server.repository,
            learners,
            followed,
            remote=remote,
            after_step=metrics.sync if metrics is not None else None,
        )
        return LearningApp(server.app, online, admin=admin)

    return serving, wrap
