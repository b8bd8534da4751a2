"""Schemathesis over every operation: no 5xx, and every answer as the OpenAPI document says.

Each operation gets a bounded number of generated requests (fewer on PostgreSQL, where each
one costs more), derandomized so a failure replays, with an admin token. The store is seeded
so that some generated names hit real objects: the examples in the document name them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.engine import Engine

from monitor.api import create_api_app
from monitor.references import upload_reference
from storage.repositories.alerting import create_silence
from storage.repositories.monitors import MonitorDraft, ResultDraft, put_monitor, save_result
from tests.integration.monitor.api.conftest import seed_models, seed_tokens
from tests.integration.monitor.api.test_deliveries import seed_deliveries

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: Generated requests per operation and mode, by back end.
EXAMPLES = {
    (GenerationMode.POSITIVE, "sqlite"): 15,
    (GenerationMode.POSITIVE, "postgresql"): 10,
    (GenerationMode.NEGATIVE, "sqlite"): 15,
    (GenerationMode.NEGATIVE, "postgresql"): 5,
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
Operation = schemathesis.APIOperation[Any, Any, Any, Any]


def seed(engine: Engine) -> str:
    """Models, a reference, monitors with results, alerts, deliveries, a silence; the token."""
    seed_models(engine)
    token = seed_tokens(engine)["admin"]
    upload_reference(engine, "credit", b"age,income,country,tenure\n30,1000,fr,2\n41,2000,de,5\n")
    config: dict[str, Any] = {"name": "credit-health", "model": "credit", "kind": "failures"}
    monitor = put_monitor(engine, MonitorDraft("credit-health", "credit", "failures", config))
    put_monitor(engine, MonitorDraft("from-file", "price", "failures", {}), source="project")
    for hour in range(30):
        start = T0 + dt.timedelta(hours=hour)
        draft = ResultDraft(
            monitor_id=monitor.id,
            window_start=start,
            window_end=start + dt.timedelta(hours=1),
            status="ok",
            score=0.1,
            sample_size=10,
            summary={},
        )
        save_result(engine, draft)
    seed_deliveries(engine)  # alert rules and channels, alerts with history, deliveries
    create_silence(
        engine,
        matchers=[{"name": "model", "op": "=", "value": "credit"}],
        starts_at=T0,
        ends_at=T0 + dt.timedelta(days=36500),
        created_by="fuzz",
        comment="seeded",
    )
    return token


def seeded_names(operation: Operation) -> dict[str, Any]:
    """Path parameters naming seeded objects, so generated queries and bodies reach them."""
    names: dict[str, Any] = {"model": "credit", "alert_id": 1, "silence_id": 1, "delivery_id": 1}
    names["name"] = "training" if "/references/" in operation.path else "credit-health"
    return {key: value for key, value in names.items() if "{" + key + "}" in operation.path}


def takes_input(operation: Operation, *, fixed: Iterable[str] = ()) -> bool:
    """Whether ``operation`` has a body or parameters (the token and ``fixed`` aside)."""
    named = {parameter.name for parameter in operation.iter_parameters()}
    return bool(operation.body) or bool(named - {"Authorization", *fixed})


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented(
    engine: Engine, subtests: pytest.Subtests, mode: GenerationMode
) -> None:
    """Valid requests (positive) and invalid ones (negative): never a 5xx, always as documented."""
    token = seed(engine)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_api_app(engine))
    schema.config.generation.update(with_security_parameters=False)
    headers = {"Authorization": f"Bearer {token}"}
    settings = hypothesis.settings(
        max_examples=EXAMPLES[mode, engine.dialect.name],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[hypothesis.HealthCheck.too_slow],
    )
    found: list[Operation] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # an operation the schema cannot describe
        found.append(result.ok())
    assert len(found) == 31
    if mode is GenerationMode.NEGATIVE:  # only what takes input can be sent invalid input
        found = [operation for operation in found if takes_input(operation)]
    runs: list[tuple[Operation, dict[str, Any]]] = []
    for operation in found:
        runs.append((operation, {}))
        seeded = seeded_names(operation)
        if seeded and (mode is GenerationMode.POSITIVE or takes_input(operation, fixed=seeded)):
            runs.append((operation, seeded))
    runs.sort(
        key=lambda run: run[0].method.upper() == "DELETE"
    )  # deletes last: they empty the store

    for operation, path_parameters in runs:
        strategy = operation.as_strategy(mode, path_parameters=path_parameters or None)

        @settings
        @hypothesis.given(case=strategy)
        def answers_as_documented(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        with subtests.test(msg=f"{operation.label} {path_parameters or ''}".strip()):
            answers_as_documented()
