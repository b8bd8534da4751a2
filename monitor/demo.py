"""The live demo on the embedded store: a classifier's traffic replayed into Driftline.

Trains a small classifier on generated data, then replays prediction traffic in three
phases — like the training data, after a sudden covariate shift, and under a gradual
concept drift — with a share of bad requests and ground-truth labels arriving late. Every
batch goes through the store's bulk insert path; at the end each phase's window is read
back as numpy columns and summarised. The inference server, detectors, alerting and
dashboard join this demo as they land.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sqlalchemy.engine import Engine

from storage import (
    FeatureKind,
    FeatureSpec,
    ModelHandle,
    PredictionBatch,
    RecordStatus,
    Window,
    create_session_factory,
    insert_predictions,
    read_window,
    register_model,
    upsert_labels,
)
from storage.windows import to_epoch_us

__all__ = ["DEMO_MODEL", "PHASES", "DemoReport", "run_demo"]

DEMO_MODEL = "demo-credit"
PHASES = ("reference-like", "covariate shift", "concept drift")
_N_NUMERIC = 6
_CLASSES = ("good", "bad")
_SEGMENTS = np.array(["retail", "small-business", "corporate"])
_BATCH = 400
_TICKS_PER_PHASE = 10
_LABEL_DELAY_TICKS = 3
_BAD_INPUT_SHARE = 0.03


@dataclass
class PhaseSummary:
    """What one phase's window looks like when read back from the store."""

    name: str
    records: int
    bad_input_share: float
    mean_f0: float
    corporate_share: float
    accuracy: float
    label_coverage: float
    read_seconds: float


@dataclass
class DemoReport:
    version: str = ""
    records_stored: int = 0
    labels_stored: int = 0
    replayed_duplicates: int = 0
    phases: list[PhaseSummary] = field(default_factory=list)


def _train(rng: np.random.Generator) -> tuple[LogisticRegression, NDArray[np.float64]]:
    x, _ = make_classification(
        n_samples=5_000,
        n_features=_N_NUMERIC,
        n_informative=4,
        random_state=int(rng.integers(1_000_000)),
    )
    model = LogisticRegression(max_iter=500).fit(x, _outcome(rng, x, phase=0, progress=0.0))
    return model, x


def _outcome(
    rng: np.random.Generator, x: NDArray[np.float64], *, phase: int, progress: float
) -> NDArray[np.int64]:
    """The true class: depends on f2 and f3, and drifts towards f4 in the last phase."""
    score = x[:, 2] + 0.5 * x[:, 3]
    if phase == 2:
        score = (1 - progress) * score - progress * 2.0 * x[:, 4]
    return (score + rng.normal(0, 0.5, len(x)) > 0).astype(np.int64)


def _traffic(
    rng: np.random.Generator, reference: NDArray[np.float64], phase: int, progress: float
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """A batch of inputs and the true classes, drawn for a phase of the replay."""
    x = reference[rng.integers(0, len(reference), _BATCH)] + rng.normal(
        0, 0.1, (_BATCH, _N_NUMERIC)
    )
    if phase >= 1:
        x[:, 0] += 1.5  # sudden covariate shift on f0 and f1
        x[:, 1] *= 1.8
    return x, _outcome(rng, x, phase=phase, progress=progress)


def _segments(x: NDArray[np.float64]) -> list[str | None]:
    """A categorical feature derived from f0 (missing where f0 is)."""
    codes = np.digitize(x[:, 0], [-0.5, 1.0])
    return [None if np.isnan(v) else str(s) for v, s in zip(x[:, 0], _SEGMENTS[codes], strict=True)]


def run_demo(
    engine: Engine,
    *,
    duration_seconds: float,
    seed: int | None = None,
    on_tick: Callable[[int, int, str], None] | None = None,
) -> DemoReport:
    """Replay the demo traffic into ``engine``'s store and summarise each phase."""
    rng = np.random.default_rng(seed)
    classifier, reference = _train(rng)
    features = [FeatureSpec(f"f{j}", FeatureKind.NUMERIC) for j in range(_N_NUMERIC)]
    features.append(FeatureSpec("segment", FeatureKind.CATEGORICAL))
    # Each run deploys a new version, so its summaries read only its own records.
    run = uuid.uuid4().hex[:8]
    with create_session_factory(engine).begin() as session:
        handle = register_model(
            session, name=DEMO_MODEL, task="binary_classification", classes=_CLASSES,
            version=f"run-{run}", features=features,
        )  # fmt: skip
    ticks = _TICKS_PER_PHASE * len(PHASES)
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=ticks)
    report = DemoReport(version=handle.version)
    pending: list[tuple[int, list[str], list[str]]] = []
    last_batch: PredictionBatch | None = None
    for tick in range(ticks):
        began = time.monotonic()
        phase = tick // _TICKS_PER_PHASE
        progress = (tick % _TICKS_PER_PHASE) / (_TICKS_PER_PHASE - 1)
        x, truth = _traffic(rng, reference, phase, progress)
        batch, ids = _batch(rng, classifier, x, run, tick, start + dt.timedelta(minutes=tick))
        report.records_stored += insert_predictions(engine, handle, batch).inserted
        pending.append((tick, ids, [_CLASSES[t] for t in truth]))
        report.labels_stored += _deliver_labels(engine, handle, pending, tick)
        last_batch = batch
        if on_tick is not None:
            on_tick(tick + 1, ticks, PHASES[phase])
        time.sleep(max(0.0, duration_seconds / ticks - (time.monotonic() - began)))
    report.labels_stored += _deliver_labels(engine, handle, pending, tick=10**9)
    if last_batch is not None:
        report.replayed_duplicates = insert_predictions(engine, handle, last_batch).duplicates
    for i, name in enumerate(PHASES):
        begin = start + dt.timedelta(minutes=i * _TICKS_PER_PHASE)
        end = begin + dt.timedelta(minutes=_TICKS_PER_PHASE)
        report.phases.append(_summarise(engine, handle.version, name, begin, end))
    return report


