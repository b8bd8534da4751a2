"""The ``retrain`` channel's ``github`` preset: a ``repository_dispatch`` event.

``POST {api_url}/repos/{owner}/{name}/dispatches`` with ``event_type`` and a
``client_payload`` holding the retraining data and ``id`` (the delivery key; GitHub answers
204 without a run id, so the workflow correlates with it). GitHub allows at most 10
top-level properties in ``client_payload`` and less than 64 KB: the payload has 9 (``id``,
``model``, ``version``, ``monitor``, ``rule``, ``window``, ``findings``, ``score``,
``links``), and when it would exceed 64,000 bytes the last findings are dropped and their
number given as a 10th, ``findings_omitted``.
"""

from __future__ import annotations

from typing import Any, Final

from monitor.alerting.channels.encoding import json_bytes, json_size
from monitor.alerting.channels.headers import json_headers
from monitor.alerting.channels.identity import message_id
from monitor.alerting.channels.outgoing import OutgoingRequest
from monitor.alerting.channels.retrain_data import retrain_data
from monitor.alerting.model import RetrainRequest
from monitor.project.channels import RetrainChannel

__all__ = ["MAX_PAYLOAD_BYTES", "MAX_PAYLOAD_KEYS", "client_payload", "dispatch_request"]

MAX_PAYLOAD_BYTES: Final = 64_000
MAX_PAYLOAD_KEYS: Final = 10
API_VERSION: Final = "2022-11-28"


def dispatch_request(spec: RetrainChannel, item: RetrainRequest) -> OutgoingRequest:
    """Build the ``repository_dispatch`` request of one retraining request (unsigned).

    Parameters
    ----------
    spec
        The channel's declaration, ``preset: github``.
    item
        The retraining request.

    Returns
    -------
    OutgoingRequest
        A JSON POST to the repository's ``dispatches`` endpoint.

    Raises
    ------
    ValueError
        If the declaration lacks ``repository`` or ``token`` (the project loader rejects
        that).
    """
    if spec.repository is None or spec.token is None:
        msg = f"channel {spec.name!r}: preset 'github' needs repository and token"
        raise ValueError(msg)
    url = f"{spec.api_url.rstrip('/')}/repos/{spec.repository}/dispatches"
    headers = json_headers()
    headers.update(
        {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {spec.token.get_secret_value()}",
            "X-GitHub-Api-Version": API_VERSION,
        }
    )
    body = {"event_type": spec.event_type, "client_payload": client_payload(item)}
    return OutgoingRequest("POST", url, headers, json_bytes(body), spec.timeout_seconds)


def client_payload(item: RetrainRequest) -> dict[str, Any]:
    """The ``client_payload``: ``id`` and the retraining data, within GitHub's limits."""
    payload: dict[str, Any] = {"id": message_id(item.key), **retrain_data(item)}
    if json_size(payload) <= MAX_PAYLOAD_BYTES:
        return payload
    findings: list[Any] = payload["findings"]
    # The largest prefix of the findings that fits, by bisection on its length.
    low, high = 0, len(findings)
    while low < high:
        middle = (low + high + 1) // 2
        trial = {**payload, "findings": findings[:middle], "findings_omitted": len(findings)}
        if json_size(trial) <= MAX_PAYLOAD_BYTES:
            low = middle
        else:
            high = middle - 1
    return {**payload, "findings": findings[:low], "findings_omitted": len(findings) - low}
