"""The live demo, end to end: train, deploy, replay traffic, watch what Driftline finds.

The demo is a user of Driftline like any other. It writes a project file, starts the
inference server, the collector sidecar and the monitor as separate ``driftline``
processes (:mod:`monitor.stack`), and sends traffic over HTTP. Everything it reports comes
back through the product: detections from the monitor results in the store, alerts and
retraining requests from the webhooks its loopback receiver got and verified.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from monitor.alerting.signing import new_secret
from monitor.demo.project_file import (
    ALERT_SECRET_VARIABLE,
    DEMO_MODEL,
    REFERENCE_NAME,
    RETRAIN_SECRET_VARIABLE,
    RULES,
    project_yaml,
)
from monitor.demo.receiver import Delivery, Receiver, running_receiver
from monitor.demo.scenario import PHASES, Scenario
from monitor.demo.traffic import TrafficCounts, TrafficReplay
from monitor.demo.training import train
from monitor.project import Project, load_project
from monitor.references import upload_reference
from monitor.registration import register_project_models
from monitor.stack import Stack, project_roles
from storage import create_engine, create_session_factory, display_url
from storage.migrations import upgrade
from storage.repositories.monitors import list_results
from storage.repositories.record_counts import RecordCounts, record_counts
from storage.repositories.tokens import create_token

__all__ = ["DemoOptions", "DemoSummary", "Detection", "Event", "run_demo"]

#: Longest wait after the traffic for the last monitor runs and notifications.
DRAIN_SECONDS = 25.0
_WATCH_SECONDS = 1.0
_FLAGGED = ("warning", "alarm")
#: Ports tried first (the monitor's is the project file's default external URL).
PREFERRED_PORTS = {"monitor": 8000, "sidecar": 8001, "serve": 8080}


@dataclass(frozen=True)
class DemoOptions:
    """What ``driftline demo`` was asked for."""

    directory: Path
    duration_seconds: float = 120.0
    rows_per_second: float = 60.0
    seed: int | None = None
    #: Use this store instead of a fresh SQLite file in ``directory``.
    database_url: str | None = None


@dataclass(frozen=True)
class Event:
    """Something worth a line in the terminal, at ``seconds`` after the traffic started."""

    seconds: float
    kind: str  # "phase", "flagged", "alert", "retrain"
    text: str
    verified: bool | None = None


@dataclass
class Detection:
    """One injected problem and what Driftline made of it (seconds after the traffic began)."""

    phase: str
    monitor_kind: str
    rule: str
    injected_at: float
    flagged_at: float | None = None
    #: The first flagged result's window, as ISO 8601.
    window: tuple[str, str] | None = None
    alert_at: float | None = None
    alert_verified: bool = False
    #: Whether the rule asks for retraining (the error burst does not: it is no model decay).
    retrain_expected: bool = True
    retrain_at: float | None = None
    retrain_verified: bool = False

    @property
    def complete(self) -> bool:
        alerted = self.alert_at is not None and self.alert_verified
        retrained = not self.retrain_expected or (
            self.retrain_at is not None and self.retrain_verified
        )
        return self.flagged_at is not None and alerted and retrained


@dataclass
class DemoSummary:
    """What the demo did and what Driftline found."""

    directory: str
    store: str
    dashboard_url: str
    duration_seconds: float
    interrupted: bool = False
    traffic: TrafficCounts = field(default_factory=TrafficCounts)
    records: RecordCounts = field(default_factory=lambda: RecordCounts(0, 0, 0))
    detections: list[Detection] = field(default_factory=list)
    notifications: int = 0
    retrain_requests: int = 0
    unverified_deliveries: int = 0
    reference_accuracy: float = 0.0

    @property
    def ok(self) -> bool:
        """Every injected problem was flagged, alerted and (where asked) sent to retraining,
        and every delivery carried a valid signature."""
        complete = all(detection.complete for detection in self.detections)
        return complete and self.unverified_deliveries == 0

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["ok"] = self.ok
        document["detections"] = [
            {**asdict(detection), "complete": detection.complete} for detection in self.detections
        ]
        return document


def _free_port(preferred: int) -> int:
    """``preferred`` if it can be bound on loopback, else any free port."""
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError("no free port on 127.0.0.1")


def _fresh_directory(directory: Path) -> None:
    """Empty what an earlier demo left in ``directory`` (its store, spools and logs)."""
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in ("spool", "logs"):
        shutil.rmtree(directory / leftover, ignore_errors=True)
    for database in directory.glob("driftline.db*"):
        database.unlink()


class _Watcher:
    """Turns the stack's state, the store and the receiver into events and a summary."""

    def __init__(
        self,
        summary: DemoSummary,
        engine: Engine,
        receiver: Receiver,
        stack: Stack,
        started: float,
        on_event: Callable[[Event], None],
    ) -> None:
        self.summary = summary
        self._engine = engine
        self._receiver = receiver
        self._stack = stack
        self._started = started
        self._on_event = on_event
        self._seen_deliveries = 0
        self._seen_results: set[int] = set()
        self._phases_announced: set[str] = set()

    def _seconds(self, moment: float) -> float:
        return round(moment - self._started, 1)

    def _emit(self, event: Event) -> None:
        self._on_event(event)

    def announce_phases(self, progress: float) -> None:
        for phase in PHASES:
            if phase.start <= progress and phase.name not in self._phases_announced:
                self._phases_announced.add(phase.name)
                at = phase.start * self.summary.duration_seconds
                self._emit(Event(round(at, 1), "phase", phase.name))

    async def tick(self) -> None:
        self._stack.check()
        counts, results = await asyncio.to_thread(self._read_store)
        self.summary.records = counts
        self._take_results(results)
        self._take_deliveries(self._receiver.deliveries())

    def _read_store(self) -> tuple[RecordCounts, list[Any]]:
        counts = record_counts(self._engine, DEMO_MODEL)
        page = list_results(self._engine, model_name=DEMO_MODEL, limit=1000)
        return counts, page.items

    def _take_results(self, results: list[Any]) -> None:
        by_kind = {d.monitor_kind: d for d in self.summary.detections}
        for result in sorted(results, key=lambda r: r.computed_at):
            if result.id in self._seen_results or result.status not in _FLAGGED:
                continue
            self._seen_results.add(result.id)
            at = self._seconds(result.computed_at.timestamp())
            detection = by_kind.get(result.kind)
            if detection is None or at < detection.injected_at or detection.flagged_at is not None:
                continue
            detection.flagged_at = at
            detection.window = (result.window_start.isoformat(), result.window_end.isoformat())
            score = "" if result.score is None else f", score {result.score:.3g}"
            self._emit(Event(at, "flagged", f"{result.monitor_name}: {result.status}{score}"))

    def _take_deliveries(self, deliveries: list[Delivery]) -> None:
        by_rule = {d.rule: d for d in self.summary.detections}
        for delivery in deliveries[self._seen_deliveries :]:
            self._seen_deliveries += 1
            at = self._seconds(delivery.received_at)
            if not delivery.verified:
                self.summary.unverified_deliveries += 1
            if delivery.route == "retrain":
                self.summary.retrain_requests += 1
            else:
                self.summary.notifications += 1
            for rule, status in delivery.alerts:
                self._record_delivery(by_rule.get(rule), delivery, at, status)
                if delivery.route == "retrain":
                    event = Event(at, "retrain", f"retraining requested by {rule}")
                else:
                    event = Event(at, "alert", f"{rule} {status}")
                self._emit(replace(event, verified=delivery.verified))

    @staticmethod
    def _record_delivery(
        detection: Detection | None, delivery: Delivery, at: float, status: str
    ) -> None:
        if detection is None or at < detection.injected_at:
            return
        if delivery.route == "retrain" and detection.retrain_at is None:
            detection.retrain_at, detection.retrain_verified = at, delivery.verified
        elif status == "firing" and detection.alert_at is None:
            detection.alert_at, detection.alert_verified = at, delivery.verified

    def all_complete(self) -> bool:
        return all(detection.complete for detection in self.summary.detections)


