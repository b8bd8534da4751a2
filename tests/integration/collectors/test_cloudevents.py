"""KServe and Seldon payload-logger CloudEvents into the sidecar: joined, stored, refused."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from collectors.auth import TokenAuthorizer
from collectors.cloudevents import CloudEventsReceiver
from collectors.collector import Collector
from collectors.metrics import CollectorMetrics
from collectors.sidecar import IngestService, create_sidecar_app
from collectors.spool import Spool
from storage import FeatureSpec, create_session_factory, read_window, register_model
from storage.models import PredictionRecord
from storage.repositories.token_cache import TokenVerifier
from storage.repositories.tokens import create_token
from tests.integration.collectors.test_proxy import Served

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

KSERVE = "org.kubeflow.serving.inference"
SELDON = "io.seldon.serving.inference"
T0 = dt.datetime(2027, 1, 15, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Sidecar:
    def __init__(
        self,
        engine: Engine,
        http: httpx.AsyncClient,
        registry: CollectorRegistry,
        receiver: CloudEventsReceiver,
        app: Any,
        tokens: tuple[str, str],
    ) -> None:
        self.engine = engine
        self.app = app
        self.http = http
        self.registry = registry
        self.receiver = receiver
        self.token, self.reader = tokens

    async def event(
        self, headers: dict[str, str], body: Any, *, path: str = "/", token: str | None = None
    ) -> httpx.Response:
        auth = {"authorization": f"Bearer {token or self.token}"}
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        return await self.http.post(path, content=content, headers={**auth, **headers})

    async def stored(self, count: int, timeout: float = 30) -> dict[str, Any]:
        """The stored records, once there are ``count``; polls without blocking the loop
        (the receiver's TTL timer runs on it)."""
        query = sa.select(
            PredictionRecord.request_id,
            PredictionRecord.status,
            PredictionRecord.prediction,
            PredictionRecord.latency_seconds,
            PredictionRecord.error_message,
        )
        deadline = time.monotonic() + timeout
        rows: list[Any] = []
        while time.monotonic() < deadline:
            with self.engine.connect() as connection:
                rows = list(connection.execute(query))
            if len(rows) >= count:
                break
            await asyncio.sleep(0.05)
        return {row.request_id: row for row in rows}

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


Factory = Callable[..., Awaitable[Sidecar]]


@pytest.fixture
async def make_sidecar(engine: Engine, tmp_path: Path) -> AsyncIterator[Factory]:
    sessions = create_session_factory(engine)
    with sessions() as session, session.begin():
        register_model(
            session,
            name="clf",
            task="binary_classification",
            version="1",
            classes=("no", "yes"),
            features=(FeatureSpec("age", "numeric"), FeatureSpec("country", "categorical")),
        )
        token = create_token(session, name="logger", scopes=["ingest"]).token
        reader = create_token(session, name="reader", scopes=["read"]).token
    registry = CollectorRegistry()
    spool = Spool(tmp_path / "spool")
    collector = Collector(engine, spool, metrics=CollectorMetrics(registry))
    collector.start()
    clients: list[httpx.AsyncClient] = []

    async def make(*, auth: bool = True, **options: Any) -> Sidecar:
        registry = CollectorRegistry()  # each receiver registers its own metrics
        receiver = CloudEventsReceiver(
            collector.submit,
            collector.handle,
            registry=registry,
            names={"classifier": "clf"},
            **options,
        )
        app = create_sidecar_app(
            IngestService(collector, engine),
            authorize=TokenAuthorizer(TokenVerifier(sessions)),
            registry=registry,
            ready=lambda: True,
            max_body_bytes=64 * 1024,
            cloudevents=receiver,
            cloudevents_auth=auth,
        )
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sidecar")
        clients.append(http)
        return Sidecar(engine, http, registry, receiver, app, (token, reader))

    yield make
    for http in clients:
        await http.aclose()
    collector.stop()
    spool.close()


def kserve(
    kind: str, event_id: str, *, at: dt.datetime | None = None, **extra: str
) -> dict[str, str]:
    """Headers as KServe's agent sends them (Go canonicalises the names)."""
    headers = {
        "Ce-Specversion": "1.0",
        "Ce-Id": event_id,
        "Ce-Type": f"{KSERVE}.{kind}",
        "Ce-Source": "http://localhost:9081/",
        "Ce-Inferenceservicename": "clf",
        "Ce-Namespace": "default",
        "Ce-Component": "predictor",
        "Ce-Endpoint": "",
        "Ce-Metadata": "{}",
        "Content-Type": "application/json",
        **extra,
    }
    if at is not None:
        headers["Ce-Time"] = at.isoformat().replace("+00:00", "Z")
    return headers


def seldon(kind: str, request_id: str, **extra: str) -> dict[str, str]:
    """Headers as Seldon Core v1's executor sends them: a fresh ce-id per event."""
    return {
        "ce-specversion": "1.0",
        "ce-id": f"{kind}-{time.monotonic_ns()}",
        "ce-type": f"{SELDON}.{kind}",
        "ce-source": "http://seldon-executor:8000/",
        "ce-requestid": request_id,
        "ce-modelid": "classifier",
        "ce-inferenceservicename": "mydeployment",
        "ce-namespace": "seldon",
        "ce-endpoint": "default",
        "ce-protocol": "v2",
        "content-type": "application/json",
        **extra,
    }


async def test_kserve_request_and_response_are_joined_and_stored(make_sidecar: Factory) -> None:
    sidecar = await make_sidecar()
    sent = T0 + dt.timedelta(milliseconds=250)
    first = await sidecar.event(
        kserve("request", "k-1", at=T0), {"instances": [[41, "fr"], [29, "de"]]}
    )
    second = await sidecar.event(
        kserve("response", "k-1", at=sent), {"predictions": ["yes", "no"]}, path="/v1/cloudevents"
    )
    assert (first.status_code, first.json()) == (200, {"status": "pending"})
    assert (second.status_code, second.json()) == (200, {"status": "joined"})
    rows = await sidecar.stored(2)
    assert {k: (r.status, r.prediction) for k, r in rows.items()} == {
        "k-1:0": (0, 1.0),
        "k-1:1": (0, 0.0),
    }
    assert all(r.latency_seconds == pytest.approx(0.25) for r in rows.values())
    window = read_window(sidecar.engine, "clf", start=T0, end=T0 + dt.timedelta(seconds=1))
    np.testing.assert_array_equal(np.sort(window.numeric[:, 0]), [29.0, 41.0])
    assert sidecar.receiver.pending == (0, 0)


async def test_seldon_events_join_on_the_request_id_in_any_order(make_sidecar: Factory) -> None:
    sidecar = await make_sidecar()
    response = {"model_name": "classifier", "id": "s-7", "outputs": [
        {"name": "predict", "shape": [1, 1], "datatype": "INT64", "data": [[1]]},
        {"name": "predict_proba", "shape": [1, 2], "datatype": "FP64", "data": [[0.3, 0.7]]},
    ]}  # fmt: skip
    request = {"inputs": [
        {"name": "age", "shape": [1], "datatype": "FP64", "data": [52.0]},
        {"name": "country", "shape": [1], "datatype": "BYTES", "data": ["it"]},
    ]}  # fmt: skip
    assert (await sidecar.event(seldon("response", "s-7"), response)).json() == {
        "status": "pending"
    }
    assert (await sidecar.event(seldon("request", "s-7"), request)).json() == {"status": "joined"}
    [row] = (await sidecar.stored(1)).values()
    assert (row.request_id, row.status, row.prediction) == ("s-7", 0, 1.0)
    feedback = await sidecar.event(
        seldon("feedback", "s-7", **{"ce-type": "io.seldon.serving.feedback"}), {}
    )
    assert (feedback.status_code, feedback.json()) == (200, {"status": "ignored"})


async def test_structured_events_and_percent_encoded_attributes(make_sidecar: Factory) -> None:
    sidecar = await make_sidecar()
    envelope = {
        "specversion": "1.0",
        "id": "st-1",
        "type": f"{KSERVE}.request",
        "source": "http://localhost:9081/",
        "inferenceservicename": "clf",
        "datacontenttype": "application/json",
        "data": {"instances": [{"age": 61, "country": "es"}]},
    }
    structured = {"content-type": "application/cloudevents+json; charset=utf-8"}
    assert (await sidecar.event(structured, envelope)).status_code == 200
    answer = base64.b64encode(orjson.dumps({"predictions": ["yes"]})).decode()
    envelope = {**envelope, "type": f"{KSERVE}.response", "data_base64": answer}
    del envelope["data"]
    assert (await sidecar.event(structured, envelope)).json() == {"status": "joined"}
    encoded = kserve("request", "pc-1", **{"Ce-Inferenceservicename": "%63lf"})
    assert (await sidecar.event(encoded, {"instances": [[1, "x"]]})).status_code == 200
    assert (await sidecar.event(kserve("response", "pc-1"), {"predictions": ["no"]})).json() == {
        "status": "joined"
    }
    rows = await sidecar.stored(2)
    assert {k: (r.status, r.prediction) for k, r in rows.items()} == {
        "st-1": (0, 1.0),
        "pc-1": (0, 0.0),
    }


async def test_a_request_without_response_is_stored_without_outputs_after_the_ttl(
    make_sidecar: Factory,
) -> None:
    sidecar = await make_sidecar(ttl_seconds=0.3)
    await sidecar.event(kserve("request", "lone-1"), {"instances": [[41, "fr"]]})
    assert sidecar.receiver.pending[0] == 1
    [row] = (await sidecar.stored(1)).values()  # no further event: the timer records it
    assert (row.request_id, row.status, row.prediction) == ("lone-1", 1, None)
    assert row.error_message == "no response event: none within 0.3s"
    assert sidecar.metric("driftline_cloudevents_unmatched_total", kind="request") == 1
    assert sidecar.receiver.pending == (0, 0)


async def test_a_full_map_records_the_oldest_half_at_once(make_sidecar: Factory) -> None:
    sidecar = await make_sidecar(max_pending=2)
    for k in range(3):
        await sidecar.event(kserve("request", f"e-{k}"), {"instances": [[40 + k, "fr"]]})
    [row] = (await sidecar.stored(1)).values()
    assert (row.request_id, row.status) == ("e-0", 1)
    assert row.error_message == "no response event: too many events waiting for their other half"
    assert sidecar.metric("driftline_cloudevents_evicted_total") == 1
    assert sidecar.receiver.pending[0] == 2
    assert sidecar.receiver.flush() == 2
    assert sorted(await sidecar.stored(3)) == ["e-0", "e-1", "e-2"]


async def test_an_unreadable_payload_is_stored_as_bad_input_not_refused(
    make_sidecar: Factory,
) -> None:
    sidecar = await make_sidecar()
    await sidecar.event(kserve("request", "junk-1"), b"<xml/>")
    answer = await sidecar.event(kserve("response", "junk-1"), {"predictions": ["yes"]})
    assert answer.status_code == 200
    [row] = (await sidecar.stored(1)).values()
    assert (row.status, row.prediction) == (2, None)
    assert row.error_message.startswith("request: not valid JSON")


@pytest.mark.parametrize(
    ("headers", "body", "message"),
    [
        ({"Ce-Type": ""}, b"{}", "not a CloudEvent: missing header ce-type"),
        ({"Ce-Id": "", "Ce-Source": ""}, b"{}", "missing header ce-id, header ce-source"),
        ({"Ce-Specversion": "2.0"}, b"{}", "specversion: expected 1.0 or 0.3, got '2.0'"),
        ({"Ce-Type": "com.example.other"}, b"{}", "ce-type: expected one of"),
        ({"Ce-Inferenceservicename": ""}, b"{}", "no model: expected ce-inferenceservicename"),
        ({"Ce-Type": f"{SELDON}.request"}, b"{}", "Seldon events need ce-requestid"),
        ({"Content-Type": "application/cloudevents+json"}, b"{no", "structured CloudEvent: not"),
        ({"Content-Type": "application/cloudevents+json"}, b"[1]", "expected a JSON object"),
        (
            {"Content-Type": "application/cloudevents+json"},
            b'{"specversion": "1.0", "id": "x", "type": "t", "source": "s", "data_base64": "@"}',
            "data_base64: not valid base64",
        ),
    ],
)
async def test_malformed_events_get_a_clear_400(
    make_sidecar: Factory, headers: dict[str, str], body: bytes, message: str
) -> None:
    sidecar = await make_sidecar()
    answer = await sidecar.event({**kserve("request", "bad"), **headers}, body)
    assert answer.status_code == 400, answer.text
    assert message in answer.json()["error"]


async def test_the_ingest_token_is_required_unless_turned_off(make_sidecar: Factory) -> None:
    guarded = await make_sidecar()
    headers = kserve("request", "a-1")
    missing = await guarded.http.post("/", content=b"{}", headers=headers)
    assert (missing.status_code, missing.headers["www-authenticate"]) == (401, "Bearer")
    wrong = await guarded.event(headers, b"{}", token=guarded.reader)
    assert wrong.status_code == 403
    assert "ingest" in wrong.json()["error"]
    assert guarded.receiver.pending == (0, 0)
    open_door = await make_sidecar(auth=False)
    answer = await open_door.http.post("/", content=b"{}", headers=headers)
    assert (answer.status_code, answer.json()) == (200, {"status": "pending"})


async def test_waiting_halves_are_stored_when_the_sidecar_stops(make_sidecar: Factory) -> None:
    sidecar = await make_sidecar()
    served = Served(sidecar.app)
    try:
        async with httpx.AsyncClient(base_url=served.url) as client:
            headers = {**kserve("request", "stop-1"), "authorization": f"Bearer {sidecar.token}"}
            answer = await client.post("/", content=b'{"instances": [[41, "fr"]]}', headers=headers)
            assert answer.json() == {"status": "pending"}
    finally:
        served.stop()  # lifespan shutdown: the lone request is recorded, not lost
    [row] = (await sidecar.stored(1, timeout=10)).values()
    assert (row.request_id, row.status) == ("stop-1", 1)
    assert row.error_message == "no response event: none before the sidecar stopped"
