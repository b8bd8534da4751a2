"""The ``retrain`` channel's ``airflow`` preset: trigger a DAG run through Airflow's REST API.

API v1 (Airflow 2): ``POST {url}/api/v1/dags/{dag_id}/dagRuns`` with ``dag_run_id`` and
``conf``; HTTP Basic (``username``/``password``) or a bearer ``token``. API v2 (Airflow 3):
``POST {url}/api/v2/dags/{dag_id}/dagRuns`` with ``dag_run_id``, ``logical_date: null``
(a required key there) and ``conf``; a JWT bearer ``token``.

``dag_run_id`` is the delivery key, so a retried trigger is refused with 409 instead of
starting a second run; ``conf`` is the retraining data of
:func:`~monitor.alerting.channels.retrain_data.retrain_data`.
"""

from __future__ import annotations

import base64
from typing import Any

from monitor.alerting.channels.encoding import json_bytes
from monitor.alerting.channels.headers import json_headers
from monitor.alerting.channels.identity import message_id
from monitor.alerting.channels.outgoing import OutgoingRequest
from monitor.alerting.channels.retrain_data import retrain_data
from monitor.alerting.model import RetrainRequest
from monitor.project.channels import RetrainChannel

__all__ = ["dag_run_body", "dag_run_request"]


def dag_run_request(spec: RetrainChannel, item: RetrainRequest) -> OutgoingRequest:
    """Build the DAG-run request of one retraining request (unsigned).

    Parameters
    ----------
    spec
        The channel's declaration, ``preset: airflow``.
    item
        The retraining request.

    Returns
    -------
    OutgoingRequest
        A JSON POST to the ``dagRuns`` endpoint of the DAG.

    Raises
    ------
    ValueError
        If the declaration lacks ``url`` or ``dag_id`` (the project loader rejects that).
    """
    if spec.url is None or spec.dag_id is None:
        msg = f"channel {spec.name!r}: preset 'airflow' needs url and dag_id"
        raise ValueError(msg)
    url = f"{spec.url.rstrip('/')}/api/v{spec.api_version}/dags/{spec.dag_id}/dagRuns"
    headers = json_headers()
    authorization = _authorization(spec)
    if authorization is not None:
        headers["Authorization"] = authorization
    body = json_bytes(dag_run_body(item, api_version=spec.api_version))
    return OutgoingRequest("POST", url, headers, body, spec.timeout_seconds)


def dag_run_body(item: RetrainRequest, *, api_version: int) -> dict[str, Any]:
    """The body of the DAG-run request for API ``v1`` or ``v2``."""
    body: dict[str, Any] = {"dag_run_id": message_id(item.key)}
    if api_version == 2:
        body["logical_date"] = None
    body["conf"] = retrain_data(item)
    return body


def _authorization(spec: RetrainChannel) -> str | None:
    if spec.token is not None:
        return f"Bearer {spec.token.get_secret_value()}"
    if spec.username is not None and spec.password is not None:
        pair = f"{spec.username}:{spec.password.get_secret_value()}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")
    return None