def _detections(duration: float) -> list[Detection]:
    return [
        Detection(
            phase=phase.name,
            monitor_kind=phase.detected_by,
            rule=RULES[phase.detected_by],
            injected_at=round(phase.start * duration, 1),
            retrain_expected=phase.detected_by != "failures",
        )
        for phase in PHASES
        if phase.detected_by
    ]


def _prepare_store(
    engine: Engine, project: Project, reference_path: Path, run_id: str
) -> tuple[str, str]:
    """Migrate, register the model, upload its reference; tokens for the tap and labels."""
    upgrade(engine)
    register_project_models(engine, project)
    upload_reference(engine, DEMO_MODEL, reference_path, name=REFERENCE_NAME, replace=True)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    with create_session_factory(engine).begin() as session:
        tap = create_token(
            session, name=f"demo-{run_id}-tap", scopes=["ingest"], expires_at=expires
        )
        labels = create_token(
            session, name=f"demo-{run_id}-labels", scopes=["feedback"], expires_at=expires
        )
    return tap.token, labels.token


def run_demo(
    options: DemoOptions,
    *,
    on_event: Callable[[Event], None],
    on_ready: Callable[[DemoSummary], None],
    on_progress: Callable[[float, DemoSummary], None],
    on_step: Callable[[str], None],
) -> DemoSummary:
    """Run the demo; return its summary (also when interrupted with Ctrl-C).

    Raises
    ------
    monitor.stack.StackError
        A Driftline process did not start or died.
    """
    directory = options.directory.resolve()
    _fresh_directory(directory)
    run_id = uuid.uuid4().hex[:8]
    scenario = Scenario(options.seed)
    on_step("training a classifier on generated loan applications")
    trained = train(scenario, directory)
    ports = {role: _free_port(port) for role, port in PREFERRED_PORTS.items()}
    dashboard_url = f"http://127.0.0.1:{ports['monitor']}"
    database_url = options.database_url or f"sqlite:///{(directory / 'driftline.db').as_posix()}"
    secrets = {ALERT_SECRET_VARIABLE: new_secret(), RETRAIN_SECRET_VARIABLE: new_secret()}
    receiver = Receiver(
        alert_secret=secrets[ALERT_SECRET_VARIABLE],
        retrain_secret=secrets[RETRAIN_SECRET_VARIABLE],
    )
    engine = create_engine(database_url)
    summary = DemoSummary(
        directory=str(directory),
        store=display_url(engine.url),
        dashboard_url=dashboard_url + "/",
        duration_seconds=options.duration_seconds,
        detections=_detections(options.duration_seconds),
        reference_accuracy=round(trained.reference_accuracy, 4),
    )
    try:
        with running_receiver(receiver) as receiver_url:
            project_path = directory / "driftline.yaml"
            project_path.write_text(
                project_yaml(monitor_url=dashboard_url, receiver_url=receiver_url),
                encoding="utf-8",
            )
            env = _child_environment(database_url, project_path, directory, secrets)
            on_step("preparing the store: schema, model, reference dataset, tokens")
            project = load_project(project_path, environ=env)
            tap_token, feedback_token = _prepare_store(
                engine, project, trained.reference_path, run_id
            )
            roles = project_roles(ports, host="127.0.0.1", tap_token=tap_token)
            stack = Stack(roles, log_dir=directory / "logs", env=env)
            on_step("starting the sidecar, the inference server and the monitor")
            stack.start()
            try:
                on_ready(summary)
                _replay(
                    options, summary, scenario, stack, receiver, engine, ports,
                    feedback_token, on_event, on_progress,
                )  # fmt: skip
            finally:
                on_step("stopping the processes")
                stack.stop()
            summary.records = record_counts(engine, DEMO_MODEL)
    finally:
        engine.dispose()
    return summary


