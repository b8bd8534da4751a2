"""The ingest and feedback APIs: real app, real tokens, real spool and database."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from collectors.auth import TokenAuthorizer
from collectors.collector import Collector
from collectors.metrics import CollectorMetrics
from collectors.sidecar import IngestService, create_sidecar_app
from collectors.spool import Spool
from storage import FeatureSpec, create_session_factory, read_window, register_model
from storage.models import PredictionRecord
from storage.repositories.token_cache import TokenVerifier
from storage.repositories.tokens import create_token

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

MAX_BODY = 64 * 1024


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Sidecar:
    def __init__(self, engine: Engine, http: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self.engine = engine
        self.http = http
        self.tokens = tokens

    async def post(self, path: str, body: Any, *, token: str | None = "all") -> httpx.Response:
        headers = (
            {} if token is None else {"authorization": f"Bearer {self.tokens.get(token, token)}"}
        )
        content = body if isinstance(body, bytes) else None
        return await self.http.post(
            path, json=None if content else body, content=content, headers=headers
        )

    def stored(self, count: int) -> list[Any]:
        query = sa.select(
            PredictionRecord.request_id,
            PredictionRecord.status,
            PredictionRecord.prediction,
            PredictionRecord.error_message,
        ).order_by(PredictionRecord.request_id)
        deadline = time.monotonic() + 30
        rows: list[Any] = []
        while time.monotonic() < deadline:
            with self.engine.connect() as connection:
                rows = list(connection.execute(query))
            if len(rows) >= count:
                break
            time.sleep(0.05)
        return rows


@pytest.fixture
async def sidecar(engine: Engine, tmp_path: Path) -> AsyncIterator[Sidecar]:
    sessions = create_session_factory(engine)
    tokens = {}
    with sessions() as session, session.begin():
        register_model(
            session,
            name="clf",
            task="binary_classification",
            version="1",
            classes=("no", "yes"),
            features=(FeatureSpec("age", "numeric"), FeatureSpec("country", "categorical")),
        )
        for name, scopes in {"all": ["ingest", "feedback"], "reader": ["read"]}.items():
            tokens[name] = create_token(session, name=name, scopes=scopes).token
    registry = CollectorRegistry()
    spool = Spool(tmp_path / "spool")
    collector = Collector(engine, spool, metrics=CollectorMetrics(registry))
    collector.start()
    app = create_sidecar_app(
        IngestService(collector, engine),
        authorize=TokenAuthorizer(TokenVerifier(sessions)),
        registry=registry,
        ready=lambda: True,
        max_body_bytes=MAX_BODY,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sidecar") as http:
        yield Sidecar(engine, http, tokens)
    collector.stop()
    spool.close()


def record(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "request_id": f"r{i:02d}",
        "timestamp": 1_800_000_000 + i,
        "features": {"age": 30 + i, "country": "fr" if i % 2 else "de"},
        "prediction": "yes" if i % 2 else "no",
        "probabilities": [0.4, 0.6] if i % 2 else [0.7, 0.3],
        **extra,
    }


async def test_records_are_accepted_and_stored_once(sidecar: Sidecar) -> None:
    body = {"records": [record(i) for i in range(10)]}
    first = await sidecar.post("/v1/models/clf/predictions", body)
    again = await sidecar.post("/v1/models/clf/predictions", body)
    assert first.status_code == 200, first.text
    assert first.json() == {"accepted": 10}
    assert again.status_code == 200
    rows = sidecar.stored(10)
    assert [r.request_id for r in rows] == [f"r{i:02d}" for i in range(10)]
    assert [r.prediction for r in rows] == [float(i % 2) for i in range(10)]


async def test_bad_records_are_named_stored_as_failures_and_the_rest_kept(sidecar: Sidecar) -> None:
    records = [
        record(0),
        record(1, features={"age": "old"}),
        record(2, prediction="maybe"),
        record(3, colour="red"),
        {"features": {}},
        record(5),
    ]
    response = await sidecar.post("/v1/models/clf/predictions", {"records": records})
    assert response.status_code == 422
    body = response.json()
    assert body["accepted"] == 2
    assert (
        body["error"] == "records[1] ('r01').features.age: numeric feature, got 'old' (and 3 more)"
    )
    assert [(p["index"], p["field"]) for p in body["rejected"]] == [
        (1, "features.age"),
        (2, "prediction"),
        (3, "colour"),
        (4, "request_id"),
    ]
    assert "unknown class 'maybe'; classes: no, yes" in body["rejected"][1]["error"]
    rows = {r.request_id: r for r in sidecar.stored(6)}
    assert rows["r00"].status == 0
    assert rows["r05"].status == 0
    assert rows["r01"].status == 2
    assert "features.age: numeric feature" in rows["r01"].error_message
    assert len(rows) == 6  # the record without an id is stored under a generated one


@pytest.mark.parametrize(
    ("path", "body", "token", "status", "message"),
    [
        ("/v1/models/clf/predictions", b"{nope", "all", 400, "not valid JSON"),
        (
            "/v1/models/clf/predictions",
            {"records": []},
            "all",
            400,
            "records: expected a non-empty list",
        ),
        (
            "/v1/models/clf/predictions",
            {"records": [record(0)], "version": "9"},
            "all",
            404,
            "version",
        ),
        (
            "/v1/models/nope/predictions",
            {"records": [record(0)]},
            "all",
            404,
            "unknown model 'nope'",
        ),
        (
            "/v1/models/clf/predictions",
            {"records": [record(0)]},
            None,
            401,
            "Authorization: Bearer",
        ),
        ("/v1/models/clf/predictions", {"records": [record(0)]}, "dlt_wrong", 401, "token"),
        ("/v1/models/clf/predictions", {"records": [record(0)]}, "reader", 403, "ingest"),
        (
            "/v1/models/clf/feedback",
            {"labels": [{"request_id": "a", "label": "yes"}]},
            "reader",
            403,
            "feedback",
        ),
        (
            "/v1/models/clf/predictions",
            {"records": [record(0, error="x" * MAX_BODY)]},
            "all",
            413,
            "exceeds",
        ),
        ("/v1/models/clf/nothing", {}, "all", 404, "no route"),
    ],
)
async def test_mistakes_get_clear_errors(
    sidecar: Sidecar, path: str, body: Any, token: str | None, status: int, message: str
) -> None:
    response = await sidecar.post(path, body, token=token)
    assert response.status_code == status
    assert message in response.json()["error"]


async def test_labels_sent_before_their_predictions_are_joined(sidecar: Sidecar) -> None:
    labels = [{"request_id": f"r{i:02d}", "label": "no" if i < 2 else 1} for i in range(4)]
    labels.append({"request_id": "r09", "label": "perhaps"})
    early = await sidecar.post("/v1/models/clf/feedback", {"labels": labels})
    assert early.status_code == 422
    assert early.json()["accepted"] == 4
    assert "unknown class 'perhaps'" in early.json()["error"]
    answer = await sidecar.post(
        "/v1/models/clf/predictions", {"records": [record(i) for i in range(4)]}
    )
    assert answer.status_code == 200
    sidecar.stored(4)
    window = read_window(
        sidecar.engine,
        "clf",
        start=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
        end=dt.datetime(2028, 1, 1, tzinfo=dt.UTC),
        with_labels=True,
    )
    assert window.labels is not None
    np.testing.assert_array_equal(np.sort(window.labels), [0.0, 0.0, 1.0, 1.0])
