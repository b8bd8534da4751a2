"""Tests of :func:`monitor.demo.run_demo` on SQLite and PostgreSQL.

The report is checked against what the demo is built to show (three phases of 10 ticks of
400 requests, about 3 % bad input, a covariate shift then a concept drift), and then
independently against the rows in the store, read with plain SQLAlchemy queries.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor.demo import DEMO_MODEL, PHASES, DemoReport, run_demo
from storage.models import GroundTruthLabel, Model, PredictionRecord
from storage.types import RecordStatus

pytestmark = pytest.mark.integration

SEED = 3
TICKS = 30
TICKS_PER_PHASE = 10
BATCH = 400
RECORDS = TICKS * BATCH
RECORDS_PER_PHASE = TICKS_PER_PHASE * BATCH
REFERENCE, COVARIATE, CONCEPT = 0, 1, 2


@pytest.fixture
def report(engine: Engine) -> DemoReport:
    return run_demo(engine, duration_seconds=0, seed=SEED)


def test_report_counts(report: DemoReport) -> None:
    assert report.records_stored == RECORDS == 12_000
    assert report.labels_stored == report.records_stored
    # The last batch (one tick) is replayed and every record of it is a duplicate.
    assert report.replayed_duplicates == BATCH
    assert [phase.name for phase in report.phases] == list(PHASES)
    assert [phase.records for phase in report.phases] == [RECORDS_PER_PHASE] * 3


def test_covariate_shift_moves_f0_and_the_segment_mix(report: DemoReport) -> None:
    reference, covariate = report.phases[REFERENCE], report.phases[COVARIATE]

    # The demo adds 1.5 to f0 from the second phase on.
    assert covariate.mean_f0 > reference.mean_f0 + 1.0, report.phases
    assert covariate.corporate_share > reference.corporate_share, report.phases


def test_concept_drift_lowers_accuracy_but_covariate_shift_does_not(report: DemoReport) -> None:
    reference, covariate, concept = (report.phases[i] for i in (REFERENCE, COVARIATE, CONCEPT))

    assert concept.accuracy <= reference.accuracy - 0.04, report.phases
    assert abs(covariate.accuracy - reference.accuracy) <= 0.04, report.phases
    assert 0.5 < reference.accuracy <= 1.0, report.phases


def test_bad_input_share_and_label_coverage(report: DemoReport) -> None:
    for phase in report.phases:
        assert 0.01 <= phase.bad_input_share <= 0.06, phase
        assert phase.label_coverage == 1.0, phase


def test_store_holds_what_the_report_says(engine: Engine, report: DemoReport) -> None:
    with engine.connect() as connection:
        model_id = connection.scalar(sa.select(Model.id).where(Model.name == DEMO_MODEL))
        assert model_id is not None
        records = connection.execute(
            sa.select(
                PredictionRecord.request_id,
                PredictionRecord.status,
                PredictionRecord.prediction,
                PredictionRecord.error_type,
            ).where(PredictionRecord.model_id == model_id)
        ).all()
        labels = connection.scalar(
            sa.select(sa.func.count())
            .select_from(GroundTruthLabel)
            .where(GroundTruthLabel.model_id == model_id)
        )
        joined = connection.scalar(
            sa.select(sa.func.count())
            .select_from(PredictionRecord)
            .join(
                GroundTruthLabel,
                sa.and_(
                    GroundTruthLabel.model_id == PredictionRecord.model_id,
                    GroundTruthLabel.request_id == PredictionRecord.request_id,
                ),
            )
            .where(PredictionRecord.model_id == model_id)
        )

    assert len(records) == report.records_stored == RECORDS
    assert len({row.request_id for row in records}) == RECORDS
    assert labels == report.labels_stored == RECORDS
    assert joined == RECORDS  # every label belongs to a stored record

    statuses = Counter(RecordStatus(row.status) for row in records)
    assert set(statuses) == {RecordStatus.OK, RecordStatus.BAD_INPUT}, statuses
    bad = [row for row in records if row.status == RecordStatus.BAD_INPUT]
    ok = [row for row in records if row.status == RecordStatus.OK]
    assert all(row.error_type is not None for row in bad)
    assert all(row.prediction is None for row in bad)
    assert all(row.prediction is not None for row in ok)
    assert all(row.error_type is None for row in ok)
    expected_bad = sum(round(phase.bad_input_share * phase.records) for phase in report.phases)
    assert len(bad) == expected_bad


def test_phase_summaries_match_the_rows(engine: Engine, report: DemoReport) -> None:
    """Recompute each phase's accuracy, bad-input share and mean f0 from the raw rows.

    Request ids are ``<run>-<tick>-<i>``, so the phase of a row is known without the time
    windows the demo reads through.
    """
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                PredictionRecord.request_id,
                PredictionRecord.status,
                PredictionRecord.prediction,
                PredictionRecord.features,
                GroundTruthLabel.value,
            )
            .join(Model, Model.id == PredictionRecord.model_id)
            .outerjoin(
                GroundTruthLabel,
                sa.and_(
                    GroundTruthLabel.model_id == PredictionRecord.model_id,
                    GroundTruthLabel.request_id == PredictionRecord.request_id,
                ),
            )
            .where(Model.name == DEMO_MODEL)
        ).all()
    by_phase: defaultdict[int, list[Any]] = defaultdict(list)
    for row in rows:
        tick = int(row.request_id.split("-")[-2])
        by_phase[tick // TICKS_PER_PHASE].append(row)

    assert sorted(by_phase) == [REFERENCE, COVARIATE, CONCEPT]
    for index, phase in enumerate(report.phases):
        phase_rows = by_phase[index]
        ok = [row for row in phase_rows if row.status == RecordStatus.OK]
        f0 = [np.frombuffer(row.features, dtype="<f8")[0] for row in ok]
        correct = [row.prediction == row.value for row in ok]

        assert len(phase_rows) == phase.records == RECORDS_PER_PHASE
        assert phase.bad_input_share == pytest.approx(1 - len(ok) / len(phase_rows), abs=1e-12)
        assert phase.accuracy == pytest.approx(float(np.mean(correct)), abs=1e-12)
        assert phase.mean_f0 == pytest.approx(float(np.mean(f0)), abs=1e-9)


def test_a_second_run_reports_its_own_records(engine: Engine, report: DemoReport) -> None:
    """Running the demo again on the same store registers the model again and stores new
    records; each phase summary should describe the 4,000 records of that run's phase."""
    again = run_demo(engine, duration_seconds=0, seed=SEED)

    assert again.records_stored == RECORDS
    assert again.replayed_duplicates == BATCH
    with engine.connect() as connection:
        total = connection.scalar(sa.select(sa.func.count()).select_from(PredictionRecord))
    assert total == 2 * RECORDS
    assert [phase.records for phase in again.phases] == [RECORDS_PER_PHASE] * 3, again.phases