def _child_environment(
    database_url: str, project_path: Path, directory: Path, secrets: dict[str, str]
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    env.update(secrets)
    env.update(
        {
            "DRIFTLINE_DATABASE_URL": database_url,
            "DRIFTLINE_PROJECT_FILE": str(project_path),
            "DRIFTLINE_DATA_DIR": str(directory),
            "DRIFTLINE_AUTO_MIGRATE": "false",
            # The demo's dashboard opens without a token; never do this in production.
            "DRIFTLINE_API_AUTH": "false",
            # Traffic reaches the store within a second or two through the sidecar.
            "DRIFTLINE_MONITOR_SETTLE_SECONDS": "2",
            "DRIFTLINE_MONITOR_REFRESH_SECONDS": "2",
            # The webhook receiver listens on loopback.
            "DRIFTLINE_EGRESS_ALLOW": "127.0.0.1",
            "DRIFTLINE_LOG_LEVEL": "INFO",
        }
    )
    return env


def _replay(
    options: DemoOptions,
    summary: DemoSummary,
    scenario: Scenario,
    stack: Stack,
    receiver: Receiver,
    engine: Engine,
    ports: dict[str, int],
    feedback_token: str,
    on_event: Callable[[Event], None],
    on_progress: Callable[[float, DemoSummary], None],
) -> None:
    replay = TrafficReplay(
        scenario,
        server_url=f"http://127.0.0.1:{ports['serve']}",
        sidecar_url=f"http://127.0.0.1:{ports['sidecar']}",
        model=DEMO_MODEL,
        feedback_token=feedback_token,
        duration_seconds=options.duration_seconds,
        rows_per_second=options.rows_per_second,
    )
    watcher = _Watcher(summary, engine, receiver, stack, time.time(), on_event)

    async def main() -> None:
        traffic = asyncio.create_task(replay.run())
        while not traffic.done():
            watcher.announce_phases(replay.progress)
            on_progress(replay.progress, summary)
            await watcher.tick()
            await asyncio.wait({traffic}, timeout=_WATCH_SECONDS)
        summary.traffic = traffic.result()
        drain_until = time.monotonic() + DRAIN_SECONDS
        while not watcher.all_complete() and time.monotonic() < drain_until:
            on_progress(1.0, summary)
            await asyncio.sleep(_WATCH_SECONDS)
            await watcher.tick()
        await watcher.tick()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        summary.interrupted = True
    summary.traffic = replay.counts
