"""The learning loop over an in-memory store: adaptation, the guard, refusals, restarts."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from serving.errors import InvalidRequestError
from serving.online.memory import MemoryStore
from tests.unit.serving.online.streams import (
    FEATURES,
    feed,
    hyperplane,
    model_config,
    river_model,
    start,
)

pytest.importorskip("river")

WARMUP = 1_500
BLOCK = 500


def test_online_model_recovers_after_a_concept_change_while_a_frozen_copy_stays_degraded(
    tmp_path: Path,
) -> None:
    rows, truth = hyperplane(6_500, seed=7, rotate_from=2_500, rotate_over=1_500)
    base = river_model(rows[:WARMUP], truth[:WARMUP])
    store = MemoryStore(len(FEATURES))
    learner, served = start(model_config(copy.deepcopy(base), tmp_path / "online"), store)
    frozen = copy.deepcopy(served)
    online_curve, frozen_curve = [], []
    for at in range(WARMUP, len(rows), BLOCK):
        block = slice(at, at + BLOCK)
        online_curve.append(served.accuracy(rows[block], truth[block]))  # test, then train
        frozen_curve.append(frozen.accuracy(rows[block], truth[block]))
        feed(learner, store, rows[block], truth[block], at)

    before_change = np.mean(online_curve[:2])  # examples 1,500-2,500
    after_change = np.mean(online_curve[-3:])  # examples 5,000-6,500
    assert before_change > 0.85
    assert after_change > before_change - 0.08, online_curve  # recovered
    assert np.mean(frozen_curve[-3:]) < 0.6, frozen_curve  # the frozen copy did not
    assert min(online_curve) < after_change  # there was a change to recover from
    assert not store.events, store.events  # a gradual change does not trip the guard
    assert served.published[-1] == f"1-s{len(served.published) - 1}"


def test_poisoned_labels_roll_back_to_the_last_good_snapshot_and_freeze(tmp_path: Path) -> None:
    rows, truth = hyperplane(4_000, seed=11)
    base = river_model(rows[:WARMUP], truth[:WARMUP])
    store = MemoryStore(len(FEATURES))
    learner, served = start(model_config(base, tmp_path / "online"), store)
    feed(learner, store, rows[WARMUP:3_000], truth[WARMUP:3_000], WARMUP)  # clean: s1-s3
    good = [s.version for s in store.snapshots if s.status == "good"]
    assert good == ["1", "1-s1", "1-s2"]

    flipped = 1 - truth[3_000:]
    feed(learner, store, rows[3_000:], flipped, 3_000)

    assert learner.frozen
    (alarm,) = store.events
    assert (alarm.kind, alarm.frozen, alarm.version) == ("alarm", True, "1-s2")
    assert alarm.details["action"] == "rollback"
    assert alarm.details["restored"] == "1-s2"
    assert served.config is not None
    assert served.config.version == "1-s2"
    assert served.accuracy(rows[3_000:], truth[3_000:]) > 0.85  # the last good state answers
    newer = [s for s in store.snapshots if s.sequence > 2]
    assert all(s.status == "rolled_back" for s in newer)  # taken after the poison, if any
    poisoned = [store.outcomes.get(f"r{i}") for i in range(3_000, 4_000)]
    assert "guard" in poisoned  # the batch that tripped the guard was not learnt
    assert poisoned.count("learnt") < 100  # at most a few batches before it (then discarded)
    assert store.pending > 0  # waiting, unlearnt, until someone unfreezes
    assert learner.step().learnt == 0


def test_refused_examples_are_counted_and_never_learnt(tmp_path: Path) -> None:
    rows, truth = hyperplane(2_000, seed=3)
    store = MemoryStore(len(FEATURES))
    learner, _ = start(model_config(river_model(rows[:500], truth[:500]), tmp_path), store)
    bad_rows = rows[500:504].copy()
    bad_rows[0, 1] = np.nan
    bad_rows[1, 2] = np.inf
    store.add(["nan", "inf", "class", "ok"], bad_rows, [0, 1, 5, 1])
    store.add(["ghost"], rows[504:505], [1], problem="unknown_request")
    learner.step()
    assert store.outcomes == {
        "nan": "non_finite_features",
        "inf": "non_finite_features",
        "class": "bad_label",
        "ok": "learnt",
        "ghost": "unknown_request",
    }
    assert learner.counts["refused_non_finite_features"] == 2
    assert learner.status()["examples_learnt"] == 1


def test_a_restart_resumes_from_the_last_snapshot_and_relearns_only_what_it_lost(
    tmp_path: Path,
) -> None:
    rows, truth = hyperplane(2_000, seed=5)
    base = river_model(rows[:500], truth[:500])
    store = MemoryStore(len(FEATURES))
    config = model_config(base, tmp_path)
    learner, _served = start(config, store)
    feed(learner, store, rows[500:1_200], truth[500:1_200], 500)  # snapshot at 500 learnt
    assert [s.version for s in store.snapshots] == ["1", "1-s1"]

    again, served_again = start(config, store)  # the process died and started again
    assert served_again.config is not None
    assert served_again.config.version == "1-s1"
    assert store.pending == 700 - 512  # learnt after s1 (at 16 batches of 32), lost with the
    # process: learnt once more into s1
    feed(again, store, rows[1_200:], truth[1_200:], 1_200)
    assert again.status()["examples_learnt"] == 1_500
    assert sorted(store.outcomes) == sorted(f"r{i}" for i in range(500, 2_000))


def test_manual_freeze_unfreeze_and_rollback(tmp_path: Path) -> None:
    rows, truth = hyperplane(2_000, seed=9)
    store = MemoryStore(len(FEATURES))
    learner, served = start(model_config(river_model(rows[:500], truth[:500]), tmp_path), store)
    learner.freeze("maintenance")
    store.add(["a"], rows[500:501], truth[500:501])
    assert learner.step().learnt == 0
    learner.unfreeze()
    feed(learner, store, rows[501:1_600], truth[501:1_600], 501)
    assert served.config is not None
    assert served.config.version == "1-s2"
    restored = learner.rollback("1-s1")
    assert restored.version == "1-s1"
    assert learner.frozen
    assert served.config.version == "1-s1"
    with pytest.raises(InvalidRequestError, match="no snapshot '1-s2'"):
        learner.rollback("1-s2")  # discarded by the first rollback
    assert [e.kind for e in store.events] == ["freeze", "unfreeze", "rollback"]