def _batch(
    rng: np.random.Generator,
    classifier: LogisticRegression,
    x: NDArray[np.float64],
    run: str,
    tick: int,
    at: dt.datetime,
) -> tuple[PredictionBatch, list[str]]:
    n = len(x)
    bad = rng.random(n) < _BAD_INPUT_SHARE
    probabilities = classifier.predict_proba(x)
    predicted: list[str | None] = [_CLASSES[int(p)] for p in probabilities.argmax(axis=1)]
    x = x.copy()
    x[bad] = np.nan
    for i in np.flatnonzero(bad):
        predicted[i] = None
    probabilities[bad] = np.nan
    ids = [f"{run}-{tick}-{i}" for i in range(n)]
    batch = PredictionBatch(
        request_ids=ids,
        timestamps_us=to_epoch_us(at) + np.sort(rng.integers(0, 60_000_000, n)),
        features={**{f"f{j}": x[:, j] for j in range(_N_NUMERIC)}, "segment": _segments(x)},
        predictions=predicted,
        probabilities=probabilities,
        latency_seconds=rng.gamma(2.0, 0.004, n),
        status=np.where(bad, RecordStatus.BAD_INPUT, RecordStatus.OK),
        error_types=["ValueError" if b else None for b in bad],
        error_messages=["input f0 is missing" if b else None for b in bad],
    )
    return batch, ids


def _deliver_labels(
    engine: Engine, handle: ModelHandle, pending: list[tuple[int, list[str], list[str]]], tick: int
) -> int:
    """Upsert the labels of batches old enough for their outcome to be known."""
    due = [item for item in pending if item[0] <= tick - _LABEL_DELAY_TICKS]
    written = 0
    for item in due:
        pending.remove(item)
        written += upsert_labels(engine, handle, item[1], item[2])
    return written


def _summarise(
    engine: Engine, version: str, name: str, begin: dt.datetime, end: dt.datetime
) -> PhaseSummary:
    started = time.perf_counter()
    window: Window = read_window(
        engine, DEMO_MODEL, start=begin, end=end, version=version, with_labels=True
    )
    seconds = time.perf_counter() - started
    ok = window.status == RecordStatus.OK
    labels = window.labels if window.labels is not None else np.full(len(window), np.nan)
    labelled = ok & ~np.isnan(labels)
    codes = window.categorical[:, window.categorical_names.index("segment")]
    corporate = [c for c, v in window.categories["segment"].items() if v == "corporate"]
    return PhaseSummary(
        name=name,
        records=len(window),
        bad_input_share=float((window.status == RecordStatus.BAD_INPUT).mean()),
        mean_f0=float(np.nanmean(window.numeric[ok, 0])),
        corporate_share=float(np.isin(codes[ok], corporate).mean()),
        accuracy=float((window.predictions[labelled] == labels[labelled]).mean()),
        label_coverage=float(labelled.sum() / max(ok.sum(), 1)),
        read_seconds=seconds,
    )
