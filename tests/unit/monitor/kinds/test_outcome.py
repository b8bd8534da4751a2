"""KindOutcome and its helpers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from monitor.kinds import KindOutcome
from monitor.kinds._outcome import insufficient, jsonable, worst


def test_worst_ignores_detectors_without_data() -> None:
    assert worst(["insufficient_data", "ok"]) == "ok"
    assert worst(["ok", "alarm", "warning"]) == "alarm"
    assert worst(["insufficient_data", "insufficient_data"]) == "insufficient_data"
    with pytest.raises(ValueError, match="unknown status 'bad'"):
        worst(["bad"])


def test_an_outcome_refuses_an_unknown_status_or_a_non_finite_score() -> None:
    with pytest.raises(ValueError, match="status must be one of"):
        KindOutcome("error", None, {}, {})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="score must be a finite number or None"):
        KindOutcome("ok", math.nan, {}, {})


def test_jsonable_makes_strict_json() -> None:
    value = {1: (np.float32(0.5), np.inf), "b": np.array([[1, 2]]), "c": np.bool_(False)}

    assert jsonable(value) == {"1": [0.5, None], "b": [[1, 2]], "c": False}
    with pytest.raises(TypeError, match="not JSON-able: a object"):
        jsonable(object())


def test_insufficient_says_why() -> None:
    outcome = insufficient("reference has 3 rows, needs at least 30", details={"n": np.int64(3)})

    assert outcome.status == "insufficient_data"
    assert outcome.summary == {"reason": "reference has 3 rows, needs at least 30", "detectors": []}
    assert outcome.details == {"n": 3}
    assert type(outcome.details["n"]) is int
