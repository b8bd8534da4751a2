"""``/api/v1/models/{model}/references``: uploads as raw bodies, and their refusals."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator, Callable

import pandas as pd
import pytest

from storage.repositories.references import load_reference_data
from tests.integration.monitor.api.conftest import SMALL_UPLOAD, Api, assert_error, detail_locs

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

BASE = "/api/v1/models/credit/references"


def frame(rows: int = 4, *, tenure: bool = True) -> pd.DataFrame:
    data = {
        "age": [30 + i for i in range(rows)],
        "income": [1000.0 * (i + 1) for i in range(rows)],
        "country": ["fr" if i % 2 else "de" for i in range(rows)],
        "target": ["yes" if i % 3 else "no" for i in range(rows)],
    }
    if tenure:
        data["tenure"] = [i % 5 for i in range(rows)]
    return pd.DataFrame(data)


def csv(rows: int = 4, **options: bool) -> bytes:
    return str(frame(rows, **options).to_csv(index=False)).encode()


def parquet(rows: int = 4) -> bytes:
    buffer = io.BytesIO()
    frame(rows).to_parquet(buffer, index=False)
    return buffer.getvalue()


async def test_a_csv_upload_is_stored_and_described(api: Api) -> None:
    response = await api.post(BASE, content=csv(), headers={"content-type": "text/csv"})

    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"{BASE}/training"
    body = response.json()
    info, stored = load_reference_data(api.engine, "credit", "training")
    assert body == {
        "model": "credit",
        "name": "training",
        "version": "2",
        "row_count": 4,
        "sha256": hashlib.sha256(stored).hexdigest(),
        "size_bytes": len(stored),
        "created_at": body["created_at"],
    }
    assert info.sha256 == body["sha256"]
    fetched = await api.get(f"{BASE}/training", token="reader")
    assert (fetched.status_code, fetched.json()) == (200, body)


@pytest.mark.parametrize(
    ("media_type", "data"),
    [
        ("application/vnd.apache.parquet", parquet),
        ("application/octet-stream", parquet),
        ("application/octet-stream", csv),
        ("text/csv; charset=utf-8", csv),
        ("TEXT/CSV", csv),
    ],
)
async def test_every_accepted_media_type_uploads(
    api: Api, media_type: str, data: Callable[[int], bytes]
) -> None:
    response = await api.post(BASE, content=data(5), headers={"content-type": media_type})

    assert response.status_code == 201, response.text
    assert response.json()["row_count"] == 5


async def test_name_version_replace_and_listing(api: Api) -> None:
    headers = {"content-type": "text/csv"}
    first = await api.post(f"{BASE}?name=old&version=1", content=csv(tenure=False), headers=headers)
    second = await api.post(f"{BASE}?name=new", content=csv(3), headers=headers)
    taken = await api.post(f"{BASE}?name=new", content=csv(6), headers=headers)
    replaced = await api.post(f"{BASE}?name=new&replace=true", content=csv(6), headers=headers)

    assert (first.status_code, first.json()["version"]) == (201, "1")
    assert second.status_code == 201, second.text
    assert_error(taken, 409, "conflict", "already has a reference dataset 'new'", "replace")
    assert (replaced.status_code, replaced.json()["row_count"]) == (201, 6)
    listed = (await api.get(BASE, token="reader")).json()["items"]
    assert [(item["name"], item["row_count"]) for item in listed] == [("new", 6), ("old", 4)]
    assert (await api.get("/api/v1/models/price/references")).json() == {"items": []}


async def test_delete_removes_a_reference(api: Api) -> None:
    await api.post(BASE, content=csv(), headers={"content-type": "text/csv"})

    deleted = await api.delete(f"{BASE}/training")
    again = await api.delete(f"{BASE}/training")

    assert deleted.status_code == 204
    assert_error(again, 404, "not_found", "no reference dataset 'training'")


@pytest.mark.parametrize("media_type", [None, "application/json", "text/plain"])
async def test_an_unsupported_media_type_is_a_415(api: Api, media_type: str | None) -> None:
    headers = {} if media_type is None else {"content-type": media_type}

    response = await api.post(BASE, content=csv(), headers=headers)

    assert_error(response, 415, "unsupported_media_type", "text/csv", "application/vnd.apache")


async def test_a_body_over_the_limit_is_a_413_stating_the_limit(api: Api) -> None:
    big = csv(400)
    assert len(big) > SMALL_UPLOAD

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 1000):
            yield big[start : start + 1000]

    declared = await api.post(BASE, content=big, headers={"content-type": "text/csv"})
    streamed = await api.post(BASE, content=chunks(), headers={"content-type": "text/csv"})

    assert_error(declared, 413, "payload_too_large", f"at most {SMALL_UPLOAD} bytes")
    assert_error(streamed, 413, "payload_too_large", f"at most {SMALL_UPLOAD} bytes")
    assert (await api.get(BASE)).json() == {"items": []}


async def test_unknown_model_and_reference_are_404s(api: Api) -> None:
    upload_to_nothing = await api.post(
        "/api/v1/models/nope/references", content=csv(), headers={"content-type": "text/csv"}
    )

    assert_error(upload_to_nothing, 404, "not_found", "unknown model 'nope'")
    assert_error(await api.get("/api/v1/models/nope/references"), 404, "not_found", "'nope'")
    assert_error(await api.get(f"{BASE}/missing"), 404, "not_found", "'missing'", "none")


@pytest.mark.parametrize(
    ("query", "data", "loc", "fragment"),
    [
        ("?name=bad%20name", csv(), ["query", "name"], "reference name must be"),
        ("?version=7", csv(), ["query", "version"], "has no version '7'"),
        ("", csv(tenure=False), ["body"], "tenure"),
        ("", b"", ["body"], "empty"),
        ("", b"\x00\x01garbage", ["body"], "request body"),
        ("?replace=maybe", csv(), ["query", "replace"], "must be true or false"),
    ],
)
async def test_a_bad_upload_is_a_422_at_its_place(
    api: Api, query: str, data: bytes, loc: list[str], fragment: str
) -> None:
    response = await api.post(f"{BASE}{query}", content=data, headers={"content-type": "text/csv"})

    assert_error(response, 422, "validation_error", fragment)
    assert detail_locs(response) == [loc]


async def test_columns_beyond_the_version_are_ignored(api: Api) -> None:
    response = await api.post(
        f"{BASE}?version=1", content=csv(), headers={"content-type": "text/csv"}
    )  # version 1 has no tenure feature

    assert response.status_code == 201, response.text
    assert response.json()["version"] == "1"


async def test_a_monitor_may_name_an_uploaded_reference(api: Api) -> None:
    monitor = {
        "name": "credit-drift",
        "model": "credit",
        "kind": "data_drift",
        "schedule": {"every": "1h"},
        "window": {"type": "tumbling", "size": "1h"},
        "reference": {"type": "dataset", "dataset": "training"},
    }
    before = await api.post("/api/v1/monitors", json=monitor)
    await api.post(BASE, content=csv(), headers={"content-type": "text/csv"})
    after = await api.post("/api/v1/monitors", json=monitor)

    assert_error(before, 422, "validation_error", "no reference dataset 'training'")
    assert after.status_code == 201, after.text
