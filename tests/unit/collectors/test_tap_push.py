from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from collectors.tap_push import PushTap, decode_tapped, encode_tapped, join_frames, split_frames
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


def test_batches_alike_but_not_identical_merge_and_other_shapes_do_not() -> None:
    from collectors.tap_push import merge_tapped

    ok = tapped()
    twin = dataclasses.replace(ok, feature_names=("age", "country"), roles=dict(ok.roles))
    assert twin.feature_names is not ok.feature_names or twin.roles is not ok.roles
    wider = dataclasses.replace(ok, outputs={**ok.outputs, "p": np.eye(3)})
    renamed = dataclasses.replace(ok, feature_names=("age", "land"))
    merged = merge_tapped([ok, twin, wider, renamed, renamed])
    assert [len(m.request_ids) for m in merged] == [4, 2, 4]


class _Sidecar(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    pushes: ClassVar[list[list[str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        frames = [decode_tapped(frame) for frame in split_frames(body)]
        type(self).pushes.append([rid for frame in frames for rid in frame.request_ids])
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def sidecar() -> Iterator[tuple[str, type[_Sidecar]]]:
    handler = type("Handler", (_Sidecar,), {"pushes": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("batches", "rows", "per_push"), [(3, 10_000, 3), (100, 5, 2)])
def test_pushes_keep_to_their_limits_and_deliver_everything(
    sidecar: tuple[str, type[_Sidecar]], batches: int, rows: int, per_push: int
) -> None:
    url, handler = sidecar
    registry = CollectorRegistry()
    tap = PushTap(
        url,
        registry=registry,
        max_batches_per_request=batches,
        max_rows_per_request=rows,  # a batch of tapped() has 3 rows
        gather_seconds=0.3,
    )
    for i in range(10):
        tap.submit(dataclasses.replace(tapped(), request_ids=(f"{i}a", f"{i}b")))
    tap.close(timeout=10)
    assert [len(push) for push in handler.pushes] == [2 * per_push] * (10 // per_push) + (
        [2 * (10 % per_push)] if 10 % per_push else []
    )
    assert [rid for push in handler.pushes for rid in push] == [
        f"{i}{side}" for i in range(10) for side in "ab"
    ]
    assert registry.get_sample_value("driftline_tap_batches_sent_total") == 10


def test_a_full_queue_drops_and_counts_while_the_sidecar_is_away() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    registry = CollectorRegistry()
    tap = PushTap(f"http://127.0.0.1:{port}", registry=registry, queue_batches=2)
    for _ in range(5):
        tap.submit(tapped())
    tap.close(timeout=1)

    def dropped(reason: str) -> float:
        value = registry.get_sample_value("driftline_tap_batches_dropped_total", {"reason": reason})
        return value or 0.0

    assert dropped("queue_full") == 3
    assert dropped("queue_full") + dropped("stopped") == 5
    assert registry.get_sample_value("driftline_tap_batches_sent_total") == 0
