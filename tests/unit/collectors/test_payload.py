from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.errors import PayloadError
from collectors.payload import ModelBatch, concatenate, decode, encode, runs
from storage import PredictionBatch


def batch(n: int, *, start: int = 0, model: str = "m", with_text: bool = True) -> ModelBatch:
    rng = np.random.default_rng(start)
    features: dict[str, Any] = {
        "age": rng.normal(size=n),
        "emb": rng.random((n, 3)).astype(np.float32),
    }
    if with_text:
        features["country"] = [None if i % 3 == 0 else f"c{i}" for i in range(n)]
    return ModelBatch(
        model=model,
        version="1",
        batch=PredictionBatch(
            request_ids=[f"r{start + i}" for i in range(n)],
            timestamps_us=np.arange(start, start + n, dtype=np.int64) * 1_000_000,
            features=features,
            predictions=["yes" if i % 2 else "no" for i in range(n)],
            probabilities=rng.random((n, 2)),
            latency_seconds=rng.random(n),
            status=np.zeros(n, dtype=np.int16),
            error_types=[None] * n,
            error_messages=None,
        ),
    )


def assert_same(a: ModelBatch, b: ModelBatch) -> None:
    assert (a.model, a.version) == (b.model, b.version)
    for name in ("request_ids", "predictions", "error_types", "error_messages"):
        assert getattr(a.batch, name) == getattr(b.batch, name)
    for name in ("timestamps_us", "probabilities", "latency_seconds", "status"):
        np.testing.assert_array_equal(getattr(a.batch, name), getattr(b.batch, name))
        assert np.asarray(getattr(a.batch, name)).dtype == np.asarray(getattr(b.batch, name)).dtype
    assert a.batch.features.keys() == b.batch.features.keys()
    for name, value in a.batch.features.items():
        if isinstance(value, list):
            assert value == b.batch.features[name]
        else:
            np.testing.assert_array_equal(value, b.batch.features[name])
            assert value.dtype == b.batch.features[name].dtype


def test_round_trip_keeps_every_column_and_dtype() -> None:
    original = batch(7)
    assert_same(decode(encode(original)), original)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=50), st.booleans())
def test_round_trip_of_any_size(n: int, with_text: bool) -> None:
    original = batch(n, with_text=with_text)
    assert_same(decode(encode(original)), original)


@pytest.mark.parametrize("payload", [b"", b"XXXX\x00\x00\x00\x00", b"DLB1\x05\x00\x00\x00{bad}"])
def test_foreign_payloads_are_refused(payload: bytes) -> None:
    with pytest.raises(PayloadError):
        decode(payload)


def test_truncated_buffers_are_refused() -> None:
    with pytest.raises(PayloadError, match="shorter than its header"):
        decode(encode(batch(5))[:-8])


def test_runs_group_consecutive_batches_of_one_shape_and_concatenate_in_order() -> None:
    items = [
        batch(3, start=0),
        batch(2, start=3),
        batch(4, start=5, with_text=False),
        batch(1, start=9),
    ]
    grouped = runs(items)
    assert [len(run) for run in grouped] == [2, 1, 1]
    joined = concatenate(grouped[0])
    assert joined.batch.request_ids == ["r0", "r1", "r2", "r3", "r4"]
    np.testing.assert_array_equal(joined.batch.timestamps_us, np.arange(5) * 1_000_000)
    assert joined.batch.features["emb"].shape == (5, 3)
    assert joined.batch.features["country"] == [None, "c1", "c2", None, "c1"]
    other_model = [batch(1), batch(1, model="other")]
    assert [len(run) for run in runs(other_model)] == [1, 1]
