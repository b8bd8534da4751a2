"""``/api/v1/models``, ``/api/v1/whoami`` and the unversioned health and metrics routes."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from monitor import __version__
from monitor.api import create_api_app
from storage import create_engine
from tests.integration.monitor.api.conftest import Api, assert_error, client_of, detail_locs

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def test_models_are_listed_by_name_with_their_versions(api: Api) -> None:
    response = await api.get("/api/v1/models", token="reader")

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [item["name"] for item in items] == ["credit", "price"]
    credit, price = items
    assert credit["task"] == "binary_classification"
    assert credit["classes"] == ["no", "yes"]
    assert credit["description"] == "Credit approvals"
    assert (credit["versions"], credit["latest_version"]) == (2, "2")
    assert (price["task"], price["classes"], price["description"]) == ("regression", [], None)
    assert (price["versions"], price["latest_version"]) == (1, "a")
    assert credit["created_at"].endswith(("Z", "+00:00"))


async def test_one_model(api: Api) -> None:
    response = await api.get("/api/v1/models/price", token="reader")

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "price"
    assert response.json()["latest_version"] == "a"


async def test_versions_carry_their_feature_schemas(api: Api) -> None:
    response = await api.get("/api/v1/models/credit/versions")

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [item["version"] for item in items] == ["1", "2"]
    assert items[0]["features"] == [
        {"name": "age", "kind": "numeric", "dims": None},
        {"name": "income", "kind": "numeric", "dims": None},
        {"name": "country", "kind": "categorical", "dims": None},
    ]
    assert [f["name"] for f in items[1]["features"]] == ["age", "income", "country", "tenure"]


@pytest.mark.parametrize("path", ["/api/v1/models/nope", "/api/v1/models/nope/versions"])
async def test_an_unknown_model_is_a_404_naming_it_and_the_known_ones(api: Api, path: str) -> None:
    assert_error(await api.get(path), 404, "not_found", "'nope'", "credit, price")


async def test_a_name_with_control_characters_is_a_422(api: Api) -> None:
    response = await api.get("/api/v1/models/a%00b")

    assert_error(response, 422, "validation_error", "control characters")
    assert detail_locs(response) == [["path", "model"]]


async def test_whoami_names_the_token_and_its_scopes(api: Api) -> None:
    reader = await api.get("/api/v1/whoami", token="reader")
    admin = await api.get("/api/v1/whoami", token="admin")

    assert reader.status_code == admin.status_code == 200
    assert reader.json() == {
        "authenticated": True,
        "name": "reader",
        "scopes": ["read"],
        "expires_at": None,
    }
    assert admin.json()["scopes"] == ["admin"]


async def test_whoami_without_auth_says_so(open_api: Api) -> None:
    response = await open_api.get("/api/v1/whoami", token=None)

    assert response.status_code == 200, response.text
    assert response.json()["authenticated"] is False
    assert response.json()["name"] is None


async def test_health_and_readiness_need_no_token(api: Api) -> None:
    assert (await api.get("/healthz", token=None)).json() == {"status": "ok"}
    ready = await api.get("/readyz", token=None)
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


async def test_readiness_is_a_503_that_does_not_name_the_database_when_it_is_gone(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> None:
    missing = tmp_path_factory.mktemp("gone") / "no" / "such.db"
    gone = create_engine(f"sqlite:///{missing}")
    missing.parent.rmdir()  # create_engine made the folder; without it SQLite cannot open
    app = create_api_app(gone, auth=False)
    async with client_of(app) as client:
        ready = await client.get("/readyz")
        models = await client.get("/api/v1/models")

    assert_error(ready, 503, "database_unavailable", "the database is unreachable")
    assert "such.db" not in ready.text  # the probe answers without a token
    assert_error(models, 503, "database_unavailable", "retry later")
    gone.dispose()


async def test_metrics_count_requests_by_route_template(own_api: Api) -> None:
    await own_api.get("/api/v1/models/credit")
    await own_api.get("/api/v1/models/price")
    await own_api.get("/api/v1/models/nope")
    await own_api.get("/no/such/route")

    text = (await own_api.get("/metrics", token=None)).text

    assert (
        'driftline_api_requests_total{method="GET",route="/api/v1/models/{model}",status="200"} 2.0'
    ) in text
    assert (
        'driftline_api_requests_total{method="GET",route="/api/v1/models/{model}",status="404"} 1.0'
    ) in text
    assert 'route="unmatched",status="404"' in text
    assert "driftline_api_request_duration_seconds_bucket" in text
    assert "/api/v1/models/credit" not in text


async def test_the_openapi_document_describes_every_operation(api: Api) -> None:
    document = (await api.get("/openapi.json", token=None)).json()

    assert document["info"] == {
        "title": "Driftline API",
        "version": __version__,
        "description": document["info"]["description"],
    }
    operations = [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) == 31
    for path, method, operation in operations:
        assert operation.get("summary"), (path, method)
        responses = operation["responses"]
        success = next(status for status in responses if status.startswith("2"))
        assert success in {"200", "201", "204"}, (path, method)
        for status, answer in responses.items():
            if status.startswith(("4", "5")):
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (path, method)
        if path.startswith("/api/v1/"):
            scope = "read" if method == "get" else "admin"
            assert operation["security"] == [{"bearer": [scope]}], (path, method)
            assert {"401", "403", "503"} <= set(responses), (path, method)


async def test_without_auth_the_document_asks_for_no_token(open_api: Api) -> None:
    document = (await open_api.get("/openapi.json", token=None)).json()

    assert "securitySchemes" not in document.get("components", {})
    for methods in document["paths"].values():
        for operation in methods.values():
            assert "security" not in operation
            assert not {"401", "403"} & set(operation["responses"])
