from __future__ import annotations

import numpy as np
import pytest

from collectors.tap_push import decode_tapped, encode_tapped, join_frames, split_frames
from serving.tap import TappedBatch


def tapped(*, failed: bool = False) -> TappedBatch:
    features = np.empty((3, 2), dtype=object)
    features[:, 0] = [1.5, float("nan"), 3.0]
    features[:, 1] = ["fr", "de", None]
    return TappedBatch(
        model="m",
        version="2",
        request_ids=("a", "b"),
        row_counts=np.array([1, 2]),
        features=None if failed else features,
        feature_names=("age", "country"),
        outputs={}
        if failed
        else {"label": np.array(["x", "y", "x"], dtype=object), "p": np.eye(3)[:, :2]},
        received_at=np.array([1.8e9, 1.8e9 + 1]),
        latency_seconds=np.array([0.01, 0.02]),
        statuses=("bad_input", "timeout") if failed else ("ok", "ok"),
        errors=("nope", "late") if failed else (None, None),
        roles={} if failed else {"prediction": "label", "probabilities": "p"},
    )


def test_a_tapped_batch_round_trips() -> None:
    original = tapped()
    decoded = decode_tapped(encode_tapped(original))
    assert (decoded.model, decoded.version) == ("m", "2")
    assert decoded.request_ids == ["a", "b"]
    np.testing.assert_array_equal(decoded.row_counts, [1, 2])
    assert decoded.features is not None
    assert decoded.features.shape == (3, 2)
    assert decoded.features[0, 0] == 1.5
    assert (
        decoded.features[1, 0] is None
    )  # NaN travels as JSON null; numeric columns read it as NaN
    assert decoded.features[:, 1].tolist() == ["fr", "de", None]
    assert decoded.outputs["label"].tolist() == ["x", "y", "x"]
    assert decoded.outputs["label"].dtype == object
    np.testing.assert_array_equal(decoded.outputs["p"], np.eye(3)[:, :2])
    np.testing.assert_array_equal(decoded.received_at, original.received_at)
    assert decoded.roles == {"prediction": "label", "probabilities": "p"}


def test_failed_requests_round_trip_without_features() -> None:
    decoded = decode_tapped(encode_tapped(tapped(failed=True)))
    assert decoded.features is None
    assert decoded.outputs == {}
    assert decoded.statuses == ["bad_input", "timeout"]
    assert decoded.errors == ["nope", "late"]


def test_frames_split_back_and_bad_bodies_are_refused() -> None:
    frames = [encode_tapped(tapped()), encode_tapped(tapped(failed=True))]
    assert [bytes(f) for f in split_frames(join_frames(frames))] == frames
    with pytest.raises(ValueError, match="runs past the end"):
        split_frames(join_frames(frames)[:-1])
    with pytest.raises(ValueError, match="bad magic"):
        decode_tapped(b"XXXX" + frames[0][4:])


def test_batches_of_one_model_merge_into_one_and_others_stay_apart() -> None:
    from collectors.tap_push import merge_tapped

    ok, failed = tapped(), tapped(failed=True)
    merged = merge_tapped([ok, ok, failed, failed, ok])
    assert [len(m.request_ids) for m in merged] == [4, 4, 2]
    joined = merged[0]
    assert list(joined.request_ids) == ["a", "b", "a", "b"]
    assert joined.features is not None
    assert joined.features.shape == (6, 2)
    assert joined.outputs["p"].shape == (6, 2)
    decoded = decode_tapped(encode_tapped(joined))
    np.testing.assert_array_equal(decoded.row_counts, [1, 2, 1, 2])
